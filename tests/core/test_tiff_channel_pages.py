"""A single-image TIFF whose channels are pages (``CYX``, as Fiji and ImageJ save composites)
keeps every channel, as one with 2 or 5 channels does; Pillow alone would read the first."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_desktop.core.io.stacks import read_tiff_image


def _twelve_bit(channels: int, height: int = 6, width: int = 9) -> np.ndarray:
    """Distinct 12-bit values per pixel and channel, channels last."""
    values = (np.arange(height * width * channels) * 37) % 4096
    return values.reshape(height, width, channels).astype(np.uint16)


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("imagej", [False, True])
def test_a_single_image_with_channel_pages_keeps_every_channel(tmp_path, channels, dtype,
                                                               imagej):
    image = (_twelve_bit(channels) % (256 if dtype == np.uint8 else 4096)).astype(dtype)
    path = tmp_path / "composite.tif"
    options = {"imagej": True} if imagej else {"photometric": "minisblack"}
    tifffile.imwrite(path, np.moveaxis(image, 2, 0), metadata={"axes": "CYX"}, **options)
    out = read_tiff_image(path)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, image)


def test_rgb_samples_are_still_read_as_rgb(tmp_path):
    image = (_twelve_bit(3) % 256).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", image, photometric="rgb")
    np.testing.assert_array_equal(read_tiff_image(tmp_path / "rgb.tif"), image)
