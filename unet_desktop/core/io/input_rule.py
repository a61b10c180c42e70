"""How a model turns an image's stored values into its 8-bit input: the model's input rule.

An image is read keeping its data (uint8, 12/16-bit in uint16, int32, float; gray or with
channels, :func:`unet_desktop.core.io.imageio.read_image_raw`, :mod:`unet_desktop.core.io.stacks`).
Each model file records the rule that makes its input from such data, and the same rule is
applied to every image it trains on or predicts, whatever the bit depth:

``legacy``      what every model made before rules were recorded sees (a file without a rule):
                8-bit as it is, 16-bit scaled by 65535, wider integers and floats stretched
                (:func:`unet_desktop.core.io.imageio.legacy_uint8`). A 12-bit image stored in 16
                bits reads nearly black.
``data-range``  the default of new models: integers are scaled by the range the data really
                uses, the smallest of 8, 10, 12, 14 or 16 bits that holds the largest value
                (a 12-bit image stored in 16 bits by 4095, not 65535); floats within
                [0, 1] by 1, other floats stretched from their min to their max.
                8-bit images are unchanged, so the same content stored at 8 or at 12 bits gives
                the same input. A new model fixes ``bits`` (and, for floats beyond [0, 1],
                the ``span`` they stretch from; integers below 0 give a span and no bits)
                from its training images (:func:`fixed_range`), none of which saturates:
                every image it sees is scaled alike, so that a dim 12-bit image (brightest
                pixel below 1024) is not scaled by 1023, 4x brighter than its neighbours, nor
                a 16-bit or float one darkened for one bright speck. A rule without them
                (files from before) takes each image's own range. A fixed range is the
                model's whatever the type that stores the values: with ``bits``, an int16 or
                float32 image of 12-bit values is scaled by 4095 like a uint16 one (floats
                within [0, 1] still by 1), and without them integers stretch from the ``span``
                as floats do. Values beyond a fixed range (negative ones too) saturate:
                :meth:`InputRule.beyond_range` says so (training leaves such an image out,
                prediction warns).
``percentile``  per image and channel, the ``low``..``high`` percentiles (default 1..99, the
                Cellpose rule) map to 0..255, clipped: robust to the exposure of each image.

``channels`` (0-based, one to three) picks which channels of a multi-channel image feed the
model, in that order; ``None`` keeps gray and RGB images as they are (the readers drop an RGBA
image's alpha, so 4 channels here are 4 channels of data and need a choice like 2 or 5).
An image whose channels do not fit raises :class:`ImageReadError` naming the file and why.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from unet_desktop.core.errors import ImageReadError
from unet_desktop.core.io.imageio import legacy_uint8

KINDS = ("legacy", "data-range", "percentile")
DEFAULT_NEW = "data-range"  # the rule of models trained from now on, unless a task says
_BIT_DEPTHS = (8, 10, 12, 14, 16)


@dataclass(frozen=True)
class InputRule:
    kind: str = "legacy"
    low: float = 1.0  # percentile rule: the percentiles mapped to 0 and 255
    high: float = 99.0
    channels: tuple[int, ...] | None = None
    bits: int | None = None  # data-range: the bits of the training images (fixed_range)
    span: tuple[float, float] | None = None  # data-range: the training floats' low and high
    # data-range: the span comes from integers below 0 alone (no training float went beyond
    # [0, 1]), so floats within [0, 1] are still fed by 1 (fixed_scale)
    integer_span: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"input rule must be one of {KINDS}, got {self.kind!r}")
        if not 0.0 <= self.low < self.high <= 100.0:
            raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got "
                             f"{self.low}, {self.high}")
        if self.channels is not None:
            if not 1 <= len(self.channels) <= 3 or any(c < 0 for c in self.channels):
                raise ValueError(f"channels must list one to three channel numbers (0-based), "
                                 f"got {self.channels}")
            if len(self.channels) == 2:
                raise ValueError("two channels cannot feed a gray (1) or RGB (3) input: "
                                 "choose one or three")
        if self.bits is not None and (self.kind != "data-range" or not 8 <= self.bits <= 64):
            raise ValueError(f"bits (8 to 64) belong to the data-range rule, got {self.bits} "
                             f"for {self.kind!r}")
        if self.span is not None and (self.kind != "data-range" or len(self.span) != 2
                                      or not self.span[0] < self.span[1]):
            raise ValueError(f"a span (low < high) belongs to the data-range rule, got "
                             f"{self.span} for {self.kind!r}")
        if self.integer_span and (self.span is None or self.bits is not None):
            raise ValueError("integer_span marks a span without bits")

    # --- the file format ------------------------------------------------------------------
    def to_dict(self) -> dict:
        d: dict = {"kind": self.kind}
        if self.kind == "percentile":
            d.update(low=self.low, high=self.high)
        if self.channels is not None:
            d["channels"] = list(self.channels)
        if self.bits is not None:
            d["bits"] = self.bits
        if self.span is not None:
            d["span"] = list(self.span)
        if self.integer_span:
            d["span_of"] = "integers"
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> InputRule:
        """The rule recorded in a model file or task; ``None`` or ``{}`` is ``legacy``."""
        if not d:
            return cls()
        if not isinstance(d, dict):
            raise ValueError(f"input rule must be a JSON object, got {d!r}")  # noqa: TRY004
        channels, bits, span = d.get("channels"), d.get("bits"), d.get("span")
        return cls(str(d.get("kind", "legacy")), float(d.get("low", 1.0)),
                   float(d.get("high", 99.0)),
                   tuple(int(c) for c in channels) if channels is not None else None,
                   int(bits) if bits is not None else None,
                   (float(span[0]), float(span[1])) if span is not None else None,
                   d.get("span_of") == "integers" and span is not None and bits is None)

    def describe(self) -> str:
        text = {"legacy": "8-bit as stored (16-bit by 65535)",
                "data-range": self._data_range_text(),
                "percentile": f"per image, percentiles {self.low:g}-{self.high:g} -> 0-255"
                }[self.kind]
        if self.channels is not None:
            text += f"; channels {', '.join(str(c + 1) for c in self.channels)}"
        return text

    def _data_range_text(self) -> str:
        """What :func:`fixed_scale` does with each kind of value under this data-range rule."""
        span = (f"{self.span[0]:g} to {self.span[1]:g} -> 0-255 (the range of its training "
                "images)" if self.span is not None else "")
        if self.bits:
            text = (f"scaled by {(1 << self.bits) - 1} ({self.bits}-bit data, the range of its "
                    "training images)")
            return f"{text}; floats {span}" if span else text
        if span and self.integer_span:
            return f"8-bit as stored; floats within 0-1 by 1; other values {span}"
        if span:  # without bits, integers stretch from the span as floats do
            return f"8-bit as stored; other values (integers and floats) {span}"
        return ("each image by the range it uses: 8-bit as stored, wider integers by their own "
                "bit depth (e.g. 12-bit by 4095)")

    # --- applying it ------------------------------------------------------------------------
    def apply(self, values: np.ndarray, path: str | os.PathLike = "<image>") -> np.ndarray:
        """Stored values -> the model's ``HxW`` or ``HxWx3`` uint8 input (see module doc)."""
        values = self.pick_channels(np.asarray(values), path)
        if self.kind == "legacy":
            return legacy_uint8(values, path)
        if self.kind == "percentile":
            return percentile_uint8(values, self.low, self.high)
        return data_range_uint8(values, self.bits, self.span, self.integer_span)

    def beyond_range(self, values: np.ndarray, tolerated: float = 0.0) -> str | None:
        """Why the model does not see this image as stored: its values go beyond the range the
        rule fixes (a data-range rule's ``bits`` or ``span``, :func:`fixed_scale`), below it
        (negative values) or above it, and saturate at black or white; None when they fit,
        when no more than a ``tolerated`` share of the pixels is beyond (a few hot pixels over
        a 12-bit range change nothing else the model sees), or the rule fixes no range.
        Channels that do not fit are :meth:`pick_channels`' to report."""
        if self.kind != "data-range" or (self.bits is None and self.span is None):
            return None
        try:
            values = self.pick_channels(np.asarray(values), "<image>")
        except ImageReadError:
            return None
        scale = fixed_scale(values, self.bits, self.span, self.integer_span)
        if scale is None:
            return None
        data = values[np.isfinite(values)] if np.issubdtype(values.dtype, np.floating) else values
        low, high = scale
        below, above = data < low, data > high
        if not (below.any() or above.any()) or float((below | above).mean()) <= tolerated:
            return None
        return (f"{_values_text(values, data, below.any())}, beyond {self._range_text(scale)} "
                f"the model's input rule fixed from its training images: "
                f"{_share(below | above)} of its pixels read as "
                f"{_saturated_as(below.any(), above.any())}")

    def _range_text(self, scale: tuple[float, float]) -> str:
        """``the 12-bit range (0-4095)`` or ``the range 0 to 2000`` (the span, or 0 to 1)."""
        if self.bits is not None and scale == (0.0, float((1 << self.bits) - 1)):
            return f"the {self.bits}-bit range (0-{(1 << self.bits) - 1})"
        return f"the range {scale[0]:g} to {scale[1]:g}"

    def misfit(self, count: int, of_model: bool = False) -> str | None:
        """Why an image of ``count`` channels cannot feed the model under this rule, or None.
        The advice is for a task's rule (choose its channels), or ``of_model``, for a model
        file's (it has no channel choice: another model is needed)."""
        if self.channels is None:
            if count in (1, 3):
                return None
            advice = ("a model trained on the channels the task chooses predicts it "
                      "(Training > Fine-tune; train --channels)" if of_model else
                      "choose which channels feed it (the task's channels)")
            return f"the image has {count} channels and the model takes gray or RGB: {advice}"
        missing = [c + 1 for c in self.channels if c >= count]
        if missing:
            feeds = "the model takes" if of_model else "the task feeds the model"
            return (f"the image has {count} channel(s); {feeds} channel(s) "
                    f"{', '.join(map(str, missing))}, which it does not have")
        return None

    def pick_channels(self, values: np.ndarray, path: str | os.PathLike) -> np.ndarray:
        """The chosen channels of ``values`` (all of them without a choice); an image whose
        channels do not fit raises :class:`ImageReadError` with :meth:`misfit`'s reason."""
        count = values.shape[2] if values.ndim == 3 else 1
        reason = self.misfit(count, of_model=True)
        if reason:
            raise ImageReadError(path, reason)
        if self.channels is None or values.ndim == 2:
            return values
        picked = values[..., list(self.channels)]
        return picked[..., 0] if picked.shape[2] == 1 else np.ascontiguousarray(picked)


