from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.smart.region_fix import clicked_region, fix_region, predicted_region


def prediction_with_blob():
    """Two touching predicted regions (1 left, 3 right) on background 2, and a stray blob of 1."""
    labels = np.full((50, 60), 2, np.uint8)
    labels[10:30, 10:25] = 1
    labels[10:30, 25:40] = 3
    labels[40:45, 50:55] = 1  # a false positive
    return labels


def test_region_is_the_connected_equal_part_under_the_click():
    labels = prediction_with_blob()
    box, inside = predicted_region(labels, 12.5, 15.5)
    assert box == (10, 10, 30, 25) and inside.all()
    assert predicted_region(labels, 99.0, 1.0) is None


def test_a_click_on_an_accepted_false_positive_removes_it():
    labels = prediction_with_blob()
    mask = labels.copy()  # the prediction was accepted as the mask
    delta = fix_region(mask, labels, 52.5, 42.5, value=1)
    delta.apply(mask)
    assert (mask[40:45, 50:55] == 2).all() and delta.bbox == (40, 50, 45, 55)
    assert (mask[10:30, 10:25] == 1).all()  # the touching regions are untouched
    assert (mask[10:30, 25:40] == 3).all()


def test_a_click_paints_the_region_with_the_current_class_or_a_chosen_one():
    labels = prediction_with_blob()
    mask = np.full((50, 60), 2, np.uint8)
    fix_region(mask, labels, 30.5, 20.5, value=1).apply(mask)  # the border region -> class 1
    assert (mask[10:30, 25:40] == 1).all() and (mask[10:30, 10:25] == 2).all()
    fix_region(mask, labels, 30.5, 20.5, value=1, to=3).apply(mask)
    assert (mask[10:30, 25:40] == 3).all()


def test_limit_and_shape_checks():
    labels = np.zeros((4000, 5000), np.uint8)
    mask = np.zeros((4000, 5000), np.uint8)
    delta = fix_region(mask, labels, 2500.5, 2000.5, 1, limit=(1500, 2000, 2500, 3000))
    assert delta.bbox == (1500, 2000, 2500, 3000)
    with pytest.raises(ValueError, match="prediction"):
        fix_region(mask, labels[:10], 1.0, 1.0, 1)


def test_values_counted_together_make_one_region():
    labels = prediction_with_blob()  # 1 and 3 touch: one pet with its border
    box, inside = predicted_region(labels, 12.5, 15.5, together=(1, 3))
    assert box == (10, 10, 30, 40) and inside.all()
    mask = labels.copy()
    delta = fix_region(mask, labels, 12.5, 15.5, value=1, together=(1, 3))
    delta.apply(mask)  # pet and border were already "pet": the whole animal is removed
    assert (mask[10:30, 10:40] == 2).all()


def _membrane_prediction(gray_cells, spot_radius=6):
    """A predicted membrane network (0) around cells (255), with one false membrane spot on a
    membrane inside a cell; returns the prediction, the spot and a point on a membrane line."""
    import cv2

    _, membrane, cells = gray_cells(256)
    labels = np.where(membrane, 0, 255).astype(np.uint8)
    inside_cell = cv2.distanceTransform((~membrane).astype(np.uint8), cv2.DIST_L2, 3)
    row, col = np.unravel_index(np.argmax(inside_cell), labels.shape)
    edge = np.argwhere(membrane & (cells == cells[row, col]))
    ey, ex = edge[np.argmin((edge[:, 0] - row) ** 2 + (edge[:, 1] - col) ** 2)]
    spot = np.zeros_like(membrane)
    reach = spot_radius - 2  # the spot overlaps the membrane: one connected predicted region
    cv2.circle(spot.view(np.uint8), (int(ex + np.sign(col - ex) * reach),
                                     int(ey + np.sign(row - ey) * reach)), spot_radius, 1, -1)
    spot &= ~membrane
    labels[spot] = 0
    line = np.argwhere(membrane & ~cv2.dilate(spot.astype(np.uint8), np.ones((31, 31))).astype(
        bool) & (cv2.distanceTransform(membrane.astype(np.uint8), cv2.DIST_L2, 3) >= 1.5))
    return labels, spot, membrane, tuple(line[len(line) // 2])


def test_a_click_on_a_false_spot_of_a_membrane_network_takes_the_spot_not_the_network(
        gray_cells):
    labels, spot, membrane, _ = _membrane_prediction(gray_cells)
    assert predicted_region(labels, *np.argwhere(spot)[0][::-1] + 0.5)[1].sum() > 10 * spot.sum()
    mask = labels.copy()  # the prediction accepted
    sy, sx = np.argwhere(spot).mean(axis=0)
    fix_region(mask, labels, sx + 0.5, sy + 0.5, value=255, to=255).apply(mask)
    changed = (mask != labels)
    assert changed[spot].mean() > 0.8  # the spot became cell
    assert changed.sum() < 3 * spot.sum()  # and little else: the network stays membrane
    assert (mask[membrane & ~changed] == 0).all() and (mask == 0).sum() > 0.9 * membrane.sum()


def test_a_click_on_a_membrane_line_converts_a_stretch_of_it_never_the_network(gray_cells):
    labels, _, membrane, (row, col) = _membrane_prediction(gray_cells)
    mask = labels.copy()
    fix_region(mask, labels, col + 0.5, row + 0.5, value=255, to=255).apply(mask)
    changed = mask != labels
    assert changed[row, col] and changed.sum() < 0.1 * membrane.sum()
    ys, xs = np.nonzero(changed)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) <= 2 * 32 + 8  # the stretch near it
    whole = predicted_region(labels, col + 0.5, row + 0.5)[1].sum()
    assert whole > 0.9 * membrane.sum()  # what a plain connected region would have taken


def test_a_bounded_region_has_a_box_of_plain_ints(gray_cells):
    """The undo history is written as JSON: numpy integers in a box would not serialise."""
    labels, _, _, (row, col) = _membrane_prediction(gray_cells)
    box, _ = clicked_region(labels, col + 0.5, row + 0.5)
    assert all(type(v) is int for v in box)
