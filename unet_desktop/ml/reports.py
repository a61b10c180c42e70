"""What the model jobs report while they run, without torch: the window tells the reports apart
by their class on the UI thread, which must not import torch (the worker thread does).

A training run yields :class:`SkippedPair`, :class:`PrepareReport`, one :class:`SplitReport`,
:class:`StepReport`, :class:`EpochReport` and last :class:`FinalReport`; a learning round also yields
:class:`GateReport` and ends with :class:`RoundResult`. :func:`figures_apart` formats two figures
that a verdict compares (the fine-tune's and the learning gate's alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

StopReason = Literal["completed", "early_stopping", "time_budget", "step_limit", "cancelled"]


@dataclass(frozen=True)
class PrepareReport:
    """Decoding and caching the training images: ``done`` of ``total``."""

    done: int
    total: int


@dataclass(frozen=True)
class SplitReport:
    """The images decided for training and validation, once, before the first step."""

    train_images: int
    val_images: int  # held out and validated on; 0: the figures are on the training images
    held_back: int = 0  # held out but too few to validate on: neither trained nor validated on


@dataclass(frozen=True)
class StepReport:
    epoch: int  # 1-based
    step: int  # global optimisation step, 1-based
    loss: float
    lr: float
    images_per_s: float  # over this epoch so far, all processes together
    steps_in_epoch: int | None = None  # for progress bars


@dataclass(frozen=True)
class EpochReport:
    epoch: int  # 1-based
    epochs: int | None  # None: the run is governed by its time budget
    train_loss: float
    val: dict  # metrics.summarize() + "loss"
    improved: bool  # the best model so far (saved to the output file)
    time_left_s: float | None  # estimate: the epochs or steps left, within the time budget


@dataclass(frozen=True)
class FinalReport:
    model_path: Path | None  # None when cancelled before the first validation
    metrics: dict  # validation metrics of the saved (best) model
    parent_metrics: dict | None  # the parent model on the same validation images
    # None without a parent, without held-out images (the metrics are then on the training
    # images: val_images 0) or when the parent trained on some of the held-out images
    better_than_parent: bool | None
    stopped: StopReason = "completed"
    epochs_run: int = 0
    best_epoch: int | None = None
    val_images: int = 0  # held-out validation images; 0: validated on the training images
    parent_trained_on_val: bool = False  # the parent learnt from some of the held-out images
    val_labelled: float = 1.0  # share of the validation masks' pixels labelled (strokes: low)
    held_back: int = 0  # held out but too few to validate on: neither trained nor validated on


@dataclass(frozen=True)
class SkippedPair:
    """A labelled pair left out of training: its mask (or image) cannot be used as it is.
    Training yields it once per run (it is not fatal); ``reason`` names the file."""

    key: str
    path: str  # the file that cannot be used
    reason: str

    @property
    def message(self) -> str:
        return f"{self.path}: {self.reason}"


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
    gate: str  # "validation", "unvalidated", "first_model", "cancelled", "nothing_to_train",
    # "undone" (an image it used was undone and saved meanwhile: stopped, nothing kept)
    reason: str  # one sentence for the user
    metrics: dict  # val_score / parent_val_score / miou / dice / train_loss
    train_images: tuple[str, ...] = ()
    validation_images: tuple[str, ...] = ()
    train_seconds: float = 0.0
    validated: bool = False  # judged on >= 2 validation images it never trained on


def figures_apart(new: float | None, parent: float | None) -> tuple[str, str]:
    """The two figures with 3 decimals, or as many more (up to 6) as it takes to show them
    different when they are: "better than its parent (0.001)" beside a new 0.001 says nothing."""
    digits = 3
    while (new is not None and parent is not None and new != parent and digits < 6
           and f"{new:.{digits}f}" == f"{parent:.{digits}f}"):
        digits += 1
    return tuple("-" if v is None else f"{v:.{digits}f}" for v in (new, parent))


Report = PrepareReport | SplitReport | StepReport | EpochReport | FinalReport
