"""What the learning loop remembers about a folder: its settings, its frozen validation set and
the loop's own learning curve. Qt-free and torch-free.

It lives beside the manifest in ``<root>/.unet-desktop/learning.json`` (written atomically)::

    {"format": "unet-desktop-learning", "version": 1,
     "enabled": true, "every_k": 5, "target": 0.95,
     "corrected": ["img_03.png", ...],          # in the order they were first corrected
     "validation": ["img_07.png", ...],         # every k-th of them, frozen when corrected
     "points": [{"order": 1, "image": "img_03.png", "metric": "dice", "score": 0.71,
                 "dice": 0.71, "miou": 0.64, "changed_fraction": 0.08,
                 "labelled_fraction": 1.0, "model_version": "20260101-..."}, ...]}

One point per image: how good the prediction was that the user started from (``score`` is Dice
for binary and trimap tasks, mIoU for multi-class ones), the fraction of the labelled pixels
changed and the fraction of the image the saved mask labels. A mask that labels less than
``STROKES_BELOW`` of its image holds strokes: the user painted where they chose (in a sparse task,
where the prediction was wrong), so its point says where they painted, not how good the
prediction was, and :attr:`LearningRecord.full_points` leaves it out.
:func:`moving_average`, :func:`images_to_target` and :func:`images_until_target` read the curve.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.journal import file_identity
from unet_desktop.core.folder.manifest import MANIFEST_DIR
from unet_desktop.core.io.json_file import check_format, read_json, write_json
from unet_desktop.core.labels import STROKES_BELOW

RECORD_NAME = "learning.json"
FORMAT_NAME = "unet-desktop-learning"
FORMAT_VERSION = 1
DEFAULT_EVERY_K = 5
DEFAULT_TARGET = 0.95
MIN_VALIDATION_IMAGES = 2  # fewer cannot judge a model: it is recorded as not validated
AVERAGE_WINDOW = 3  # the moving average is over the last this many points


class LearningRecordError(FileError):
    """The learning record is not valid JSON or does not describe a learning loop."""


@dataclass(frozen=True)
class CurvePoint:
    """How good the prediction was that the user started from, for one corrected image."""

    order: int  # 1-based: the n-th image corrected while learning
    image: str
    score: float  # ``metric`` of the prediction against the saved correction
    metric: str  # "dice" (binary, trimap) or "miou" (multi-class)
    changed_fraction: float  # labelled pixels the user changed
    model_version: str  # the model that made the prediction
    dice: float | None = None
    miou: float | None = None
    labelled_fraction: float = 1.0  # of the image's pixels, in the saved mask

    @property
    def strokes(self) -> bool:
        """The saved mask holds strokes, not a full correction."""
        return self.labelled_fraction < STROKES_BELOW

    def to_dict(self) -> dict:
        return {"order": self.order, "image": self.image, "metric": self.metric,
                "score": self.score, "dice": self.dice, "miou": self.miou,
                "changed_fraction": self.changed_fraction,
                "labelled_fraction": self.labelled_fraction, "model_version": self.model_version}

    @classmethod
    def from_dict(cls, d: dict) -> CurvePoint:
        if not isinstance(d, dict) or not isinstance(d.get("image"), str) \
                or not isinstance(d.get("score"), (int, float)):
            raise ValueError(f"not a curve point: {d!r}")  # noqa: TRY004 - a bad record file

        def number(name: str) -> float | None:
            value = d.get(name)
            return float(value) if isinstance(value, (int, float)) else None

        return cls(int(d.get("order") or 0), d["image"], float(d["score"]),
                   str(d.get("metric") or "dice"), number("changed_fraction") or 0.0,
                   str(d.get("model_version") or ""), number("dice"), number("miou"),
                   1.0 if number("labelled_fraction") is None else number("labelled_fraction"))


@dataclass(frozen=True)
class LearningRecord:
    enabled: bool = False  # "Learn as I correct" is on for this folder
    every_k: int = DEFAULT_EVERY_K  # every k-th corrected image joins the validation set
    target: float = DEFAULT_TARGET  # the score the user wants the moving average to reach
    corrected: tuple[str, ...] = ()
    validation: tuple[str, ...] = ()
    points: tuple[CurvePoint, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.every_k < 2:
            raise ValueError(f"every_k must be >= 2 (one validation image in k), got "
                             f"{self.every_k}")
        if not 0 < self.target <= 1:
            raise ValueError(f"the target must be in (0, 1], got {self.target}")

    # --- changes (each returns a new record) ------------------------------------------------------
    def with_corrected(self, key: str) -> LearningRecord:
        """``key`` noted as corrected (once); the k-th, 2k-th, ... image joins the validation
        set, chosen now and never changed afterwards, as does the next one after a validation
        image left (:meth:`without_corrected`: its slot is free)."""
        if key in self.corrected:
            return self
        corrected = (*self.corrected, key)
        validation = self.validation
        if len(corrected) % self.every_k == 0 \
                or len(validation) < len(corrected) // self.every_k:
            validation = (*validation, key)
        return replace(self, corrected=corrected, validation=validation)

    def without_corrected(self, key: str) -> LearningRecord:
        """``key`` is no longer corrected (its correction was undone and saved): it leaves the
        corrected images, the validation set (its slot goes to the next corrected image) and
        the curve (its point scored a correction that is gone)."""
        if key not in self.corrected and not self.has_point(key):
            return self
        points = tuple(p for p in self.points if p.image != key)
        return replace(self, corrected=tuple(k for k in self.corrected if k != key),
                       validation=tuple(k for k in self.validation if k != key),
                       points=tuple(replace(p, order=i) for i, p in enumerate(points, start=1)))

    def with_point(self, point: CurvePoint) -> LearningRecord:
        """One point per image: a later point of the same image is ignored."""
        if self.has_point(point.image):
            return self
        return replace(self, points=(*self.points, replace(point, order=len(self.points) + 1)))

    def has_point(self, key: str) -> bool:
        return any(p.image == key for p in self.points)

    @property
    def training_keys(self) -> tuple[str, ...]:
        """Corrected images a round may train on: all but the validation set, oldest first."""
        held = set(self.validation)
        return tuple(k for k in self.corrected if k not in held)

    # --- the curve --------------------------------------------------------------------------------
    @property
    def scores(self) -> list[float]:
        return [p.score for p in self.points]

    @property
    def full_points(self) -> tuple[CurvePoint, ...]:
        """The points of full corrections: those whose masks are not strokes."""
        return tuple(p for p in self.points if not p.strokes)

    def to_dict(self) -> dict:
        return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "enabled": self.enabled,
                "every_k": self.every_k, "target": self.target,
                "corrected": list(self.corrected), "validation": list(self.validation),
                "points": [p.to_dict() for p in self.points]}

    @classmethod
    def from_dict(cls, d: dict) -> LearningRecord:
        check_format(d, FORMAT_NAME, FORMAT_VERSION)
        lists = {name: d.get(name) or [] for name in ("corrected", "validation", "points")}
        for name, value in lists.items():
            if not isinstance(value, list):
                raise ValueError(f"'{name}' must be a list")  # noqa: TRY004 - a bad record file
        return cls(bool(d.get("enabled")), int(d.get("every_k") or DEFAULT_EVERY_K),
                   float(d.get("target") or DEFAULT_TARGET),
                   tuple(str(k) for k in lists["corrected"]),
                   tuple(str(k) for k in lists["validation"]),
                   tuple(CurvePoint.from_dict(p) for p in lists["points"]))


# --- the file -------------------------------------------------------------------------------------
def record_path(folder: str | os.PathLike) -> Path:
    """The record of the workspace folder ``folder`` (or of a bench's scratch folder)."""
    return Path(folder) / MANIFEST_DIR / RECORD_NAME


def load_record(path: str | os.PathLike) -> LearningRecord:
    """The record at ``path``; an empty one if there is none; :class:`LearningRecordError` if
    the file is unreadable or not a learning record."""
    path = Path(path)
    data = read_json(path, LearningRecordError, "learning record")
    if data is None:
        return LearningRecord()
    try:
        return LearningRecord.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise LearningRecordError(path, f"not a valid learning record ({exc})") from exc


def save_record(path: str | os.PathLike, record: LearningRecord) -> None:
    """Write atomically (whole or untouched); raises :class:`LearningRecordError`."""
    write_json(path, record.to_dict(), LearningRecordError, "learning record")


class RecordStore:
    """The one in-memory copy of a record file in this process, shared by the learning loop and
    the folder's model owner (its frozen validation set); read again when another process
    changed the file."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._record: LearningRecord | None = None
        self._identity: object = None

    def read(self) -> LearningRecord:
        with self._lock:
            identity = file_identity(self.path)
            if self._record is None or identity != self._identity:
                self._record, self._identity = load_record(self.path), identity
            return self._record

    def update(self, change: Callable[[LearningRecord], LearningRecord],
               then: Callable[[], None] | None = None) -> LearningRecord:
        """Apply ``change`` and save, then ``then()``, under one lock."""
        with self._lock:
            before = self.read()
            record = change(before)
            if record != before:
                save_record(self.path, record)
                self._record, self._identity = record, file_identity(self.path)
            if then is not None:
                then()
            return record


_STORES: dict[str, RecordStore] = {}
_STORES_LOCK = threading.Lock()


def record_store(path: str | os.PathLike) -> RecordStore:
    """The store of the record file ``path`` in this process."""
    key = os.path.realpath(path)
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = RecordStore(path)
        return store


# --- reading the curve ----------------------------------------------------------------------------
def moving_average(scores: list[float], window: int = AVERAGE_WINDOW) -> list[float]:
    """The mean of each point and the ``window - 1`` before it (fewer at the start)."""
    out = []
    for i in range(len(scores)):
        part = scores[max(0, i - window + 1): i + 1]
        out.append(sum(part) / len(part))
    return out


def images_to_target(scores: list[float], target: float,
                     window: int = AVERAGE_WINDOW) -> int | None:
    """How many corrected images it took: the first n (>= ``window``) such that the moving
    average of the last ``window`` scores is >= ``target`` at image n and at every image after
    it; None if the curve does not stay there."""
    average = moving_average(scores, window)
    reached = None
    for i in range(window - 1, len(average)):
        if average[i] >= target:
            reached = reached or i + 1
        else:
            reached = None
    return reached


def images_until_target(scores: list[float], target: float, window: int = AVERAGE_WINDOW,
                        trend_points: int = 6) -> int | None:
    """An estimate of how many more images until the moving average reaches ``target``: 0 if it
    has; otherwise extrapolated along the straight line through the last ``trend_points`` of the
    moving average; None with fewer than ``window`` points or when it is not rising."""
    if len(scores) < window:
        return None
    average = moving_average(scores, window)
    if average[-1] >= target:
        return 0
    recent = average[-trend_points:]
    n = len(recent)
    if n < 2:
        return None
    mean_x, mean_y = (n - 1) / 2, sum(recent) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(recent)) \
        / sum((x - mean_x) ** 2 for x in range(n))
    if slope <= 1e-6:
        return None
    return max(1, math.ceil((target - average[-1]) / slope))
