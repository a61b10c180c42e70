"""The images a training run learns from and is judged on.

Loading: a workspace's labelled pairs (a pair whose mask or image cannot be used is yielded
once as a ``SkippedPair`` and left out; the run trains on the others) or a ready ``SampleSet``.
The split: the folder's frozen validation set (``config.holdout``, never trained on; too few
images to judge: none) or a deterministic split by seed. Sparse masks (strokes) are filled for
training (``ml.training.stroke_fill``). Then the normalisation of a new model and the data
loaders (``DistributedSampler``: each process its share).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, DistributedSampler

from unet_desktop.core.errors import FileError, MaskError
from unet_desktop.core.folder.learning_record import MIN_VALIDATION_IMAGES
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.labels import LabelScheme
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.models.modelfile import ModelMeta
from unet_desktop.ml.reports import PrepareReport, SkippedPair
from unet_desktop.ml.training import distributed as ddp
from unet_desktop.ml.training.augment import (
    AugmentOptions,
    train_transform,
    val_transform,
    without_up,
)
from unet_desktop.ml.training.copy_paste import CopyPaste, background_index
from unet_desktop.ml.training.dataset import (
    Sample,
    SampleSet,
    SegmentationDataset,
    channel_stats,
    iter_workspace_samples,
    pad_collate,
    split_indices,
    training_entries,
)
from unet_desktop.ml.training.few_image_recipe import early_stopping_allowed
from unet_desktop.ml.training.stroke_fill import fill_strokes, is_sparse
from unet_desktop.ml.training.train_config import (
    MIN_EPOCH_SAMPLES,
    TrainConfig,
    cache_side,
)

IMAGENET_NORMALIZATION = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


@dataclass
class Split:
    """The samples trained on and those validated on (the training ones when none is held out)."""

    train_samples: list[Sample]
    val_samples: list[Sample]
    val_on_train: bool
    stroke_filled: bool  # the training masks' unlabeled pixels were filled
    early_stopping: bool  # enough held-out images to stop early on
    fill_second_opinion: int = 0  # images whose fill averaged in the parent's prediction
    held_back: int = 0  # the folder's validation images, too few to judge: in neither set


@dataclass
class Loaders:
    sampler: DistributedSampler
    train: DataLoader
    val: DataLoader


def load_samples(data: Workspace | SampleSet, cfg: TrainConfig, channels: int, rule: InputRule,
                 size: int, scale: str, cancel: CancelToken
                 ) -> Generator[PrepareReport | SkippedPair, None, tuple[list[Sample], str]]:
    """Yields progress and skipped pairs; returns (samples, source). A cancel stops after
    the current image (the samples loaded so far are returned)."""
    if isinstance(data, SampleSet):
        samples = list(data.samples)
        bad = [s.key for s in samples if s.image.shape[0] != channels]
        if bad:
            raise ValueError(f"samples {bad[:3]} do not have {channels} channels")
        return samples, data.source
    ws = data
    entries = training_entries(ws, cfg.all_masks, cfg.only)
    if not entries:
        what = "masks" if cfg.all_masks else "corrected or verified masks"
        if cfg.only:
            what += f" matching {', '.join(cfg.only)}"
        raise ValueError(f"{ws.root}: no {what} to train on")
    samples: list[Sample] = []
    loader = iter_workspace_samples(ws, entries, in_channels=channels, skip_invalid=True,
                                    rule=rule, border_as_ignore=cfg.border_as_ignore,
                                    max_side=cfg.cache_side or cache_side(size, scale))
    skipped: list[SkippedPair] = []
    for sample in loader:
        if isinstance(sample, SkippedPair):  # reported, never fatal: train on the rest
            skipped.append(sample)
            yield sample
        else:
            samples.append(sample)
        yield PrepareReport(len(samples) + len(skipped), len(entries))
        if cancel.cancelled:
            return samples, str(ws.root)
    if not samples:  # nothing to learn from: the first problem is the error
        first = skipped[0]
        error = MaskError if first.path != str(ws[first.key].image_path) else FileError
        raise error(first.path, f"{first.reason} (and none of the other "
                                f"{len(entries) - 1} labelled images can be used)")
    return samples, str(ws.root)


def split_samples(samples: list[Sample], cfg: TrainConfig, num_classes: int,
                  second_opinion: Callable[[list[Sample]], list | None] | None = None
                  ) -> Split:
    """``cfg`` is the resolved config (``few_image_recipe.resolve``). ``second_opinion``: the
    probabilities of the training samples that a sparse fill averages in, or None (the
    parent's: ``ml.training.parent_fill``)."""
    keys = [s.key for s in samples]
    if len(set(keys)) != len(keys):
        raise ValueError("sample keys must be unique")
    held_back = 0
    if cfg.holdout is not None:  # the folder's frozen validation set: never trained on
        held = set(cfg.holdout)
        train_idx = [i for i, k in enumerate(keys) if k not in held]
        val_idx = [i for i, k in enumerate(keys) if k in held]
        if not train_idx:
            raise ValueError("every labelled image is in the folder's validation set; "
                             "correct a few more images to train on")
        if len(val_idx) < MIN_VALIDATION_IMAGES:
            held_back, val_idx = len(val_idx), []  # too few to judge: not validated (and said so)
    else:
        train_idx, val_idx = split_indices(keys, cfg.val_fraction, cfg.seed, cfg.group_fn)
    train_samples = [samples[i] for i in train_idx]
    val_samples = [samples[i] for i in val_idx] or train_samples
    stroke_filled = cfg.stroke_fill == "auto" and is_sparse(train_samples)
    opinion = None
    if stroke_filled:  # validation (on the training images) keeps the strokes alone
        opinion = second_opinion(train_samples) if second_opinion else None
        train_samples = fill_strokes(train_samples, num_classes, cfg.seed, cfg.fill_stages,
                                     cfg.fill_min_confidence, cfg.fill_image_shares, opinion)
    return Split(train_samples, val_samples, not val_idx, stroke_filled,
                 early_stopping_allowed(len(val_idx)),
                 sum(o is not None for o in opinion or ()), held_back)


def normalization(parent: ModelMeta | None, arch: dict, train_samples: list[Sample]) -> dict:
    """The parent's; ImageNet's for an ImageNet encoder on RGB; else the training images'."""
    if parent is not None:
        return parent.normalization
    if arch["name"] in ("resnet_unet", "effnet_unet") and arch["in_channels"] == 3:
        return IMAGENET_NORMALIZATION
    mean, std = channel_stats(train_samples)
    return {"mean": [round(m, 4) for m in mean], "std": [round(s, 4) for s in std]}


def repeats(cfg: TrainConfig, train_images: int) -> int:
    """How often each training image is drawn per epoch: 1 with a given epoch count, else
    enough that an epoch has MIN_EPOCH_SAMPLES crops (each drawn differently augmented)."""
    if not cfg.time_governed:
        return 1
    return max(1, -(-MIN_EPOCH_SAMPLES // train_images))


def augment_options(cfg: TrainConfig, scale: str) -> AugmentOptions:
    """The run's augmentation: ``cfg.augment``, turned and flipped every way when the images have
    no "up" (``cfg.without_up``; unset: a native-scale model's images)."""
    no_up = scale == "native" if cfg.without_up is None else cfg.without_up
    return without_up(cfg.augment) if no_up else cfg.augment


def make_loaders(split: Split, cfg: TrainConfig, norm: dict, size: int, scale: str,
                 scheme: LabelScheme, device: torch.device, dist: ddp.DistInfo) -> Loaders:
    native = scale == "native"
    workers = cfg.num_workers
    if workers is None:
        workers = 0 if device.type == "cpu" else min(4, os.cpu_count() or 1)
    common = {"num_workers": workers, "pin_memory": device.type == "cuda",
              "persistent_workers": workers > 0}
    paste = None
    if cfg.augment.copy_paste > 0:
        paste = CopyPaste(split.train_samples, background_index(scheme), cfg.augment.copy_paste)
    train_ds = SegmentationDataset(
        split.train_samples,
        train_transform(size, norm["mean"], norm["std"], augment_options(cfg, scale), native),
        paste, repeats=repeats(cfg, len(split.train_samples)))
    sampler = DistributedSampler(train_ds, dist.world_size, dist.rank, shuffle=True,
                                 seed=cfg.seed)
    drop_last = len(sampler) > cfg.batch_size
    train_loader = DataLoader(train_ds, cfg.batch_size, sampler=sampler, drop_last=drop_last,
                              **common)
    val_part = ddp.shard(list(range(len(split.val_samples))), dist)
    val_ds = SegmentationDataset([split.val_samples[i] for i in val_part],
                                 val_transform(size, norm["mean"], norm["std"], native))
    # whole images at their own size: one at a time (a batch would pad all to the largest).
    # Its own generator: validating draws nothing from the training's random stream, so a run
    # that validates trains the same model as one that does not (a loop round)
    val_loader = DataLoader(val_ds, 1 if native else cfg.batch_size, shuffle=False,
                            collate_fn=pad_collate, generator=torch.Generator(), **common)
    return Loaders(sampler, train_loader, val_loader)
