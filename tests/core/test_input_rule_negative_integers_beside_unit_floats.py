"""Integers below 0 beside floats within [0, 1] (a normalised 32-bit export): a new model's
rule took a span from the integers (e.g. -50 to 4095) and stretched every float from it, so the
float image was fed as a constant, all-black image, and nothing said so. Now the span stays the
integers' (integer_span) and floats within [0, 1] are fed by 1, as without the negative pixels."""
import numpy as np

from unet_desktop.core.io.input_rule import InputRule, fixed_range

NEW = InputRule("data-range")
NEGATIVE = np.linspace(-50, 4000, 64 * 64).astype(np.int16).reshape(64, 64)
UNIT = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)


def test_floats_within_0_1_beside_negative_integers_are_fed_by_1():
    rule = fixed_range(NEW, [NEGATIVE, UNIT])
    assert rule.bits is None and rule.span == (-50.0, 4095.0) and rule.integer_span
    fed = rule.apply(UNIT)
    assert (fed.min(), fed.max()) == (0, 255)
    assert rule.beyond_range(UNIT) is None and rule.beyond_range(NEGATIVE) is None
    assert rule.apply(NEGATIVE).min() == 0 and rule.apply(NEGATIVE).max() > 240  # the span


def test_the_rule_keeps_it_through_the_model_file():
    rule = fixed_range(NEW, [NEGATIVE, UNIT])
    again = InputRule.from_dict(rule.to_dict())
    assert again == rule
    assert again.apply(UNIT).max() == 255
    assert "floats within 0-1 by 1" in again.describe()


def test_floats_beyond_0_1_still_share_the_span_with_the_integers():
    wide = np.array([[0.5, 300.0]], np.float32)
    rule = fixed_range(NEW, [NEGATIVE, wide])
    assert not rule.integer_span and rule.span == (-50.0, 4095.0)
    assert rule.beyond_range(wide) is None
