"""Read and write mask files: one stored label value per pixel (see ``labels.LabelScheme``).

Reading accepts PNG, GIF, TIFF and BMP (lossy formats such as JPEG are refused: their values
are not labels any more). The result is always ``HxW`` uint8 of *stored* values:

- palette images (``P``, e.g. Carvana GIFs, indexed PNGs) give their raw indices, never colours;
- gray images (``L``, 1-bit, 16/32-bit integer or float with whole values 0..255) as they are;
  1-bit images give 0/255; 16-bit RGB(A) with three equal channels is 16-bit gray, other 16-bit
  colour is refused;
- RGB(A) images whose three channels are equal are read as gray; other colour masks are read
  through the scheme's class colours when every colour in the file is one of them;
- masks holding only 0 and 1 are binary masks written by other tools: they become 0/255 when the
  scheme is binary (or, without a scheme, when :func:`guess_scheme` says binary).

With a scheme, every value is checked against it (``MaskError`` names the file, the bad values
and the allowed ones); ``shape=(h, w)`` also checks the size against the image's.

Writing produces PNG only, atomically (``core.io.atomic``): binary 0/255 and trimap 1/2/3 as 8-bit
gray, multiclass as an indexed PNG carrying the scheme's colours, so image viewers show the
classes in colour while the pixel values stay the class values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np
from PIL import Image

from unet_desktop.core.errors import MaskError
from unet_desktop.core.io.atomic import atomic_write
from unet_desktop.core.io.imageio import load_pixels, open_image_file, read_wide_colour
from unet_desktop.core.labels import (
    DEFAULT_UNLABELED,
    TRIMAP_VALUES,
    LabelScheme,
    binary_scheme,
    multiclass_scheme,
    trimap_scheme,
)

MASK_FORMATS = ("PNG", "GIF", "TIFF", "BMP", "DIB")
MASK_EXTENSIONS = frozenset({".png", ".gif", ".tif", ".tiff", ".bmp"})
_LOSSY_FORMATS = ("JPEG", "WEBP")
_MAX_LISTED = 12  # how many offending values an error message lists
IntOrArray = TypeVar("IntOrArray", int, np.ndarray)


def read_mask(
    path: str | os.PathLike,
    scheme: LabelScheme | None = None,
    shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Read a mask file as ``HxW`` uint8 stored values (rules in the module docstring).

    Raises :class:`MaskError` if the file cannot be read, is not a single-channel label image,
    has values outside ``scheme``, or is not ``shape`` (``(height, width)``) in size.
    """
    im = open_image_file(path, MASK_FORMATS + _LOSSY_FORMATS, MaskError)
    try:
        if im.format in _LOSSY_FORMATS:
            raise MaskError(
                path,
                f"{im.format} is a lossy format and cannot hold exact label values; "
                "save masks as PNG (or GIF, TIFF, BMP)",
            )
        wide = read_wide_colour(im, path, MaskError)  # 16-bit colour: Pillow keeps 8 bits
        if wide is not None:
            mask = _wide_colour_to_stored(wide, path)
        else:
            load_pixels(im, path, MaskError)
            mask = _to_stored(im, path, scheme)
    finally:
        im.close()
    if shape is not None and mask.shape != tuple(shape):
        raise MaskError(
            path,
            f"mask is {mask.shape[1]}x{mask.shape[0]} (WxH) but its image is "
            f"{shape[1]}x{shape[0]}",
        )
    return _normalise_and_check(mask, path, scheme)


def write_mask(path: str | os.PathLike, mask: np.ndarray, scheme: LabelScheme) -> None:
    """Write ``mask`` (``HxW`` stored values) to the PNG file ``path`` atomically.

    Values outside ``scheme`` are refused; a failed write raises :class:`MaskError` and leaves
    any previous file intact. Boolean masks are accepted for binary schemes (True = 255).
    """
    if Path(path).suffix.lower() != ".png":
        raise MaskError(path, "masks are written as PNG: use a file name ending in .png")
    stored = stored_for_writing(mask, path, scheme)
    im = Image.fromarray(stored)  # mode L
    if scheme.kind == "multiclass":
        im.putpalette(scheme.palette().tobytes())  # L -> P, indices unchanged

    def write(f: BinaryIO) -> None:
        im.save(f, format="PNG", compress_level=3)

    try:
        atomic_write(path, write)
    except OSError as exc:
        raise MaskError(path, f"cannot write mask: {exc.strerror or exc}") from None


