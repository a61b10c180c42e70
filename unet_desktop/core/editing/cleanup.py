"""Whole-mask clean-ups: rebuilding a trimap's border band, filling enclosed holes, removing
small islands."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from unet_desktop.core.editing.delta import BBox, Delta, delta_from_masks
from unet_desktop.core.editing.mask_values import check_mask, check_value
from unet_desktop.core.labels import TRIMAP_BORDER, TRIMAP_FOREGROUND, binary_to_trimap


def trimap_band(
    mask: np.ndarray,
    band: int,
    source: str = "trimap",
    label: str = "Trimap band",
) -> Delta | None:
    """Rebuild a trimap (1 fg / 2 bg / 3 border) with a border band of ``band`` px.

    ``source`` says how to read the current mask: ``"trimap"`` (foreground = 1 or 3, so the
    old border stays on the object side) or ``"binary"`` (foreground = nonzero).
    """
    check_mask(mask)
    if band < 0:
        raise ValueError(f"band width must be >= 0, got {band}")
    if source == "trimap":
        fg = (mask == TRIMAP_FOREGROUND) | (mask == TRIMAP_BORDER)
    elif source == "binary":
        fg = mask > 0
    else:
        raise ValueError(f"unknown trimap source {source!r} (trimap or binary)")
    return delta_from_masks(mask, binary_to_trimap(fg, band), label)


def fill_holes(
    mask: np.ndarray,
    value: int,
    max_size: int | None = None,
    label: str = "Fill holes",
    unlabeled: int | None = None,
) -> Delta | None:
    """Set regions not of ``value`` that it fully encloses (not touching the image border) to
    ``value``; with ``max_size``, only holes of at most that many pixels.

    ``unlabeled`` (a sparse mask's value for pixels nobody painted) is no class: it cannot be
    the value (its "holes" are the strokes), and only unlabeled pixels of a hole are filled, so
    what the user painted inside one stays.
    """
    check_mask(mask)
    value = check_value(value)
    if value == unlabeled:
        raise ValueError(f"fill holes of a class, not of the unlabeled value {value}")
    other = (mask != value).view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(other, connectivity=4)
    height, width = mask.shape
    x, y, w, h, area = (stats[:, i] for i in range(5))
    touches = (x == 0) | (y == 0) | (x + w == width) | (y + h == height)
    hole = ~touches
    hole[0] = False  # label 0 is the object itself
    if max_size is not None:
        hole &= area <= max_size
    if not hole[1:count].any():
        return None
    fill = hole[labels]
    if unlabeled is not None:
        fill &= mask == unlabeled
    new = mask.copy()
    new[fill] = value
    return delta_from_masks(mask, new, label)


def _surrounding_value(mask: np.ndarray, island: np.ndarray, box: BBox) -> int | None:
    """Most common value in the 1-px ring around ``island`` (a boolean array of ``box``)."""
    y0, x0, y1, x1 = box
    ring = cv2.dilate(island.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool) & ~island
    values = mask[y0:y1, x0:x1][ring]
    if values.size == 0:
        return None
    return int(np.bincount(values, minlength=256).argmax())


def remove_islands(
    mask: np.ndarray,
    min_size: int,
    values: Sequence[int] | None = None,
    fill_value: int | None = None,
    label: str = "Remove islands",
    unlabeled: int | None = None,
) -> Delta | None:
    """Remove 8-connected regions smaller than ``min_size`` px.

    ``values`` limits this to those classes (default: every value present). A removed island
    takes ``fill_value`` if given, else the most common value around it. ``unlabeled`` (a
    sparse mask's value for pixels nobody painted) is no class: its regions stay, and an island
    it surrounds is a stroke, not a speck, and stays too.
    """
    check_mask(mask)
    if min_size <= 1:
        return None
    height, width = mask.shape
    new = mask.copy()
    present = np.flatnonzero(np.bincount(mask.ravel(), minlength=256))
    targets = [int(v) for v in (values if values is not None else present)
               if v in present and v != unlabeled]
    for v in targets:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (new == v).view(np.uint8), connectivity=8
        )
        for i in np.flatnonzero(stats[:count, cv2.CC_STAT_AREA] < min_size):
            if i == 0:
                continue  # label 0 is everything that is not ``v``
            x, y, w, h, _ = stats[i]
            box = (max(0, y - 1), max(0, x - 1), min(height, y + h + 1), min(width, x + w + 1))
            by0, bx0, by1, bx1 = box
            island = labels[by0:by1, bx0:bx1] == i
            around = _surrounding_value(new, island, box)
            if unlabeled is not None and around == unlabeled:
                continue  # a stroke among unpainted pixels
            fill = fill_value if fill_value is not None else around
            if fill is not None:
                new[by0:by1, bx0:bx1][island] = fill
    return delta_from_masks(mask, new, label)
