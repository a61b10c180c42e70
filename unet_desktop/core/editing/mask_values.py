"""The values an edit paints: the scheme's background and erase values, and the checks every
operation makes on the mask (2-D uint8 of stored values) and the value (0..255)."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.labels import LabelScheme


def background_value(scheme: LabelScheme) -> int:
    """The background class's stored value: 0 (binary), 2 (trimap), else the first class."""
    if scheme.kind == "binary":
        return 0
    if scheme.kind == "trimap":
        return 2
    return scheme.classes[0].value


def erase_value(scheme: LabelScheme) -> int:
    """What the eraser paints by default and a new mask starts as: "unlabeled" (the scheme's
    ignore value) where the scheme has one, else the background."""
    if scheme.ignore_value is not None:
        return scheme.ignore_value
    return background_value(scheme)


def check_value(value: int) -> int:
    if not 0 <= int(value) <= 255:
        raise ValueError(f"mask value {value} outside 0..255")
    return int(value)


def check_mask(mask: np.ndarray) -> None:
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"masks are 2-D uint8 arrays, got {mask.dtype} {mask.shape}")
