from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unet_desktop.core.editing.brush import brush_segment, snap_brush_centre
from unet_desktop.core.editing.cleanup import fill_holes, remove_islands, trimap_band
from unet_desktop.core.editing.delta import Delta, delta_from_region, merge_deltas, union_bbox
from unet_desktop.core.editing.fills import flood_fill, polygon_fill
from unet_desktop.core.editing.mask_values import erase_value
from unet_desktop.core.labels import (
    binary_scheme,
    binary_to_trimap,
    camvid_scheme,
    multiclass_scheme,
    trimap_scheme,
)


def painted(shape, delta: Delta | None, base: int = 0) -> np.ndarray:
    """The mask after applying ``delta`` to a mask filled with ``base``."""
    mask = np.full(shape, base, np.uint8)
    if delta is not None:
        delta.apply(mask)
    return mask


def capsule_distance(shape, a, b, diameter):
    """Reference: distance of every pixel centre to the snapped segment a-b."""
    ax, ay = snap_brush_centre(*a, diameter)
    bx, by = snap_brush_centre(*b, diameter)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = np.clip(((xx - ax) * dx + (yy - ay) * dy) / length2, 0, 1) if length2 else 0.0
    return np.hypot(xx - (ax + t * dx), yy - (ay + t * dy))


# --- Delta -----------------------------------------------------------------------------------
def test_delta_apply_and_revert_round_trip():
    mask = np.arange(30, dtype=np.uint8).reshape(5, 6)
    original = mask.copy()
    new = np.full((2, 3), 200, np.uint8)
    delta = delta_from_region(mask, (1, 2, 3, 5), new, "Test")
    assert delta is not None and delta.nbytes == 12
    assert delta.apply(mask) == (1, 2, 3, 5)
    assert (mask[1:3, 2:5] == 200).all() and mask[0].tolist() == original[0].tolist()
    delta.revert(mask)
    assert np.array_equal(mask, original)


def test_delta_rejects_arrays_that_do_not_fit_the_box():
    with pytest.raises(ValueError, match="bbox"):
        Delta((0, 0, 2, 2), np.zeros((2, 3), np.uint8), np.zeros((2, 2), np.uint8))


def test_delta_from_region_shrinks_to_changed_pixels_and_none_when_equal():
    mask = np.zeros((10, 10), np.uint8)
    new = np.zeros((6, 6), np.uint8)
    new[2, 3] = 7
    delta = delta_from_region(mask, (1, 1, 7, 7), new, "x")
    assert delta is not None and delta.bbox == (3, 4, 4, 5)
    assert delta_from_region(mask, (1, 1, 7, 7), np.zeros((6, 6), np.uint8), "x") is None


def test_union_bbox():
    assert union_bbox(None, (1, 2, 3, 4)) == (1, 2, 3, 4)
    assert union_bbox((1, 2, 3, 4), (0, 5, 2, 9)) == (0, 2, 3, 9)


def test_merge_deltas_keeps_the_value_from_before_the_first_part():
    mask = np.zeros((20, 20), np.uint8)
    mask[5, 5] = 9
    original = mask.copy()
    parts = []
    for a, b in (((5, 5), (10, 5)), ((10, 5), (10, 12)), ((10, 12), (4, 6))):
        d = brush_segment(mask, a, b, 3, 255)
        assert d is not None
        d.apply(mask)
        parts.append(d)
    merged = merge_deltas(parts, mask, "Brush stroke")
    assert merged is not None and merged.label == "Brush stroke"
    after = mask.copy()
    merged.revert(mask)
    assert np.array_equal(mask, original)
    merged.apply(mask)
    assert np.array_equal(mask, after)


def test_merge_deltas_of_parts_that_cancel_out_is_none():
    mask = np.zeros((20, 20), np.uint8)
    parts = []
    for value in (255, 0):
        d = brush_segment(mask, (5, 5), (12, 9), 5, value)
        d.apply(mask)
        parts.append(d)
    assert merge_deltas(parts, mask, "Brush stroke") is None
    assert merge_deltas([], mask, "Brush stroke") is None


