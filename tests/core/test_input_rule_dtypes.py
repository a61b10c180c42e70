"""A data-range rule that fixed its range from 12-bit training data feeds the same values the
same whatever type stores them (uint16, int16, int32, float32), and says when an image's
values go below the range (negative) or above it: an int16 image with one pixel at -1, or a
float32 copy of 12-bit data, were stretched by their own min..max (about 35 % brighter) and
nothing said so."""

from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.io.input_rule import InputRule, fixed_range

TWELVE_BIT = InputRule("data-range", bits=12)


def _twelve_bit_image() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = rng.integers(100, 3000, (40, 56)).astype(np.uint16)
    image[10:20, 10:20] = 2500  # the object
    return image


def test_the_rule_fixed_from_12_bit_training_images_is_12_bits():
    assert fixed_range(InputRule("data-range"), [_twelve_bit_image()]) == TWELVE_BIT


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32, np.float64])
def test_the_same_values_in_another_type_are_fed_the_same(dtype):
    stored = _twelve_bit_image()
    np.testing.assert_array_equal(TWELVE_BIT.apply(stored.astype(dtype)), TWELVE_BIT.apply(stored))
    assert TWELVE_BIT.beyond_range(stored.astype(dtype)) is None


def test_one_negative_pixel_changes_nothing_else_and_is_told():
    stored = _twelve_bit_image()
    offset = stored.astype(np.int16)
    offset[0, 0] = -1  # a camera offset subtracted
    fed = TWELVE_BIT.apply(offset)
    assert fed[0, 0] == 0 and fed[15, 15] == TWELVE_BIT.apply(stored)[15, 15] == 156
    np.testing.assert_array_equal(fed[1:], TWELVE_BIT.apply(stored)[1:])
    reason = TWELVE_BIT.beyond_range(offset)
    assert reason is not None
    assert "-1 to 2998 (int16)" in reason and "12-bit range (0-4095)" in reason
    assert "under 1% of its pixels read as black" in reason


def test_floats_beyond_the_12_bit_range_on_both_sides_are_told():
    values = np.array([[-50.0, 100.0], [4095.0, 9000.0]], np.float32)
    assert TWELVE_BIT.apply(values).tolist() == [[0, 6], [255, 255]]
    reason = TWELVE_BIT.beyond_range(values)
    assert "-50 to 9000 (float32)" in reason and "50% of its pixels read as black or white" in reason


def test_a_few_negative_pixels_are_tolerated_where_training_tolerates_hot_pixels():
    offset = _twelve_bit_image().astype(np.int16)
    offset[0, :5] = -3
    assert TWELVE_BIT.beyond_range(offset, tolerated=0.01) is None
    offset[:5] = -3  # 12 % of the pixels
    assert "12% of its pixels read as black" in TWELVE_BIT.beyond_range(offset, tolerated=0.01)


def test_floats_within_0_to_1_are_still_fed_by_1():
    values = np.array([[0.0, 0.5], [1.0, np.nan]], np.float32)
    assert TWELVE_BIT.apply(values).tolist() == [[0, 128], [255, 0]]
    assert TWELVE_BIT.beyond_range(values) is None
    values[0, 0] = -0.5
    assert "range 0 to 1" in TWELVE_BIT.beyond_range(values)


def test_integers_stretch_from_a_span_fixed_by_float_training_images():
    rule = InputRule("data-range", span=(0.0, 4000.0))
    floats = np.array([[0.0, 1000.0], [2500.0, 4000.0]], np.float32)
    for dtype in (np.uint16, np.int16):
        np.testing.assert_array_equal(rule.apply(floats.astype(dtype)), rule.apply(floats))
    assert "5000" in rule.beyond_range(np.array([[0, 5000]], np.uint16))


def test_a_rule_that_fixes_no_range_keeps_each_images_own_range():
    rule = InputRule("data-range")
    offset = np.array([[-10, 0], [10, 90]], np.int16)
    assert rule.apply(offset).tolist() == [[0, 26], [51, 255]]  # as before: its min..max
    assert rule.beyond_range(offset) is None
