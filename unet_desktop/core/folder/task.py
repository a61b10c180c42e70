"""A folder's labelling task: what is labelled there, with which model, and its model versions.

It lives beside the manifest in ``<root>/.unet-desktop/task.json`` (written atomically)::

    {"format": "unet-desktop-task", "version": 1,
     "name": "cells",
     "scheme": {...LabelScheme.to_dict(); "ignore_value" is the stored "unlabeled" value...},
     "start_from": null | "/path/to/parent.safetensors",
     "scale": "fit" | "native",
     "models_in": "folder" | "user",
     "model": "models/cells-v2.safetensors" | null,
     "versions": [{"name": "cells-v1", "file": "models/cells-v1.safetensors",
                   "version": "20260101-...", "parent": null, "created": "2026-...",
                   "metrics": {"miou": 0.81, "mdice": 0.89}, "corrected_images": 2,
                   "note": "..."}, ...]}

``start_from`` null means a new model from the ImageNet-pretrained encoder; a path means an
existing model whose classes are mapped onto the task's by name (``ml.models.new_classes``). ``scale``
is the training scale of a new model from the encoder (``core.io.model_header.SCALES``; a model file
keeps its own, and its fine-tunes inherit it; task files without it read as ``"fit"``). Model
files inside ``.unet-desktop`` are stored relative to it, so the folder can move; others are
absolute. Fine-tuned models are named after the task (``cells-v3``) and kept in
``.unet-desktop/models/`` (``models_in="folder"``, the default: the folder carries its models)
or in the user's models folder (``"user"``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Literal

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.manifest import MANIFEST_DIR
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.io.json_file import check_format, read_json, write_json
from unet_desktop.core.io.model_header import SCALES
from unet_desktop.core.labels import (  # noqa: F401 - class_mismatch, describe_classes re-exported
    ClassInfo,
    LabelScheme,
    class_mismatch,
    describe_classes,
)
from unet_desktop.core.shown_names import shown_text

TASK_NAME = "task.json"
FORMAT_NAME = "unet-desktop-task"
FORMAT_VERSION = 1
TASK_MODELS_DIR = "models"
ModelsIn = Literal["folder", "user"]
# val_labelled: the share of the validation masks' pixels labelled (strokes: below 0.5)
_METRIC_KEYS = ("miou", "mdice", "loss", "val_labelled")


class TaskError(FileError):
    """The task file is not valid JSON or does not describe a task."""




@dataclass(frozen=True)
class ModelVersion:
    """One fine-tuned model of the task, as Model > Versions lists it."""

    name: str  # e.g. "cells-v3"
    file: str  # relative to .unet-desktop when inside it, else absolute
    version: str  # the model file's version id
    parent: str | None = None  # the parent's version id; None: from the ImageNet encoder
    created: str = ""
    metrics: dict = field(default_factory=dict)  # validation miou, mdice, loss
    corrected_images: int = 0  # labelled images it was trained and validated on (or held back)
    note: str = ""  # e.g. the learning loop's verdict: promoted, or kept as a candidate
    # whether it was judged on validation images it never trained on (None: not recorded), and
    # on how many; below 2 (core.folder.learning_record.MIN_VALIDATION_IMAGES) a version is
    # unvalidated (ml.loop.promotion_gate)
    validated: bool | None = None
    validation_images: int | None = None
    held_back: int = 0  # of corrected_images: the folder's validation images, too few to judge
    parent_name: str = ""  # the parent's name when recorded (one outside the task: a starter)

    def __post_init__(self) -> None:
        # words for the user, never looked up: an image or model named in them whose file name
        # is not UTF-8 reads as the image list shows it, and task.json holds plain UTF-8
        object.__setattr__(self, "note", shown_text(self.note))
        object.__setattr__(self, "parent_name", shown_text(self.parent_name))

    def to_dict(self) -> dict:
        d = {"name": self.name, "file": self.file, "version": self.version,
             "parent": self.parent, "created": self.created, "metrics": dict(self.metrics),
             "corrected_images": self.corrected_images}
        if self.validated is not None:
            d["validated"] = self.validated
        if self.validation_images is not None:
            d["validation_images"] = self.validation_images
        if self.held_back:
            d["held_back"] = self.held_back
        if self.parent_name:
            d["parent_name"] = self.parent_name
        return {**d, "note": self.note} if self.note else d

    @classmethod
    def from_dict(cls, d: dict) -> ModelVersion:
        if not isinstance(d, dict) or not isinstance(d.get("file"), str) \
                or not isinstance(d.get("version"), str):
            raise ValueError(f"not a model version: {d!r}")  # noqa: TRY004 - a bad task file
        metrics = d.get("metrics") if isinstance(d.get("metrics"), dict) else {}
        return cls(str(d.get("name") or Path(d["file"]).stem), d["file"], d["version"],
                   d.get("parent") if isinstance(d.get("parent"), str) else None,
                   str(d.get("created") or ""),
                   {k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                   int(d.get("corrected_images") or 0), str(d.get("note") or ""),
                   d["validated"] if isinstance(d.get("validated"), bool) else None,
                   d["validation_images"] if isinstance(d.get("validation_images"), int)
                   else None,
                   d["held_back"] if isinstance(d.get("held_back"), int) else 0,
                   parent_name=str(d.get("parent_name") or ""))


@dataclass(frozen=True)
class Task:
    name: str
    scheme: LabelScheme
    start_from: str | None = None  # None: a new model from the ImageNet-pretrained encoder
    models_in: ModelsIn = "folder"
    model: str | None = None  # the model in use (file, stored like ModelVersion.file)
    versions: tuple[ModelVersion, ...] = ()
    scale: str = "fit"  # of a new model from the ImageNet-pretrained encoder
    # how a new model makes its input from the images (core.io.input_rule.InputRule.to_dict());
    # {}: the default of new models. A model file keeps its own, its fine-tunes inherit it.
    input_rule: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a task needs a name")
        InputRule.from_dict(self.input_rule)  # raises ValueError for a bad rule
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if self.models_in not in ("folder", "user"):
            raise ValueError(f"models_in must be 'folder' or 'user', got {self.models_in!r}")

    @property
    def sparse(self) -> bool:
        """Whether pixels may stay unlabeled (stored as the scheme's ignore value)."""
        return self.scheme.ignore_value is not None

    @property
    def model_stem(self) -> str:
        """The stem of this task's model files: :func:`file_stem` of its name, or the stem an
        older release made of it (``"Ähren"`` -> ``hren``) while its versions are named so, so
        that their numbers go on and their files stay the task's."""
        stem, older = file_stem(self.name), _older_file_stem(self.name)
        names = [v.name for v in self.versions]
        if older != stem and _named_after(older, names) and not _named_after(stem, names):
            return older
        return stem

    def next_model_name(self) -> str:
        """``<task>-v<n>``, one more than the highest version number so far."""
        stem = self.model_stem
        numbers = [int(m.group(1)) for v in self.versions
                   if (m := re.fullmatch(re.escape(stem) + r"-v(\d+)", v.name))]
        return f"{stem}-v{max(numbers, default=0) + 1}"

    def version_of(self, file: str | None) -> ModelVersion | None:
        return next((v for v in self.versions if v.file == file), None)

    def with_version(self, version: ModelVersion) -> Task:
        """A new version added (or the entry of the same file replaced) and made the one in use."""
        return replace(self.with_candidate(version), model=version.file)

    def with_candidate(self, version: ModelVersion) -> Task:
        """A new version added (or the entry of the same file replaced); the model in use stays."""
        kept = tuple(v for v in self.versions if v.file != version.file)
        return replace(self, versions=(*kept, version))

    def to_dict(self) -> dict:
        return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "name": self.name,
                "scheme": self.scheme.to_dict(), "start_from": self.start_from,
                "scale": self.scale,
                "models_in": self.models_in, "model": self.model,
                "versions": [v.to_dict() for v in self.versions],
                **({"input_rule": dict(self.input_rule)} if self.input_rule else {})}

    @classmethod
    def from_dict(cls, d: dict) -> Task:
        check_format(d, FORMAT_NAME, FORMAT_VERSION)
        if not isinstance(d.get("scheme"), dict):
            raise ValueError("'scheme' must be an object")  # noqa: TRY004 - a bad task file
        start, model = d.get("start_from"), d.get("model")
        versions = d.get("versions") or []
        if not isinstance(versions, list):
            raise ValueError("'versions' must be a list")  # noqa: TRY004 - a bad task file
        return cls(str(d.get("name") or ""), LabelScheme.from_dict(d["scheme"]),
                   start if isinstance(start, str) else None, d.get("models_in", "folder"),
                   model if isinstance(model, str) else None,
                   tuple(ModelVersion.from_dict(v) for v in versions), d.get("scale", "fit"),
                   d.get("input_rule") or {})


