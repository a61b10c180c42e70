"""Fills: the flood fill of a connected region, and the polygon (or lasso) fill with its
footprint (pixel centres inside, non-zero winding)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from unet_desktop.core.editing.delta import BBox, Delta, Point, delta_from_region
from unet_desktop.core.editing.mask_values import check_mask, check_value


def flood_fill(
    mask: np.ndarray,
    x: float,
    y: float,
    value: int,
    limit: BBox | None = None,
    label: str = "Fill",
) -> Delta | None:
    """Fill the 4-connected region of equal value under ``(x, y)`` with ``value``.

    ``limit`` restricts the fill to a box (e.g. the visible part of a huge image).
    """
    check_mask(mask)
    value = check_value(value)
    height, width = mask.shape
    ly0, lx0, ly1, lx1 = limit if limit is not None else (0, 0, height, width)
    ly0, lx0, ly1, lx1 = max(0, ly0), max(0, lx0), min(height, ly1), min(width, lx1)
    col, row = math.floor(x), math.floor(y)
    if not (ly0 <= row < ly1 and lx0 <= col < lx1) or mask[row, col] == value:
        return None
    region = mask[ly0:ly1, lx0:lx1].copy()
    _, _, _, rect = cv2.floodFill(
        region, None, (col - lx0, row - ly0), value, 0, 0, 4 | cv2.FLOODFILL_FIXED_RANGE
    )
    rx, ry, rw, rh = rect
    box = (ly0 + ry, lx0 + rx, ly0 + ry + rh, lx0 + rx + rw)
    return delta_from_region(mask, box, region[ry : ry + rh, rx : rx + rw], label)


def polygon_footprint(
    shape: tuple[int, int], points: Sequence[Point]
) -> tuple[BBox, np.ndarray] | None:
    """Pixels whose centres lie inside the closed polygon ``points`` (non-zero winding rule,
    so a lasso that crosses itself is filled everywhere it loops).

    Returns ``(bbox, boolean array of the bbox)`` clipped to ``shape``, or ``None``.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        return None
    height, width = shape
    y0 = max(0, math.floor(pts[:, 1].min()))
    y1 = min(height, math.ceil(pts[:, 1].max()))
    x0 = max(0, math.floor(pts[:, 0].min()))
    x1 = min(width, math.ceil(pts[:, 0].max()))
    if y0 >= y1 or x0 >= x1:
        return None
    (ax, ay), (bx, by) = pts.T, np.roll(pts, -1, axis=0).T
    # Edge e crosses the centre line of rows first[e] .. last[e] - 1 (half-open in y).
    first = np.clip(np.ceil(np.minimum(ay, by) - 0.5), y0, y1).astype(np.int64)
    last = np.clip(np.ceil(np.maximum(ay, by) - 0.5), y0, y1).astype(np.int64)
    counts = last - first
    edges = np.repeat(np.arange(len(pts)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = first[edges] + offsets
    t = (rows + 0.5 - ay[edges]) / (by[edges] - ay[edges])
    xs = ax[edges] + t * (bx[edges] - ax[edges])
    # Each crossing adds its direction to the winding number of every pixel centre right of it.
    cols = np.clip(np.ceil(xs - 0.5) - x0, 0, x1 - x0).astype(np.int64)
    winding = np.zeros((y1 - y0, x1 - x0 + 1), dtype=np.int32)
    np.add.at(winding, (rows - y0, cols), np.where(by[edges] > ay[edges], 1, -1))
    inside = np.cumsum(winding[:, :-1], axis=1) != 0
    if not inside.any():
        return None
    return (y0, x0, y1, x1), inside


def polygon_fill(
    mask: np.ndarray, points: Sequence[Point], value: int, label: str = "Polygon fill"
) -> Delta | None:
    """Fill the polygon (or lasso path) through ``points``: pixels whose centres are inside."""
    check_mask(mask)
    value = check_value(value)
    found = polygon_footprint(mask.shape, points)
    if found is None:
        return None
    (y0, x0, y1, x1), inside = found
    new = mask[y0:y1, x0:x1].copy()
    new[inside] = value
    return delta_from_region(mask, (y0, x0, y1, x1), new, label)
