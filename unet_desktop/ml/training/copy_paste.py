"""Copy-paste augmentation: objects cut out of one training image, pasted onto another.

With a few hundred labelled images a model also learns which backgrounds its objects stood on;
pasting the labelled objects of one image (every class but the background, with what surrounds
them in the mask, e.g. a trimap's border band) onto another image at a random place and scale
shows it the same objects in new surroundings (the "simple copy-paste" of Ghiasi et al., 2021).
Applied to the cached samples before the geometric and colour transforms, on copies: the cache
is never modified. Randomness comes from torch's generator, which the training loop seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from unet_desktop.core.labels import IGNORE_INDEX, LabelScheme

if TYPE_CHECKING:
    from unet_desktop.ml.training.dataset import Sample


def background_index(scheme: LabelScheme) -> int:
    """Training index of the class that is not an object: trimap "background", else class 0
    (a multiclass scheme's first class is its background by this project's convention)."""
    if scheme.kind == "trimap":
        return scheme.stored_values.index(2)
    return 0


class CopyPaste:
    """Callable ``(image CxHxW uint8, target HxW uint8) -> (image, target)``: with probability
    ``probability`` the objects of another sample are pasted in, scaled by a factor drawn from
    ``scale`` (further shrunk to fit), at a random position, mirrored half of the time."""

    def __init__(self, samples: Sequence[Sample], background: int, probability: float = 0.5,
                 scale: tuple[float, float] = (0.5, 1.0)) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"copy-paste probability must be in [0, 1], got {probability}")
        self.background = background
        self.probability = probability
        self.scale = scale
        self.donors = [d for d in (self._cut(s) for s in samples) if d is not None]

    def _cut(self, sample: Sample) -> tuple[np.ndarray, np.ndarray] | None:
        """The sample's object pixels cropped to their bounding box: (HxWxC image, HxW target
        with ``IGNORE_INDEX`` outside the objects), or None if it has no object."""
        target = sample.target.numpy()
        objects = (target != self.background) & (target != IGNORE_INDEX)
        if not objects.any():
            return None
        rows, cols = np.flatnonzero(objects.any(1)), np.flatnonzero(objects.any(0))
        box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
        image = np.ascontiguousarray(sample.image.numpy().transpose(1, 2, 0)[box])
        cut = np.where(objects[box], target[box], IGNORE_INDEX).astype(np.uint8)
        return image, cut

    def __call__(self, image: torch.Tensor, target: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.donors or torch.rand(()).item() >= self.probability:
            return image, target
        donor_image, donor_target = self.donors[int(torch.randint(len(self.donors), ()))]
        height, width = target.shape
        low, high = self.scale
        factor = low + (high - low) * torch.rand(()).item()
        factor = min(factor, height / donor_target.shape[0], width / donor_target.shape[1])
        size = (max(1, round(donor_target.shape[1] * factor)),
                max(1, round(donor_target.shape[0] * factor)))
        patch = cv2.resize(donor_image, size, interpolation=cv2.INTER_AREA if factor < 1
                           else cv2.INTER_LINEAR).reshape(size[1], size[0], -1)
        labels = cv2.resize(donor_target, size, interpolation=cv2.INTER_NEAREST)
        if torch.rand(()).item() < 0.5:
            patch, labels = patch[:, ::-1], labels[:, ::-1]
        top = int(torch.randint(height - size[1] + 1, ()))
        left = int(torch.randint(width - size[0] + 1, ()))
        window = slice(top, top + size[1]), slice(left, left + size[0])
        paste = labels != IGNORE_INDEX
        out_image = image.numpy().transpose(1, 2, 0).copy()
        out_target = target.numpy().copy()
        out_image[window][paste] = patch[paste]
        out_target[window][paste] = labels[paste]
        return (torch.from_numpy(np.ascontiguousarray(out_image.transpose(2, 0, 1))),
                torch.from_numpy(out_target))
