"""A simulated user who labels with strokes (issue 30's protocol), on training indices
(``IGNORE_INDEX`` = unlabeled; the true mask's own ignored pixels are never painted).

- First strokes: per image and class, ``STROKES`` strokes ``WIDTH`` px wide from a random point of
  the class's region eroded by 1 px to a point up to ``REACH`` px away, clipped to that region.
- Corrective strokes: a disk of radius ``DISK`` px of the true class at the innermost point of
  each of the ``REGIONS`` largest wrong regions of the current prediction (clipped to the true
  class there).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from unet_desktop.core.labels import IGNORE_INDEX
from unet_desktop.ml.training.dataset import training_entries

STROKES, WIDTH, REACH = 200, 5, 12
REGIONS, DISK = 40, 3


def first_strokes(truth: np.ndarray, num_classes: int, rng: np.random.Generator,
                  strokes: int = STROKES) -> tuple[np.ndarray, int]:
    """(labels with ``IGNORE_INDEX`` where unpainted, number of strokes drawn)."""
    labels = np.full(truth.shape, IGNORE_INDEX, np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    drawn = 0
    for c in range(num_classes):
        region = cv2.erode((truth == c).astype(np.uint8), kernel)
        ys, xs = np.nonzero(region)
        if not len(ys):
            continue
        canvas = np.zeros(truth.shape, np.uint8)
        for i in rng.integers(0, len(ys), strokes):
            angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(0, REACH)
            start = (int(xs[i]), int(ys[i]))
            end = (int(np.rint(xs[i] + length * np.cos(angle))),
                   int(np.rint(ys[i] + length * np.sin(angle))))
            cv2.line(canvas, start, end, 1, WIDTH)
            drawn += 1
        labels[(canvas > 0) & (region > 0)] = c
    return labels, drawn


def keys_by_name(ws, rotate: int = 0) -> list[str]:
    """The folder's images with masks by name: the first N are scribbled, the others scored.
    ``rotate``: the list starts at its ``rotate``-th image and wraps around, so that other
    images are scribbled (another split of the same folder)."""
    keys = sorted(e.key for e in training_entries(ws, all_masks=True))
    if not keys:
        raise ValueError(f"{ws.root}: no image has a mask (the simulated user needs the truth)")
    if not 0 <= rotate < len(keys):
        raise ValueError(f"{ws.root}: --rotate {rotate} with {len(keys)} images with masks "
                         f"(give 0 to {len(keys) - 1})")
    return keys[rotate:] + keys[:rotate]


def first_strokes_of(truths: Sequence[np.ndarray], num_classes: int, seed: int,
                     strokes: int = STROKES) -> list[tuple[np.ndarray, int]]:
    """:func:`first_strokes` of each truth in turn from one seeded stream: every bench draws
    the same strokes for the same images and seed."""
    rng = np.random.default_rng(seed)
    return [first_strokes(t, num_classes, rng, strokes) for t in truths]


def corrective_strokes(truth: np.ndarray, predicted: np.ndarray, labels: np.ndarray,
                       regions: int = REGIONS) -> int:
    """Paint disks into ``labels`` (in place); returns how many were painted."""
    wrong = (predicted != truth) & (truth != IGNORE_INDEX)
    found = []  # (area, class, component mask bounding box, component id, label image)
    for c in np.unique(truth[wrong]):
        count, comp, stats, _ = cv2.connectedComponentsWithStats(
            (wrong & (truth == c)).astype(np.uint8), connectivity=8)
        found += [(int(stats[i, cv2.CC_STAT_AREA]), int(c), comp, i) for i in range(1, count)]
    found.sort(key=lambda f: -f[0])
    for _, c, comp, i in found[:regions]:
        x, y, w, h = cv2.boundingRect((comp == i).astype(np.uint8))
        inside = np.pad((comp[y:y + h, x:x + w] == i).astype(np.uint8), 1)
        depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
        cy, cx = np.unravel_index(int(depth.argmax()), depth.shape)
        disk = np.zeros(truth.shape, np.uint8)
        cv2.circle(disk, (x + cx - 1, y + cy - 1), DISK, 1, -1)
        labels[(disk > 0) & (truth == c)] = c
    return min(regions, len(found))
