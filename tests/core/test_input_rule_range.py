"""An input rule says when an image's values go beyond the range it fixes (they saturate)."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.io.input_rule import InputRule

TWELVE_BIT = InputRule("data-range", bits=12)


def test_16_bit_values_beyond_a_12_bit_rule_are_named_with_both_ranges():
    sixteen = np.linspace(5000, 51998, 64).astype(np.uint16).reshape(8, 8)
    reason = TWELVE_BIT.beyond_range(sixteen)
    assert reason is not None
    assert "51998" in reason and "16-bit" in reason and "12-bit range (0-4095)" in reason
    assert "all of its pixels read as white" in reason


def test_the_share_of_saturated_pixels_is_told():
    half = np.array([[100, 4095], [4096, 9000]], np.uint16)
    assert "50% of its pixels" in TWELVE_BIT.beyond_range(half)


def test_values_within_the_fixed_range_or_8_bit_images_are_no_news():
    assert TWELVE_BIT.beyond_range(np.array([[0, 4095]], np.uint16)) is None
    assert TWELVE_BIT.beyond_range(np.full((4, 4), 255, np.uint8)) is None


def test_rules_that_fix_no_range_never_report():
    sixteen = np.array([[0, 65535]], np.uint16)
    for rule in (InputRule(), InputRule("data-range"), InputRule("percentile")):
        assert rule.beyond_range(sixteen) is None


def test_floats_beyond_a_fixed_span_are_named():
    rule = InputRule("data-range", span=(0.0, 2000.0))
    assert rule.beyond_range(np.array([[0.0, 1500.0, np.nan]], np.float32)) is None
    reason = rule.beyond_range(np.array([[0.0, 1500.0, 9000.0, -5.0]], np.float32))
    assert "-5 to 9000" in reason and "0 to 2000" in reason and "50%" in reason


def test_only_the_channels_the_rule_picks_count():
    rule = InputRule("data-range", bits=12, channels=(0,))
    image = np.zeros((4, 4, 2), np.uint16)
    image[..., 1] = 60000  # the channel the model never sees
    assert rule.beyond_range(image) is None
    image[0, 0, 0] = 5000
    assert "5000" in rule.beyond_range(image)
