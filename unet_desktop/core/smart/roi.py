"""Regions of interest for the smart tools: boxes clipped to an image, context margins and a
working scale, so that a tool's cost depends on the region it works on, not on the image.

Boxes are ``(y0, x0, y1, x1)`` in pixels with exclusive ends, as in :mod:`unet_desktop.core.editing.delta`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from unet_desktop.core.editing.delta import BBox


def clip_box(box: BBox, shape: tuple[int, int]) -> BBox:
    """``box`` cut to an image of ``shape`` (may come out empty: ``y1 <= y0`` or ``x1 <= x0``)."""
    height, width = shape
    y0, x0, y1, x1 = (int(v) for v in box)
    return max(0, y0), max(0, x0), min(height, y1), min(width, x1)


def box_from_corners(a: tuple[float, float], b: tuple[float, float]) -> BBox:
    """The pixels covered by the rectangle between two image points ``(x, y)`` (any order)."""
    (ax, ay), (bx, by) = a, b
    return (math.floor(min(ay, by)), math.floor(min(ax, bx)),
            math.ceil(max(ay, by)), math.ceil(max(ax, bx)))


def expand_box(box: BBox, margin: float, shape: tuple[int, int]) -> BBox:
    """``box`` grown on every side (a fraction of its size when ``margin`` is a float below 1,
    else that many pixels) and clipped to ``shape``."""
    y0, x0, y1, x1 = box
    if isinstance(margin, float) and margin < 1:
        my, mx = round(margin * (y1 - y0)), round(margin * (x1 - x0))
    else:
        my = mx = int(margin)
    return clip_box((y0 - my, x0 - mx, y1 + my, x1 + mx), shape)


def box_is_empty(box: BBox) -> bool:
    return box[2] <= box[0] or box[3] <= box[1]


def working_scale(shape: tuple[int, int], max_pixels: int) -> float:
    """Scale (<= 1) at which an area of ``shape`` has at most ``max_pixels`` pixels."""
    area = shape[0] * shape[1]
    return 1.0 if area <= max_pixels else math.sqrt(max_pixels / area)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An HxWx3 uint8 view or copy of a gray, RGB or RGBA image (for OpenCV colour functions)."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return np.ascontiguousarray(image[:, :, :3])
    raise ValueError(f"expected an HxW or HxWx3 image, got shape {image.shape}")


def resize_to(array: np.ndarray, shape: tuple[int, int], interpolation: int) -> np.ndarray:
    """``array`` resized to ``shape`` (rows, cols); returned as is when it already fits."""
    if array.shape[:2] == tuple(shape):
        return array
    return cv2.resize(array, (shape[1], shape[0]), interpolation=interpolation)