def stored_for_writing(mask: np.ndarray, path: str | os.PathLike,
                       scheme: LabelScheme) -> np.ndarray:
    """``mask`` as the ``HxW`` uint8 stored values to write; raises :class:`MaskError` for
    values outside ``scheme`` or an array that is no 2-D integer mask."""
    stored = _as_stored_array(mask, path, scheme)
    bad = scheme.invalid_values(stored)
    if bad:
        raise MaskError(path, f"refusing to write values {_list(bad)}: {_allowed(scheme)}")
    return stored


def checked_stored(mask: np.ndarray, path: str | os.PathLike,
                   scheme: LabelScheme | None) -> np.ndarray:
    """Stored values read by another reader (e.g. a page of a mask stack), normalised and
    checked as :func:`read_mask` does (0/1 binary masks become 0/255)."""
    return _normalise_and_check(mask, path, scheme)


def guess_scheme(mask: np.ndarray) -> LabelScheme:
    """The most plausible default scheme for a stored mask, from the values it holds.

    Values within {0, 1} or {0, 255} are binary; within {0, 128, 255} (with a 128) binary with
    128 as the unlabeled value of sparse labels; within {1, 2, 3} (with a 2 or a 3) a trimap;
    anything else is multiclass with ``max + 1`` classes. Raises ``ValueError`` when the values
    fit no scheme (255 next to other values: schemes store classes as 0..254).
    """
    present = {int(v) for v in np.flatnonzero(np.bincount(np.asarray(mask).ravel(), minlength=256))}
    if present <= {0, 1} or present <= {0, 255}:
        return binary_scheme()
    unlabeled = DEFAULT_UNLABELED["binary"]
    if unlabeled in present and present <= {0, unlabeled, 255}:
        return binary_scheme(ignore_value=unlabeled)  # sparse binary labels (docs/sparse-labels.md)
    if present <= set(TRIMAP_VALUES):
        return trimap_scheme()
    top = max(present)
    if top > 254:
        raise ValueError(
            f"values {_list(sorted(present))} fit no label scheme: 255 is only allowed in "
            "binary masks (0/255)"
        )
    return multiclass_scheme(top + 1)


# --- reading helpers ----------------------------------------------------------------------------
def _to_stored(im: Image.Image, path: str | os.PathLike, scheme: LabelScheme | None) -> np.ndarray:
    """Pixel data -> HxW uint8 before binary normalisation and scheme checks."""
    mode = im.mode
    if mode == "1":
        return np.array(im, dtype=np.uint8) * np.uint8(255)
    if mode in ("L", "P"):
        return np.array(im)
    if mode in ("LA", "La", "PA"):
        return np.ascontiguousarray(np.array(im)[..., 0])
    if mode in ("RGB", "RGBA", "RGBa", "RGBX"):
        return _colour_to_stored(np.array(im)[..., :3], path, scheme)
    if mode.startswith("I") or mode == "F":
        return _wide_to_stored(np.array(im), path, mode)
    raise MaskError(path, f"unsupported pixel mode {mode!r} for a mask (use gray or palette)")


def _colour_to_stored(
    rgb: np.ndarray, path: str | os.PathLike, scheme: LabelScheme | None
) -> np.ndarray:
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if np.array_equal(red, green) and np.array_equal(green, blue):
        return np.ascontiguousarray(red)
    packed = _pack(red.astype(np.uint32), green.astype(np.uint32), blue.astype(np.uint32))
    colours = np.unique(packed)
    if scheme is not None:
        by_colour = {_pack(*c.color): c.value for c in scheme.classes}
        if len(by_colour) == scheme.num_classes and all(int(c) in by_colour for c in colours):
            lut_keys = np.array(sorted(by_colour), dtype=np.uint32)
            lut_values = np.array([by_colour[int(k)] for k in lut_keys], dtype=np.uint8)
            return lut_values[np.searchsorted(lut_keys, packed)]
    shown = ", ".join(f"#{int(c):06x}" for c in colours[:_MAX_LISTED])
    more = " ..." if len(colours) > _MAX_LISTED else ""
    raise MaskError(
        path,
        f"colour mask with {len(colours)} colours ({shown}{more}) that are not the label "
        "scheme's class colours; masks must hold class values (gray or palette image)",
    )


