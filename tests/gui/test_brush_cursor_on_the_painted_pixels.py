"""The brush cursor circle is drawn around the pixels a click there paints (the brush's centre
snapped to the pixel grid), not around the raw pointer up to half a pixel away."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.helpers import click


@pytest.mark.parametrize("size", [1, 2, 5])
def test_the_circle_is_centred_on_what_a_click_paints(qtbot, window, size):
    canvas = window.canvas
    window.tools.set_size(size)
    window.tools.set_value(3)  # the border class: inside the object it changes every pixel
    pos = canvas.widget_pos(12.3, 15.3)  # a third of a pixel off the grid
    qtbot.mouseMove(canvas.viewport(), canvas.widget_pos(30, 30))  # a move, wherever it was
    qtbot.mouseMove(canvas.viewport(), pos)
    centre = canvas._cursor_item.rect().center()
    before = window.session.document.mask.copy()
    click(qtbot, canvas, *canvas.image_pos(pos))
    rows, cols = np.nonzero(window.session.document.mask != before)
    assert centre.x() == pytest.approx((cols.min() + cols.max() + 1) / 2)
    assert centre.y() == pytest.approx((rows.min() + rows.max() + 1) / 2)
