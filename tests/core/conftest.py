"""Fixtures that generate small image and mask files of every kind the readers must handle."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ImageFactory = Callable[..., Path]


def gradient(height: int = 5, width: int = 7, channels: int = 0, top: int = 255) -> np.ndarray:
    """Deterministic test pattern: distinct values per pixel (and channel), ``0..top``."""
    size = height * width * max(channels, 1)
    values = (np.arange(size, dtype=np.int64) * 37) % (top + 1)
    shape = (height, width, channels) if channels else (height, width)
    return values.reshape(shape)


def png_bytes(width: int, height: int, bit_depth: int = 8, color_type: int = 0) -> bytes:
    """A PNG made by hand, so it may declare sizes Pillow would refuse to write (0 or huge)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00" * width for _ in range(min(height, 4)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def pattern() -> Callable[..., np.ndarray]:
    """:func:`gradient` (test modules cannot import conftest under ``--import-mode=importlib``)."""
    return gradient


@pytest.fixture
def handmade_png() -> Callable[..., bytes]:
    """:func:`png_bytes`."""
    return png_bytes


@pytest.fixture
def make_image(tmp_path: Path) -> ImageFactory:
    """``make_image(name, pil_image_or_array, format=None, **save_options) -> Path``."""

    def make(name: str, image: Image.Image | np.ndarray, format: str | None = None, **kw) -> Path:
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image)
        path = tmp_path / name
        image.save(path, format=format, **kw)
        return path

    return make


@pytest.fixture
def write_bytes(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """``write_bytes(name, data) -> Path`` in the test's temporary folder."""

    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write
