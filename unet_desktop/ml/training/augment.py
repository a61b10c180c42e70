"""Paired image/mask transforms (torchvision.transforms.v2) for training and validation.

Inputs are a ``C x H x W`` uint8 image tensor and an ``H x W`` uint8 mask of training indices.
``tv_tensors.Mask`` makes every geometric op use nearest-neighbour on the mask, colour ops leave
it alone, and areas a rotation brings in are filled with ``IGNORE_INDEX`` so they do not train.
Outputs: a float32 image normalised with the model's mean/std and an int64 target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F
from torchvision.transforms.v2 import query_size

from unet_desktop.core.labels import IGNORE_INDEX


@dataclass(frozen=True)
class AugmentOptions:
    """How strongly to augment; the defaults suit photos and microscopy alike."""

    min_scale: float = 0.35  # smallest crop, as a fraction of the image area
    max_scale: float = 1.0  # largest crop (e.g. both near (crop/image)^2 to stay at native scale)
    max_rotation: float = 10.0  # degrees
    hflip: bool = True
    vflip: bool = False  # on for data without an "up" (microscopy, aerial)
    turns: bool = False  # random quarter turns, for data without an "up" (see without_up)
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02
    copy_paste: float = 0.0  # probability of pasting another image's objects (ml.training.copy_paste)


class RandomRescale(v2.Transform):
    """Resize by a random factor in ``[low, high]`` of the input's own size (masks: nearest)."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low, self.high = low, high

    def make_params(self, flat_inputs: list) -> dict:
        height, width = query_size(flat_inputs)
        factor = float(torch.empty(()).uniform_(self.low, self.high))
        return {"size": [max(1, round(height * factor)), max(1, round(width * factor))]}

    def transform(self, inpt, params: dict):
        return self._call_kernel(F.resize, inpt, params["size"], antialias=True)


class RandomQuarterTurn(v2.Transform):
    """Turn by 0, 90, 180 or 270 degrees, each as likely (exact for image and mask alike)."""

    def make_params(self, flat_inputs: list) -> dict:
        return {"quarters": int(torch.randint(0, 4, ()))}

    def transform(self, inpt, params: dict):
        if not params["quarters"]:
            return inpt
        return self._call_kernel(F.rotate, inpt, 90.0 * params["quarters"], expand=True)


def without_up(options: AugmentOptions) -> AugmentOptions:
    """``options`` for images that have no "up" (EM sections, tissue, aerial views): vertical
    flips and quarter turns too, so the model sees every orientation of what it learns. A
    native-scale model (thin structures) trains so unless told otherwise
    (``TrainConfig.without_up``).
    Two scribbled ISBI slices, 200 steps, 8 other slices scored: 0.121 -> 0.115 wrong pixels.
    Averaging an upright 3-minute model's predictions over flips and half turns had taken it
    from 0.122 to 0.111: it had learned an up that the sections do not have (docs/quality.md)."""
    return replace(options, vflip=True, turns=True)


NATIVE_JITTER = (0.9, 1.1)  # native scale: crops resized by at most 10 % either way


def _finish(mean: Sequence[float], std: Sequence[float]) -> list[v2.Transform]:
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(mean), list(std))]


class PairTransform:
    """Callable ``(image uint8 CxHxW, target uint8 HxW) -> (float image, int64 target)``."""

    def __init__(self, transforms: list[v2.Transform]) -> None:
        self.pipeline = v2.Compose(transforms)

    def __call__(
        self, image: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out_image, out_target = self.pipeline(tv_tensors.Image(image), tv_tensors.Mask(target))
        return out_image.as_subclass(torch.Tensor), out_target.as_subclass(torch.Tensor).long()


def train_transform(
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
    options: AugmentOptions | None = None,
    native: bool = False,
) -> PairTransform:
    """Random scale/crop to ``size x size``, flips, a small rotation and colour jitter.

    ``native``: crops keep the images' own pixel scale (within ``NATIVE_JITTER``; images
    smaller than the crop are padded with ignored pixels) instead of covering
    ``min_scale..max_scale`` of the image resized to the crop: for thin structures
    (membranes, vessels, cracks) that a resize would blur away."""
    o = options or AugmentOptions()
    fill = {tv_tensors.Image: 0, tv_tensors.Mask: IGNORE_INDEX}
    if native:
        steps: list[v2.Transform] = [
            RandomRescale(*NATIVE_JITTER),
            v2.RandomCrop((size, size), pad_if_needed=True, fill=fill),
        ]
    else:
        steps = [v2.RandomResizedCrop((size, size), scale=(o.min_scale, o.max_scale),
                                      antialias=True)]
    if o.hflip:
        steps.append(v2.RandomHorizontalFlip())
    if o.vflip:
        steps.append(v2.RandomVerticalFlip())
    if o.turns:
        steps.append(RandomQuarterTurn())
    if o.max_rotation > 0:
        steps.append(v2.RandomRotation(o.max_rotation, fill=fill))
    if max(o.brightness, o.contrast, o.saturation, o.hue) > 0:
        steps.append(v2.ColorJitter(o.brightness, o.contrast, o.saturation, o.hue))
    return PairTransform(steps + _finish(mean, std))


def val_transform(size: int, mean: Sequence[float], std: Sequence[float],
                  native: bool = False) -> PairTransform:
    """Deterministic resize of the shorter side to ``size``, aspect kept ("resize" prediction);
    ``native``: the image as it is (the scale a native-scale model predicts at).

    Images then differ in shape: batch them with :func:`unet_desktop.ml.training.dataset.pad_collate`.
    """
    resize = [] if native else [v2.Resize(size, antialias=True)]
    return PairTransform([*resize, *_finish(mean, std)])
