"""A single-page int16 TIFF is read as int16, as a slice of an int16 stack is (Pillow widens it
to its 32-bit mode "I": the Contrast dock said "int32" and the image took twice its memory)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.imageio import read_image, read_image_raw


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_a_single_page_int16_tiff_keeps_its_type_and_values(tmp_path, byteorder):
    values = (np.arange(30 * 20).reshape(30, 20) % 3000 - 1500).astype(np.int16)
    tifffile.imwrite(tmp_path / "single.tif", values, byteorder=byteorder)
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([values, values]), byteorder=byteorder,
                     photometric="minisblack")
    raw = read_image_raw(tmp_path / "single.tif")
    assert raw.dtype == np.int16 and raw.dtype.isnative
    np.testing.assert_array_equal(raw, values)
    ws = Workspace.open(tmp_path)
    assert {e.key: ws.load_raw(e.key).dtype.name for e in ws} == {
        "single.tif": "int16", "stack.tif [1 of 2]": "int16", "stack.tif [2 of 2]": "int16"}
    eight_bit = read_image(tmp_path / "single.tif")  # stretched min..max, as before
    assert (eight_bit.dtype, eight_bit[0, 0], eight_bit.max()) == (np.uint8, 0, 255)


def test_other_32_bit_modes_are_read_as_before(tmp_path):
    int32 = np.array([[-70000, 5], [7, 70000]], np.int32)
    tifffile.imwrite(tmp_path / "int32.tif", int32)
    tifffile.imwrite(tmp_path / "uint16.tif", int32.clip(0, 65535).astype(np.uint16))
    assert read_image_raw(tmp_path / "int32.tif").dtype == np.int32
    assert read_image_raw(tmp_path / "uint16.tif").dtype == np.uint16
