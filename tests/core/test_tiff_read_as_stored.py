"""Single-page TIFFs whose samples Pillow reads as other values: signed 8-bit (-1 came back as
255) and unsigned 32-bit (values above 2**31 wrapped to negative). They are read as stored, as a
stack's slices of the same types are."""

import numpy as np
import pytest
import tifffile

from unet_desktop.core.io.display import render
from unet_desktop.core.io.imageio import read_image_raw
from unet_desktop.core.io.input_rule import data_range_uint8


@pytest.mark.parametrize("dtype, values", [
    (np.int8, [-1, 5, -128, 127]),
    (np.uint32, [0, 2**31 + 5, 7, 4_000_000_000]),
    (np.int16, [-3, 4, 5, 6]),
    (np.int32, [-5, 1, 2, 3]),
    (np.float32, [0.5, 1.0, 2.0, 3.0]),
    (np.uint8, [1, 2, 3, 255]),
])
def test_a_single_page_tiff_keeps_its_values_and_type(tmp_path, dtype, values):
    stored = np.array(values, dtype=dtype).reshape(2, 2).repeat(8, 0).repeat(8, 1)
    path = tmp_path / f"{np.dtype(dtype).name}.tif"
    tifffile.imwrite(path, stored)
    read = read_image_raw(path)
    assert read.dtype == stored.dtype and read.shape == stored.shape
    assert np.array_equal(read, stored)


@pytest.mark.parametrize("dtype, values", [(np.int8, [-1, 5, -128, 127]),
                                           (np.uint32, [0, 2**31 + 5, 7, 4_000_000_000])])
def test_such_images_are_shown_and_fed_in_their_order(tmp_path, dtype, values):
    stored = np.array(values, dtype=dtype).reshape(2, 2).repeat(8, 0).repeat(8, 1)
    tifffile.imwrite(tmp_path / "x.tif", stored)
    read = read_image_raw(tmp_path / "x.tif")
    order = np.argsort(np.array(values, dtype=np.float64))
    for shown in (render(read), data_range_uint8(read)):
        corners = shown[::8, ::8].reshape(-1).astype(int)
        assert np.all(np.diff(corners[order]) >= 0), (shown.dtype, corners)
