"""read_mask / write_mask / guess_scheme on generated masks, real masks and failing writes."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.errors import MaskError
from unet_desktop.core.io import atomic
from unet_desktop.core.io.maskio import guess_scheme, read_mask, write_mask
from unet_desktop.core.labels import (
    binary_scheme,
    camvid_scheme,
    multiclass_scheme,
    trimap_scheme,
)

SCHEMES = {
    "binary": (binary_scheme(), np.array([0, 255])),
    "trimap": (trimap_scheme(), np.array([1, 2, 3])),
    "multiclass": (camvid_scheme(), np.arange(12)),  # 0..10 classes and the ignore value 11
}


def _mask_for(values: np.ndarray, shape: tuple[int, int] = (9, 13)) -> np.ndarray:
    rng = np.random.default_rng(len(values))
    return values[rng.integers(0, len(values), shape)].astype(np.uint8)


def _temp_files(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(atomic.TEMP_SUFFIX)]


# --- round trips --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(SCHEMES))
def test_write_then_read_round_trips(tmp_path, kind):
    scheme, values = SCHEMES[kind]
    mask = _mask_for(values)
    path = tmp_path / "m.png"
    write_mask(path, mask, scheme)
    np.testing.assert_array_equal(read_mask(path, scheme), mask)
    np.testing.assert_array_equal(read_mask(path, scheme, shape=mask.shape), mask)
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.mode == ("P" if kind == "multiclass" else "L")
        if kind == "multiclass":  # viewers show the classes in the scheme's colours
            palette = np.array(im.getpalette(), dtype=np.uint8).reshape(-1, 3)
            for c in scheme.classes:
                assert tuple(palette[c.value]) == c.color


def test_overwrite_replaces_content_and_keeps_no_temp_files(tmp_path):
    scheme = binary_scheme()
    path = tmp_path / "m.png"
    write_mask(path, np.zeros((4, 4), np.uint8), scheme)
    write_mask(path, np.full((4, 4), 255, np.uint8), scheme)
    assert read_mask(path, scheme).min() == 255
    assert _temp_files(tmp_path) == []


def test_write_accepts_bool_for_binary_and_wide_integers_in_range(tmp_path):
    write_mask(tmp_path / "b.png", np.eye(3, dtype=bool), binary_scheme())
    np.testing.assert_array_equal(read_mask(tmp_path / "b.png"), np.eye(3) * 255)
    write_mask(tmp_path / "t.png", np.full((2, 2), 3, dtype=np.int64), trimap_scheme())
    np.testing.assert_array_equal(read_mask(tmp_path / "t.png", trimap_scheme()), 3)


@pytest.mark.parametrize(
    ("mask", "name", "reason"),
    [
        (np.array([[0, 7]], np.uint8), "m.png", r"refusing to write values \[7\]"),
        (np.zeros((2, 2, 3), np.uint8), "m.png", "2-D"),
        (np.zeros((0, 4), np.uint8), "m.png", "non-empty"),
        (np.zeros((2, 2), np.float32), "m.png", "integers"),
        (np.array([[0, 300]], np.int32), "m.png", "0..255"),
        (np.zeros((2, 2), np.uint8), "m.jpg", "PNG"),
    ],
)
def test_write_refuses_bad_masks(tmp_path, mask, name, reason):
    path = tmp_path / name
    with pytest.raises(MaskError, match=reason) as info:
        write_mask(path, mask, binary_scheme())
    assert info.value.path == str(path)
    assert not path.exists()


def test_write_refuses_bool_for_non_binary_scheme(tmp_path):
    with pytest.raises(MaskError, match="binary scheme"):
        write_mask(tmp_path / "m.png", np.ones((2, 2), bool), trimap_scheme())


# --- failed writes leave the previous file ------------------------------------------------------
def _fail(exc: OSError):
    def fail(*args, **kwargs):
        raise exc

    return fail


@pytest.mark.parametrize(
    ("target", "exc"),
    [
        ("fsync", OSError(errno.ENOSPC, "No space left on device")),
        ("replace", OSError(errno.EIO, "Input/output error")),
        ("mkstemp", PermissionError(errno.EACCES, "Permission denied")),  # read-only folder
    ],
)
@pytest.mark.reliability("disk", "ENOSPC, EIO, EACCES while writing a mask")
def test_failed_write_raises_mask_error_and_keeps_the_old_file(tmp_path, monkeypatch, target, exc):
    scheme = trimap_scheme()
    path = tmp_path / "m.png"
    old = _mask_for(np.array([1, 2, 3]))
    write_mask(path, old, scheme)
    if target == "mkstemp":
        monkeypatch.setattr(atomic.tempfile, "mkstemp", _fail(exc))
    else:
        monkeypatch.setattr(atomic.os, target, _fail(exc))
    with pytest.raises(MaskError, match=exc.strerror) as info:
        write_mask(path, np.full_like(old, 3), scheme)
    assert info.value.path == str(path)
    monkeypatch.undo()
    np.testing.assert_array_equal(read_mask(path, scheme), old)
    assert _temp_files(tmp_path) == []


@pytest.mark.reliability("disk", "mask folder missing or a file")
def test_write_into_a_missing_folder_or_a_file_is_a_mask_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    for path in (tmp_path / "absent" / "m.png", tmp_path / "file" / "m.png"):
        with pytest.raises(MaskError, match="cannot write mask"):
            write_mask(path, np.zeros((2, 2), np.uint8), binary_scheme())


# --- reading other tools' masks -----------------------------------------------------------------
def test_zero_one_masks_become_0_255_for_binary_and_when_guessed(make_image):
    mask01 = (np.arange(12).reshape(3, 4) % 2).astype(np.uint8)
    path = make_image("m01.png", mask01)
    np.testing.assert_array_equal(read_mask(path, binary_scheme()), mask01 * 255)
    np.testing.assert_array_equal(read_mask(path), mask01 * 255)
    two_classes = multiclass_scheme(2)  # the same file under a 2-class scheme stays 0/1
    np.testing.assert_array_equal(read_mask(path, two_classes), mask01)
    one_unlabeled = binary_scheme(ignore_value=1)  # a task file made by hand: 1 is unlabeled
    np.testing.assert_array_equal(read_mask(path, one_unlabeled), mask01)


def test_palette_masks_give_raw_indices_not_colours(make_image):
    indices = (np.arange(20).reshape(4, 5) % 4).astype(np.uint8)
    im = Image.fromarray(indices)
    im.putpalette(bytes([0, 0, 0, 200, 10, 10, 10, 200, 10, 10, 10, 200]))
    for name in ("p.png", "p.gif"):
        path = make_image(name, im)
        np.testing.assert_array_equal(read_mask(path, multiclass_scheme(4)), indices)


def test_one_bit_and_gray_alpha_masks(make_image):
    bits = np.eye(4, dtype=bool)
    np.testing.assert_array_equal(read_mask(make_image("b.png", bits)), bits * 255)
    la = np.stack([np.full((3, 3), 2, np.uint8), np.zeros((3, 3), np.uint8)], axis=-1)
    np.testing.assert_array_equal(read_mask(make_image("la.png", la), trimap_scheme()), 2)


@pytest.mark.parametrize("name", ["rgb.png", "rgb.bmp", "rgb.tif"])
def test_rgb_mask_with_equal_channels_is_gray(make_image, name):
    trimap = (np.arange(12).reshape(3, 4) % 3 + 1).astype(np.uint8)
    path = make_image(name, np.repeat(trimap[..., None], 3, axis=-1))
    np.testing.assert_array_equal(read_mask(path, trimap_scheme()), trimap)


def test_rgb_mask_in_the_scheme_colours_maps_to_values(make_image):
    scheme = camvid_scheme()
    values = (np.arange(30).reshape(5, 6) % scheme.num_classes).astype(np.uint8)
    path = make_image("c.png", scheme.colorize(values))
    np.testing.assert_array_equal(read_mask(path, scheme), values)


def test_rgb_mask_in_other_colours_is_refused(make_image):
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = (1, 2, 3)
    path = make_image("c.png", rgb)
    with pytest.raises(MaskError, match="#010203") as info:
        read_mask(path, camvid_scheme())
    assert str(path) in str(info.value)
    with pytest.raises(MaskError, match="colour mask"):
        read_mask(path)


def test_wide_integer_and_float_masks(make_image):
    small = np.array([[1, 2], [3, 1]], np.uint16)
    np.testing.assert_array_equal(read_mask(make_image("w.tif", small), trimap_scheme()), small)
    with pytest.raises(MaskError, match="0..255"):
        read_mask(make_image("w.png", np.array([[0, 1000]], np.uint16)))
    whole = np.array([[0.0, 1.0]], np.float32)
    np.testing.assert_array_equal(read_mask(make_image("f.tif", whole)), [[0, 255]])
    with pytest.raises(MaskError, match="fractional"):
        read_mask(make_image("f.tif", np.array([[0.5, 1.0]], np.float32)))
    with pytest.raises(MaskError, match="NaN"):
        read_mask(make_image("f.tif", np.array([[np.nan, 1.0]], np.float32)))


@pytest.mark.reliability("images", "mask values outside the label scheme")
def test_values_outside_the_scheme_are_named_with_the_allowed_ones(make_image):
    path = make_image("t.png", np.array([[1, 2, 7], [9, 3, 3]], np.uint8))
    with pytest.raises(MaskError) as info:
        read_mask(path, trimap_scheme())
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "[7, 9]" in message and "[1, 2, 3]" in message and "trimap" in message


@pytest.mark.reliability("images", "mask of another size than its image")
def test_shape_mismatch_is_refused(make_image):
    path = make_image("m.png", np.zeros((3, 5), np.uint8))
    with pytest.raises(MaskError, match=r"5x3 \(WxH\) but its image is 6x4"):
        read_mask(path, binary_scheme(), shape=(4, 6))


@pytest.mark.reliability("images", "lossy, missing, truncated and CMYK mask files")
def test_lossy_and_broken_mask_files_are_refused(make_image, write_bytes, tmp_path):
    with pytest.raises(MaskError, match="lossy"):
        read_mask(make_image("m.jpg", np.zeros((4, 4), np.uint8)))
    with pytest.raises(MaskError, match="not found"):
        read_mask(tmp_path / "absent.png")
    with pytest.raises(MaskError, match="not an image"):
        read_mask(write_bytes("m.png", b"hello"))
    with pytest.raises(MaskError, match="unsupported pixel mode 'CMYK'"):
        read_mask(make_image("m.tif", Image.new("CMYK", (2, 2))))
    data = make_image("whole.png", (np.arange(64 * 64).reshape(64, 64) % 3).astype(np.uint8))
    cut = write_bytes("cut.png", data.read_bytes()[:-40])
    with pytest.raises(MaskError, match="truncated"):
        read_mask(cut)


# --- guess_scheme -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "kind", "classes"),
    [
        ([0, 1], "binary", 2), ([0, 255], "binary", 2), ([0], "binary", 2), ([255], "binary", 2),
        ([1, 2, 3], "trimap", 3), ([2], "trimap", 3), ([1, 3], "trimap", 3),
        ([0, 1, 2], "multiclass", 3), ([0, 4], "multiclass", 5), ([0, 11], "multiclass", 12),
    ],
)
def test_guess_scheme(values, kind, classes):
    scheme = guess_scheme(np.array(values, np.uint8).reshape(1, -1))
    assert (scheme.kind, scheme.num_classes) == (kind, classes)


def test_guess_scheme_refuses_255_among_classes():
    with pytest.raises(ValueError, match="255"):
        guess_scheme(np.array([[0, 1, 2, 255]], np.uint8))


# --- real masks ---------------------------------------------------------------------------------
def test_real_carvana_gif_pets_trimap_and_camvid_masks(shared_data):
    gif = next(iter(sorted((shared_data / "carvana" / "masks").glob("*.gif"))))
    car = read_mask(gif, binary_scheme(), shape=(1280, 1918))
    assert set(np.unique(car).tolist()) == {0, 255}
    trimap = read_mask(shared_data / "pets/annotations/trimaps/Abyssinian_5.png", trimap_scheme())
    assert set(np.unique(trimap).tolist()) == {1, 2, 3}
    camvid = next(iter(sorted((shared_data / "camvid" / "train" / "masks").glob("*.png"))))
    street = read_mask(camvid, camvid_scheme())
    assert street.shape == (360, 480) and street.max() <= 11
