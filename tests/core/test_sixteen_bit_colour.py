"""12/16-bit colour PNG and TIFF images keep their data, as 12/16-bit gray ones do (Pillow
alone keeps the top byte), and a 16-bit colour mask reads its classes or is refused by name."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.core.errors import MaskError
from unet_desktop.core.io.imageio import image_size, read_image, read_image_raw
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.io.stacks import read_tiff_image
from unet_desktop.core.labels import multiclass_scheme


def _twelve_bit(channels: int, height: int = 6, width: int = 9) -> np.ndarray:
    """Distinct 12-bit values per pixel and channel, channels last."""
    values = (np.arange(height * width * channels) * 37) % 4096
    return values.reshape(height, width, channels).astype(np.uint16)


def _write_png(path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., 2::-1] if rgb.shape[2] == 3 else
                                                rgb[..., [2, 1, 0, 3]]))


@pytest.mark.parametrize("name", ["rgb.png", "rgb.tif", "planar.tif"])
def test_twelve_bit_rgb_keeps_its_data_like_twelve_bit_gray(tmp_path, name):
    image = _twelve_bit(3)
    path = tmp_path / name
    if name.endswith(".png"):
        _write_png(path, image)
    elif name == "planar.tif":
        tifffile.imwrite(path, np.moveaxis(image, 2, 0), photometric="rgb",
                         planarconfig="separate")
    else:
        tifffile.imwrite(path, image, photometric="rgb")
    for read in (read_image_raw, read_tiff_image):
        out = read(path)
        assert out.dtype == np.uint16
        np.testing.assert_array_equal(out, image)
    eight_bit = read_image(path)  # scaled by the 16-bit range, as 16-bit gray is
    np.testing.assert_array_equal(eight_bit, (image.astype(np.uint32) * 255 + 32767) // 65535)


def test_sixteen_bit_rgba_and_gray_alpha_drop_their_alpha(tmp_path):
    rgba = _twelve_bit(4)
    _write_png(tmp_path / "rgba.png", rgba)
    np.testing.assert_array_equal(read_image_raw(tmp_path / "rgba.png"), rgba[..., :3])
    tifffile.imwrite(tmp_path / "rgba.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    np.testing.assert_array_equal(read_image_raw(tmp_path / "rgba.tif"), rgba[..., :3])


def _exif_chunk(tmp_path, orientation: int) -> bytes:
    """A PNG eXIf chunk (length, type, data, CRC) holding ``orientation``, as Pillow writes it."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.new("L", (1, 1)).save(tmp_path / "exif.png", exif=exif)
    data = (tmp_path / "exif.png").read_bytes()
    start = data.index(b"eXIf") - 4
    return data[start:start + int.from_bytes(data[start:start + 4], "big") + 12]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_sixteen_bit_rgb_png_follows_its_exif_orientation_like_pillow(tmp_path, orientation):
    image = _twelve_bit(3)
    chunk = _exif_chunk(tmp_path, orientation)
    _write_png(tmp_path / "wide.png", image)
    data = (tmp_path / "wide.png").read_bytes()
    (tmp_path / "wide.png").write_bytes(data[:33] + chunk + data[33:])  # after the IHDR chunk
    twin = (image >> 4).astype(np.uint8)  # the same picture at 8 bits, oriented by Pillow
    Image.fromarray(twin).save(tmp_path / "twin.png")
    data = (tmp_path / "twin.png").read_bytes()
    (tmp_path / "twin.png").write_bytes(data[:33] + chunk + data[33:])
    out = read_image_raw(tmp_path / "wide.png")
    np.testing.assert_array_equal(out >> 4, read_image(tmp_path / "twin.png"))
    assert image_size(tmp_path / "wide.png") == (out.shape[1], out.shape[0])


@pytest.mark.parametrize("name", ["labels.png", "labels.tif"])
def test_a_sixteen_bit_gray_label_image_saved_as_rgb_reads_its_classes(tmp_path, name):
    labels = np.zeros((8, 10), np.uint16)
    labels[2:4], labels[4:6], labels[6:] = 1, 2, 3
    rgb = np.dstack([labels] * 3)
    path = tmp_path / name
    if name.endswith(".png"):
        _write_png(path, rgb)
    else:
        tifffile.imwrite(path, rgb, photometric="rgb")
    np.testing.assert_array_equal(read_mask(path, multiclass_scheme(4)), labels)


def test_a_sixteen_bit_colour_mask_is_refused_by_name(tmp_path):
    rgb = np.zeros((8, 10, 3), np.uint16)
    rgb[:4, :, 0] = 1
    _write_png(tmp_path / "colour.png", rgb)
    with pytest.raises(MaskError, match="16-bit colour mask whose channels differ") as info:
        read_mask(tmp_path / "colour.png", multiclass_scheme(4))
    assert str(tmp_path / "colour.png") in str(info.value)
    _write_png(tmp_path / "wide.png", np.dstack([np.full((8, 10), 4000, np.uint16)] * 3))
    with pytest.raises(MaskError, match="values range 4000..4000"):
        read_mask(tmp_path / "wide.png", multiclass_scheme(4))
