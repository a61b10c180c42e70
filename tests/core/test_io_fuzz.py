"""Property tests: random and mutated files either read as valid arrays or raise a named error."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from unet_desktop.core.errors import ImageReadError, MaskError
from unet_desktop.core.io.imageio import read_image
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import binary_scheme, trimap_scheme

FUZZ = settings(max_examples=100, deadline=None)
MAX_PIXELS = 1 << 20  # mutated headers may declare big sizes: keep every example small and fast


def _encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def _seed_files() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    rgb = Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))
    gray = Image.fromarray(rng.integers(0, 256, (12, 10), dtype=np.uint8))
    trimap = Image.fromarray(rng.integers(1, 4, (12, 10), dtype=np.uint8))
    palette = trimap.copy()
    palette.putpalette(bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]))
    exif = Image.Exif()
    exif[0x0112] = 6
    return {
        "rgb.png": _encode(rgb, "PNG"),
        "gray.png": _encode(gray, "PNG"),
        "trimap.png": _encode(trimap, "PNG"),
        "palette.png": _encode(palette, "PNG", transparency=0),
        "palette.gif": _encode(palette, "GIF"),
        "rgb.jpg": _encode(rgb, "JPEG", exif=exif),
        "rgb.tif": _encode(rgb, "TIFF"),
        "wide.tif": _encode(Image.fromarray(np.arange(120, dtype=np.uint16).reshape(12, 10)), "TIFF"),
        "rgb.bmp": _encode(rgb, "BMP"),
        "trimap.bmp": _encode(trimap, "BMP"),
        "rgb.webp": _encode(rgb, "WEBP", lossless=True),
    }


SEEDS = _seed_files()


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A seed file with a few bytes replaced, a slice cut out or its tail truncated."""
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        start = draw(st.integers(0, len(data) - 1))
        del data[start : start + draw(st.integers(1, 64))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return name, bytes(data)


any_file = st.one_of(
    mutated_files(),
    st.tuples(st.sampled_from(["x.png", "x.jpg", "x.gif"]), st.binary(max_size=512)),
)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check_image(array: np.ndarray) -> None:
    assert array.dtype == np.uint8
    assert array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)
    assert min(array.shape[:2]) >= 1


def test_seeds_are_valid(fuzz_dir):
    """Without mutation every seed reads, so the properties below exercise real decoders."""
    for name, data in SEEDS.items():
        path = fuzz_dir / name
        path.write_bytes(data)
        _check_image(read_image(path))


@pytest.mark.reliability(
    "images", "random bytes and mutated image files (hypothesis): image reader")
@FUZZ
@given(case=any_file)
def test_read_image_returns_an_image_or_a_named_error(fuzz_dir, case):
    name, data = case
    path = fuzz_dir / name
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Image, "MAX_IMAGE_PIXELS", MAX_PIXELS)
        try:
            array = read_image(path)
        except ImageReadError as exc:
            assert exc.path == str(path) and exc.reason
            return
    _check_image(array)


@pytest.mark.reliability("images", "random bytes and mutated image files (hypothesis): mask reader")
@FUZZ
@given(case=any_file, scheme=st.sampled_from([None, binary_scheme(), trimap_scheme()]))
def test_read_mask_returns_a_mask_or_a_named_error(fuzz_dir, case, scheme):
    name, data = case
    path = fuzz_dir / f"mask-{name}"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Image, "MAX_IMAGE_PIXELS", MAX_PIXELS)
        try:
            mask = read_mask(path, scheme)
        except MaskError as exc:
            assert exc.path == str(path) and exc.reason
            return
    assert mask.dtype == np.uint8 and mask.ndim == 2 and min(mask.shape) >= 1
    if scheme is not None:
        assert scheme.invalid_values(mask) == []
