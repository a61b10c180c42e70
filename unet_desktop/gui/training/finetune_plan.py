"""What a fine-tune from the window will do, without Qt: the engine's defaults for the dialog,
the task's plan (where the model goes, what it starts from, what is held out), the user's few
settings, and the ``TrainConfig`` and words (recipe, validation set) made from them.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unet_desktop.core.folder.learning_record import DEFAULT_EVERY_K
from unet_desktop.core.io.paths import first_free_path, same_folder
from unet_desktop.core.shown_names import shown_text

MAX_NAMED = 3  # images named in the validation line; the rest counted
NOT_CHECKED = (".tif", ".tiff")  # stacks and wide samples: read slice by slice, not checked here


@dataclass(frozen=True)
class EngineDefaults:
    """The training engine's defaults, read from ``ml.training.train_config`` (the one place they live)."""

    fine_tune_lr: float
    from_scratch_lr: float
    size: int
    budget_minutes: float  # the run's time limit with many images

    @classmethod
    def read(cls) -> EngineDefaults:
        """Imports ``ml.training.train_config`` (torch): call it when the dialog opens, by which time the
        model load has imported torch on the worker thread, not at window start."""
        from unet_desktop.ml.training import train_config as tc

        return cls(tc.FINE_TUNE_LR, tc.FROM_SCRATCH_LR, tc.DEFAULT_SIZE, tc.DEFAULT_BUDGET_MINUTES)

    def minutes(self, images: int) -> float:
        """The default time limit for a run on ``images`` corrected images."""
        from unet_desktop.ml.training.few_image_recipe import FEW_IMAGE_MINUTES, is_few

        return FEW_IMAGE_MINUTES if is_few(images) else self.budget_minutes

    @staticmethod
    def val_fraction(images: int) -> float:
        from unet_desktop.ml.training.few_image_recipe import default_val_fraction

        return default_val_fraction(images)

    def lr(self, from_current: bool) -> float:
        return self.fine_tune_lr if from_current else self.from_scratch_lr


@dataclass(frozen=True)
class TaskPlan:
    """A fine-tune of the open folder's task (made by the TaskController)."""

    out: Path
    name: str  # e.g. "cells-v3"
    init: Path | None  # None: a new model from the ImageNet-pretrained encoder
    new_classes: bool  # map the init model's classes onto the task's by name
    origin: str  # one line for the dialog: what it starts from
    scale: str = "fit"  # of a new model (init None): the task's; a model file keeps its own
    input_rule: dict | None = None  # of a new model: the task's (core.io.input_rule)
    # the folder's frozen validation set (ml.loop.folder_models.FolderModels.holdout): it validates
    # every run of the task, whatever the validation fraction; None: not known (the fraction)
    holdout: tuple[str, ...] | None = None
    every_k: int = DEFAULT_EVERY_K  # 1 in every_k corrected images joins that set


@dataclass(frozen=True)
class PlanBasis:
    """What the Fine-tune dialog was planned from, as the window knew it when the dialog
    opened; Start compares it with the window then: the model in use, the folder, its classes
    and images may change while the dialog is open (Model > Open, a learning round put into
    use, a folder opened)."""

    folder: Path
    model: Path | None  # the file of the model in use (the window's current; None: none)
    classes: Any  # the folder's LabelScheme
    images: tuple[str, ...]  # the corrected or verified images the dialog counted

    @classmethod
    def of(cls, workspace: Any, model: Any | None) -> PlanBasis:
        """The basis of a plan for ``workspace`` with ``model`` (a LoadedModel) in use."""
        return cls(Path(workspace.root), model.path if model is not None else None,
                   workspace.scheme, tuple(e.key for e in workspace.labelled()))

    def data_changes(self, now: PlanBasis) -> str:
        """What changed in the folder since, that the dialog counted, named and planned for
        ("": nothing): another folder, its classes, its corrected images."""
        if not same_folder(self.folder, now.folder):
            return f"another folder ({now.folder.name}) was opened"
        said = []
        if not self.classes.same_classes(now.classes):
            said.append(f"the classes changed to {', '.join(now.classes.names)}")
        before, after = set(self.images), set(now.images)
        came = [k for k in now.images if k not in before]
        went = [k for k in self.images if k not in after]
        if came:
            said.append(f"{_named(came)} {'is' if len(came) == 1 else 'are'} now corrected or "
                        "verified")
        if went:
            said.append(f"{_named(went)} {'is' if len(went) == 1 else 'are'} no longer "
                        "corrected")
        return "; ".join(said)


def _named(keys: list[str]) -> str:
    """Up to MAX_NAMED of ``keys`` by file name, the rest counted."""
    shown = ", ".join(shown_text(k.rsplit("/", 1)[-1]) for k in keys[:MAX_NAMED])
    return shown + (f" and {len(keys) - MAX_NAMED} more" if len(keys) > MAX_NAMED else "")


