"""Sparse training masks (strokes) filled with a pixel classifier's labels before a UNet trains.

Why strokes alone teach a UNet little (issue 30, docs/quality.md): a random crop of a scribbled
image holds few labelled pixels, and nothing places the boundary in the unlabeled band between a
membrane stroke and a cell stroke, so the network learns the strokes' interiors and guesses the
rest. A random forest on filter features (``ml.strokes.pixel_classifier``, two auto-context
stages: ``ml.strokes.autocontext``) fitted on the same strokes labels every pixel within
seconds; its labels where nobody painted, the strokes kept as they are, give the UNet dense
targets whose boundaries follow the image. Measured on unseen ISBI slices this beats both the
forest alone and the strokes alone (docs/quality.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from unet_desktop.core.labels import IGNORE_INDEX, STROKES_BELOW
from unet_desktop.ml.strokes.autocontext import STAGES, autocontext_probabilities
from unet_desktop.ml.training.dataset import Sample

FILL_MODES = ("auto", "off")


def labelled_fraction(samples: Sequence[Sample]) -> float:
    total = sum(s.target.numel() for s in samples)
    return sum(int((s.target != IGNORE_INDEX).sum()) for s in samples) / max(1, total)


def is_sparse(samples: Sequence[Sample]) -> bool:
    return bool(samples) and labelled_fraction(samples) < STROKES_BELOW


def sample_image(sample: Sample) -> np.ndarray:
    """H x W (one channel) or H x W x 3 uint8 view of a sample's image."""
    image = sample.image.numpy()
    return image[0] if image.shape[0] == 1 else np.ascontiguousarray(image.transpose(1, 2, 0))


def fill_strokes(samples: Sequence[Sample], num_classes: int, seed: int = 0,
                 stages: int = STAGES, min_confidence: float = 0.0,
                 image_shares: bool = True,
                 second_opinion: Sequence[np.ndarray | None] | None = None,
                 ) -> list[Sample]:
    """The samples with their unlabeled pixels set to the pixel classifier's prediction (an
    auto-context forest of ``stages`` stages fitted on all their labelled pixels, see
    ``ml.strokes.autocontext``; ``image_shares``: adjusted to the classes' shares in the images,
    ``ml.strokes.prior_shift``) where its probability is at least ``min_confidence`` (the others stay
    unlabeled); painted pixels keep their label. ``second_opinion``: per sample C x H x W
    probabilities averaged with the forest's, or None (the parent model's on images that hold
    only corrections, ``ml.training.parent_fill``).
    Samples are returned as they are when fewer than two classes are painted (nothing to tell
    apart)."""
    images = [sample_image(s) for s in samples]
    targets = [s.target.numpy() for s in samples]
    try:
        probabilities = autocontext_probabilities(images, targets, num_classes, seed, stages,
                                                  image_shares)
    except ValueError:
        return list(samples)
    if second_opinion is not None:
        probabilities = [f if o is None else (f + o) / 2
                         for f, o in zip(probabilities, second_opinion, strict=True)]
    filled = []
    for sample, probs, target in zip(samples, probabilities, targets, strict=True):
        guess = np.where(probs.max(axis=0) >= min_confidence, probs.argmax(axis=0), IGNORE_INDEX)
        dense = np.where(target == IGNORE_INDEX, guess, target)
        filled.append(dataclasses.replace(sample, target=torch.from_numpy(dense.astype(np.uint8))))
    return filled
