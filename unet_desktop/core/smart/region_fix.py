"""Click to fix a predicted region: the connected region of a model's prediction under a click
becomes one class in the mask, so a false-positive blob goes away with one click.

The region is the 8-connected set of pixels that the prediction gives the same value as the
clicked pixel (``cv2.floodFill`` in mask-only mode, so the cost follows the region's size);
``together`` lists values that count as one (a trimap's pet and its border: one animal). It
takes, in this order: the value asked for explicitly (``to``: the class under a second click);
else the current class, unless the mask already has the current class (or one counted with
it) on the whole region, in which case the region is being removed and takes the value most
common around it in the mask.

A click takes what is **visibly one region**, not everything connected to it
(:func:`visible_part`): a predicted region much larger than it is thick at the click (a spot on
a membrane network, a network of thin lines) is cut at its necks (a morphological opening at
half the thickness under the click) and the piece under the click kept; if that piece is still
not compact (a network of lines as thick as the click's), only the part within ``REACH`` px
(or twice the compact radius) along it of the click. So one click never converts a whole
network. The thickness under the click is the depth (distance to the region's edge) of the
deepest pixel near it, climbing from the click towards the middle of its region.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from unet_desktop.core.editing.delta import BBox, Delta, delta_from_region
from unet_desktop.core.smart.geodesic import geodesic_distance
from unet_desktop.core.smart.roi import box_is_empty, clip_box

COMPACT = 4.0  # a region of at most pi * (COMPACT * thickness)^2 pixels is taken whole
REACH = 32  # px along a network of lines, either way from the click


def _thickness(depth: np.ndarray, r: int, c: int) -> float:
    """Depth of the deepest pixel near ``(r, c)``, looking further as it climbs."""
    thickness = max(1.0, float(depth[r, c]))
    for _ in range(8):
        k = int(2 * thickness) + 3
        deeper = max(1.0, float(depth[max(0, r - k):r + k + 1, max(0, c - k):c + k + 1].max()))
        if deeper <= thickness:
            break
        thickness = deeper
    return thickness


def _groups(together: Sequence[int]) -> np.ndarray:
    """Lookup table: each value to itself, the values of ``together`` to the first of them."""
    lut = np.arange(256, dtype=np.uint8)
    if together:
        lut[list(together)] = together[0]
    return lut


def predicted_region(labels: np.ndarray, x: float, y: float, limit: BBox | None = None,
                     together: Sequence[int] = ()) -> tuple[BBox, np.ndarray] | None:
    """The 8-connected region of equal ``labels`` (the values of ``together`` counting as one)
    under ``(x, y)``: ``(box, boolean array)``, or ``None`` outside the image (or ``limit``)."""
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(f"predicted labels are 2-D uint8 arrays, got {labels.dtype} "
                         f"{labels.shape}")
    box = clip_box(limit if limit is not None else (0, 0, *labels.shape), labels.shape)
    col, row = math.floor(x), math.floor(y)
    if box_is_empty(box) or not (box[0] <= row < box[2] and box[1] <= col < box[3]):
        return None
    y0, x0, y1, x1 = box
    crop = labels[y0:y1, x0:x1]
    crop = _groups(together)[crop] if together else np.ascontiguousarray(crop)
    fill = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.uint8)
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    _, _, _, (rx, ry, rw, rh) = cv2.floodFill(crop, fill, (col - x0, row - y0), 0, 0, 0, flags)
    inside = fill[1 + ry:1 + ry + rh, 1 + rx:1 + rx + rw].view(bool)
    return (y0 + ry, x0 + rx, y0 + ry + rh, x0 + rx + rw), inside


def visible_part(box: BBox, inside: np.ndarray, row: int, col: int) -> tuple[BBox, np.ndarray]:
    """The part of a region (``inside``, a boolean array of ``box``) that is visibly one with the
    pixel ``(row, col)`` (module docstring); the whole region when it is compact."""
    y0, x0 = box[:2]
    r, c = row - y0, col - x0
    padded = np.pad(inside.view(np.uint8), 1)
    depth = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
    thickness = _thickness(depth, r, c)
    compact = math.pi * (COMPACT * thickness) ** 2
    if inside.sum() <= compact:
        return box, inside
    radius = max(1, int(thickness // 2))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    core = cv2.erode(padded, kernel)[1:-1, 1:-1]
    count, pieces = cv2.connectedComponents(core, connectivity=8)
    part = inside
    if count > 1:
        if core[r, c]:
            piece = pieces[r, c]
        else:  # the core piece nearest to the click
            ys, xs = np.nonzero(core)
            nearest = np.argmin((ys - r) ** 2 + (xs - c) ** 2)
            piece = pieces[ys[nearest], xs[nearest]]
        grown = cv2.dilate((pieces == piece).astype(np.uint8), kernel)
        part = grown.view(bool) & inside
        if not part[r, c]:
            part = part.copy()
            part[r, c] = True
    if part.sum() > compact:  # lines: the stretch near the click
        along = geodesic_distance(part.view(np.uint8), (r, c), part)
        part = along <= max(REACH, 2 * COMPACT * thickness)
    ys, xs = np.nonzero(part)
    py0, px0, py1, px1 = int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1
    return (y0 + py0, x0 + px0, y0 + py1, x0 + px1), part[py0:py1, px0:px1]


def clicked_region(labels: np.ndarray, x: float, y: float, limit: BBox | None = None,
                   together: Sequence[int] = ()) -> tuple[BBox, np.ndarray] | None:
    """:func:`predicted_region` bounded to what is visibly one region (:func:`visible_part`)."""
    found = predicted_region(labels, x, y, limit, together)
    if found is None:
        return None
    return visible_part(*found, math.floor(y), math.floor(x))


def surrounding_value(mask: np.ndarray, box: BBox, inside: np.ndarray) -> int | None:
    """Most common mask value in the 1-px ring around ``inside`` (a boolean array of ``box``)."""
    height, width = mask.shape
    y0, x0, y1, x1 = box
    gy0, gx0, gy1, gx1 = max(0, y0 - 1), max(0, x0 - 1), min(height, y1 + 1), min(width, x1 + 1)
    grown = np.zeros((gy1 - gy0, gx1 - gx0), np.uint8)
    grown[y0 - gy0:y1 - gy0, x0 - gx0:x1 - gx0] = inside
    ring = cv2.dilate(grown, np.ones((3, 3), np.uint8)).view(bool) & ~grown.view(bool)
    values = mask[gy0:gy1, gx0:gx1][ring]
    if values.size == 0:
        return None
    return int(np.bincount(values, minlength=256).argmax())


def fix_region(
    mask: np.ndarray,
    labels: np.ndarray,
    x: float,
    y: float,
    value: int,
    to: int | None = None,
    limit: BBox | None = None,
    label: str = "Fix region",
    together: Sequence[int] = (),
) -> Delta | None:
    """Give the predicted region under ``(x, y)`` one value in ``mask`` (module docstring);
    ``None`` when the click is outside or nothing would change."""
    if mask.shape != labels.shape:
        raise ValueError(f"the prediction is {labels.shape}, the mask {mask.shape}")
    found = clicked_region(labels, x, y, limit, together)
    if found is None:
        return None
    box, inside = found
    y0, x0, y1, x1 = box
    old = mask[y0:y1, x0:x1]
    target = to
    if target is None:
        target = int(value)
        group = _groups(together)
        if np.all(group[old[inside]] == group[target]):  # already this class: remove it
            around = surrounding_value(mask, box, inside)
            if around is None or group[around] == group[target]:
                return None
            target = around
    new = old.copy()
    new[inside] = int(target)
    return delta_from_region(mask, box, new, label)
