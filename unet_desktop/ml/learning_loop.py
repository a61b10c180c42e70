"""Learn while the user corrects: short fine-tune rounds, a promotion gate, the loop's curve.

One :class:`LearningLoop` per folder; the window (on its worker thread) and
``bench/hitl_loop.py`` drive the same object:

- :meth:`note_corrected` when an image becomes corrected or verified: every k-th one joins the
  frozen validation set (``core.learning_record``), and a round is requested. Requests that
  arrive while a round runs merge into ONE next round (:attr:`round_requested`).
- :meth:`run_round` (a generator of training reports, then one :class:`RoundResult`): a
  time-budgeted fine-tune (``ml.finetune_job.run_finetune``) from the model in use over every
  corrected image outside the validation set (the newest always among them), then the gate:
  the new version is promoted only if it scores no worse than the model in use on the
  validation set; with fewer than 2 validation images, only if its training loss is no worse
  than the parent's on the same images (and the result says so). A version that is not promoted
  stays a candidate (its file is kept).
- :meth:`score_prediction` records a curve point: how good the prediction was that the user
  started from, against the correction they saved (``ml.loop_score``).

The round's inputs (:class:`RoundPlan`) are immutable values made by the caller; the record is
guarded by a lock, so corrections may be noted from another thread while a round runs. Torch is
imported only when a round runs or a prediction is scored (the window imports this module).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unet_desktop.core.errors import FileError
from unet_desktop.core.labels import LabelScheme, adaptable
from unet_desktop.core.learning_record import (
    CurvePoint,
    LearningRecord,
    load_record,
    save_record,
)
from unet_desktop.core.progress import Cancelled, CancelToken
from unet_desktop.ml.few_image_recipe import FEW_IMAGE_SCHEDULE

PairLoader = Callable[[str], tuple[np.ndarray, np.ndarray]]  # key -> (image, saved mask)
MIN_VALIDATION_IMAGES = 2
DEFAULT_ROUND_SECONDS = 20.0


@dataclass(frozen=True)
class LoopSettings:
    """How a round trains. ``epochs`` (tests) replaces the time budget by a fixed count."""

    round_seconds: float = DEFAULT_ROUND_SECONDS
    epochs: int | None = None
    size: int | None = None  # None: the parent's training size (256 for a new model)
    scale: str | None = None  # "fit" or "native"; None: the parent's ("fit" for a new model)
    # The few-image recipe (ml.few_image_recipe), as the Fine-tune dialog and `train` use it:
    # short steps (the worker predicts for the window between two), full rate after a short
    # warm-up, no decay within a round. warmup_steps None and min_lr_ratio 0.01: the schedule of
    # runs on many images
    batch_size: int = FEW_IMAGE_SCHEDULE.batch_size
    lr: float | None = None
    warmup_steps: int | None = FEW_IMAGE_SCHEDULE.warmup_steps
    min_lr_ratio: float = FEW_IMAGE_SCHEDULE.min_lr_ratio
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.round_seconds <= 0:
            raise ValueError(f"a round needs a positive time budget, got {self.round_seconds} s")


@dataclass(frozen=True)
class RoundPlan:
    """One round: what it starts from (None: a new model from the ImageNet encoder), where the
    new version goes and its name."""

    parent: Path | None
    out: Path
    name: str = ""
    scale: str = "fit"  # of a new model (parent None); a parent's fine-tunes keep its scale


@dataclass(frozen=True)
class GateReport:
    """Scoring the validation images: ``done`` of ``total`` (between training and the verdict)."""

    done: int
    total: int


@dataclass(frozen=True)
class RoundResult:
    model_path: Path | None  # the new version's file; None when nothing was trained
    version: str
    promoted: bool
    gate: str  # "validation", "training_loss", "first_model", "cancelled", "nothing_to_train"
    reason: str  # one sentence for the user
    metrics: dict  # val_score / parent_val_score / miou / mdice / train_loss / parent_train_loss
    train_images: tuple[str, ...] = ()
    validation_images: tuple[str, ...] = ()
    train_seconds: float = 0.0


class LearningLoop:
    """The loop's state for one folder (module docstring)."""

    def __init__(self, scheme: LabelScheme, record_file: Path, load_pair: PairLoader,
                 settings: LoopSettings | None = None) -> None:
        self.scheme = scheme
        self.record_file = Path(record_file)
        self.load_pair = load_pair
        self.settings = settings or LoopSettings()
        self._lock = threading.Lock()
        self._record = load_record(self.record_file)  # LearningRecordError names the file
        self._requested = False
        self._rounds = 0
        self._samples: dict[tuple[str, int, int], Any] = {}  # ml.dataset.Sample
        self._pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # validation images
        # (model version, key) -> (score, dice, miou) of a validation image
        self._scores: dict[tuple[str, str], tuple[float, float | None, float | None]] = {}

    # --- the record -------------------------------------------------------------------------------
    @property
    def record(self) -> LearningRecord:
        with self._lock:
            return self._record

    def _update(self, change: Callable[[LearningRecord], LearningRecord],
                then: Callable[[], None] | None = None) -> LearningRecord:
        """Apply ``change`` to the record and save it, then ``then()``, under one lock (a round
        starting meanwhile sees both or neither)."""
        with self._lock:
            record = change(self._record)
            if record != self._record:
                save_record(self.record_file, record)
                self._record = record
            if then is not None:
                then()
            return record

    def set_enabled(self, enabled: bool) -> None:
        self._update(lambda r: dataclasses.replace(r, enabled=bool(enabled)))

    def set_every_k(self, k: int) -> None:
        """Takes effect for the images corrected from now on; those chosen stay chosen."""
        self._update(lambda r: dataclasses.replace(r, every_k=int(k)))

    def set_target(self, target: float) -> None:
        self._update(lambda r: dataclasses.replace(r, target=float(target)))

    def note_corrected(self, key: str) -> bool:
        """``key`` was saved as corrected or verified: forget its cached pair (the mask may have
        changed), choose its validation membership (first time only) and request a round.
        Returns whether it is in the validation set."""
        def forget_and_request() -> None:
            self._samples = {k: s for k, s in self._samples.items() if k[0] != key}
            self._pairs.pop(key, None)
            self._scores = {k: v for k, v in self._scores.items() if k[1] != key}
            self._requested = True

        record = self._update(lambda r: r.with_corrected(key), forget_and_request)
        return key in record.validation

    def note_corrected_all(self, keys: list[str]) -> None:
        """Note images that were corrected before learning was turned on (one write); a round
        is requested if any of them is new to the loop."""
        def request_if_new() -> None:
            self._requested = self._requested or self._record.corrected != before

        before = self.record.corrected
        self._update(lambda r: _with_all(r, keys), request_if_new)

    def request_round(self) -> None:
        with self._lock:
            self._requested = True

    @property
    def round_requested(self) -> bool:
        """A correction arrived since the last round started (they all go into the next)."""
        with self._lock:
            return self._requested

    def score_prediction(self, key: str, predicted: np.ndarray, predicted_scheme: LabelScheme,
                         corrected: np.ndarray, model_version: str) -> CurvePoint | None:
        """Record the curve point of ``key`` (once per image); returns it, or None if the image
        has one already. Raises ``ValueError`` when the two cannot be compared."""
        from unet_desktop.ml.loop_score import agreement

        if self.record.has_point(key):
            return None
        a = agreement(predicted, corrected, self.scheme, predicted_scheme)
        point = CurvePoint(0, key, a.score, a.metric, a.changed_fraction, model_version,
                           a.dice, a.miou)
        record = self._update(lambda r: r.with_point(point))
        return next(p for p in record.points if p.image == key)

    # --- a round ----------------------------------------------------------------------------------
    def run_round(self, plan: RoundPlan, cancel: CancelToken | None = None) -> Iterator[object]:
        """Training reports, :class:`GateReport` s, then one :class:`RoundResult`."""
        cancel = cancel or CancelToken()
        with self._lock:
            self._requested = False  # what arrives from now on goes into the next round
            self._rounds += 1
            record, number = self._record, self._rounds
        train_keys, val_keys = record.training_keys, record.validation
        if not train_keys:
            yield RoundResult(None, "", False, "nothing_to_train",
                              "No corrected image outside the validation set to train on yet.",
                              {}, (), val_keys)
            return
        from unet_desktop.ml.dataset import SampleSet, SkippedPair
        from unet_desktop.ml.finetune_job import run_finetune
        from unet_desktop.ml.modelfile import read_meta
        from unet_desktop.ml.train_config import (
            FinalReport,
            PrepareReport,
            TrainConfig,
            cache_side,
        )

        parent_meta = read_meta(plan.parent) if plan.parent is not None else None
        size = self.settings.size or (parent_meta.train_size if parent_meta else 256)
        scale = self.settings.scale or (parent_meta.scale if parent_meta else plan.scale)
        channels = parent_meta.in_channels if parent_meta else 3
        samples = []
        for done, key in enumerate(train_keys, start=1):
            sample = self._sample(key, channels, cache_side(size, scale))
            if isinstance(sample, SkippedPair):  # reported; the round trains on the others
                yield sample
            else:
                samples.append(sample)
            yield PrepareReport(done, len(train_keys))  # one image at a time between predictions
        train_keys = tuple(sample.key for sample in samples)
        if not samples:
            yield RoundResult(None, "", False, "nothing_to_train", "None of the corrected "
                              "images can be read; nothing to train on.", {}, (), val_keys)
            return
        s = self.settings
        config = TrainConfig(
            out=plan.out, init=plan.parent, new_classes=True, epochs=s.epochs,
            max_minutes=None if s.epochs else s.round_seconds / 60, size=s.size, scale=scale,
            batch_size=s.batch_size, lr=s.lr, warmup_steps=s.warmup_steps,
            min_lr_ratio=s.min_lr_ratio, val_fraction=0.0, seed=s.seed + number,
            patience=None, device=s.device, num_workers=0, name=plan.name,
            # the validation set judges the version (image by image, between predictions); the
            # training images' loss is needed only while it is too small
            validate=len(val_keys) < MIN_VALIDATION_IMAGES,
            description=f"learning loop round {number} on {len(samples)} corrected image(s)")
        data = SampleSet(samples, self.scheme, f"learning loop ({len(samples)} images)")
        started, final = time.monotonic(), None
        try:
            for report in run_finetune(data, config, cancel):
                if isinstance(report, FinalReport):
                    final = report
                yield report
            seconds = time.monotonic() - started
            if final is None or final.model_path is None or final.stopped == "cancelled":
                self._discard(final.model_path if final else None, plan.out)
                result = RoundResult(None, "", False, "cancelled",
                                     "Round cancelled; nothing kept.", {}, train_keys, val_keys,
                                     seconds)
            else:
                result = yield from self._gate(plan, final, parent_meta, train_keys, val_keys,
                                               seconds, cancel)
        except (GeneratorExit, Cancelled):  # stopped unfinished (quit): keep no half a version
            self._discard(plan.out)
            raise
        yield result

    def _sample(self, key: str, channels: int, max_side: int) -> Any:
        """The cached training sample of ``key``, or a ``SkippedPair`` saying why there is none
        (the image or its mask is gone or unreadable since it was corrected)."""
        from unet_desktop.ml.dataset import make_sample

        cache_key = (key, channels, max_side)
        with self._lock:
            sample = self._samples.get(cache_key)
        if sample is None:
            try:
                image, mask = self.load_pair(key)
                sample = make_sample(key, image, mask, self.scheme, in_channels=channels,
                                     max_side=max_side)
            except (FileError, KeyError, ValueError) as exc:
                return _skipped(key, exc)
            with self._lock:
                self._samples[cache_key] = sample
        return sample

    @staticmethod
    def _discard(*paths: Path | None) -> None:
        from unet_desktop.ml.checkpoint import checkpoint_path

        for path in {p for p in paths if p is not None}:
            path.unlink(missing_ok=True)
            checkpoint_path(path).unlink(missing_ok=True)

    # --- the gate ---------------------------------------------------------------------------------
    def _gate(self, plan: RoundPlan, final, parent_meta, train_keys: tuple[str, ...],
              val_keys: tuple[str, ...], seconds: float,
              cancel: CancelToken) -> Iterator[object]:
        """Yields :class:`GateReport` s; returns the :class:`RoundResult`."""
        from unet_desktop.ml.modelfile import read_meta

        path = Path(final.model_path)
        version = read_meta(path).version
        metrics = {"train_loss": final.metrics.get("loss"),
                   "parent_train_loss": (final.parent_metrics or {}).get("loss")}

        def result(promoted: bool, gate: str, reason: str) -> RoundResult:
            return RoundResult(path, version, promoted, gate, reason,
                               {k: v for k, v in metrics.items() if v is not None},
                               train_keys, val_keys, seconds)

        judged = False  # on the validation set
        if len(val_keys) >= MIN_VALIDATION_IMAGES:
            new = yield from self._validation_score(path, version, val_keys, cancel)
            metrics.update(val_score=new["score"], miou=new["miou"], dice=new["dice"])
            judged = new["score"] is not None  # None: no validation image could be read
        if parent_meta is None or not adaptable(parent_meta.scheme, self.scheme):
            return result(True, "first_model", "The first model of this folder's classes: "
                                               "promoted.")
        if judged:
            old = yield from self._validation_score(plan.parent, parent_meta.version, val_keys,
                                                    cancel)
            metrics["parent_val_score"] = old["score"]
            better = metrics["val_score"] >= old["score"]
            name = _metric_name(self.scheme)
            comparison = (f"{name} {metrics['val_score']:.3f} {'≥' if better else '<'} "
                          f"{old['score']:.3f} of the model in use on {len(val_keys)} "
                          "validation images")
            return result(better, "validation", ("Promoted: " if better else
                                                 "Kept as a candidate: ") + comparison + ".")
        new_loss, old_loss = metrics["train_loss"], metrics["parent_train_loss"]
        if new_loss is None or old_loss is None:
            return result(True, "training_loss", "Fewer than 2 validation images and no loss "
                                                 "to compare: promoted on trust.")
        better = new_loss <= old_loss
        return result(better, "training_loss", (
            f"{'Promoted' if better else 'Kept as a candidate'} on the training loss "
            f"({new_loss:.3f} {'≤' if better else '>'} {old_loss:.3f} of the model in use): "
            f"fewer than {MIN_VALIDATION_IMAGES} validation images so far."))

    def _validation_score(self, model_path: Path, version: str, keys: tuple[str, ...],
                          cancel: CancelToken) -> Iterator[object]:
        """Mean score (and Dice, mIoU) of a model over the validation images, cached by version;
        yields a :class:`GateReport` per image so the caller's other work can run between."""
        from unet_desktop.ml.loop_score import agreement
        from unet_desktop.ml.predictor import Predictor

        predictor = None
        totals = {"score": [], "dice": [], "miou": []}
        for i, key in enumerate(keys):
            cancel.raise_if_cancelled()
            with self._lock:
                cached = self._scores.get((version, key))
                pair = self._pairs.get(key)
            if cached is None:
                if pair is None:
                    try:
                        pair = self.load_pair(key)
                    except (FileError, KeyError, ValueError) as exc:
                        yield _skipped(key, exc)
                        continue
                    with self._lock:
                        self._pairs[key] = pair
                if predictor is None:
                    predictor = Predictor.from_file(model_path, device=self.settings.device,
                                                    engine="torch")
                labels = predictor.predict(pair[0], probs=False).labels
                a = agreement(labels, pair[1], self.scheme, predictor.meta.scheme)
                cached = (a.score, a.dice, a.miou)
                with self._lock:
                    self._scores[(version, key)] = cached
            for name, value in zip(("score", "dice", "miou"), cached):
                if value is not None:
                    totals[name].append(value)
            yield GateReport(i + 1, len(keys))
        return {name: (sum(v) / len(v) if v else None) for name, v in totals.items()}


def _skipped(key: str, exc: Exception) -> Any:
    """An ``ml.dataset.SkippedPair`` naming the file (or the key) and the reason."""
    from unet_desktop.ml.dataset import SkippedPair

    if isinstance(exc, FileError):
        return SkippedPair(key, exc.path, exc.reason)
    return SkippedPair(key, key, str(exc) if isinstance(exc, ValueError) else "not in the folder")


def _with_all(record: LearningRecord, keys: list[str]) -> LearningRecord:
    for key in keys:
        record = record.with_corrected(key)
    return record


def _metric_name(scheme: LabelScheme) -> str:
    return "mIoU" if scheme.kind == "multiclass" else "Dice"
