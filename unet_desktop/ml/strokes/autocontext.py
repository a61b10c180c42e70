"""Auto-context (ilastik's two-stage pixel classification): a second forest sees the first one's
probabilities, smoothed at several scales, beside the filter features, so a pixel's label can
follow what the forest predicts around it (a membrane pixel lies on a line of membrane).

Each stage's probabilities are adjusted to the classes' shares in the images
(``ml.strokes.prior_shift``). On two scribbled ISBI slices the labels of the unpainted pixels
are wrong 0.101 of the time after two stages against 0.107 for one forest, both adjusted
(unadjusted 0.116 and 0.129; docs/quality.md); a third stage adds nothing (0.101).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from unet_desktop.ml.strokes.pixel_classifier import PixelClassifier, filter_features
from unet_desktop.ml.strokes.prior_shift import to_image_shares

CONTEXT_SIGMAS = (1.0, 2.0, 4.0, 8.0)
STAGES = 2


def context_features(features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """``features`` (H x W x F) with each class's probability (C x H x W) smoothed at
    :data:`CONTEXT_SIGMAS` appended (binary: the foreground's only)."""
    classes = probabilities[1:] if len(probabilities) == 2 else probabilities
    planes = [cv2.GaussianBlur(p, (0, 0), s)[..., None] for p in classes for s in CONTEXT_SIGMAS]
    return np.concatenate([features, *planes], axis=-1)


def autocontext_probabilities(images: Sequence[np.ndarray], targets: Sequence[np.ndarray],
                              num_classes: int, seed: int = 0,
                              stages: int = STAGES,
                              image_shares: bool = True) -> list[np.ndarray]:
    """num_classes x H x W probabilities of every pixel of the images after ``stages`` forests
    fitted on the labelled pixels (``IGNORE_INDEX`` elsewhere). Raises ``ValueError`` when fewer
    than two classes are labelled. ``image_shares``: each stage's probabilities adjusted to the
    classes' shares in the images (``ml.strokes.prior_shift``; off: the balanced forest's)."""
    if stages < 1:
        raise ValueError(f"stages must be >= 1, got {stages}")
    base = [filter_features(image) for image in images]
    features = base
    for stage in range(stages):
        forest = PixelClassifier.fit(images, targets, seed=seed + stage, features=features)
        probabilities = [forest.probabilities(image, num_classes, features=f)
                         for image, f in zip(images, features, strict=True)]
        if image_shares:
            probabilities = to_image_shares(probabilities, forest.assumed_shares(num_classes))
        features = [context_features(b, p) for b, p in zip(base, probabilities, strict=True)]
    return probabilities