# --- the file -----------------------------------------------------------------------------------
def sidecar_dir(root: str | os.PathLike) -> Path:
    return Path(root) / MANIFEST_DIR


def task_path(root: str | os.PathLike) -> Path:
    return sidecar_dir(root) / TASK_NAME


def load_task(root: str | os.PathLike) -> Task | None:
    """The task of the folder ``root``; None if it has none; :class:`TaskError` if the file is
    unreadable or not a task."""
    path = task_path(root)
    data = read_json(path, TaskError, "task file")
    if data is None:
        return None
    try:
        return Task.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise TaskError(path, f"not a valid task file ({exc})") from exc


def save_task(root: str | os.PathLike, task: Task) -> Path:
    """Write the task atomically (the file is whole or untouched); raises :class:`TaskError`."""
    path = task_path(root)
    write_json(path, task.to_dict(), TaskError, "task")
    return path


# --- model files ---------------------------------------------------------------------------------
MAX_STEM_BYTES = 120  # a version's file name (stem, "-v12", ".safetensors") stays under 255


def file_stem(name: str) -> str:
    """A task name as a safe file-name stem, its letters kept: accents are dropped from Latin
    letters (``"Noyaux été"`` -> ``"noyaux-ete"``), other scripts kept (``"細胞核"``), each run
    of anything else becomes one ``-`` (``"My cells!"`` -> ``"my-cells"``)."""
    plain = _without_latin_accents(name.strip().casefold())
    stem = "".join("".join(run) if kept else "-" for kept, run in groupby(plain, _kept_in_stem))
    stem = _cut_to_bytes(stem.strip("-."), MAX_STEM_BYTES).strip("-.")
    return stem or "task"


