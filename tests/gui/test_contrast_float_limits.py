"""The contrast boxes keep the limits of float data in 0..0.004 as they are: they kept 2
decimals, so they showed 0.00 / 0.00, a typed High of 0.002 was lost (in German it became 2.0)
and editing one box rounded the other's limit."""

# ruff: noqa: F811 - the fixture imported from test_decimal_box is redefined as an argument
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QLocale

from tests.gui.test_decimal_box import GERMAN, in_locale, type_into  # noqa: F401 - fixture
from unet_desktop.gui.decimal_box import parse_decimal
from unet_desktop.gui.editing.contrast_dock import ContrastDock


@pytest.mark.parametrize("locale", [QLocale.c(), GERMAN], ids=["C", "de"])
def test_contrast_boxes_keep_small_float_limits(qtbot, in_locale, locale):
    in_locale(locale)
    dock = ContrastDock()
    qtbot.addWidget(dock)
    edges = np.linspace(0.0, 0.004, 65)
    dock.show_image(np.ones(64), edges, 1.96e-5, 0.00398, "float32")
    assert dock.limits() == pytest.approx((1.96e-5, 0.00398))  # were (0.0, 0.0)
    assert parse_decimal(dock.low_spin.cleanText()) == pytest.approx(1.96e-5)
    assert dock.high_spin.singleStep() == pytest.approx(0.004 / 100)  # not 1.0: past the data
    with qtbot.waitSignal(dock.limits_changed) as changed:
        type_into(dock.high_spin, "0.002")
    assert changed.args == pytest.approx([1.96e-5, 0.002])  # the low limit is not rounded
