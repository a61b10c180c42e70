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
        if _has_lookup(values):  # 8/16-bit: one gather instead of float temporaries
            return _level_table(values, limits).astype(np.uint8)[_table_index(values)]
        return _levels(values, limits).astype(np.uint8)
    out = np.zeros((*values.shape[:2], 3), np.float32)
    for c, own in enumerate([limits] * count if limits else auto_channel_limits(values)):
        channel = values[..., c]
        level = (_level_table(channel, own)[_table_index(channel)] if _has_lookup(channel)
                 else _levels(channel, own))
        out += level[..., None] * (np.array(CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)],
                                            np.float32) / 255.0)
    return np.clip(out, 0, 255).astype(np.uint8)


def _levels(values: np.ndarray, limits: Limits) -> np.ndarray:
    """``values`` scaled by ``limits`` to float32 levels 0..255 (NaN as 0)."""
    scaled = (np.nan_to_num(values.astype(np.float32)) - limits.low) \
        * (255.0 / (limits.high - limits.low))
    return np.clip(scaled, 0, 255)


def _has_lookup(values: np.ndarray) -> bool:
    """8- and 16-bit integers: every possible value fits a 65536-entry table."""
    return values.dtype.kind in "ui" and values.dtype.itemsize <= 2


def _level_table(values: np.ndarray, limits: Limits) -> np.ndarray:
    """:func:`_levels` of every value of ``values``' dtype, indexed by :func:`_table_index`
    (the same float32 arithmetic, so the gathered image is identical)."""
    info = np.iinfo(values.dtype)
    return _levels(np.arange(info.min, info.max + 1, dtype=np.int32), limits)


def _table_index(values: np.ndarray) -> np.ndarray:
    """``values`` as indices into :func:`_level_table` (signed ones shifted to start at 0)."""
    if values.dtype.kind == "u":
        return values
    unsigned = np.dtype(f"u{values.dtype.itemsize}")
    return values.view(unsigned) ^ unsigned.type(1 << (8 * values.dtype.itemsize - 1))


def histogram(values: np.ndarray, bins: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(counts, edges) of the finite values, all channels together."""
    if _has_lookup(values) and values.size:
        return _histogram_by_value(values, bins)
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
    if finite.size == 0:
        return np.zeros(bins, np.int64), np.linspace(0.0, 1.0, bins + 1)
    low, high = float(finite.min()), float(finite.max())
    return np.histogram(finite, bins=bins, range=(low, high if high > low else low + 1.0))


def _histogram_by_value(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`histogram` of 8/16-bit integers from a count of each possible value (counted in
    chunks: no full-size temporary), binned as ``np.histogram`` bins the values themselves."""
    index = _table_index(values).ravel()
    per_value = np.zeros(1 << (8 * values.dtype.itemsize), np.int64)
    for start in range(0, index.size, _COUNT_CHUNK):
        per_value += np.bincount(index[start:start + _COUNT_CHUNK], minlength=per_value.size)
    present = np.flatnonzero(per_value)
    info = np.iinfo(values.dtype)
    every = np.arange(info.min, info.max + 1, dtype=np.int32).astype(values.dtype)[present]
    low, high = float(every[0]), float(every[-1])
    counts, edges = np.histogram(every, bins=bins, range=(low, high if high > low else low + 1.0),
                                 weights=per_value[present])
    return counts.astype(np.int64), edges


_COUNT_CHUNK = 1 << 17  # its int64 cast is 1 MB
