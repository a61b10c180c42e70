"""Read images from disk into uint8 numpy arrays, whatever the file calls itself.

Files are decoded by content, not by extension (a ``.jpg`` that is really a GIF or a PNG loads),
among the formats PNG, JPEG (and MPO), GIF, BMP, TIFF and WebP. The EXIF orientation is applied,
so the array is the image as a viewer shows it; an animated GIF gives its first frame (multi-page
TIFF stacks are read slice by slice by :mod:`unet_desktop.core.io.stacks`). Every failure raises
:class:`ImageReadError` naming the file and the reason. :func:`read_image` is the 8-bit image of
the table below; :func:`read_image_raw` keeps 16-bit, 32-bit and float data, which a model's
input rule (:mod:`unet_desktop.core.io.input_rule`) or the view's contrast limits
(:mod:`unet_desktop.core.io.display`) then map to 8 bits.

Pillow keeps only the top byte of 16-bit colour (RGB, RGBA, gray + alpha PNG and TIFF): those
samples are decoded by OpenCV (PNG) or tifffile (TIFF) instead, alpha dropped, EXIF orientation
applied. A TIFF Pillow cannot open (float64, float16, 4 or 5 samples...) is read by tifffile,
as the workspace reads it (:func:`unet_desktop.core.io.stacks.read_slice`).

Pixel modes are normalised to ``HxW`` uint8 (gray) or ``HxWx3`` uint8 (RGB):

========================  ======================================================================
Pillow mode               result
========================  ======================================================================
``1``                     gray, 0 / 255
``L``                     gray, unchanged
``LA``, ``La``            gray; the alpha channel is dropped (not composited)
``P``, ``PA``             palette looked up: gray when every palette entry is gray, else RGB;
                          transparency and alpha are dropped
``RGB``                   unchanged
``RGBA``, ``RGBa``,       RGB; the alpha (or padding) channel is dropped. Dropping rather than
``RGBX``                  compositing keeps the pixels of transparent regions, like
                          ``Image.convert("RGB")`` in most training scripts
``CMYK``, ``YCbCr``,      converted to RGB by Pillow
``HSV``
``I;16`` (all byte        gray, scaled by the 16-bit range: ``round(v * 255 / 65535)``, never
orders)                   clipped; 16-bit colour is scaled alike
``I`` (32-bit signed)     values within 0..65535 are 16-bit data (Pillow and many tools store
                          16-bit samples as ``I``) and scale as ``I;16``; wider values are
                          stretched linearly from the image's min..max to 0..255
``F`` (32-bit float)      finite values within [0, 1] scale by 255; otherwise the finite min..max
                          is stretched to 0..255; NaN and infinities become 0; a constant image
                          outside [0, 1] becomes 0
others (``LAB``...)       refused as an unsupported mode
========================  ======================================================================

Safety: Pillow's decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``) stays on and both its
warning and its error become ``ImageReadError("... too large ...")``; truncated files are refused
(this module never sets ``ImageFile.LOAD_TRUNCATED_IMAGES``); images with a zero side are refused.
"""

from __future__ import annotations

import os
import struct
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import (  # noqa: F401  (plugins imported so they register their formats)
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    ImageOps,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    UnidentifiedImageError,
    WebPImagePlugin,
)

from unet_desktop.core.errors import FileError, ImageReadError
from unet_desktop.core.io.open_errors import access_reason, describe

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"})

# Pillow format names tried when decoding by content (JPEG covers MPO); EPS, PDF and the other
# Pillow formats are deliberately absent.
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP")

_EXIF_ORIENTATION = 0x0112
_TRANSPOSED_ORIENTATIONS = (5, 6, 7, 8)  # these swap width and height
_RGB_LIKE_MODES = ("RGB", "RGBA", "RGBa", "RGBX")
_CONVERTIBLE_MODES = ("CMYK", "YCbCr", "HSV")
_INT16_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_TIFF_BITS_PER_SAMPLE = 258
_TIFF_SAMPLE_FORMAT = 339  # 1 unsigned, 2 signed integers, 3 floats
# EXIF orientation -> the array as a viewer shows it (what ImageOps.exif_transpose does)
_ORIENTED = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}