# --- brush -----------------------------------------------------------------------------------
@pytest.mark.parametrize("diameter", [1, 2, 3, 4, 5, 8, 11, 20])
def test_brush_dab_has_exactly_the_requested_diameter(diameter):
    delta = brush_segment(np.zeros((40, 40), np.uint8), (20.3, 19.6), (20.3, 19.6), diameter, 255)
    mask = painted((40, 40), delta)
    rows, cols = np.nonzero(mask)
    assert rows.max() - rows.min() + 1 == diameter
    assert cols.max() - cols.min() + 1 == diameter
    # Round, not square: corners stay empty from 4 px on.
    if diameter >= 4:
        assert mask[rows.min(), cols.min()] == 0


def test_brush_of_one_pixel_paints_the_pixel_under_the_cursor():
    delta = brush_segment(np.zeros((8, 8), np.uint8), (3.9, 5.01), (3.9, 5.01), 1, 1)
    assert painted((8, 8), delta).nonzero() == (np.array([5]), np.array([3]))


@pytest.mark.parametrize("diameter", [1, 2, 3])
def test_fast_diagonal_move_leaves_no_gaps(diameter):
    a, b = (2.5, 3.5), (97.2, 61.8)
    mask = painted((70, 100), brush_segment(np.zeros((70, 100), np.uint8), a, b, diameter, 255))
    count, _ = cv2.connectedComponents(mask, connectivity=4 if diameter > 1 else 8)
    assert count == 2  # background + one connected stroke
    assert mask[3, 2] == 255 and mask[61, 97] == 255
    # Every column between the end points is hit.
    assert (mask[:, 2:98] > 0).any(axis=0).all()


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(st.floats(-8, 56), st.floats(-8, 56)),
    st.tuples(st.floats(-8, 56), st.floats(-8, 56)),
    st.integers(1, 25),
)
def test_brush_matches_distance_to_segment(a, b, diameter):
    shape = (48, 50)
    mask = painted(shape, brush_segment(np.zeros(shape, np.uint8), a, b, diameter, 255))
    dist = capsule_distance(shape, a, b, diameter)
    clear = np.abs(dist - diameter / 2) > 1e-6  # pixels exactly on the edge may go either way
    assert np.array_equal((mask > 0)[clear], (dist <= diameter / 2)[clear])


def test_brush_is_clipped_to_the_image_and_none_outside():
    mask = np.zeros((10, 10), np.uint8)
    delta = brush_segment(mask, (-2, -2), (1, 1), 5, 255)
    assert delta is not None and delta.bbox[0] == 0 and delta.bbox[1] == 0
    assert brush_segment(mask, (-30, -30), (-20, -25), 5, 255) is None


def test_brush_returns_none_when_nothing_changes_and_respects_protect():
    mask = np.full((10, 10), 255, np.uint8)
    assert brush_segment(mask, (5, 5), (5, 5), 5, 255) is None
    mask[:, :5] = 3
    mask[:, 5:] = 0
    delta = brush_segment(mask, (1, 5), (9, 5), 3, 1, protect=3)
    after = _applied(mask, delta)
    assert (after[:, :5] == 3).all() and (after[4:7, 5:] == 1).all()


def test_brush_rejects_bad_sizes_and_values():
    mask = np.zeros((10, 10), np.uint8)
    with pytest.raises(ValueError, match="diameter"):
        brush_segment(mask, (1, 1), (2, 2), 0, 1)
    with pytest.raises(ValueError, match="diameter"):
        brush_segment(mask, (1, 1), (2, 2), 501, 1)
    with pytest.raises(ValueError, match="value"):
        brush_segment(mask, (1, 1), (2, 2), 3, 256)
    with pytest.raises(ValueError, match="uint8"):
        brush_segment(mask.astype(np.int32), (1, 1), (2, 2), 3, 1)


