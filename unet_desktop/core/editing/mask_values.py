"""The values an edit paints: the scheme's background and erase values, and the checks every
operation makes on the mask (2-D uint8 of stored values) and the value (0..255)."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.labels import ClassInfo, LabelScheme


def background_class(scheme: LabelScheme) -> ClassInfo:
    """The background class: value 0 (binary), 2 (trimap); in a multi-class scheme the class
    named "background" (any case), else the class stored as 0 (New Task's background), else the
    first. Never the list's order alone: reordering the classes (Mask > Classes > Up/Down) must
    not change what "background" paints."""
    by_value = {c.value: c for c in scheme.classes}
    if scheme.kind in ("binary", "trimap"):
        return by_value.get(0 if scheme.kind == "binary" else 2, scheme.classes[0])
    named = [c for c in scheme.classes if c.name.strip().casefold() == "background"]
    return named[0] if named else by_value.get(0, scheme.classes[0])


def background_value(scheme: LabelScheme) -> int:
    """The background class's stored value (:func:`background_class`)."""
    return background_class(scheme).value


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
