"""What a training run is asked to do (:class:`TrainConfig`) and what it reports back.

The training generator yields :class:`PrepareReport` while it decodes images, then
:class:`StepReport` per optimisation step and :class:`EpochReport` per epoch, and ends with one
:class:`FinalReport`. The GUI, the CLI and the tests all consume the same stream.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from unet_desktop.core.io.model_header import SCALES
from unet_desktop.ml.training.augment import AugmentOptions
from unet_desktop.ml.training.dataset import GroupFn

AmpMode = Literal["auto", "bf16", "fp16", "off"]

FROM_SCRATCH_LR = 1e-3
FINE_TUNE_LR = 3e-4
DEFAULT_SIZE = 256
# Without --epochs a run is governed by its time budget (this many minutes when none is given),
# and each epoch draws at least MIN_EPOCH_SAMPLES training crops (few images are repeated, each
# time differently augmented) so that validation and checkpoints stay a small part of it.
DEFAULT_BUDGET_MINUTES = 10.0
MIN_EPOCH_SAMPLES = 64
BUDGET_EPOCH_CAP = 100_000
BUDGET_WARMUP_STEPS = 20
# Images are cached shrunk to a longest side of 2 x the crop size at the fit scale; a native-scale
# run keeps them up to this side (larger ones are shrunk, so they train below their own scale).
NATIVE_CACHE_SIDE = 4096


def cache_side(size: int, scale: str) -> int:
    """Longest side of the cached training images for crops of ``size`` at ``scale``."""
    return max(NATIVE_CACHE_SIDE, 2 * size) if scale == "native" else 2 * size


@dataclass
class TrainConfig:
    """Options of one training run: ``init`` (a model file to fine-tune), ``arch``, or neither:
    a new model from the ImageNet-pretrained encoder (``ml.models.architecture.pretrained_arch``).

    ``epochs=None``: the run lasts ``max_minutes`` (default ``DEFAULT_BUDGET_MINUTES``) or
    until early stopping, with epochs of at least ``MIN_EPOCH_SAMPLES`` crops.
    ``arch`` may leave out ``in_channels`` (3) and ``num_classes`` (from the label scheme).
    ``size`` defaults to the parent's training size, else 256. ``lr`` defaults to 3e-4 when
    fine-tuning and 1e-3 from scratch. ``batch_size`` is per process under torchrun.
    ``batch_size``, ``min_lr_ratio`` (with ``warmup_steps``) and ``val_fraction`` left at None
    are chosen by ``ml.training.few_image_recipe`` from the number of images (few images: the loop's
    full-rate schedule, nothing held out); early stopping needs enough validation images (same
    module).
    ``new_classes``: when the ``init`` model's label scheme differs from the masks', replace its
    final classifier by one for the masks' classes (rows carried over by class name, see
    ``ml.models.new_classes``) instead of refusing.
    """

    out: Path
    init: Path | None = None
    new_classes: bool = False
    # a new model's input rule (core.io.input_rule, e.g. {"kind": "percentile"}); None: the
    # default of new models. A fine-tuned model keeps its parent's.
    input_rule: dict | None = None
    arch: dict | None = None
    epochs: int | None = None
    max_minutes: float | None = None
    size: int | None = None
    batch_size: int | None = None  # None: ml.training.few_image_recipe
    lr: float | None = None
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    # None: BUDGET_WARMUP_STEPS in a time-governed run, else warmup_fraction of the steps
    warmup_steps: int | None = None
    min_lr_ratio: float | None = None  # 1.0: a constant rate after the warm-up; None: the recipe
    val_fraction: float | None = None  # None: the recipe (few images: 0, else 0.2)
    # the folder's frozen validation set (ml.loop.folder_models.FolderModels.holdout): these images are
    # never trained on and are the validation set (below MIN_VALIDATION_IMAGES: not validated);
    # None: a split by val_fraction
    holdout: tuple[str, ...] | None = None
    # the init model is the task's own and the task renamed its classes since (the same kind and
    # stored values): its classes carry over by stored value under the task's names
    renamed_classes: bool = False
    seed: int = 0
    group_fn: GroupFn | None = None  # validation split by group (e.g. dataset.prefix_group)
    patience: int | None = 10  # epochs without a better validation mIoU before stopping
    only: tuple[str, ...] = ()  # train only on images whose name matches one of these globs
    # False: no validation pass (nor the parent's evaluation): each epoch's model is kept, the
    # caller judges it (the learning loop, on its own validation set, between predictions)
    validate: bool = True
    freeze_encoder: bool = False
    all_masks: bool = False  # train on every mask, not only corrected/verified ones
    border_as_ignore: bool = False  # trimap border -> ignore index
    class_weights: list[float] | Literal["auto"] | None = None
    dice_weight: float = 1.0
    grad_clip: float | None = 1.0
    device: str = "auto"
    amp: AmpMode = "auto"  # auto = bf16 (or fp16) on CUDA, off elsewhere
    channels_last: bool | None = None  # None = on CUDA and CPU
    resume: bool = False
    num_workers: int | None = None  # None = 0 on CPU, up to 4 on GPU
    augment: AugmentOptions = field(default_factory=AugmentOptions)
    # the images have no "up": vertical flips and quarter turns in training (augment.without_up);
    # None: so for a native-scale model (thin structures: EM, vessels, cracks), not for others
    without_up: bool | None = None
    cache_side: int | None = None  # longest side of cached images; None = 2 * size (fit scale)
    scale: str | None = None  # one of SCALES (core.io.model_header); None: the parent's, or fit
    # "auto": sparse masks (strokes) are filled with a pixel classifier's labels where nobody
    # painted before training (ml.training.stroke_fill); "off": unlabeled pixels are only ignored
    stroke_fill: str = "auto"
    fill_stages: int = 2  # forests of the fill (ml.strokes.autocontext; 1: one forest)
    fill_min_confidence: float = 0.0  # fill only where the forest is this sure; others unlabeled
    # the forest's probabilities adjusted to the classes' shares in the images
    # (ml.strokes.prior_shift); False: the balanced forest's own
    fill_image_shares: bool = True
    # a fine-tune whose parent knows the task's classes averages its prediction into the fill
    # (ml.training.parent_fill); False: the forest's alone
    fill_from_parent: bool = True
    # weight of the edge-aware smoothness loss on unlabeled pixels (ml.training.unlabeled_losses); 0: off
    smoothness_weight: float = 0.0
    max_steps: int | None = None  # also stop after this many steps (benches, CPU-independent)
    # a fine-tune keeps its parent's BatchNorm statistics in training (not re-estimated; a new
    # model always estimates its own); None: ml.training.few_image_recipe (few images: kept)
    freeze_batchnorm: bool | None = None
    name: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        self.out = Path(os.path.abspath(os.path.expanduser(self.out)))
        if self.init is not None:
            self.init = Path(os.path.abspath(os.path.expanduser(self.init)))
        problems = []
        if self.epochs is None and self.max_minutes is None:
            self.max_minutes = DEFAULT_BUDGET_MINUTES
        if self.epochs is not None and self.epochs < 1:
            problems.append(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size is not None and self.batch_size < 1:
            problems.append(f"batch size must be >= 1, got {self.batch_size}")
        if self.size is not None and self.size < 16:
            problems.append(f"size must be >= 16 px, got {self.size}")
        if self.max_minutes is not None and self.max_minutes <= 0:
            problems.append(f"max_minutes must be > 0, got {self.max_minutes}")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            problems.append(f"warmup_steps must be >= 0, got {self.warmup_steps}")
        if self.min_lr_ratio is not None and not 0 < self.min_lr_ratio <= 1:
            problems.append(f"min_lr_ratio must be in (0, 1], got {self.min_lr_ratio}")
        if self.stroke_fill not in ("auto", "off"):
            problems.append(f"stroke_fill must be 'auto' or 'off', got {self.stroke_fill!r}")
        if self.fill_stages < 1 or not 0 <= self.fill_min_confidence < 1:
            problems.append(f"fill_stages must be >= 1 and fill_min_confidence in [0, 1), got "
                            f"{self.fill_stages} and {self.fill_min_confidence}")
        if self.smoothness_weight < 0:
            problems.append(f"smoothness_weight must be >= 0, got {self.smoothness_weight}")
        if self.lr is not None and self.lr <= 0:
            problems.append(f"learning rate must be > 0, got {self.lr}")
        if self.val_fraction is not None and not 0 <= self.val_fraction < 1:
            problems.append(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if not 0 <= self.augment.copy_paste <= 1:
            problems.append(f"copy-paste probability must be in [0, 1], got "
                            f"{self.augment.copy_paste}")
        if self.scale is not None and self.scale not in SCALES:
            problems.append(f"scale must be one of {SCALES}, got {self.scale!r}")
        if self.amp not in ("auto", "bf16", "fp16", "off"):
            problems.append(f"amp must be auto, bf16, fp16 or off, got {self.amp!r}")
        if self.init is not None and Path(self.init).resolve() == Path(self.out).resolve():
            problems.append(f"the output {self.out} is the model being fine-tuned: training never "
                            "overwrites the model in use, choose another output file")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def time_governed(self) -> bool:
        """No epoch count given: the time budget (and early stopping) end the run."""
        return self.epochs is None

    @property
    def fixed_warmup_steps(self) -> int | None:
        """Warm-up steps given or implied by the time budget; None: ``warmup_fraction`` of the
        run's steps (the trainer works it out)."""
        if self.warmup_steps is not None:
            return self.warmup_steps
        return BUDGET_WARMUP_STEPS if self.time_governed else None

    @property
    def epoch_limit(self) -> int:
        return self.epochs if self.epochs is not None else BUDGET_EPOCH_CAP


