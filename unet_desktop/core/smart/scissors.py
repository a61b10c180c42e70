"""Intelligent scissors: between two clicked points, the path follows the image's edges
(``cv2.segmentation.IntelligentScissorsMB``: a shortest path over a cost built from Canny edges,
gradient magnitude and direction).

Each segment works in its own region of interest (the two points plus a margin) at a working
scale of at most ``max_pixels`` pixels, so a click costs the same on a 24-megapixel image as on
a small one; a path that the margin cannot hold falls back to the straight line.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from unet_desktop.core.editing.delta import Point
from unet_desktop.core.smart.roi import as_rgb, box_is_empty, expand_box, resize_to, working_scale

DEFAULT_MAX_PIXELS = 40_000
MARGIN = 0.3  # of the segment's length, at least MIN_MARGIN px
MIN_MARGIN = 16


def _straight(a: Point, b: Point) -> list[Point]:
    return [a, b]


def snap_segment(image: np.ndarray, a: Point, b: Point,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> list[Point]:
    """Points (image coordinates, pixel centres) of an edge-following path from ``a`` to ``b``;
    the path starts at ``a`` and ends at ``b`` exactly."""
    shape = image.shape[:2]
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    if length < 2:
        return _straight(a, b)
    margin = max(MIN_MARGIN, round(MARGIN * length))
    corners = (math.floor(min(a[1], b[1])), math.floor(min(a[0], b[0])),
               math.floor(max(a[1], b[1])) + 1, math.floor(max(a[0], b[0])) + 1)
    roi = expand_box(corners, margin, shape)
    if box_is_empty(roi):
        return _straight(a, b)
    y0, x0, y1, x1 = roi
    scale = working_scale((y1 - y0, x1 - x0), max_pixels)
    small_shape = (max(2, round((y1 - y0) * scale)), max(2, round((x1 - x0) * scale)))
    crop = resize_to(as_rgb(image[y0:y1, x0:x1]), small_shape, cv2.INTER_AREA)

    def to_small(p: Point) -> tuple[int, int]:
        col = min(small_shape[1] - 1, max(0, int((p[0] - x0) * scale)))
        row = min(small_shape[0] - 1, max(0, int((p[1] - y0) * scale)))
        return col, row

    tool = cv2.segmentation.IntelligentScissorsMB()
    tool.setEdgeFeatureCannyParameters(32, 100)
    tool.setGradientMagnitudeMaxLimit(200)
    tool.applyImage(crop)
    source, target = to_small(a), to_small(b)
    tool.buildMap(source)
    contour = tool.getContour(target).reshape(-1, 2)
    if len(contour) < 2:
        return _straight(a, b)
    if np.abs(contour[0] - source).sum() > np.abs(contour[-1] - source).sum():
        contour = contour[::-1]
    inner = [(x0 + (c + 0.5) / scale, y0 + (r + 0.5) / scale) for c, r in contour[1:-1]]
    return [a, *inner, b]


class ScissorsPath:
    """Anchors clicked so far and the snapped path through them (image coordinates)."""

    def __init__(self, image: np.ndarray, max_pixels: int = DEFAULT_MAX_PIXELS):
        self.image = image
        self.max_pixels = max_pixels
        self.anchors: list[Point] = []
        self.points: list[Point] = []

    def add(self, x: float, y: float) -> None:
        """Add an anchor; the path from the previous one snaps to the edges between them."""
        p = (float(x), float(y))
        if self.anchors:
            segment = snap_segment(self.image, self.anchors[-1], p, self.max_pixels)
            self.points.extend(segment[1:])
        else:
            self.points.append(p)
        self.anchors.append(p)

    def closed(self) -> list[Point]:
        """The whole outline, with the closing segment back to the first anchor snapped too."""
        if len(self.anchors) < 2:
            return list(self.points)
        back = snap_segment(self.image, self.anchors[-1], self.anchors[0], self.max_pixels)
        return [*self.points, *back[1:-1]]
