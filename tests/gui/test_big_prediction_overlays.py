"""Showing a prediction of a big image: the hidden uncertainty heat map is not built until the
overlay is shown, and outlines are coloured without a pass over every pixel; what is shown is
the same as before."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.gui.editing import uncertainty_layer
from unet_desktop.gui.editing.canvas import Canvas
from unet_desktop.gui.editing.layers import MaskLayer, outline_of, scheme_lut
from unet_desktop.gui.editing.uncertainty_layer import heat_rgba


@pytest.fixture
def canvas(qtbot):
    c = Canvas()
    qtbot.addWidget(c)
    c.resize(400, 300)
    c.show()
    return c


def _whole_image_heat(uncertainty):
    """heat_rgba as it was: float arithmetic over the whole map at once."""
    u = np.nan_to_num(np.asarray(uncertainty, dtype=np.float32), nan=0.0)
    return uncertainty_layer.heat_lut()[np.clip(np.rint(u * 255.0), 0, 255).astype(np.uint8)]


def _uncertainty(shape, seed=0):
    u = np.random.default_rng(seed).random(shape).astype(np.float32)
    u[::7, ::5] = np.nan
    u[3, :4] = (-0.5, 1.5, 0.5 / 255, 254.5 / 255)
    return u


def test_heat_map_in_strips_is_the_same_as_at_once():
    u = _uncertainty((600, 37))  # taller than a strip
    assert np.array_equal(heat_rgba(u), _whole_image_heat(u))
    assert np.array_equal(heat_rgba(u.astype(np.float16)), _whole_image_heat(u.astype(np.float16)))


def test_hidden_uncertainty_overlay_builds_no_heat_map_until_shown(canvas):
    shape = (40, 60)
    canvas.set_content(np.zeros(shape, np.uint8), np.zeros(shape, np.uint8), binary_scheme())
    layer = canvas.uncertainty_layer
    first, second = _uncertainty(shape, 1), _uncertainty(shape, 2)
    canvas.set_prediction(np.zeros(shape, np.uint8), first, binary_scheme())
    assert not layer.isVisible() and layer.image is None  # hidden: nothing built
    assert layer.map_shape == shape
    canvas.set_uncertainty_visible(True)
    assert layer.isVisible() and np.array_equal(layer.image, _whole_image_heat(first))
    canvas.set_prediction(np.zeros(shape, np.uint8), second, binary_scheme())  # while shown
    assert np.array_equal(layer.image, _whole_image_heat(second))
    canvas.set_uncertainty_visible(False)
    canvas.set_prediction(np.zeros(shape, np.uint8), first, binary_scheme())
    assert layer.image is None
    canvas.clear_prediction()
    canvas.set_uncertainty_visible(True)
    assert layer.image is None and layer.map_shape is None


def _colours_as_before(mask, lut, outline_only, outline_argb):
    """MaskLayer's colours as they were: a LUT gather and a masked write over every pixel."""
    colours = lut[mask]
    if outline_only:
        edge = outline_of(mask)
        colours[~edge] = 0
        if outline_argb is not None:
            colours[edge] = outline_argb
    return colours


def _labels(shape, classes, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, classes, (shape[0] // 8 + 1, shape[1] // 8 + 1)).astype(np.uint8)
    return np.kron(small, np.ones((8, 8), np.uint8))[: shape[0], : shape[1]].copy()


@pytest.mark.parametrize("scheme, outline", [
    (binary_scheme(), (0, 230, 255, 255)), (trimap_scheme(), (0, 230, 255, 255)),
    (multiclass_scheme(5), None), (binary_scheme(), (10, 20, 30, 128))])
def test_outline_colours_are_the_same_as_before(qtbot, scheme, outline):
    values = [c.value for c in scheme.classes]
    mask = np.array(values, np.uint8)[_labels((600, 90), len(values))]
    layer = MaskLayer()
    layer.set_outline_only(True)
    layer.set_outline_color(outline)
    layer.set_mask(mask, scheme)
    outline_argb = layer._outline_argb
    lut = scheme_lut(scheme)
    assert np.array_equal(layer.pixels_argb(), _colours_as_before(mask, lut, True, outline_argb))
    mask[100:340, 20:50] = values[-1]  # an edit across strips
    layer.update_region((100, 20, 340, 50))
    assert np.array_equal(layer.pixels_argb(), _colours_as_before(mask, lut, True, outline_argb))
    layer.set_outline_only(False)
    assert np.array_equal(layer.pixels_argb(), _colours_as_before(mask, lut, False, None))
    layer.set_outline_only(True)
    assert np.array_equal(layer.pixels_argb(), _colours_as_before(mask, lut, True, outline_argb))


def test_outlines_of_a_big_prediction_need_no_full_size_temporaries(qtbot):
    mask = np.zeros((2048, 1024), np.uint8)
    mask[:, 512:] = 1
    layer = MaskLayer()
    layer.set_outline_only(True)
    layer.set_outline_color((0, 230, 255, 255))
    buffer = mask.size * 4  # the ARGB32 buffer shown
    tracemalloc.start()
    try:
        layer.set_mask(mask, binary_scheme())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < buffer * 1.25, peak  # the buffer and strip-sized temporaries, no more
    assert (layer.pixels_argb()[:, 511:513] != 0).all() and layer.pixels_argb()[:, :511].max() == 0


@pytest.mark.parametrize("fill", ["labels", "empty", "one class"])
def test_filled_mask_colours_are_the_same_as_before_in_one_buffer(qtbot, fill):
    scheme = trimap_scheme()
    mask = {"labels": _labels((300, 200), 3) + 1, "empty": np.zeros((300, 200), np.uint8),
            "one class": np.full((300, 200), 2, np.uint8)}[fill]
    layer = MaskLayer()
    buffer = mask.size * 4
    tracemalloc.start()
    try:
        layer.set_mask(mask, scheme)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(layer.pixels_argb(), _colours_as_before(mask, scheme_lut(scheme),
                                                                   False, None))
    assert peak < buffer * 1.5, peak  # the buffer itself, no second full-size copy
    mask[10:20, 30:40] = 1  # edits still recolour by box
    layer.update_region((10, 30, 20, 40))
    assert np.array_equal(layer.pixels_argb(), _colours_as_before(mask, scheme_lut(scheme),
                                                                   False, None))
