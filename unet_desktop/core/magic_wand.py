"""Magic wand: the connected region of pixels whose colour is close to the clicked one.

A flood fill (``cv2.floodFill``, 8-connected) over a median-filtered copy of the image (edges
stay where they are, single noisy pixels go), in
mask-only mode: a pixel joins when every channel differs from the clicked pixel's by at most
``tolerance`` (0..255). Holes the region encloses completely are filled, so image noise inside
an object does not leave speckles. ``limit`` confines the work to a box (e.g. the visible part of
a large image); the cost grows with that box, not with the image.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .edit_ops import BBox, Delta, delta_from_region
from .roi import as_rgb, box_is_empty, clip_box

MAX_TOLERANCE = 255
DEFAULT_TOLERANCE = 24
SMOOTHING = 3  # px: median filter applied before comparing colours (1 = none)


def _fill_enclosed(region: np.ndarray) -> np.ndarray:
    """``region`` with every hole it encloses (not touching the box's border) filled."""
    outside = np.zeros((region.shape[0] + 2, region.shape[1] + 2), np.uint8)
    outside[1:-1, 1:-1] = region
    cv2.floodFill(outside, None, (0, 0), 2)  # 4-connected: holes diagonal to the border stay
    return outside[1:-1, 1:-1] != 2


class MagicWand:
    """Regions of one image; keeps the smoothed copy of the last box it worked in."""

    def __init__(self, image: np.ndarray, smoothing: int = SMOOTHING):
        self.image = image
        self.smoothing = smoothing
        self._cache: tuple[BBox, np.ndarray] | None = None

    def _smoothed(self, box: BBox) -> np.ndarray:
        if self._cache is not None and self._cache[0] == box:
            return self._cache[1]
        y0, x0, y1, x1 = box
        crop = as_rgb(self.image[y0:y1, x0:x1])
        if self.smoothing > 1:
            crop = cv2.medianBlur(crop, self.smoothing | 1)
        self._cache = (box, crop)
        return crop

    def region(self, x: float, y: float, tolerance: int,
               limit: BBox | None = None) -> tuple[BBox, np.ndarray] | None:
        """The region under ``(x, y)``: ``(box, boolean array of the box)``, or ``None`` when the
        point is outside the image (or the limit)."""
        shape = self.image.shape[:2]
        box = clip_box(limit if limit is not None else (0, 0, *shape), shape)
        col, row = math.floor(x), math.floor(y)
        if box_is_empty(box) or not (box[0] <= row < box[2] and box[1] <= col < box[3]):
            return None
        tol = int(min(MAX_TOLERANCE, max(0, tolerance)))
        crop = self._smoothed(box)
        flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
        fill = np.zeros((crop.shape[0] + 2, crop.shape[1] + 2), np.uint8)
        _, _, _, rect = cv2.floodFill(crop, fill, (col - box[1], row - box[0]), 0,
                                      (tol,) * 3, (tol,) * 3, flags)
        rx, ry, rw, rh = rect
        inside = _fill_enclosed(fill[1 + ry:1 + ry + rh, 1 + rx:1 + rx + rw])
        return (box[0] + ry, box[1] + rx, box[0] + ry + rh, box[1] + rx + rw), inside


def wand_fill(
    mask: np.ndarray,
    image: np.ndarray | MagicWand,
    x: float,
    y: float,
    tolerance: int,
    value: int,
    limit: BBox | None = None,
    label: str = "Magic wand",
) -> Delta | None:
    """Paint the magic-wand region under ``(x, y)`` with ``value``; ``None`` if nothing changes."""
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"masks are 2-D uint8 arrays, got {mask.dtype} {mask.shape}")
    wand = image if isinstance(image, MagicWand) else MagicWand(image)
    if wand.image.shape[:2] != mask.shape:
        raise ValueError(f"image {wand.image.shape[:2]} and mask {mask.shape} differ in size")
    found = wand.region(x, y, tolerance, limit)
    if found is None:
        return None
    (y0, x0, y1, x1), inside = found
    new = mask[y0:y1, x0:x1].copy()
    new[inside] = int(value)
    return delta_from_region(mask, (y0, x0, y1, x1), new, label)
