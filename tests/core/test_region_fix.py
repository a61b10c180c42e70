from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.region_fix import fix_region, predicted_region


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