LEGACY = InputRule()  # the rule of model files that record none


def data_bits(values: np.ndarray) -> int:
    """The smallest of 8, 10, 12, 14, 16 bits that holds every value (integers >= 0)."""
    top = int(values.max(initial=0))
    return next((b for b in _BIT_DEPTHS if top < (1 << b)), 32 if top < (1 << 32) else 64)


def _share(hits: np.ndarray) -> str:
    """``all``, ``37%`` or ``under 1%`` of the pixels ``hits`` marks."""
    share = float(hits.mean()) if hits.size else 0.0
    return "all" if share == 1.0 else f"{share:.0%}" if share >= 0.01 else "under 1%"


def _taken_as_stored(values: np.ndarray) -> bool:
    """8-bit and boolean images: the data-range rule feeds them as they are (booleans as 0 and
    255), whatever range it fixed; :func:`fixed_scale` gives them none, so that apply and
    :meth:`InputRule.beyond_range` agree."""
    return values.dtype in (np.uint8, np.bool_)


def _ranged(values: np.ndarray) -> bool:
    """Whether the data-range rule scales these values by a bit depth (integers wider than
    8 bits, none negative); 8-bit and boolean images are taken as they are, floats stretched."""
    return (np.issubdtype(values.dtype, np.integer) and values.dtype != np.uint8
            and int(values.min(initial=0)) >= 0)


