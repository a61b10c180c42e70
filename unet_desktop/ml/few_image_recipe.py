"""How the app trains from few images: one recipe for the Fine-tune dialog, ``train`` and the
learning loop's rounds (torch-free, so the window and ``core``-only code can read it).

- **Few images**: at most :data:`FEW_IMAGES` training images. Such a run uses the loop's
  full-rate schedule (:data:`FEW_IMAGE_SCHEDULE`: batch 4, a 2-step warm-up, then the peak
  learning rate to the end, no cosine decay), holds nothing out unless asked to (every image
  trains; the result then says "not validated") and, without an epoch count, lasts its time
  budget (:data:`FEW_IMAGE_MINUTES` in the Fine-tune dialog). Why (issue 31): two views of one
  car, ``pets-trimap`` fine-tuned onto cars for 3 minutes, scored 0.90-0.93 Dice on other cars
  through ``train --init`` (batch 8, 20-step warm-up, cosine to 1 %) and 0.979 through the
  loop's schedule; the measurements with this recipe are in docs/quality.md.
- **Early stopping** never ends a run whose validation set has fewer than
  :data:`MIN_EARLY_STOPPING_IMAGES` images held out (one or two images say nothing about
  whether the model still improves); such runs last their time budget or epoch count.

:func:`resolve` fills the ``TrainConfig`` fields left to the recipe (``None``): every path
calls it through ``ml.finetune_job.run_finetune`` and ``ml.train`` once the number of images is
known; values the user gave are kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

FEW_IMAGES = 10
FEW_IMAGE_MINUTES = 3.0
MIN_EARLY_STOPPING_IMAGES = 5
STANDARD_VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Schedule:
    """Batch size and learning-rate schedule (warm-up steps; ``None``: the trainer's rule)."""

    batch_size: int
    warmup_steps: int | None
    min_lr_ratio: float  # 1.0: the peak rate after the warm-up, no decay
    # the start's BatchNorm statistics kept (not re-estimated from a few images' crops)
    keep_norm_statistics: bool = False


# The loop's round schedule: a run of a few minutes on a CPU is a few hundred steps; a cosine
# decay spends most of them at a small rate, and batch 4 doubles the steps of batch 8.
FEW_IMAGE_SCHEDULE = Schedule(batch_size=4, warmup_steps=2, min_lr_ratio=0.01,
                              keep_norm_statistics=True)
STANDARD_SCHEDULE = Schedule(batch_size=8, warmup_steps=None, min_lr_ratio=0.01)


def is_few(images: int) -> bool:
    return images <= FEW_IMAGES


def schedule_for(images: int) -> Schedule:
    return FEW_IMAGE_SCHEDULE if is_few(images) else STANDARD_SCHEDULE


def default_val_fraction(images: int) -> float:
    """Few images: every one trains (nothing held out); more: a fifth held out."""
    return 0.0 if is_few(images) else STANDARD_VAL_FRACTION


def early_stopping_allowed(validation_images: int) -> bool:
    """Whether a validation set of this many held-out images may end a run early."""
    return validation_images >= MIN_EARLY_STOPPING_IMAGES


def early_stopping_rule() -> str:
    """The rule in words, for the dialog, the CLI and the docs."""
    return (f"early stopping only with at least {MIN_EARLY_STOPPING_IMAGES} validation images "
            "held out; with fewer the run lasts its time limit")


def resolve(config: Any, images: int) -> Any:
    """``config`` (a ``TrainConfig``) with the fields it left to the recipe filled in for a run
    on ``images`` labelled images; fields already set are kept."""
    schedule = schedule_for(images)
    changes = {}
    if config.batch_size is None:
        changes["batch_size"] = schedule.batch_size
    if config.min_lr_ratio is None:
        changes["min_lr_ratio"] = schedule.min_lr_ratio
        if config.warmup_steps is None:
            changes["warmup_steps"] = schedule.warmup_steps
    if config.val_fraction is None:
        changes["val_fraction"] = default_val_fraction(images)
    if config.freeze_batchnorm is None:
        changes["freeze_batchnorm"] = schedule.keep_norm_statistics
    return dataclasses.replace(config, **changes) if changes else config
