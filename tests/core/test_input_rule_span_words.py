"""A data-range rule with a span and no bits (a model trained on floats beyond 0..1) stretches
integers from that span too (since 40ca918), yet the model card and `unet-desktop info` said
wider integers were scaled "by their own bit depth": the words now say what apply() does."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.io.input_rule import InputRule

SPAN_ONLY = InputRule("data-range", span=(0.0, 100.0))


def test_a_span_only_rule_says_integers_stretch_from_its_span():
    text = SPAN_ONLY.describe()
    assert "own bit depth" not in text
    assert text == ("8-bit as stored; other values (integers and floats) 0 to 100 -> 0-255 "
                    "(the range of its training images)")
    stored = np.array([[0, 40, 100, 1000]], np.uint16)
    assert SPAN_ONLY.apply(stored).tolist() == [[0, 102, 255, 255]]  # from the span, as said
    assert SPAN_ONLY.apply(np.array([[7, 200]], np.uint8)).tolist() == [[7, 200]]


def test_rules_with_bits_or_without_a_range_keep_their_words():
    assert InputRule("data-range", bits=12, span=(0.0, 100.0)).describe() == (
        "scaled by 4095 (12-bit data, the range of its training images); floats 0 to 100 -> "
        "0-255 (the range of its training images)")
    assert "by their own bit depth" in InputRule("data-range").describe()