def _values_text(values: np.ndarray, data: np.ndarray, below: bool) -> str:
    """``its values reach 51998 (16-bit data)`` or ``its values span -1 to 2999 (int16)``."""
    if np.issubdtype(values.dtype, np.integer) and not below:
        return f"its values reach {int(data.max())} ({data_bits(data)}-bit data)"
    return f"its values span {data.min():g} to {data.max():g} ({values.dtype})"


def _saturated_as(below: bool, above: bool) -> str:
    return "black or white" if below and above else "black" if below else "white"


def _normalised(values: np.ndarray) -> bool:
    """Floats whose highest value is at most 1: an image scaled to 0..1, fed by 1."""
    finite = values[np.isfinite(values)]
    return finite.size == 0 or float(finite.max()) <= 1.0


def fixed_scale(values: np.ndarray, bits: int | None, span: tuple[float, float] | None,
                integer_span: bool = False) -> tuple[float, float] | None:
    """The (low, high) a data-range rule with ``bits`` or ``span`` maps to 0..255 for these
    values (not 8-bit or boolean ones, which are taken as they are), whatever their type: the
    training floats' ``span`` for floats, and for integers too when the rule has no ``bits``;
    0..2**bits - 1 for integers (negative ones saturate at 0) and for floats beyond 0..1 (a
    float copy of 12-bit data is scaled as the 12-bit data); 0..1 for floats within it. None
    for 8-bit and boolean values and when the rule fixes neither (each image by its own
    range). An ``integer_span`` (from integers below 0, no training float beyond [0, 1])
    leaves floats within [0, 1] at 0..1."""
    if _taken_as_stored(values):
        return None
    floating = np.issubdtype(values.dtype, np.floating)
    if span is not None and (floating or bits is None):
        return (0.0, 1.0) if integer_span and floating and _normalised(values) else span
    if bits is None:
        return None
    if floating and _normalised(values):
        return 0.0, 1.0
    return 0.0, float((1 << bits) - 1)


