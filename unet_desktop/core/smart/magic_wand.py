"""Magic wand: the connected region of pixels whose colour is close to the clicked one, growing
smoothly with the tolerance.

Each pixel gets a cost: its **level**, the smallest tolerance at which a flood fill
(``cv2.floodFill``, 8-connected, over a median-filtered copy of the image, so edges stay where
they are and single noisy pixels go) from the click reaches it (every channel of every pixel on
the way within that much of the clicked pixel's), plus its **reach**, ``DISTANCE_COST`` times
the square of its distance from the click as a fraction of the image's diagonal (squared, so
that the area grows about evenly with the tolerance). The region at a tolerance is
the connected set of pixels whose cost is within it. The level keeps the region inside edges;
the reach makes it grow a ring at a time where a plain flood fill would jump: on a gray image
whose membranes connect everything (EM), the fill leaks from one cell into the whole network
at one tolerance step, while the region here spreads over the network across some 80 steps.
Holes the region encloses completely are filled, so image noise inside an object does not
leave speckles. ``limit`` confines the work to a box (e.g. the visible part of a large image);
the cost grows with that box, not with the image.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from unet_desktop.core.editing.delta import BBox, Delta, delta_from_region
from unet_desktop.core.smart.roi import as_rgb, box_is_empty, clip_box

MAX_TOLERANCE = 255
DEFAULT_TOLERANCE = 24
SMOOTHING = 3  # px: median filter applied before comparing colours (1 = none)
DISTANCE_COST = 160  # tolerance that reaching across the image's whole diagonal adds (0 = none)


def _fill_enclosed(region: np.ndarray) -> np.ndarray:
    """``region`` with every hole it encloses (not touching the box's border) filled."""
    outside = np.zeros((region.shape[0] + 2, region.shape[1] + 2), np.uint8)
    outside[1:-1, 1:-1] = region
    cv2.floodFill(outside, None, (0, 0), 2)  # 4-connected: holes diagonal to the border stay
    return outside[1:-1, 1:-1] != 2


class MagicWand:
    """Regions of one image; keeps the smoothed copy of the last box it worked in."""

    def __init__(self, image: np.ndarray, smoothing: int = SMOOTHING,
                 distance_cost: float = DISTANCE_COST):
        self.image = image
        self.smoothing = smoothing
        self.distance_cost = distance_cost
        self._cache: tuple[BBox, np.ndarray] | None = None
        self._costs: _Costs | None = None  # of the last click

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
        seed = (row - box[0], col - box[1])
        costs = self._costs
        if costs is None or costs.box != box or costs.seed != seed:
            diagonal = float(np.hypot(*self.image.shape[:2]))
            costs = self._costs = _Costs(self._smoothed(box), box, seed,
                                         self.distance_cost / max(1.0, diagonal) ** 2)
        within = costs.within(tol)
        flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
        fill = np.zeros((within.shape[0] + 2, within.shape[1] + 2), np.uint8)
        _, _, _, rect = cv2.floodFill(within, fill, (seed[1], seed[0]), 0, 0, 0, flags)
        rx, ry, rw, rh = rect
        inside = _fill_enclosed(fill[1 + ry:1 + ry + rh, 1 + rx:1 + rx + rw])
        return (box[0] + ry, box[1] + rx, box[0] + ry + rh, box[1] + rx + rw), inside


class _Costs:
    """Level + reach of every pixel of a box for one click (module docstring); the levels are
    found one tolerance at a time, only as far as a region has asked for."""

    UNREACHED = 255  # a level not found yet (a pixel first reached at 255 looks the same)

    def __init__(self, crop: np.ndarray, box: BBox, seed: tuple[int, int], per_px2: float):
        self.crop, self.box, self.seed = crop, box, seed
        h, w = crop.shape[:2]
        rows = ((np.arange(h, dtype=np.float32) - seed[0]) ** 2 * per_px2)[:, None]
        cols = ((np.arange(w, dtype=np.float32) - seed[1]) ** 2 * per_px2)[None, :]
        self.reach = rows + cols  # float32, one pass
        self.levels = np.full((h, w), self.UNREACHED, np.uint8)
        self._fill = np.zeros((h + 2, w + 2), np.uint8)  # floodFill's mask, cleared per level
        self.done = -1  # levels found up to this tolerance

    def within(self, tolerance: int) -> np.ndarray:
        """uint8 0/1: level + reach <= ``tolerance``."""
        flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
        h, w = self.levels.shape
        for level in range(self.done + 1, tolerance + 1):
            _, _, _, (rx, ry, rw, rh) = cv2.floodFill(
                self.crop, self._fill, (self.seed[1], self.seed[0]), 0, (level,) * 3,
                (level,) * 3, flags)
            filled = self._fill[1 + ry:1 + ry + rh, 1 + rx:1 + rx + rw]
            window = self.levels[ry:ry + rh, rx:rx + rw]
            window[filled.view(bool) & (window == self.UNREACHED)] = level
            filled[...] = 0  # the next level fills again from the click
            self.done = level
            if rw == w and rh == h and not (self.levels == self.UNREACHED).any():
                self.done = MAX_TOLERANCE  # every pixel has its level
                break
        return (self.reach <= np.float32(tolerance) - self.levels).view(np.uint8)


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