def _without_latin_accents(text: str) -> str:
    """``é`` -> ``e``, ``²`` -> ``2``: marks on ASCII letters dropped (compatibility forms);
    other scripts keep theirs (NFC)."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.category(char) == "Mn" and kept and kept[-1].isascii():
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _kept_in_stem(char: str) -> bool:
    """Letters, digits and their marks of any script, and ``_ . -``: safe on every system."""
    return char in "_.-" or char.isalnum() or unicodedata.category(char).startswith("M")


def _cut_to_bytes(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _older_file_stem(name: str) -> str:
    """The stem releases before Unicode stems made: ASCII letters and digits only."""
    stem = re.sub(r"[^a-z0-9_.-]+", "-", name.strip().casefold()).strip("-.")
    return stem or "task"


def _named_after(stem: str, names: list[str]) -> bool:
    return any(re.fullmatch(re.escape(stem) + r"-v\d+", name) for name in names)


def models_folder(root: str | os.PathLike, task: Task, user_models: str | os.PathLike) -> Path:
    """Where the task's fine-tuned models are written."""
    if task.models_in == "user":
        return Path(user_models)
    return sidecar_dir(root) / TASK_MODELS_DIR


def model_file(root: str | os.PathLike, stored: str) -> Path:
    """A stored model reference -> the file (relative ones are inside ``.unet-desktop``)."""
    path = Path(stored)
    return path if path.is_absolute() else sidecar_dir(root) / path


def stored_reference(root: str | os.PathLike, path: str | os.PathLike) -> str:
    """How a model file is recorded: relative (posix) inside ``.unet-desktop``, else absolute."""
    path = Path(os.path.abspath(path))
    base = Path(os.path.abspath(sidecar_dir(root)))
    if base in path.parents:
        return path.relative_to(base).as_posix()
    return str(path)


