"""How an image's stored values are shown: contrast limits, and channels as a composite.

The view never changes the data: it maps the stored values (any bit depth) to 8-bit for the
screen. 8-bit gray and RGB images are shown as they are unless the folder has contrast limits
set by hand; other data (12/16-bit, float) gets automatic limits from its percentiles
(:data:`AUTO_PERCENTILES`), the way napari and Fiji show such data. Images with 2 or more than 3
channels are a composite: each channel scaled by the limits and tinted with its colour
(:data:`CHANNEL_COLOURS`), the tints added; automatic limits are each channel's own, so that a
dim channel (a 0-300 stain beside a 0-4000 one) is not drawn nearly black.

Limits set by hand are remembered per folder (:mod:`unet_desktop.core.folder.view_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AUTO_PERCENTILES = (0.5, 99.5)
CHANNEL_COLOURS = ((0, 255, 0), (255, 0, 255), (0, 255, 255), (255, 255, 0), (255, 0, 0),
                   (0, 0, 255), (255, 255, 255))


@dataclass(frozen=True)
class Limits:
    low: float
    high: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high)) or self.high <= self.low:
            raise ValueError(f"contrast limits need low < high, got {self.low}, {self.high}")


def channels_of(values: np.ndarray) -> int:
    return values.shape[2] if values.ndim == 3 else 1


def shown_as_is(values: np.ndarray) -> bool:
    """8-bit gray or RGB: shown without contrast limits unless some are set by hand (the
    readers drop an RGBA image's alpha: 4 channels are data, shown as a composite)."""
    return values.dtype == np.uint8 and channels_of(values) in (1, 3)


def auto_limits(values: np.ndarray) -> Limits:
    """The :data:`AUTO_PERCENTILES` of the finite values (all channels together)."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
    if finite.size == 0:
        return Limits(0.0, 1.0)
    if finite.size > 1_000_000:  # a regular sample is plenty for two percentiles
        finite = finite[:: finite.size // 1_000_000]
    low, high = (float(v) for v in np.percentile(finite, AUTO_PERCENTILES))
    if high <= low:
        high = low + 1.0
    return Limits(low, high)


def auto_channel_limits(values: np.ndarray) -> list[Limits]:
    """A composite's automatic limits: each channel's own :func:`auto_limits`."""
    return [auto_limits(values[..., c]) for c in range(channels_of(values))]


def render(values: np.ndarray, limits: Limits | None = None) -> np.ndarray:
    """The ``HxW`` or ``HxWx3`` uint8 image shown for ``values``: as is (8-bit gray/RGB without
    ``limits``), scaled by ``limits`` (default :func:`auto_limits`), or a composite."""
    values = np.asarray(values)
    count = channels_of(values)
    if limits is None and shown_as_is(values):
        return np.ascontiguousarray(values)
    if count in (1, 3):
        limits = limits or auto_limits(values)
        scaled = (np.nan_to_num(values.astype(np.float32)) - limits.low) \
            * (255.0 / (limits.high - limits.low))
        return np.clip(scaled, 0, 255).astype(np.uint8)
    out = np.zeros((*values.shape[:2], 3), np.float32)
    for c, own in enumerate([limits] * count if limits else auto_channel_limits(values)):
        level = np.clip((np.nan_to_num(values[..., c].astype(np.float32)) - own.low)
                        * (255.0 / (own.high - own.low)), 0, 255)
        out += level[..., None] * (np.array(CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)],
                                            np.float32) / 255.0)
    return np.clip(out, 0, 255).astype(np.uint8)


def histogram(values: np.ndarray, bins: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(counts, edges) of the finite values, all channels together."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
    if finite.size == 0:
        return np.zeros(bins, np.int64), np.linspace(0.0, 1.0, bins + 1)
    low, high = float(finite.min()), float(finite.max())
    return np.histogram(finite, bins=bins, range=(low, high if high > low else low + 1.0))
