"""Whole-mask clean-ups: rebuilding a trimap's border band, filling enclosed holes, removing
small islands."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from unet_desktop.core.editing.delta import Delta, delta_from_masks
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


_NEIGHBOURS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a 1-D integer array, sorted, and how often each occurs (by
    sorting: numpy's hashing ``np.unique`` took seconds for a million values)."""
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered, ordered
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[starts], np.diff(np.r_[starts, len(ordered)])


def _ring_majority(mask: np.ndarray, ys: np.ndarray, xs: np.ndarray, ids: np.ndarray,
                   value: int, count: int) -> np.ndarray:
    """Per component id (0..count-1), the most common value of the pixels 8-adjacent to it
    (each counted once; the smallest value of a tie), for the islands of ``value`` whose pixels
    are ``(ys, xs)`` with ids ``ids``; -1 for the other ids and for an island with nothing
    around it. All islands at once: the work grows with their pixels, not with their number."""
    height, width = mask.shape
    flat = mask.ravel()
    pairs = []
    for dy, dx in _NEIGHBOURS:
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
        near = ny[inside].astype(np.int64) * width + nx[inside]
        ring = flat[near] != value  # a neighbour of the same value is the island
        pairs.append(ids[inside][ring] * (height * width) + near[ring])
    pairs = _distinct(np.concatenate(pairs))[0]  # (island, ring pixel), each pixel once
    majority = np.full(count, -1, np.int64)
    if pairs.size == 0:  # nothing around any island: it is the whole image
        return majority
    owner, pixel = np.divmod(pairs, height * width)
    votes, counts = _distinct(owner * 256 + flat[pixel])
    owner, around = np.divmod(votes, 256)
    order = np.lexsort((around, -counts, owner))  # per island: the most votes, then smallest
    owner, around = owner[order], around[order]
    first = np.r_[True, owner[1:] != owner[:-1]]
    majority[owner[first]] = around[first]
    return majority


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
    new = mask.copy()
    present = np.flatnonzero(np.bincount(mask.ravel(), minlength=256))
    targets = [int(v) for v in (values if values is not None else present)
               if v in present and v != unlabeled]
    for v in targets:  # one value after another: a filled island may border the next's
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (new == v).view(np.uint8), connectivity=8
        )
        island = stats[:count, cv2.CC_STAT_AREA] < min_size
        island[0] = False  # label 0 is everything that is not ``v``
        if not island.any():
            continue
        ys, xs = np.nonzero(island[labels])
        ids = labels[ys, xs].astype(np.int64)
        around = _ring_majority(new, ys, xs, ids, v, count)
        fill = np.full(count, -1, np.int64)
        fill[island] = around[island] if fill_value is None else fill_value
        if unlabeled is not None:
            fill[around == unlabeled] = -1  # a stroke among unpainted pixels
        take = fill[ids]
        keep = take >= 0
        new[ys[keep], xs[keep]] = take[keep]
    return delta_from_masks(mask, new, label)
