"""read_image / image_size on generated files of every mode and on broken or disguised files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.errors import ImageReadError
from unet_desktop.core.io.imageio import IMAGE_EXTENSIONS, image_size, is_image_file, read_image


def _assert_valid(array: np.ndarray) -> None:
    assert array.dtype == np.uint8
    assert array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)
    assert array.flags.c_contiguous and array.flags.writeable


# --- modes --------------------------------------------------------------------------------------
def test_gray_png_is_unchanged(pattern, make_image):
    arr = pattern().astype(np.uint8)
    out = read_image(make_image("g.png", arr))
    _assert_valid(out)
    np.testing.assert_array_equal(out, arr)


def test_rgb_png_bmp_tiff_and_lossless_webp_are_unchanged(pattern, make_image):
    arr = pattern(channels=3).astype(np.uint8)
    for name, options in [("c.png", {}), ("c.bmp", {}), ("c.tif", {}), ("c.webp", {"lossless": True})]:
        out = read_image(make_image(name, arr, **options))
        np.testing.assert_array_equal(out, arr, err_msg=name)


def test_one_bit_image_gives_0_and_255(pattern, make_image):
    bits = pattern() % 2 == 1
    out = read_image(make_image("b.png", Image.fromarray(bits)))
    _assert_valid(out)
    np.testing.assert_array_equal(out, np.where(bits, 255, 0))


def test_gray_alpha_drops_alpha(pattern, make_image):
    arr = pattern(channels=2).astype(np.uint8)
    out = read_image(make_image("la.png", arr))
    np.testing.assert_array_equal(out, arr[..., 0])


def test_rgba_drops_alpha_and_keeps_transparent_pixels(pattern, make_image):
    arr = pattern(channels=4).astype(np.uint8)
    arr[0, :, 3] = 0  # a fully transparent row keeps its colours
    out = read_image(make_image("rgba.png", arr))
    _assert_valid(out)
    np.testing.assert_array_equal(out, arr[..., :3])


def _palette_image(indices: np.ndarray, palette: np.ndarray) -> Image.Image:
    im = Image.fromarray(indices.astype(np.uint8))
    im.putpalette(palette.astype(np.uint8).tobytes())
    assert im.mode == "P"
    return im


def test_colour_palette_is_looked_up_to_rgb(pattern, make_image):
    indices = pattern(top=3)
    palette = np.array([[10, 20, 30], [200, 0, 0], [0, 200, 0], [0, 0, 200]])
    out = read_image(make_image("p.png", _palette_image(indices, palette)))
    _assert_valid(out)
    np.testing.assert_array_equal(out, palette[indices])


def test_gray_palette_gives_gray(pattern, make_image):
    indices = pattern(top=3)
    palette = np.array([[0, 0, 0], [90, 90, 90], [180, 180, 180], [250, 250, 250]])
    out = read_image(make_image("pg.png", _palette_image(indices, palette)))
    assert out.ndim == 2
    np.testing.assert_array_equal(out, palette[indices, 0])


@pytest.mark.reliability("images", "palette PNG/GIF with transparency")
@pytest.mark.parametrize("name", ["pt.png", "pt.gif"])
def test_palette_with_transparency_drops_it_without_warning(pattern, make_image, name):
    indices = pattern(top=3)
    palette = np.array([[10, 20, 30], [200, 0, 0], [0, 200, 0], [0, 0, 200]])
    path = make_image(name, _palette_image(indices, palette), transparency=0)
    with Image.open(path) as im:
        assert "transparency" in im.info
    out = read_image(path)  # warnings are errors in this test suite
    np.testing.assert_array_equal(out, palette[indices])


@pytest.mark.reliability("images", "CMYK JPEG")
def test_cmyk_jpeg_becomes_rgb(make_image):
    red_in_cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    out = read_image(make_image("cmyk.jpg", red_in_cmyk, quality=95))
    _assert_valid(out)
    assert out.shape == (16, 16, 3)
    np.testing.assert_allclose(out.reshape(-1, 3).mean(axis=0), [255, 0, 0], atol=12)


@pytest.mark.reliability("images", "16-bit PNG and TIFF")
@pytest.mark.parametrize("name", ["w.png", "w.tif"])
def test_16_bit_gray_is_scaled_by_the_type_range(make_image, name):
    arr = np.array([[0, 257, 32768], [65535, 1000, 128]], dtype=np.uint16)
    path = make_image(name, arr)
    with Image.open(path) as im:
        assert im.mode.startswith("I;16")
    out = read_image(path)
    _assert_valid(out)
    np.testing.assert_array_equal(out, [[0, 1, 128], [255, 4, 0]])


def test_32_bit_integer_within_16_bits_scales_like_16_bit(make_image):
    arr = np.array([[0, 257], [65535, 32768]], dtype=np.int32)
    out = read_image(make_image("i.tif", arr))
    np.testing.assert_array_equal(out, [[0, 1], [255, 128]])


def test_32_bit_integer_beyond_16_bits_is_stretched(make_image):
    arr = np.array([[-1000, 0], [1_000_000, 499_500]], dtype=np.int32)
    out = read_image(make_image("i.tif", arr))
    np.testing.assert_array_equal(out, [[0, 0], [255, 128]])


@pytest.mark.reliability("images", "float TIFF in 0..1")
def test_float_within_unit_range_scales_by_255(make_image):
    arr = np.array([[0.0, 0.5], [1.0, 0.25]], dtype=np.float32)
    out = read_image(make_image("f.tif", arr))
    np.testing.assert_array_equal(out, [[0, 128], [255, 64]])


@pytest.mark.reliability("images", "float TIFF with NaN and infinities")
def test_float_beyond_unit_range_is_stretched_and_non_finite_is_zero(make_image):
    arr = np.array([[-5.0, 5.0, np.nan], [0.0, np.inf, -np.inf]], dtype=np.float32)
    out = read_image(make_image("f.tif", arr))
    np.testing.assert_array_equal(out, [[0, 255, 0], [128, 0, 0]])


@pytest.mark.reliability("images", "unsupported pixel mode (LAB TIFF)")
def test_unsupported_mode_is_refused(make_image):
    path = make_image("lab.tif", Image.new("LAB", (4, 4), (50, 10, 10)))
    with pytest.raises(ImageReadError, match="unsupported pixel mode 'LAB'") as info:
        read_image(path)
    assert str(path) in str(info.value)


# --- geometry -----------------------------------------------------------------------------------
@pytest.mark.reliability("images", "EXIF-rotated photo")
def test_exif_orientation_is_applied(make_image):
    arr = np.zeros((16, 32), dtype=np.uint8)
    arr[:, :16] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    path = make_image("rot.jpg", arr, exif=exif, quality=95)
    out = read_image(path)
    assert out.shape == (32, 16)
    assert out[:16].mean() > 200 and out[16:].mean() < 50  # the left half is now on top
    assert image_size(path) == (16, 32)


@pytest.mark.reliability("images", "1xN, Nx1 and 1x1 images")
@pytest.mark.parametrize("shape", [(1, 9), (9, 1), (1, 1)])
def test_one_pixel_wide_images_load(pattern, make_image, shape):
    arr = pattern(*shape).astype(np.uint8)
    out = read_image(make_image("thin.png", arr))
    np.testing.assert_array_equal(out, arr)
    assert image_size(make_image("thin.png", arr)) == (shape[1], shape[0])


@pytest.mark.reliability("images", "0x0, 0xN and Nx0 images")
@pytest.mark.parametrize(("width", "height"), [(0, 0), (0, 5), (5, 0)])
def test_zero_sized_image_is_refused(handmade_png, write_bytes, width, height):
    path = write_bytes("empty.png", handmade_png(width, height))
    with pytest.raises(ImageReadError, match=f"zero size \\({width}x{height}\\)") as info:
        read_image(path)
    assert str(path) in str(info.value)


@pytest.mark.reliability("images", "corrupt PNG header")
def test_corrupt_header_of_a_known_format_is_named(write_bytes):
    path = write_bytes("bad.png", b"\x89PNG\r\n\x1a\n" + b"garbage!" * 5)
    with pytest.raises(ImageReadError, match="corrupt PNG header"):
        read_image(path)


def test_animated_gif_gives_its_first_frame(make_image):
    first = Image.fromarray(np.full((6, 6), 40, dtype=np.uint8))
    second = Image.fromarray(np.full((6, 6), 220, dtype=np.uint8))
    path = make_image("anim.gif", first, save_all=True, append_images=[second], duration=50)
    with Image.open(path) as im:
        assert im.n_frames == 2
    out = read_image(path)
    assert out.shape[:2] == (6, 6)
    assert abs(int(out.mean()) - 40) <= 2


# --- disguised and broken files ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "format"), [("gif.jpg", "GIF"), ("png.jpg", "PNG"), ("jpeg.png", "JPEG"),
                         ("png.tif", "PNG"), ("bmp.gif", "BMP")]
)
@pytest.mark.reliability("images", "wrong file extension")
def test_files_are_decoded_by_content_not_extension(make_image, name, format):
    arr = np.zeros((8, 8, 3), dtype=np.uint8)
    arr[:, :4] = (250, 250, 250)
    out = read_image(make_image(name, arr, format=format))
    assert out.shape[:2] == (8, 8)
    assert out[:, :4].mean() > 200 and out[:, 4:].mean() < 30


@pytest.mark.reliability("images", "truncated PNG/JPEG/GIF/TIFF/BMP")
@pytest.mark.parametrize("ext", ["png", "jpg", "gif", "tif", "bmp"])
def test_truncated_files_are_refused(make_image, write_bytes, ext):
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    data = make_image(f"whole.{ext}", noise).read_bytes()
    path = write_bytes(f"cut.{ext}", data[: len(data) * 2 // 3])
    with pytest.raises(ImageReadError, match="truncated") as info:
        read_image(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("noise.png", bytes(range(256)) * 4, "not an image"),
        ("x.mat", b"MATLAB 5.0 MAT-file, Platform: GLNXA64" + bytes(200), "not an image"),
        ("list.txt", b"#Image CLASS-ID SPECIES BREED ID\nAbyssinian_100 1 1 1\n", "not an image"),
        ("nothing.jpg", b"", "empty"),
        ("eps.png", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not an image"),
    ],
)
@pytest.mark.reliability("images", "non-image files with image names")
def test_non_images_are_refused_with_the_reason(write_bytes, name, data, reason):
    path = write_bytes(name, data)
    with pytest.raises(ImageReadError, match=reason) as info:
        read_image(path)
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: ")


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ImageReadError, match="not found"):
        read_image(tmp_path / "absent.png")
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)
    with pytest.raises(ImageReadError, match="not found"):
        image_size(tmp_path / "absent.png")


# --- decompression bombs ------------------------------------------------------------------------
@pytest.mark.reliability("images", "decompression bomb (over Pillow's pixel limit)")
@pytest.mark.parametrize("side", [12, 15])  # 144 px: Pillow's warning; 225 px: its error
def test_decompression_bomb_limit_stays_on(make_image, monkeypatch, side):
    path = make_image("big.png", np.zeros((side, side), dtype=np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageReadError, match="too large") as info:
        read_image(path)
    assert str(path) in str(info.value)
    with pytest.raises(ImageReadError, match="too large"):
        image_size(path)


@pytest.mark.reliability("images", "decompression bomb: 100000x100000 PNG under 1 kB")
def test_huge_declared_size_is_refused_before_decoding(handmade_png, write_bytes):
    path = write_bytes("bomb.png", handmade_png(100_000, 100_000))
    assert path.stat().st_size < 1000
    with pytest.raises(ImageReadError, match="too large"):
        read_image(path)


# --- real quirky files --------------------------------------------------------------------------
def test_real_pets_gif_and_rgba_png_named_jpg(shared_data):
    images = shared_data / "pets" / "images"
    gif = read_image(images / "Abyssinian_34.jpg")
    _assert_valid(gif)
    assert gif.shape == (202, 250, 3)
    rgba = read_image(images / "Abyssinian_5.jpg")
    _assert_valid(rgba)
    assert rgba.shape == (150, 200, 3)
    assert image_size(images / "Abyssinian_34.jpg") == (250, 202)
    with pytest.raises(ImageReadError, match="not an image"):
        read_image(images / "Abyssinian_100.mat")


def test_image_extensions_and_is_image_file():
    assert {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"} == IMAGE_EXTENSIONS
    assert is_image_file("a/B.JPG") and is_image_file("x.tiff")
    assert not is_image_file("a/b.mat") and not is_image_file("list.txt")


def test_a_sixteen_bit_colour_png_counts_as_stored_above_8_bits(tmp_path):
    """What fixes a new data-range model's bits: Pillow opens a 16-bit RGB PNG as 8-bit RGB."""
    import cv2

    from unet_desktop.core.folder.image_entry import ImageEntry
    from unet_desktop.core.folder.image_files import stored_above_8_bits
    from unet_desktop.core.folder.manifest import ImageState

    wide, narrow = tmp_path / "wide.png", tmp_path / "narrow.png"
    cv2.imwrite(str(wide), np.full((8, 8, 3), 4000, np.uint16))
    cv2.imwrite(str(narrow), np.full((8, 8, 3), 200, np.uint8))
    entry = lambda path: ImageEntry(path.name, path, tmp_path / "m.png",
                                    ImageState.UNLABELED)
    assert stored_above_8_bits(entry(wide)) and not stored_above_8_bits(entry(narrow))
