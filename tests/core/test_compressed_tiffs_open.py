"""Compressed multi-page and multi-channel TIFFs open: LZW (bfconvert, ZEN, ImageMagick,
Pillow), zlib/deflate, PackBits and JPEG. tifffile needs the 'imagecodecs' package for LZW and
JPEG: without it every slice failed with "<COMPRESSION.LZW: 5> requires the 'imagecodecs'
package", which the user cannot act on from the app."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.imageio import read_image_raw
from unet_desktop.core.io.stacks import probe_tiff, read_slice


def _pages(dtype, count: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(count)
    top = 4095 if dtype == np.uint16 else 255
    return [rng.integers(0, top, (24, 32)).astype(dtype) for _ in range(count)]


@pytest.mark.parametrize(("compression", "dtype"), [
    ("tiff_lzw", np.uint16), ("tiff_lzw", np.uint8), ("tiff_adobe_deflate", np.uint16),
    ("packbits", np.uint8)])
def test_a_lossless_compressed_stack_reads_every_page_as_written(tmp_path, compression, dtype):
    pages = _pages(dtype)
    images = [Image.fromarray(p) for p in pages]
    images[0].save(tmp_path / "z.tif", compression=compression, save_all=True,
                   append_images=images[1:])
    assert probe_tiff(tmp_path / "z.tif").slices == 3
    for index, page in enumerate(pages):
        np.testing.assert_array_equal(read_slice(tmp_path / "z.tif", index), page)


def test_a_jpeg_compressed_stack_reads_as_pillow_decodes_each_page(tmp_path):
    images = [Image.fromarray(p) for p in _pages(np.uint8)]
    images[0].save(tmp_path / "z.tif", compression="jpeg", save_all=True,
                   append_images=images[1:])
    with Image.open(tmp_path / "z.tif") as im:
        for index in range(3):
            im.seek(index)
            expected = np.array(im)
            got = read_slice(tmp_path / "z.tif", index)
            assert got.shape == expected.shape
            assert np.abs(got.astype(int) - expected.astype(int)).max() <= 2  # one codec or another


def test_lzw_channels_stacks_and_16_bit_colour_open_in_the_folder(tmp_path):
    two = np.stack([np.stack(_pages(np.uint16, 2)) for _ in range(3)])  # Z C Y X
    tifffile.imwrite(tmp_path / "fluo.tif", two, imagej=True, metadata={"axes": "ZCYX"},
                     compression="lzw")
    rgb16 = np.random.default_rng(1).integers(0, 65535, (24, 32, 3)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "rgb16.tif", rgb16, photometric="rgb", compression="lzw")
    ws = Workspace.open(tmp_path)
    assert not ws.skipped
    for z in range(3):
        np.testing.assert_array_equal(ws.load_raw(f"fluo.tif [{z + 1} of 3]"),
                                      np.moveaxis(two[z], 0, -1))
    np.testing.assert_array_equal(read_image_raw(tmp_path / "rgb16.tif"), rgb16)
