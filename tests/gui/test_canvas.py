"""The mask overlay: scheme colours, bbox-only updates, outline view, opacity, visibility."""

from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.gui.editing.canvas import Canvas
from unet_desktop.gui.editing.layers import outline_of, scheme_lut


def argb(r: int, g: int, b: int, a: int = 255) -> int:
    return (a << 24) | (r << 16) | (g << 8) | b


@pytest.fixture
def canvas(qtbot):
    c = Canvas()
    qtbot.addWidget(c)
    c.resize(400, 300)
    c.show()
    return c


def test_lut_uses_the_scheme_palette():
    lut = scheme_lut(trimap_scheme())
    assert lut[1] == argb(255, 64, 64) and lut[2] == argb(40, 40, 160)
    assert lut[0] == 0 and lut[200] == 0  # values outside the scheme are transparent
    assert scheme_lut(binary_scheme())[0] == 0  # binary background is see-through
    ignore = scheme_lut(multiclass_scheme(3, ignore_value=7))
    assert ignore[7] == 0 and ignore[2] != 0


def test_layer_shows_the_mask_and_updates_only_the_given_box(canvas):
    mask = np.full((48, 64), 2, np.uint8)
    canvas.set_content(np.zeros((48, 64, 3), np.uint8), mask, trimap_scheme())
    shown = canvas.mask_layer.pixels_argb()
    assert (shown == argb(40, 40, 160)).all()
    mask[10:20, 30:40] = 1
    canvas.update_mask_region((10, 30, 15, 35))  # only part of the change is announced
    assert (shown[10:15, 30:35] == argb(255, 64, 64)).all()
    assert (shown[15:20, 35:40] == argb(40, 40, 160)).all()  # not recoloured: not announced
    canvas.refresh_mask()
    assert (shown[15:20, 35:40] == argb(255, 64, 64)).all()


def test_outline_view_keeps_only_region_borders(canvas):
    mask = np.full((48, 64), 2, np.uint8)
    mask[10:20, 10:20] = 1
    canvas.set_content(np.zeros((48, 64), np.uint8), mask, trimap_scheme())
    canvas.set_outline_only(True)
    shown = canvas.mask_layer.pixels_argb()
    np.testing.assert_array_equal(shown != 0, outline_of(mask))
    assert shown[10, 15] == argb(255, 64, 64) and shown[15, 15] == 0
    mask[30:35, 40:45] = 3  # a new region: its border appears after a box update
    canvas.update_mask_region((30, 40, 35, 45))
    np.testing.assert_array_equal(shown != 0, outline_of(mask))


def test_outline_of_marks_both_sides_of_a_boundary():
    labels = np.array([[1, 1, 2, 2]], np.uint8)
    np.testing.assert_array_equal(outline_of(labels), [[False, True, True, False]])


def test_opacity_visibility_and_fit(canvas):
    canvas.set_content(np.zeros((100, 400, 3), np.uint8), np.zeros((100, 400), np.uint8),
                       binary_scheme())
    canvas.set_mask_opacity(0.25)
    assert canvas.mask_layer.opacity() == 0.25
    canvas.set_mask_visible(False)
    assert not canvas.mask_layer.isVisible()
    canvas.zoom_by(4)
    canvas.fit_to_window()
    (x0, x1), (y0, y1) = canvas.view_box.viewRange()
    assert x0 <= 0 and x1 >= 400 and y0 <= 0 and y1 >= 100  # the whole image is in view
    assert x1 - x0 < 400 * 1.1  # and fills the width


def test_a_multiclass_prediction_outlines_each_side_in_its_class_colour(canvas):
    """One cyan for every border says where classes meet, not which class is where: with more
    than two classes each side of a border takes its class's colour; binary and trimap keep
    the cyan that sets a prediction apart from the mask's colours."""
    scheme = multiclass_scheme(["sky", "road", "car"], ignore_value=255)
    labels = np.zeros((48, 64), np.uint8)
    labels[24:, :] = 1
    labels[30:40, 10:20] = 2
    canvas.set_content(np.zeros((48, 64, 3), np.uint8), np.full((48, 64), 255, np.uint8), scheme)
    assert canvas.set_prediction(labels, None, scheme)
    shown = canvas.prediction_layer.pixels_argb()
    lut = scheme_lut(scheme)
    assert shown[23, 40] == lut[0] and shown[24, 40] == lut[1]  # sky above, road below
    assert shown[30, 15] == lut[2] and shown[29, 15] == lut[1]  # the car's top edge
    assert shown[10, 40] == 0 and shown[35, 15] == 0  # inside regions: nothing drawn
    binary = binary_scheme()
    canvas.set_content(np.zeros((48, 64, 3), np.uint8), np.zeros((48, 64), np.uint8), binary)
    assert canvas.set_prediction((labels > 0).astype(np.uint8), None, binary)
    cyan = canvas.prediction_layer.pixels_argb()
    assert cyan[23, 40] == cyan[24, 40] == argb(0, 230, 255)
