"""Training data: labelled pairs from a workspace, decoded once and cached in memory.

A :class:`Sample` holds the image (``C x H x W`` uint8) and its target (``H x W`` uint8 training
indices, ``IGNORE_INDEX`` where nobody labelled) resized so the longer side is at most
``max_side``; an epoch over a few hundred images then never touches the disk. The validation
split is held out by image, or by a group key (e.g. all views of one car), deterministically
from a seed and independent of file order.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from unet_desktop.core.errors import FileError, ImageReadError, MaskError
from unet_desktop.core.folder.mask_digest import slice_digest
from unet_desktop.core.io.input_rule import LEGACY, InputRule
from unet_desktop.core.labels import IGNORE_INDEX, LabelScheme
from unet_desktop.ml.reports import SkippedPair

if TYPE_CHECKING:
    from unet_desktop.core.folder.workspace import ImageEntry, Workspace
    from unet_desktop.ml.training.augment import PairTransform

GroupFn = Callable[[str], str]
# an image with at most this share of its pixels beyond its model's fixed range is trained on
# (a few saturated hot pixels); beyond it, it is left out and named (the model would learn it
# saturated)
SATURATION_TOLERATED = 0.01


@dataclass(frozen=True)
class Sample:
    key: str
    image: torch.Tensor  # C x H x W uint8
    target: torch.Tensor  # H x W uint8 training indices
    mask_sha1: str = ""


@dataclass
class SampleSet:
    """Samples already in memory with the scheme their targets were made with (tests, benches)."""

    samples: list[Sample]
    scheme: LabelScheme
    source: str = ""


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """HxW or HxWx3 uint8 -> ``channels`` x H x W (gray is repeated, RGB is converted to luma)."""
    if channels not in (1, 3):
        raise ValueError(f"models take 1 or 3 input channels, not {channels}")
    if image.ndim == 2:
        gray = image[None]
        return gray if channels == 1 else np.repeat(gray, 3, axis=0)
    if image.ndim == 3 and image.shape[2] == 3:
        if channels == 3:
            return np.ascontiguousarray(image.transpose(2, 0, 1))
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[None]
    raise ValueError(f"expected an HxW or HxWx3 image, got shape {image.shape}")


def _shrink(
    image: np.ndarray, target: np.ndarray, max_side: int | None
) -> tuple[np.ndarray, np.ndarray]:
    h, w = target.shape
    if max_side is None or max(h, w) <= max_side:
        return image, target
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    target = cv2.resize(target, size, interpolation=cv2.INTER_NEAREST)
    return image, target


def make_sample(
    key: str,
    image: np.ndarray,
    stored_mask: np.ndarray,
    scheme: LabelScheme,
    *,
    in_channels: int = 3,
    border_as_ignore: bool = False,
    max_side: int | None = None,
    mask_sha1: str = "",
) -> Sample:
    """Build a cached sample from a decoded image and its stored mask (raises ``ValueError``)."""
    if image.shape[:2] != stored_mask.shape:
        raise ValueError(
            f"mask is {stored_mask.shape[1]}x{stored_mask.shape[0]} but the image is "
            f"{image.shape[1]}x{image.shape[0]}"
        )
    target = scheme.to_index(stored_mask, border_as_ignore=border_as_ignore)
    image, target = _shrink(image, target, max_side)
    pixels = torch.from_numpy(to_channels(image, in_channels).copy())
    return Sample(key, pixels, torch.from_numpy(np.ascontiguousarray(target)), mask_sha1)


def training_entries(workspace: Workspace, all_masks: bool = False,
                     only: Sequence[str] = ()) -> list[ImageEntry]:
    """Corrected/verified pairs, or (``all_masks``) every entry whose mask file exists; with
    ``only``, those whose key or file name matches one of these glob patterns (a stack's
    slices also by the stack's file: ``vol.tif`` or ``*.tif`` chooses all of them). Masks
    already known to be invalid stay in: reading them again skips them with the reason
    (:class:`SkippedPair`), so a run names every mask it leaves out."""
    from unet_desktop.core.folder.image_entry import LABELLED_STATES

    def chosen(entry: ImageEntry) -> bool:
        file = entry.image_path.name if not entry.image_path.is_relative_to(workspace.root) \
            else entry.image_path.relative_to(workspace.root).as_posix()
        names = {entry.key, PurePosixPath(entry.key).name, file, PurePosixPath(file).name}
        return not only or any(fnmatch.fnmatchcase(n, p) for n in names for p in only)

    return [e for e in workspace.entries if (all_masks or e.state in LABELLED_STATES)
            and chosen(e) and e.mask_path.is_file()]


def load_workspace_sample(
    workspace: Workspace,
    entry: ImageEntry,
    *,
    in_channels: int = 3,
    border_as_ignore: bool = False,
    max_side: int | None = None,
    rule: InputRule = LEGACY,
) -> Sample:
    """Decode and cache one pair, the image made into the model's input by ``rule``; a bad
    pair raises ``MaskError`` naming the mask file (an unfit image ``ImageReadError``, so does
    one beyond the range the rule fixes: the model would learn it saturated)."""
    raw = workspace.load_raw(entry.key)
    beyond = rule.beyond_range(raw, tolerated=SATURATION_TOLERATED)
    if beyond:
        raise ImageReadError(entry.image_path, f"{beyond}; left out of training (a model "
                             "trained anew, not fine-tuned from this one, takes its range)")
    image = rule.apply(raw, entry.image_path)
    mask = workspace.load_mask(entry.key)
    if mask is None:
        raise MaskError(entry.mask_path, "mask file disappeared while loading")
    if entry.is_slice:  # a page of a mask stack: its own values, not the whole file's
        sha1 = slice_digest(mask)
    else:
        sha1 = hashlib.sha1(entry.mask_path.read_bytes()).hexdigest()
    try:
        return make_sample(
            entry.key, image, mask, workspace.scheme, in_channels=in_channels,
            border_as_ignore=border_as_ignore, max_side=max_side, mask_sha1=sha1,
        )
    except ValueError as exc:
        raise MaskError(entry.mask_path, str(exc)) from exc


def _sample_or_skip(workspace: Workspace, entry: ImageEntry,
                    **options: Any) -> Sample | SkippedPair:
    try:
        return load_workspace_sample(workspace, entry, **options)
    except FileError as exc:  # an invalid mask (recorded in workspace.invalid) or image
        if isinstance(exc, MaskError):
            workspace.invalid[entry.key] = str(exc)
        return SkippedPair(entry.key, exc.path, exc.reason)


def iter_workspace_samples(
    workspace: Workspace,
    entries: Sequence[ImageEntry],
    *,
    threads: int = 4,
    skip_invalid: bool = False,
    **options: Any,
) -> Iterator[Sample | SkippedPair]:
    """Samples of ``entries`` in order, decoded by ``threads`` threads (decoders drop the GIL).

    ``options`` go to :func:`load_workspace_sample`. A pair that cannot be read raises its
    ``FileError``, or with ``skip_invalid`` comes as a :class:`SkippedPair` in its place.
    Closing the iterator early cancels the decoding that has not started yet.
    """
    load = _sample_or_skip if skip_invalid else load_workspace_sample
    if threads <= 1:
        for entry in entries:
            yield load(workspace, entry, **options)
        return
    pool = ThreadPoolExecutor(threads, thread_name_prefix="decode")
    try:
        pending: deque[Future[Sample | SkippedPair]] = deque()
        for entry in entries:
            pending.append(pool.submit(load, workspace, entry, **options))
            if len(pending) >= 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- validation split ------------------------------------------------------------------------
def prefix_group(key: str) -> str:
    """Group key = file stem before the first "_" (Carvana: car id of ``<car>_<view>.jpg``)."""
    return PurePosixPath(key).stem.split("_", 1)[0]


GROUPERS: dict[str, GroupFn | None] = {"image": None, "prefix": prefix_group}


def seeded_rank(seed: int, key: str) -> str:
    """A sort key that orders strings pseudo-randomly, the same for a seed on every platform."""
    return hashlib.sha1(f"{seed}:{key}".encode()).hexdigest()


def split_indices(
    keys: Sequence[str],
    val_fraction: float,
    seed: int = 0,
    group_fn: GroupFn | None = None,
) -> tuple[list[int], list[int]]:
    """Indices of (train, val): about ``val_fraction`` of the groups (default: one per image).

    Groups are ranked by a hash of (seed, group), so the split depends on neither file order nor
    platform, and images added later rarely move an existing image across the split. With fewer
    than two groups or ``val_fraction == 0`` nothing is held out.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    groups = [group_fn(k) if group_fn else k for k in keys]
    unique = sorted(set(groups))
    if val_fraction == 0 or len(unique) < 2:
        return list(range(len(keys))), []
    n_val = min(len(unique) - 1, max(1, math.ceil(val_fraction * len(unique) - 1e-9)))
    val_groups = set(sorted(unique, key=lambda group: seeded_rank(seed, group))[:n_val])
    train = [i for i, g in enumerate(groups) if g not in val_groups]
    val = [i for i, g in enumerate(groups) if g in val_groups]
    return train, val


# --- statistics ------------------------------------------------------------------------------
def channel_stats(samples: Sequence[Sample]) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the cached images, in 0..1 units."""
    if not samples:
        raise ValueError("no samples to compute image statistics from")
    channels = samples[0].image.shape[0]
    total = np.zeros(channels)
    total_sq = np.zeros(channels)
    count = 0
    for s in samples:
        pixels = s.image.reshape(channels, -1).double() / 255.0
        total += pixels.sum(1).numpy()
        total_sq += (pixels**2).sum(1).numpy()
        count += pixels.shape[1]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    return mean.tolist(), np.maximum(std, 1e-3).tolist()


def class_counts(samples: Sequence[Sample], num_classes: int) -> list[int]:
    """Labelled pixels per class over ``samples`` (ignored pixels are not counted)."""
    counts = torch.zeros(256, dtype=torch.int64)
    for s in samples:
        counts += torch.bincount(s.target.reshape(-1).long(), minlength=256)
    return counts[:num_classes].tolist()


class SegmentationDataset(Dataset):
    """Cached samples through a paired transform -> ``(float image, int64 target)``;
    ``paste`` (e.g. :class:`unet_desktop.ml.training.copy_paste.CopyPaste`) runs before the transform.
    ``repeats``: each sample appears that many times per pass (augmented anew each time)."""

    def __init__(self, samples: Sequence[Sample], transform: PairTransform,
                 paste: Callable[[torch.Tensor, torch.Tensor],
                                 tuple[torch.Tensor, torch.Tensor]] | None = None,
                 repeats: int = 1) -> None:
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.samples = list(samples)
        self.transform = transform
        self.paste = paste
        self.repeats = repeats

    def __len__(self) -> int:
        return len(self.samples) * self.repeats

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        sample = self.samples[index % len(self.samples)]
        image, target = sample.image, sample.target
        if self.paste is not None:
            image, target = self.paste(image, target)
        return self.transform(image, target)


def pad_collate(
    batch: Sequence[tuple[torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack images of different sizes: pad to the largest (image 0, target ``IGNORE_INDEX``)."""
    height = max(image.shape[-2] for image, _ in batch)
    width = max(image.shape[-1] for image, _ in batch)
    images = batch[0][0].new_zeros((len(batch), batch[0][0].shape[0], height, width))
    targets = batch[0][1].new_full((len(batch), height, width), IGNORE_INDEX)
    for i, (image, target) in enumerate(batch):
        images[i, :, : image.shape[-2], : image.shape[-1]] = image
        targets[i, : target.shape[-2], : target.shape[-1]] = target
    return images, targets