def fixed_range(rule: InputRule, images: Iterable[np.ndarray]) -> InputRule:
    """A new model's rule: a data-range rule gets the bits that hold every training image's
    integers (the largest value of each, negative ones or not) and the span of their floats
    beyond [0, 1] (their channels as the rule picks them), so that the model scales each image
    it meets alike and none of its training images saturates. Integers below 0 (offset-
    subtracted camera data) cannot be scaled by bits: the rule then gets no bits but a span,
    from their lowest value (or the floats') to the top of the bits (or the floats' highest);
    floats within [0, 1] are not merged into it and are still fed by 1 (``integer_span``).
    Other rules, rules fixed already and data with nothing to range (8-bit, floats within
    [0, 1]) are returned as they are. An image whose channels do not fit is passed over
    (training reports it)."""
    if rule.kind != "data-range" or rule.bits is not None or rule.span is not None:
        return rule
    bits, lowest = 0, 0  # the integers' bits and lowest value below 0
    low, high = np.inf, -np.inf  # the floats'
    for values in images:
        try:
            values = rule.pick_channels(np.asarray(values), "<image>")
        except ImageReadError:
            continue
        if _taken_as_stored(values):
            continue
        if np.issubdtype(values.dtype, np.integer):
            bits = max(bits, data_bits(values))
            lowest = min(lowest, int(values.min(initial=0)))
        elif np.issubdtype(values.dtype, np.floating) and np.isfinite(values).any():
            finite = values[np.isfinite(values)]
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    stretched = low < high and not (low >= 0.0 and high <= 1.0)  # [0, 1] floats: by 1 anyway
    if lowest < 0 and not stretched:  # floats (if any) within [0, 1]: kept apart, fed by 1
        return replace(rule, span=(float(lowest), float((1 << bits) - 1)), integer_span=True)
    if lowest < 0:
        return replace(rule, span=(min(float(lowest), low),
                                   max(float((1 << bits) - 1), high)))
    return replace(rule, bits=bits or None, span=(low, high) if stretched else None)


def data_range_uint8(values: np.ndarray, bits: int | None = None,
                     span: tuple[float, float] | None = None,
                     integer_span: bool = False) -> np.ndarray:
    """The ``data-range`` rule (module doc): values scaled by the range the model fixed
    (:func:`fixed_scale`, ``bits`` or ``span``), else integers by their own bit depth and
    floats stretched from their own min to max; values beyond a fixed range saturate at 0 or
    255, NaN and infinities are 0."""
    scale = fixed_scale(values, bits, span, integer_span)
    if scale is not None:
        return _mapped(values, *scale)
    if values.dtype == np.bool_:  # taken as stored (fixed_scale gives it no range)
        return values.astype(np.uint8) * np.uint8(255)
    if _taken_as_stored(values):
        return np.ascontiguousarray(values)
    if _ranged(values):
        return _mapped(values, 0.0, float((1 << data_bits(values)) - 1))
    return legacy_uint8(values, "<image>")  # a rule that fixes no range: floats, negative
    # integers each stretched from its own min to max, as before


def _mapped(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``low``..``high`` -> 0..255, clipped; NaN and infinities read as ``low`` (0)."""
    scaled = values.astype(np.float64)  # one copy, worked on in place
    if np.issubdtype(values.dtype, np.floating):
        scaled[~np.isfinite(scaled)] = low
    scaled -= low
    scaled *= 255.0 / (high - low)
    return np.clip(np.rint(scaled, out=scaled), 0, 255, out=scaled).astype(np.uint8)


def percentile_uint8(values: np.ndarray, low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Each channel's ``low``..``high`` percentiles mapped to 0..255, clipped; a channel with
    no spread (``low == high`` values) becomes 0. NaN and infinities count as 0."""
    values = np.asarray(values, dtype=np.float64)
    values = np.where(np.isfinite(values), values, 0.0)
    planes = values[..., None] if values.ndim == 2 else values
    out = np.zeros(planes.shape, np.uint8)
    for c in range(planes.shape[2]):
        lo, hi = np.percentile(planes[..., c], (low, high))
        if hi > lo:
            out[..., c] = np.clip(np.rint((planes[..., c] - lo) * (255.0 / (hi - lo))), 0, 255)
    return out[..., 0] if values.ndim == 2 else out