@pytest.mark.reliability("resources", "brush on a 24 MP mask touches only its box")
def test_brush_segment_on_a_24_megapixel_mask_touches_only_its_box():
    mask = np.zeros((4000, 6000), np.uint8)
    times = []
    for i in range(15):
        x, y = 100.0 + 300 * i, 2000.0
        start = time.perf_counter()
        delta = brush_segment(mask, (x, y), (x + 25, y + 18), 100, 255)
        delta.apply(mask)
        times.append(time.perf_counter() - start)
        y0, x0, y1, x1 = delta.bbox
        assert (y1 - y0) * (x1 - x0) < 150 * 150
    assert sorted(times)[len(times) // 2] < 0.005


# --- fills -----------------------------------------------------------------------------------
def ring_mask() -> np.ndarray:
    mask = np.zeros((30, 30), np.uint8)
    cv2.rectangle(mask, (5, 5), (20, 20), 255, 1)  # closed 1-px square outline
    return mask


def test_flood_fill_stops_at_boundaries():
    mask = ring_mask()
    result = _applied(mask, flood_fill(mask, 10.5, 10.5, 255))
    assert (result[6:20, 6:20] == 255).all()
    assert result[:5].sum() == 0 and result[21:].sum() == 0 and result[:, 21:].sum() == 0


def test_flood_fill_is_4_connected_and_leaks_through_no_diagonal():
    mask = np.zeros((10, 10), np.uint8)
    mask[np.arange(10), np.arange(10)] = 255  # diagonal wall: 8-connected line
    delta = flood_fill(mask, 8.5, 1.5, 1)  # above the diagonal
    result = mask.copy()
    delta.apply(result)
    above = np.triu(np.ones((10, 10), bool), 1)
    assert (result[above] == 1).all() and (result[~above & (mask == 0)] == 0).all()


def test_flood_fill_none_on_same_value_or_outside_and_respects_limit():
    mask = ring_mask()
    assert flood_fill(mask, 5.2, 5.2, 255) is None
    assert flood_fill(mask, -1, 3, 1) is None
    delta = flood_fill(mask, 1.5, 1.5, 7, limit=(0, 0, 4, 30))
    assert delta is not None and delta.bbox == (0, 0, 4, 30)
    assert (delta.new == 7).all()


def test_polygon_fill_covers_pixels_whose_centres_are_inside():
    mask = np.zeros((30, 30), np.uint8)
    delta = polygon_fill(mask, [(10, 10), (20, 10), (20, 20), (10, 20)], 3)
    result = painted(mask.shape, delta)
    assert delta.bbox == (10, 10, 20, 20)
    assert (result[10:20, 10:20] == 3).all() and result.sum() == 3 * 100


def test_polygon_fill_area_of_a_triangle_and_degenerate_input():
    mask = np.zeros((64, 64), np.uint8)
    result = painted(mask.shape, polygon_fill(mask, [(2.0, 2.0), (62.0, 2.0), (2.0, 62.0)], 1))
    area = int(result.sum())
    assert abs(area - 0.5 * 60 * 60) <= 60 * 1.5  # within about one perimeter row
    assert polygon_fill(mask, [(1, 1), (5, 5)], 1) is None


coord = st.floats(-5, 45, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coord, coord), min_size=3, max_size=3))
def test_polygon_fill_matches_point_in_triangle(tri):
    shape = (40, 40)
    result = _applied(np.zeros(shape, np.uint8), polygon_fill(np.zeros(shape, np.uint8), tri, 1))
    yy, xx = np.mgrid[0:40, 0:40] + 0.5
    # Signed distances of each pixel centre to the three edges (all same sign = inside).
    sides = []
    for (ax, ay), (bx, by) in zip(tri, tri[1:] + tri[:1]):
        length = np.hypot(bx - ax, by - ay) or 1.0
        sides.append(((bx - ax) * (yy - ay) - (by - ay) * (xx - ax)) / length)
    sides = np.stack(sides)
    inside = (sides > 0).all(axis=0) | (sides < 0).all(axis=0)
    clear = (np.abs(sides) > 1e-6).all(axis=0)
    assert np.array_equal((result > 0)[clear], inside[clear])


def test_self_crossing_lasso_fills_every_loop():
    # A pentagram: its centre is wound twice (non-zero rule fills it, even-odd would not).
    angles = np.deg2rad(-90 + 144 * np.arange(5))
    star = [(32 + 28 * np.cos(t), 32 + 28 * np.sin(t)) for t in angles]
    result = _applied(np.zeros((64, 64), np.uint8), polygon_fill(np.zeros((64, 64), np.uint8),
                                                                 star, 1))
    assert result[32, 32] == 1 and result[8, 32] == 1 and result[0, 0] == 0


