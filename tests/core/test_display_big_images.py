"""Rendering and the histogram of 8/16-bit images go through a table of every possible value
(no float32 copy of the whole image): the output is the same as the float arithmetic's."""

import tracemalloc

import numpy as np
import pytest

from unet_desktop.core.io import display
from unet_desktop.core.io.display import Limits, histogram, render


def _float_render(values, limits=None):
    """render() as it was: float32 arithmetic over the whole image."""
    if limits is None and display.shown_as_is(values):
        return values
    count = display.channels_of(values)
    if count in (1, 3):
        limits = limits or display.auto_limits(values)
        scaled = (np.nan_to_num(values.astype(np.float32)) - limits.low) \
            * (255.0 / (limits.high - limits.low))
        return np.clip(scaled, 0, 255).astype(np.uint8)
    out = np.zeros((*values.shape[:2], 3), np.float32)
    for c, own in enumerate([limits] * count if limits else display.auto_channel_limits(values)):
        level = np.clip((values[..., c].astype(np.float32) - own.low)
                        * (255.0 / (own.high - own.low)), 0, 255)
        colour = display.CHANNEL_COLOURS[c % len(display.CHANNEL_COLOURS)]
        out += level[..., None] * (np.array(colour, np.float32) / 255.0)
    return np.clip(out, 0, 255).astype(np.uint8)


def _all_values_histogram(values, bins=128):
    flat = values.ravel()
    low, high = float(flat.min()), float(flat.max())
    return np.histogram(flat, bins=bins, range=(low, high if high > low else low + 1.0))


def _twelve_bit_blobs(shape, rng):
    base = rng.normal(600, 40, shape[:2])
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    base += 2500 * (((yy - shape[0] / 2) ** 2 + (xx - shape[1] / 3) ** 2) < (shape[0] / 4) ** 2)
    return np.clip(base, 0, 4095)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16])
@pytest.mark.parametrize("shape", [(40, 50), (40, 50, 3), (40, 50, 2), (30, 20, 5)])
def test_integer_render_and_histogram_match_the_float_path(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    info = np.iinfo(dtype)
    full_range = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    cases = [full_range]
    if np.dtype(dtype).itemsize == 2:
        blobs = _twelve_bit_blobs(shape, rng).astype(dtype)
        cases.append(np.stack([blobs] * shape[2], -1) if len(shape) == 3 else blobs)
    for values in cases:
        for limits in (None, Limits(-3.7, 1234.56), Limits(10.2, 11.9), Limits(600.5, 3000.0)):
            assert np.array_equal(render(values, limits), _float_render(values, limits))
        counts, edges = histogram(values)
        want_counts, want_edges = _all_values_histogram(values)
        assert counts.dtype == want_counts.dtype
        assert np.array_equal(counts, want_counts) and np.array_equal(edges, want_edges)


def test_constant_image_histogram_matches():
    values = np.full((6, 7), 1300, np.uint16)
    counts, edges = histogram(values)
    want_counts, want_edges = _all_values_histogram(values)
    assert np.array_equal(counts, want_counts) and np.array_equal(edges, want_edges)


def test_16_bit_render_and_histogram_make_no_full_size_float_copy():
    values = _twelve_bit_blobs((2048, 2048), np.random.default_rng(1)).astype(np.uint16)
    limits = display.auto_limits(values)
    float_copy = values.size * 4  # what astype(float32) of the image would take
    tracemalloc.start()
    try:
        shown = render(values, limits)
        render_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        histogram(values)
        histogram_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert shown.dtype == np.uint8
    assert render_peak < float_copy / 2, render_peak  # the uint8 output and a 64k table
    assert histogram_peak < float_copy / 2, histogram_peak
