"""The round brush: a stroke segment's footprint (pixels whose centres lie within the radius of
the segment, snapped to the pixel grid) and painting it (:class:`~.delta.Delta` out, mask
untouched)."""

from __future__ import annotations

import math

import numpy as np

from unet_desktop.core.editing.delta import BBox, Delta, Point, delta_from_region
from unet_desktop.core.editing.mask_values import check_mask, check_value

MIN_BRUSH = 1
MAX_BRUSH = 500


def snap_brush_centre(x: float, y: float, diameter: int) -> Point:
    """Centre a brush of ``diameter`` px on the pixel grid so it covers exactly that width.

    Odd diameters centre on the middle of the pixel under the cursor, even ones on the pixel
    corner nearest to it; a diameter-1 brush then paints exactly one pixel.
    """
    if diameter % 2:
        return (math.floor(x) + 0.5, math.floor(y) + 0.5)
    return (float(round(x)), float(round(y)))


def _row_intervals(a: Point, b: Point, r: float, yc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For horizontal lines at heights ``yc``, the x-interval inside the capsule of radius ``r``
    around segment a-b (union of the two end discs and the rectangle between them).

    Returns ``(left, right)``; rows that miss the capsule get ``left > right``.
    """
    left = np.full(yc.shape, np.inf)
    right = np.full(yc.shape, -np.inf)
    with np.errstate(invalid="ignore"):
        for px, py in (a, b):
            h2 = r * r - (yc - py) ** 2
            h = np.sqrt(np.where(h2 >= 0, h2, np.nan))
            hit = h2 >= 0
            left = np.where(hit, np.minimum(left, px - h), left)
            right = np.where(hit, np.maximum(right, px + h), right)
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length == 0:
        return left, right
    # Rectangle: 0 <= (p - a).d <= L^2 and -r*L <= (p - a).n <= r*L with n = (-dy, dx),
    # p = (x, yc): each constraint is c * (x - ax) + k(yc) in [lo, hi].
    lo_x = np.full(yc.shape, -np.inf)
    hi_x = np.full(yc.shape, np.inf)
    ey = yc - a[1]
    constraints = ((dx, ey * dy, 0.0, length * length), (-dy, ey * dx, -r * length, r * length))
    for c, k, lo, hi in constraints:
        if c == 0:
            outside = (k < lo) | (k > hi)
            lo_x = np.where(outside, np.inf, lo_x)
            continue
        t1 = (lo - k) / c + a[0]
        t2 = (hi - k) / c + a[0]
        lo_x = np.maximum(lo_x, np.minimum(t1, t2))
        hi_x = np.minimum(hi_x, np.maximum(t1, t2))
    body = lo_x <= hi_x
    left = np.where(body, np.minimum(left, lo_x), left)
    right = np.where(body, np.maximum(right, hi_x), right)
    return left, right


def brush_footprint(
    shape: tuple[int, int], a: Point, b: Point, diameter: int
) -> tuple[BBox, np.ndarray] | None:
    """Pixels whose centres lie within ``diameter / 2`` of segment a-b (snapped centres).

    Returns ``(bbox, boolean array of the bbox)`` clipped to ``shape``, or ``None`` if the
    stroke lies entirely outside the image. Cost grows with the box, not the image.
    """
    if not MIN_BRUSH <= diameter <= MAX_BRUSH:
        raise ValueError(f"brush diameter {diameter} outside {MIN_BRUSH}..{MAX_BRUSH} px")
    a = snap_brush_centre(a[0], a[1], diameter)
    b = snap_brush_centre(b[0], b[1], diameter)
    r = diameter / 2
    height, width = shape
    y0 = max(0, math.floor(min(a[1], b[1]) - r))
    y1 = min(height, math.ceil(max(a[1], b[1]) + r))
    x0 = max(0, math.floor(min(a[0], b[0]) - r))
    x1 = min(width, math.ceil(max(a[0], b[0]) + r))
    if y0 >= y1 or x0 >= x1:
        return None
    left, right = _row_intervals(a, b, r + 1e-9, np.arange(y0, y1) + 0.5)
    # Pixel column j is inside when its centre j + 0.5 lies in [left, right].
    first = np.ceil(left - 0.5)
    last = np.floor(right - 0.5)
    cols = np.arange(x0, x1)
    inside = (cols >= first[:, None]) & (cols <= last[:, None])
    if not inside.any():
        return None
    return (y0, x0, y1, x1), inside


def brush_segment(
    mask: np.ndarray,
    a: Point,
    b: Point,
    diameter: int,
    value: int,
    label: str = "Brush stroke",
    protect: int | None = None,
) -> Delta | None:
    """Paint ``value`` with a round brush swept from ``a`` to ``b`` (no gaps, round caps).

    ``protect``, if given, is a value that the brush leaves untouched (paint "behind" it).
    """
    check_mask(mask)
    value = check_value(value)
    found = brush_footprint(mask.shape, a, b, diameter)
    if found is None:
        return None
    (y0, x0, y1, x1), inside = found
    old = mask[y0:y1, x0:x1]
    if protect is not None:
        inside &= old != protect
    new = old.copy()
    new[inside] = value
    return delta_from_region(mask, (y0, x0, y1, x1), new, label)