def test_trimap_band_from_binary_and_from_trimap():
    binary = np.zeros((40, 40), np.uint8)
    binary[10:30, 10:30] = 255
    delta = trimap_band(binary, 2, source="binary")
    assert np.array_equal(_applied(binary, delta), binary_to_trimap(binary, 2))
    trimap = binary_to_trimap(binary, 2)
    wider = _applied(trimap, trimap_band(trimap, 4))
    assert (wider == 3).sum() > (trimap == 3).sum()
    assert set(np.unique(wider)) == {1, 2, 3}
    with pytest.raises(ValueError, match="source"):
        trimap_band(binary, 2, source="rgb")


def _applied(mask: np.ndarray, delta: Delta | None) -> np.ndarray:
    out = mask.copy()
    if delta is not None:
        delta.apply(out)
    return out


def test_fill_holes_fills_enclosed_regions_only():
    mask = np.zeros((30, 30), np.uint8)
    mask[5:15, 5:15] = 255
    mask[8:11, 8:11] = 0  # enclosed hole (9 px)
    mask[0:10, 20:30] = 255
    mask[0:3, 24:27] = 0  # notch touching the border: not a hole
    result = _applied(mask, fill_holes(mask, 255))
    assert (result[5:15, 5:15] == 255).all()
    assert (result[0:3, 24:27] == 0).all()
    assert fill_holes(result, 255) is None
    assert fill_holes(mask, 255, max_size=8) is None


def test_remove_islands_below_size_keeps_larger_ones():
    mask = np.zeros((40, 40), np.uint8)
    mask[2:4, 2:4] = 255  # 4 px island
    mask[10:13, 10:13] = 255  # 9 px island
    mask[20:40, 20:40] = 255
    mask[30:32, 30:32] = 0  # 4 px hole = island of background inside foreground
    result = _applied(mask, remove_islands(mask, 5))
    assert result[2:4, 2:4].sum() == 0
    assert (result[10:13, 10:13] == 255).all()
    assert (result[20:40, 20:40] == 255).all()
    only_fg = _applied(mask, remove_islands(mask, 5, values=[255]))
    assert (only_fg[30:32, 30:32] == 0).all() and only_fg[2:4, 2:4].sum() == 0
    assert remove_islands(mask, 4) is None


def test_remove_islands_takes_the_surrounding_value_or_a_given_one():
    mask = np.full((20, 20), 2, np.uint8)
    mask[:, 10:] = 5
    mask[4, 14] = 7
    result = _applied(mask, remove_islands(mask, 3))
    assert result[4, 14] == 5
    result = _applied(mask, remove_islands(mask, 3, values=[7], fill_value=0))
    assert result[4, 14] == 0


def test_erase_value_per_scheme():
    assert erase_value(binary_scheme()) == 0
    assert erase_value(trimap_scheme()) == 2
    assert erase_value(camvid_scheme()) == 11
    assert erase_value(multiclass_scheme(3)) == 0


def test_remove_islands_of_a_sparse_mask_keeps_the_strokes_and_the_unpainted_pixels():
    """Strokes among unpainted pixels are no specks: with ``unlabeled`` they stay, and so does
    every unpainted region; a speck inside a painted region still goes."""
    unlabeled = 128
    mask = np.full((30, 30), unlabeled, np.uint8)
    mask[5, 5:12] = 255  # a short stroke of 7 px among unpainted pixels
    mask[15:28, 15:28] = 0  # a painted background region...
    mask[20, 20] = 255  # ...with a speck of foreground in it
    delta = remove_islands(mask, 50, unlabeled=unlabeled)
    new = mask.copy()
    delta.apply(new)
    assert (new[5, 5:12] == 255).all() and new[20, 20] == 0
    assert (new == unlabeled).sum() == (mask == unlabeled).sum()
    before = mask.copy()
    remove_islands(mask, 50).apply(before)  # without it the stroke was taken as a speck
    assert (before[5, 5:12] != 255).all()