# Magic numbers of the supported formats, with where the PNG and GIF headers keep their size.
_SIGNATURES: tuple[tuple[bytes, str, tuple[int, str] | None], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG", (16, ">II")),
    (b"GIF87a", "GIF", (6, "<HH")),
    (b"GIF89a", "GIF", (6, "<HH")),
    (b"\xff\xd8\xff", "JPEG", None),
    (b"II*\x00", "TIFF", None),
    (b"MM\x00*", "TIFF", None),
)

# warnings.catch_warnings changes process-wide state: serialise the (cheap, header-only) open.
_OPEN_LOCK = threading.Lock()


def open_image_file(
    path: str | os.PathLike,
    formats: Sequence[str] = IMAGE_FORMATS,
    error: type[FileError] = ImageReadError,
) -> Image.Image:
    """Open ``path`` with Pillow (header only) and check it; failures raise ``error(path, ...)``.

    Decodes by content among ``formats``, keeps the decompression-bomb limit on and refuses
    images with a zero side. The caller must ``load()`` the image (see :func:`load_pixels`).
    """
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path, formats=list(formats))
    except UnidentifiedImageError:  # an OSError, but none of those access_reason names
        raise error(path, _unidentified_reason(path, formats)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise error(path, f"image too large (decompression-bomb limit): {exc}") from None
    except Exception as exc:  # noqa: BLE001  (Pillow plugins raise any type on bad headers)
        reason = access_reason(exc) or _load_reason(exc, "cannot read image header")
        raise error(path, reason) from None
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise error(path, f"image has a zero size ({width}x{height})")
    return im


def load_pixels(im: Image.Image, path: str | os.PathLike, error: type[FileError]) -> None:
    """Decode ``im`` fully and apply its EXIF orientation in place; failures raise ``error``."""
    try:
        im.load()
    except Exception as exc:  # noqa: BLE001  (decoders raise any type on corrupt data)
        raise error(path, _load_reason(exc, "cannot decode image data")) from None
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception as exc:  # noqa: BLE001  (malformed EXIF raises any type)
        raise error(path, f"cannot apply EXIF orientation: {describe(exc)}") from None


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as ``HxW`` (gray) or ``HxWx3`` (RGB) uint8 (rules in the module doc)."""
    return legacy_uint8(read_image_raw(path), path)


def read_image_raw(path: str | os.PathLike) -> np.ndarray:
    """Read an image file keeping its data: like :func:`read_image`, except that 16-bit,
    32-bit integer and float images keep their values (uint16, int16, int32, float32 arrays; a TIFF
    Pillow cannot open: its dtype and channels, as :func:`stacks.read_slice` reads them); the
    8-bit modes give exactly what :func:`read_image` gives."""
    try:
        im = open_image_file(path)
    except ImageReadError:
        from unet_desktop.core.io import stacks

        if not stacks.has_tiff_signature(path):
            raise
        return stacks.read_slice(path, 0)
    try:
        wide = read_wide_colour(im, path, ImageReadError)
        if wide is not None:
            return wide
        load_pixels(im, path, ImageReadError)
        if im.mode in _INT16_MODES:
            return np.array(im).astype(np.uint16)
        if _pillow_changes_values(im):
            values = _decode_tiff_samples(path, ImageReadError)
            return values[..., 0] if values.shape[2] == 1 else values
        if im.mode in ("I", "F"):
            return np.array(im, dtype=_stored_integer_type(im))
        return _to_uint8(im, path)
    finally:
        im.close()


def _pillow_changes_values(im: Image.Image) -> bool:
    """A TIFF whose samples Pillow reads as other values: signed 8-bit (-1 read as 255) and
    unsigned 32-bit (above 2**31 wrapped to negative); tifffile reads them as stored, as it
    reads such a stack's slices."""
    return im.format == "TIFF" and im.mode != "F" and _tiff_sample(im) in ((8, 2), (32, 1))


def _stored_integer_type(im: Image.Image) -> np.dtype | None:
    """int16 for a signed 16-bit TIFF, which Pillow widens to its 32-bit mode ``I`` (the
    values are exact, the type twice as wide as stored); None: as Pillow reads it."""
    if im.format == "TIFF" and im.mode == "I" and _tiff_sample(im) == (16, 2):
        return np.dtype(np.int16)
    return None


def _tiff_sample(im: Image.Image) -> tuple[int | None, int]:
    """A TIFF's (bits, format) of its first sample; format 1 unsigned (the default), 2 signed
    integers, 3 floats."""
    bits = im.tag_v2.get(_TIFF_BITS_PER_SAMPLE)
    kind = im.tag_v2.get(_TIFF_SAMPLE_FORMAT, 1)
    return (bits[0] if isinstance(bits, tuple) else bits,
            kind[0] if isinstance(kind, tuple) else kind)


def read_wide_colour(im: Image.Image, path: str | os.PathLike,
                     error: type[FileError]) -> np.ndarray | None:
    """The samples of ``im`` (opened, not yet loaded) when it is colour or gray + alpha with
    more than 8 bits per sample, which Pillow cuts to 8 bits: ``HxWx3`` (RGB) or ``HxW`` (gray)
    uint16, alpha dropped, EXIF orientation applied; None for every other image."""
    kind = wide_colour_kind(im)
    if kind is None:
        return None
    try:
        orientation = im.getexif().get(_EXIF_ORIENTATION)
    except Exception:  # noqa: BLE001
        orientation = None  # unreadable EXIF: shown as stored
    values = _decode_png_samples(path, error) if im.format == "PNG" \
        else _decode_tiff_samples(path, error)
    if values.shape[:2] != im.size[::-1] or values.dtype != np.uint16:
        raise error(path, f"cannot decode image data: {values.dtype} samples of shape "
                          f"{values.shape}, the header says {im.size[0]}x{im.size[1]} 16-bit")
    values = values[..., 0] if kind == "gray" else values[..., :3]
    return np.ascontiguousarray(_ORIENTED.get(orientation, lambda a: a)(values))


def wide_colour_kind(im: Image.Image) -> str | None:
    """The kind of samples wider than 8 bits Pillow would cut: ``rgb`` (RGB, RGBA) or ``gray``
    (gray + alpha); None when Pillow keeps the image's data."""
    if im.format == "PNG":
        rawmode = str(im.tile[0][3]) if im.tile else ""
        if ";16" not in rawmode or rawmode.startswith("I"):
            return None
        return "gray" if rawmode.startswith("LA") else "rgb"
    if im.format == "TIFF" and im.mode in _RGB_LIKE_MODES + ("LA",):
        bits = im.tag_v2.get(_TIFF_BITS_PER_SAMPLE, 8)
        widest = max(bits) if isinstance(bits, tuple) else bits
        if widest > 8:
            return "gray" if im.mode == "LA" else "rgb"
    return None


def _decode_png_samples(path: str | os.PathLike, error: type[FileError]) -> np.ndarray:
    """A 16-bit PNG's samples in RGB(A) order (OpenCV decodes BGR; gray + alpha as BGRA)."""
    try:
        values = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
    except (OSError, cv2.error) as exc:
        raise error(path, f"cannot decode image data: {describe(exc)}") from None
    if values is None:
        raise error(path, "file is truncated or corrupt (OpenCV cannot decode its 16-bit data)")
    if values.ndim == 3:
        values = np.concatenate([values[..., 2::-1], values[..., 3:]], axis=2)
    return values[..., None] if values.ndim == 2 else values


def _decode_tiff_samples(path: str | os.PathLike, error: type[FileError]) -> np.ndarray:
    """The first page's samples, channels last."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            values = page.asarray()
            axes = page.axes
    except Exception as exc:  # noqa: BLE001  (tifffile raises any type on corrupt data)
        raise error(path, f"cannot decode image data: {describe(exc)}") from None
    if "S" in axes and axes.index("S") != values.ndim - 1:
        values = np.moveaxis(values, axes.index("S"), -1)
    return values[..., None] if values.ndim == 2 else values


def legacy_uint8(values: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """Stored values as the uint8 gray or RGB image :func:`read_image` makes of them: the input
    rule of every model made before input rules were recorded (16-bit data scaled by 65535,
    wider integers and floats stretched as in the module doc). Channels other than gray or RGB
    (2, 4 and more: the readers drop an RGBA image's alpha, so 4 are data) need a channel
    choice and raise :class:`ImageReadError`."""
    values = np.asarray(values)
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[..., 0]
    if values.ndim == 3:
        channels = values.shape[2]
        if channels != 3:
            raise ImageReadError(path, f"the image has {channels} channels; choose which feed "
                                       "the model (the task's channels)")
    if values.dtype == np.uint8:
        return np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        return values.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(values.dtype, np.floating):
        return _float_to_uint8(values)
    if np.issubdtype(values.dtype, np.integer):
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi <= 65535:
            return _scale_16bit(values)
        return _stretch(values.astype(np.float64), lo, hi)
    raise ImageReadError(path, f"unsupported pixel type {values.dtype}")


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` of the image as :func:`read_image` returns it, from the header only.

    EXIF orientations that rotate by 90 degrees swap the two; pixels are not decoded.
    """
    try:
        im = open_image_file(path)
    except ImageReadError:
        from unet_desktop.core.io import stacks

        if not stacks.has_tiff_signature(path):
            raise
        layout = stacks.probe_tiff(path)  # read by tifffile, as read_image reads it
        return layout.width, layout.height
    try:
        width, height = im.size
        try:
            orientation = im.getexif().get(_EXIF_ORIENTATION)
        except Exception:  # noqa: BLE001
            orientation = None  # unreadable EXIF: read_image will report it if it matters
        if orientation in _TRANSPOSED_ORIENTATIONS:
            width, height = height, width
        return width, height
    finally:
        im.close()


def is_image_file(path: str | os.PathLike) -> bool:
    """Whether the name has one of :data:`IMAGE_EXTENSIONS` (case-insensitive); no decoding."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


# --- mode normalisation -------------------------------------------------------------------------
def _to_uint8(im: Image.Image, path: str | os.PathLike) -> np.ndarray:
    mode = im.mode
    if mode == "1":
        return np.array(im, dtype=np.uint8) * np.uint8(255)
    if mode == "L":
        return np.array(im)
    if mode in ("LA", "La"):
        return np.ascontiguousarray(np.array(im)[..., 0])
    if mode in ("P", "PA"):
        return _palette_to_uint8(im)
    if mode in _RGB_LIKE_MODES:
        return np.ascontiguousarray(np.array(im)[..., :3])
    if mode in _CONVERTIBLE_MODES:
        return np.array(im.convert("RGB"))
    raise ImageReadError(path, f"unsupported pixel mode {mode!r}")


def _palette_to_uint8(im: Image.Image) -> np.ndarray:
    indices = np.array(im)
    if indices.ndim == 3:  # PA: index + alpha
        indices = indices[..., 0]
    palette = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)  # if none is stored
    raw = im.getpalette(rawmode="RGB")
    if raw:
        entries = np.asarray(raw, dtype=np.uint8).reshape(-1, 3)[:256]
        palette[:] = 0
        palette[: len(entries)] = entries
    used = palette[np.unique(indices)]
    if (used[:, 0] == used[:, 1]).all() and (used[:, 1] == used[:, 2]).all():
        return palette[:, 0][indices]
    return palette[indices]


def _scale_16bit(values: np.ndarray) -> np.ndarray:
    """0..65535 -> 0..255, rounded to nearest (exact integer arithmetic; there are no ties)."""
    return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _float_to_uint8(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, dtype=np.uint8)
    values = np.where(finite, values.astype(np.float64), 0.0)
    lo, hi = float(values[finite].min()), float(values[finite].max())
    if lo >= 0.0 and hi <= 1.0:
        return np.rint(values * 255.0).astype(np.uint8)
    out = _stretch(values, lo, hi)
    out[~finite] = 0
    return out


def _stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``lo..hi`` linearly onto 0..255; a constant image (``lo == hi``) becomes 0."""
    if hi <= lo:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.clip(np.rint((values - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)


# --- error messages -----------------------------------------------------------------------------
def _load_reason(exc: BaseException, otherwise: str) -> str:
    """Reason for a decoding failure: truncated, too large, or ``otherwise`` with the details."""
    text = str(exc).lower()
    if "truncated" in text or "broken data stream" in text or isinstance(exc, EOFError):
        return f"file is truncated or corrupt ({describe(exc)})"
    if isinstance(exc, Image.DecompressionBombError) or "too large" in text:
        return f"image too large: {describe(exc)}"
    return f"{otherwise}: {describe(exc)}"


def _unidentified_reason(path: str | os.PathLike, formats: Sequence[str]) -> str:
    """Why Pillow could not identify ``path``: empty, a known format with a bad header, or other."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    if not head:
        return "file is empty"
    for signature, name, size_at in _SIGNATURES:
        if head.startswith(signature):
            if size_at is not None and len(head) >= size_at[0] + 8:
                width, height = struct.unpack_from(size_at[1], head, size_at[0])
                if width == 0 or height == 0:
                    return f"image has a zero size ({width}x{height})"
            return f"invalid or corrupt {name} header"
    return f"not an image in a supported format ({', '.join(formats)})"