@dataclass
class FinetuneSettings:
    """What the dialog asks; None leaves the value to the training engine's defaults."""

    epochs: int | None = None  # None: the time limit governs the run
    max_minutes: float | None = None  # None with epochs None: the dialog's default limit
    lr: float | None = None  # engine default: smaller when fine-tuning than for a new model
    size: int | None = None  # engine default: the parent's training size
    val_fraction: float | None = None
    from_current: bool = True  # else a new model from the ImageNet-pretrained encoder
    scale: str | None = None  # engine default: the parent's, else "fit"


def recipe_note(images: int, val_fraction: float | None = None, frozen: bool = False) -> str:
    """What the few-image recipe does with ``images`` corrected images (and the validation
    fraction shown; ``frozen``: a task folder's frozen validation set decides instead), in the
    dialog's words."""
    from unet_desktop.ml.training.few_image_recipe import (
        FEW_IMAGE_SCHEDULE,
        FEW_IMAGES,
        MIN_EARLY_STOPPING_IMAGES,
        is_few,
    )

    rule = (f"Early stopping only with at least {MIN_EARLY_STOPPING_IMAGES} validation images "
            "held out; with fewer the run lasts its time limit.")
    unvalidated = ("With validation fraction 0 every image trains and the result is reported "
                   "as not validated (no figure on images it did not learn from). ")
    if frozen:
        unvalidated = ""  # said by the validation line
    if is_few(images):
        schedule = FEW_IMAGE_SCHEDULE
        return (f"At most {FEW_IMAGES} images: the learning loop's recipe (batch "
                f"{schedule.batch_size}, a {schedule.warmup_steps}-step warm-up, then the "
                f"learning rate decays to {schedule.min_lr_ratio:.0%} of its peak over the time "
                "limit or epochs"
                + ("" if frozen else ", nothing held out by default") + "). "
                + (unvalidated if not val_fraction else "") + rule)
    return (unvalidated if val_fraction == 0 else "") + rule


def output_path(folder: Path, model: Any | None) -> Path:
    """``<folder>/<name>-<UTC time>.safetensors``, never an existing file."""
    stem = "model"
    if model is not None:
        stem = model.meta.name or (model.path.stem if model.path else stem)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return first_free_path(folder, f"{stem}-{stamp}", ".safetensors")


def replaced_classes(model: Any | None, data_scheme: Any | None) -> str | None:
    """One line saying that the model's classes give way to the folder's, or None if they match."""
    if model is None or data_scheme is None:
        return None
    ours = model.meta.scheme
    if ours.same_values(data_scheme):  # no task: the folder's class names are guesses
        return None
    return (f"The model's classes ({ours.kind}: {', '.join(ours.names)}) will be replaced by "
            f"this folder's ({data_scheme.kind}: {', '.join(data_scheme.names)}).")


def task_train_config(settings: FinetuneSettings, plan: TaskPlan, device: str = "auto",
                      **overrides: Any) -> Any:
    """The ``TrainConfig`` of a task's fine-tune (``plan``); ``settings.from_current`` off:
    a new model from the ImageNet-pretrained encoder, whatever the plan starts from."""
    from unet_desktop.ml.training.train_config import TrainConfig

    init = plan.init if settings.from_current else None
    options: dict[str, Any] = {
        "out": plan.out, "name": plan.name, "init": init,
        "new_classes": plan.new_classes and init is not None,
        "epochs": settings.epochs, "max_minutes": settings.max_minutes, "lr": settings.lr,
        "size": settings.size, "val_fraction": settings.val_fraction, "device": device,
        "scale": settings.scale, "input_rule": plan.input_rule,
    }
    options.update(overrides)
    return TrainConfig(**options)


def train_config(settings: FinetuneSettings, model: Any | None, out: Path, device: str = "auto",
                 data_scheme: Any | None = None, **overrides: Any) -> Any:
    """The ``TrainConfig`` for these settings; ``model`` is the current LoadedModel and
    ``data_scheme`` the open folder's label scheme (other classes than the model's: the new
    model gets the folder's)."""
    from unet_desktop.ml.training.train_config import TrainConfig

    if model is None:
        raise ValueError("load a model first: fine-tuning starts from it or from its architecture")
    if settings.from_current and model.path is None:
        raise ValueError("the current model has no file to start from; start a new model from "
                         "the ImageNet-pretrained encoder")
    options: dict[str, Any] = {
        "out": out, "epochs": settings.epochs, "max_minutes": settings.max_minutes,
        "lr": settings.lr, "size": settings.size, "device": device, "name": model.meta.name,
        "scale": settings.scale,
    }
    if settings.val_fraction is not None:
        options["val_fraction"] = settings.val_fraction
    new_classes = replaced_classes(model, data_scheme) is not None
    if settings.from_current:
        options["init"] = model.path
        options["new_classes"] = new_classes
    else:  # a new model from the ImageNet-pretrained encoder, with the folder's classes
        options["arch"] = None
    options.update(overrides)
    return TrainConfig(**options)