def _pack(red: IntOrArray, green: IntOrArray, blue: IntOrArray) -> IntOrArray:
    """RGB -> one 24-bit integer per colour."""
    return (red << 16) | (green << 8) | blue


def _wide_colour_to_stored(values: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """16-bit colour samples (:func:`read_wide_colour`): gray when the channels are equal."""
    if values.ndim == 3:
        if not (np.array_equal(values[..., 0], values[..., 1])
                and np.array_equal(values[..., 1], values[..., 2])):
            raise MaskError(path, "16-bit colour mask whose channels differ; masks hold class "
                                  "values (gray or palette image)")
        values = values[..., 0]
    return _wide_to_stored(values, path, "16-bit")


def _wide_to_stored(values: np.ndarray, path: str | os.PathLike, mode: str) -> np.ndarray:
    if values.size and mode == "F" and not np.all(np.isfinite(values)):
        raise MaskError(path, "float mask holds NaN or infinite values")
    if values.size and mode == "F" and not np.array_equal(values, np.round(values)):
        raise MaskError(path, "float mask holds fractional values; masks hold whole class values")
    lo, hi = (values.min(), values.max()) if values.size else (0, 0)
    if lo < 0 or hi > 255:
        raise MaskError(
            path,
            f"{mode} mask values range {lo:g}..{hi:g}; class values must lie within 0..255",
        )
    return values.astype(np.uint8)


def _normalise_and_check(
    mask: np.ndarray, path: str | os.PathLike, scheme: LabelScheme | None
) -> np.ndarray:
    is_zero_one = mask.max(initial=0) <= 1
    if scheme is None:
        try:
            binary = guess_scheme(mask).kind == "binary"
        except ValueError as exc:
            raise MaskError(path, str(exc)) from None
        return mask * np.uint8(255) if binary and is_zero_one else mask
    if scheme.kind == "binary" and is_zero_one and scheme.ignore_value != 1:
        mask = mask * np.uint8(255)  # 0/1 masks; where 1 means unlabeled it is no class
    bad = scheme.invalid_values(mask)
    if bad:
        raise MaskError(path, f"values {_list(bad)} are not allowed: {_allowed(scheme)}")
    return mask


# --- writing helpers ----------------------------------------------------------------------------
def _as_stored_array(mask: np.ndarray, path: str | os.PathLike, scheme: LabelScheme) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2 or 0 in mask.shape:
        raise MaskError(path, f"a mask is a non-empty 2-D array, got shape {mask.shape}")
    if mask.dtype == np.bool_:
        if scheme.kind != "binary":
            raise MaskError(path, f"boolean masks need a binary scheme, not {scheme.kind}")
        return np.where(mask, 255, 0).astype(np.uint8)
    if mask.dtype == np.uint8:
        return np.ascontiguousarray(mask)
    if not np.issubdtype(mask.dtype, np.integer):
        raise MaskError(path, f"mask values must be integers, got {mask.dtype}")
    lo, hi = int(mask.min()), int(mask.max())
    if lo < 0 or hi > 255:
        raise MaskError(path, f"mask values range {lo}..{hi}; stored values are 0..255")
    return mask.astype(np.uint8)


def _list(values: list[int]) -> str:
    shown = ", ".join(str(v) for v in values[:_MAX_LISTED])
    return f"[{shown}{', ...' if len(values) > _MAX_LISTED else ''}]"


def _allowed(scheme: LabelScheme) -> str:
    return f"the {scheme.kind} scheme allows {_list(sorted(scheme.valid_values))}"
