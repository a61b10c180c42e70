"""8-bit PNGs beside float32 TIFFs (0..100): a new model's data-range rule fixes the floats'
span and no bits, and feeds 8-bit images as stored, yet beyond_range measured them against the
float span ('its values span 0 to 229 (uint8), beyond the range 0.002 to 99.998 ...'), so
training left them out and predict warned. Now 8-bit and boolean images are taken as they are
under every fixed range, by apply and beyond_range alike."""

from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.io.input_rule import InputRule, fixed_range, fixed_scale


def _floats_0_to_100() -> np.ndarray:
    return np.linspace(0.002, 99.998, 48 * 48, dtype=np.float32).reshape(48, 48)


def _png() -> np.ndarray:
    png = np.full((48, 48), 20, np.uint8)
    png[10:30, 10:30] = 229
    return png


def test_a_rule_fixed_from_floats_takes_8_bit_images_as_stored():
    rule = fixed_range(InputRule("data-range"), [_floats_0_to_100()])
    assert rule.bits is None and rule.span is not None
    png = _png()
    np.testing.assert_array_equal(rule.apply(png), png)
    assert rule.beyond_range(png) is None
    assert rule.beyond_range(png, tolerated=0.01) is None


@pytest.mark.parametrize("rule", [InputRule("data-range", span=(0.0, 100.0)),
                                  InputRule("data-range", bits=12),
                                  InputRule("data-range", bits=12, span=(0.0, 100.0))])
def test_8_bit_and_boolean_images_have_no_fixed_scale(rule):
    png, mask = _png(), _png() > 100
    assert fixed_scale(png, rule.bits, rule.span) is None
    assert fixed_scale(mask, rule.bits, rule.span) is None
    np.testing.assert_array_equal(rule.apply(png), png)
    assert rule.apply(mask).tolist() == (mask.astype(np.uint8) * 255).tolist()
    assert rule.beyond_range(png) is None and rule.beyond_range(mask) is None


def test_rgb_8_bit_images_beside_floats_are_fed_as_stored():
    rule = InputRule("data-range", span=(0.0, 100.0))
    rgb = np.stack([_png()] * 3, axis=2)
    np.testing.assert_array_equal(rule.apply(rgb), rgb)
    assert rule.beyond_range(rgb) is None