def version_from_metadata(stored: str, meta: dict, name: str = "") -> ModelVersion:
    """The version entry of a trained model file, from its metadata (``core.io.model_header``)."""
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    summary = meta.get("data_summary") if isinstance(meta.get("data_summary"), dict) else {}
    if summary.get("val_on_train") is True:  # nothing held out: no validation figure to show
        metrics = {k: v for k, v in metrics.items() if k not in ("miou", "mdice")}
    elif isinstance(summary.get("val_labelled"), (int, float)):
        metrics = {**metrics, "val_labelled": summary["val_labelled"]}
    return ModelVersion(
        name=name or str(meta.get("name") or Path(stored).stem), file=stored,
        version=str(meta.get("version") or ""),
        parent=meta.get("parent_version") if isinstance(meta.get("parent_version"), str) else None,
        created=str(meta.get("created") or ""),
        metrics={k: metrics[k] for k in _METRIC_KEYS if isinstance(metrics.get(k), (int, float))},
        corrected_images=int(summary.get("images") or 0),
        validation_images=(0 if summary.get("val_on_train") else int(summary["val_images"]))
        if isinstance(summary.get("val_images"), int) else None,
        held_back=_held_back(summary))


def _held_back(summary: dict) -> int:
    """The folder's validation images a run held out but could not judge on (too few): in
    neither set. Files from before the summary said so: the images neither trained nor
    validated on."""
    if isinstance(summary.get("held_back"), int):
        return summary["held_back"]
    counts = [summary.get(k) for k in ("images", "train_images", "val_images")]
    if not all(isinstance(c, int) for c in counts) or summary.get("val_on_train") is not True:
        return 0
    images, trained, _ = counts
    return max(0, images - trained)


# --- classes -------------------------------------------------------------------------------------
def classes_mismatch(model: LabelScheme, task: LabelScheme) -> str | None:
    """Why a model with ``model``'s classes cannot label the task's masks; None if it can
    (the one rule, ``core.labels.class_mismatch``)."""
    return class_mismatch(model, task)


def is_task_model(root: str | os.PathLike, task: Task, path: str | os.PathLike) -> bool:
    """``path`` is ``task``'s model in use or one of its versions (``root``: the task's folder)."""
    stored = stored_reference(root, path)
    return stored == task.model or task.version_of(stored) is not None


def prediction_mismatch(root: str | os.PathLike, task: Task, path: str | os.PathLike | None,
                        scheme: LabelScheme) -> str | None:
    """Why the predictions of the model ``path`` (of ``scheme``'s classes) must not become the
    masks of ``task`` (in folder ``root``); None when they may: the one class rule
    (``core.labels.class_mismatch``), the task's own model counting as the task's classes
    after a rename. The window's banner and Accept, and batch predict in place, ask this."""
    own = path is not None and is_task_model(root, task, path)
    return class_mismatch(scheme, task.scheme, renamed=own)


def removed_values(old: LabelScheme, new: LabelScheme) -> list[int]:
    """Stored values of ``old`` (classes and unlabeled) that ``new`` no longer reads, or reads
    as a class although they stored unlabeled pixels: masks holding them would become
    unreadable or be taught what nobody painted. A class's value made the unlabeled one is
    not among them (:func:`class_made_unlabeled`): its pixels stay readable, as unlabeled."""
    gone = set(old.valid_values - new.valid_values)
    if old.ignore_value is not None and old.ignore_value != new.ignore_value:
        gone.add(old.ignore_value)
    return sorted(gone)


def class_made_unlabeled(old: LabelScheme, new: LabelScheme) -> ClassInfo | None:
    """The class of ``old`` whose stored value ``new`` keeps as its unlabeled value (CamVid's
    void, guessed as a class), or None: masks stay readable, and its pixels become unlabeled,
    left out of training and evaluation."""
    if new.ignore_value is None or new.ignore_value == old.ignore_value:
        return None
    return next((c for c in old.classes if c.value == new.ignore_value), None)


def classes_by_name(parent: LabelScheme, new: LabelScheme) -> dict[str, str]:
    """New class name -> the parent's class of the same name (any case): the rows of the
    parent's classifier that fine-tuning carries over (``ml.models.new_classes``)."""
    by_name = {n.casefold(): n for n in parent.names}
    return {n: by_name[n.casefold()] for n in new.names if n.casefold() in by_name}
