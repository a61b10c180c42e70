"""TIFFs Pillow cannot open (float64, float16, 4 or 5 samples per pixel) are read by tifffile,
as the workspace reads them, or refused saying what is unsupported (not "corrupt header")."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_desktop.core.errors import ImageReadError
from unet_desktop.core.io.imageio import image_size, read_image, read_image_raw
from unet_desktop.core.io.stacks import read_tiff_image


def _twelve_bit(channels: int, height: int = 6, width: int = 9) -> np.ndarray:
    """Distinct 12-bit values per pixel and channel, channels last."""
    values = (np.arange(height * width * channels) * 37) % 4096
    return values.reshape(height, width, channels).astype(np.uint16)


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_float64_and_float16_tiffs_read_through_tifffile(tmp_path, dtype):
    values = np.linspace(0.0, 1.0, 6 * 9).reshape(6, 9).astype(dtype)
    path = tmp_path / "floats.tif"
    tifffile.imwrite(path, values)
    raw = read_image_raw(path)
    assert raw.dtype == dtype
    np.testing.assert_array_equal(raw, values)
    np.testing.assert_array_equal(read_image(path), np.rint(values.astype(np.float64) * 255))
    assert image_size(path) == (9, 6)


def test_four_and_five_sample_tiffs_read_or_say_what_is_unsupported(tmp_path):
    four = (_twelve_bit(4) % 256).astype(np.uint8)
    tifffile.imwrite(tmp_path / "four.tif", four, photometric="minisblack", planarconfig="contig")
    np.testing.assert_array_equal(read_image_raw(tmp_path / "four.tif"), four)
    with pytest.raises(ImageReadError, match="the image has 4 channels"):  # data, not RGBA
        read_image(tmp_path / "four.tif")
    five = (_twelve_bit(5) % 256).astype(np.uint8)
    tifffile.imwrite(tmp_path / "five.tif", five, photometric="minisblack", planarconfig="contig")
    assert image_size(tmp_path / "five.tif") == (9, 6)
    with pytest.raises(ImageReadError, match="the image has 5 channels") as info:
        read_image(tmp_path / "five.tif")
    assert "corrupt" not in str(info.value)


def test_a_tiff_whose_page_decodes_to_no_pixels_is_refused_by_name(tmp_path):
    path = tmp_path / "zero-bits.tif"
    tifffile.imwrite(path, np.arange(120, dtype=np.uint16).reshape(12, 10))
    bits_tag = b"\x02\x01\x03\x00\x01\x00\x00\x00\x10\x00"  # BitsPerSample, 1 SHORT: 16
    data = path.read_bytes()
    assert bits_tag in data
    path.write_bytes(data.replace(bits_tag, bits_tag[:-2] + b"\x00\x00"))  # 0 bits
    for read in (read_image, read_image_raw, read_tiff_image):
        with pytest.raises(ImageReadError, match="slice 1 decodes to shape") as info:
            read(path)
        assert str(path) in str(info.value)