def validation_text(keys: list[str], fraction: float, seed: int = 0) -> str:
    """Which of the labelled images ``keys`` a run with this validation fraction holds out
    (the training engine's own split, ``ml.training.dataset.split_indices``)."""
    from unet_desktop.ml.training.dataset import split_indices

    def names(indices: list[int]) -> str:
        shown = [keys[i].rsplit("/", 1)[-1] for i in indices[:MAX_NAMED]]
        more = len(indices) - len(shown)
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")

    if not keys:
        return ""
    train, val = split_indices(keys, fraction, seed)
    if not val:
        why = "the fraction is 0" if fraction == 0 else "fewer than 2 labelled images"
        return (f"No image validates ({why}): the validation scores will be measured on the "
                "training images.")
    return (f"Validates on {names(val)} ({len(val)} of {len(keys)}); trains on "
            f"{names(train)}.")



def holdout_text(keys: list[str], holdout: tuple[str, ...], every_k: int) -> str:
    """Which of the labelled images ``keys`` the folder's frozen validation set holds out: the
    same images for every run of the task (ml.training.train: below 2, not validated)."""
    from unet_desktop.core.folder.learning_record import MIN_VALIDATION_IMAGES

    held = [k for k in keys if k in set(holdout)]
    named = ", ".join(k.rsplit("/", 1)[-1] for k in held[:MAX_NAMED]) \
        + (f" and {len(held) - MAX_NAMED} more" if len(held) > MAX_NAMED else "")
    if len(held) < MIN_VALIDATION_IMAGES:
        have = f"only {named}" if held else "none yet"
        return (f"This folder's validation set (1 in {every_k} corrected images, kept for every "
                f"run) "
                f"has {have}: fewer than {MIN_VALIDATION_IMAGES}, so the result is reported as "
                "not validated and every other image trains.")
    return (f"Validates on this folder's validation set, never trained on: {named} "
            f"({len(held)} of {len(keys)}); the other images train.")


def unreadable(entries: list[Any]) -> dict[str, str]:
    """The labelled images (workspace entries) whose image file cannot be read, key -> reason:
    a run leaves them out, so the dialog neither counts nor names them as training or
    validating. Each file is decoded by the engine's own reader (``read_image_raw``: a
    truncated PNG, JPEG or BMP fails); TIFF files are not checked. Reads every file: the
    dialog uses :class:`ReadCheck`, which does it off the UI thread."""
    return {key: problem for key, problem in read_problems(entries) if problem is not None}


def read_problems(entries: list[Any]) -> Iterator[tuple[str, str | None]]:
    """Each entry's key and why its image file cannot be read (None: it can), one at a time;
    a file of several entries (a stack's slices) is read once."""
    problems: dict[Path, str | None] = {}
    for entry in entries:
        path = Path(entry.image_path)
        if path not in problems:
            problems[path] = _read_problem(path)
        yield entry.key, problems[path]


def _read_problem(path: Path) -> str | None:
    from unet_desktop.core.io.imageio import read_image_raw

    if path.suffix.lower() in NOT_CHECKED:
        return None
    try:
        read_image_raw(path)
    except Exception as exc:  # noqa: BLE001  (our reader says FileError; a decoder, anything)
        return str(exc) or type(exc).__name__
    return None


@dataclass(frozen=True)
class ImageFile:
    key: str
    image_path: Path


class ReadCheck:
    """Whether the labelled images can be read (:func:`read_problems`): as many as
    ``budget_s`` allows at once, the rest on a thread of its own (decoding a thousand large
    images takes a minute). Poll :attr:`done`; :attr:`problems` is final once it is."""

    def __init__(self, entries: list[Any], budget_s: float) -> None:
        self.total = len(entries)
        self.checked = 0
        self.problems: dict[str, str] = {}
        self._cancel = threading.Event()
        # the thread gets values, not the workspace's entries
        checks = read_problems([ImageFile(e.key, Path(e.image_path)) for e in entries])
        end = time.monotonic() + budget_s
        for key, problem in checks:
            self._note(key, problem)
            if time.monotonic() > end:
                break
        if not self.done:
            threading.Thread(target=self._check_the_rest, args=(checks,), daemon=True,
                             name="read check").start()

    @property
    def done(self) -> bool:
        return self.checked >= self.total

    def cancel(self) -> None:
        """Stop after the file being read (the dialog closed)."""
        self._cancel.set()

    def _check_the_rest(self, checks: Iterator[tuple[str, str | None]]) -> None:
        for key, problem in checks:
            if self._cancel.is_set():
                return
            self._note(key, problem)

    def _note(self, key: str, problem: str | None) -> None:
        if problem is not None:
            self.problems[key] = problem
        self.checked += 1  # after the problem: done means every problem is in


def unreadable_text(found: dict[str, str]) -> str:
    """The dialog's words for the labelled images a run leaves out (:func:`unreadable`)."""
    if not found:
        return ""
    keys = list(found)
    named = ", ".join(k.rsplit("/", 1)[-1] for k in keys[:MAX_NAMED]) \
        + (f" and {len(keys) - MAX_NAMED} more" if len(keys) > MAX_NAMED else "")
    return (f", of which {len(keys)} cannot be read and will be left out ({named}: "
            f"{found[keys[0]]})")
