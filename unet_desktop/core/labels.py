"""Label schemes: what the values stored in a mask file mean, and how they map to training indices.

A scheme lists its classes in *training-index* order (0..C-1) with the value each one has in a
stored mask file. Three kinds:

- ``binary``: background 0, foreground 255 (files with 0/1 are accepted by the mask reader).
- ``trimap``: Oxford-IIIT Pet convention, foreground 1, background 2, border/unknown 3.
- ``multiclass``: N named classes stored as their index, with an optional ignore value
  (CamVid uses 11 for "Unlabelled").

``ignore_value`` is a stored value that means "nobody labelled this pixel"; it maps to the loss's
ignore index and is never predicted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

SchemeKind = Literal["binary", "trimap", "multiclass"]
IGNORE_INDEX = 255  # training index of ignored pixels (torch's CrossEntropyLoss ignore_index)
IGNORE_COLOR = (0, 0, 0)

# Distinct, colour-blind-friendly-ish defaults for multiclass schemes (Tableau 10 + extras).
_DEFAULT_COLORS = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    (174, 199, 232), (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213),
]


def default_color(index: int) -> tuple[int, int, int]:
    """The default colour of the ``index``-th class of a multiclass scheme."""
    return _DEFAULT_COLORS[index % len(_DEFAULT_COLORS)]


@dataclass(frozen=True)
class ClassInfo:
    name: str
    color: tuple[int, int, int]
    value: int  # the value stored in mask files


@dataclass(frozen=True)
class LabelScheme:
    kind: SchemeKind
    classes: tuple[ClassInfo, ...]
    ignore_value: int | None = None
    _lut: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.classes:
            raise ValueError("a label scheme needs at least one class")
        values = [c.value for c in self.classes]
        if len(set(values)) != len(values):
            raise ValueError(f"duplicate stored values in scheme: {values}")
        for v in values + ([self.ignore_value] if self.ignore_value is not None else []):
            if not 0 <= v <= 255:
                raise ValueError(f"stored value {v} outside 0..255")
        if self.ignore_value in values:
            raise ValueError(f"ignore value {self.ignore_value} is also a class value")
        if len(self.classes) > 254:
            raise ValueError("at most 254 classes")
        lut = np.full(256, -1, dtype=np.int16)  # stored value -> training index, -1 = invalid
        for i, v in enumerate(values):
            lut[v] = i
        if self.ignore_value is not None:
            lut[self.ignore_value] = IGNORE_INDEX
        object.__setattr__(self, "_lut", lut)

    # --- basic facts -------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def stored_values(self) -> tuple[int, ...]:
        return tuple(c.value for c in self.classes)

    def same_classes(self, other: LabelScheme) -> bool:
        """The training rule: the same kind, stored values and class names (any case), in the
        same order, so the classifier's rows are the other's classes (``to_index``). Colours
        and the unlabeled value do not count (a model never predicts "unlabeled"). Whether a
        model's predictions mean a folder's classes, in any order, is :func:`class_mismatch`."""
        return self.same_values(other) \
            and [n.casefold() for n in self.names] == [n.casefold() for n in other.names]

    def same_class_set(self, other: LabelScheme) -> bool:
        """The same kind and the same classes, each stored value with its name (any case), in
        any order: the stored masks (and predictions) of one mean the other's classes, although
        the classifier's rows may be in another order (Mask > Classes > Up/Down)."""
        return self.kind == other.kind and _value_names(self) == _value_names(other)

    def same_value_set(self, other: LabelScheme) -> bool:
        """The same kind and stored values in any order, whatever the classes are called."""
        return self.kind == other.kind and set(self.stored_values) == set(other.stored_values)

    def same_values(self, other: LabelScheme) -> bool:
        """The same kind and stored values, whatever the classes are called: one's stored masks
        can be compared with the other's (scoring, trimap <-> binary conversions)."""
        return self.kind == other.kind and self.stored_values == other.stored_values

    @property
    def valid_values(self) -> frozenset[int]:
        extra = {self.ignore_value} if self.ignore_value is not None else set()
        return frozenset(self.stored_values) | extra

    @property
    def foreground_value(self) -> int | None:
        """Stored value of the foreground class for binary and trimap schemes."""
        return {"binary": 255, "trimap": 1}.get(self.kind)

    def invalid_values(self, stored: np.ndarray) -> list[int]:
        """Sorted list of the values in ``stored`` that this scheme does not allow."""
        present = np.flatnonzero(np.bincount(stored.ravel(), minlength=256))
        return [int(v) for v in present if self._lut[v] < 0]

    # --- conversions -------------------------------------------------------------------------
    def to_index(self, stored: np.ndarray, *, border_as_ignore: bool = False) -> np.ndarray:
        """Stored mask values -> training indices (uint8); ignored pixels -> ``IGNORE_INDEX``.

        ``border_as_ignore`` (trimap only) also maps the border class to ``IGNORE_INDEX``.
        Raises ``ValueError`` for values outside the scheme.
        """
        stored = np.asarray(stored)
        if stored.dtype != np.uint8:
            raise ValueError(f"stored masks are uint8, got {stored.dtype}")
        bad = self.invalid_values(stored)
        if bad:
            raise ValueError(f"values {bad} are not in the {self.kind} scheme {sorted(self.valid_values)}")
        lut = self._lut.copy()
        if border_as_ignore and self.kind == "trimap":
            lut[3] = IGNORE_INDEX
        lut[lut < 0] = IGNORE_INDEX
        return lut.astype(np.uint8)[stored]

    def to_stored(self, index: np.ndarray) -> np.ndarray:
        """Training indices (0..C-1, or ``IGNORE_INDEX``) -> stored mask values (uint8)."""
        index = np.asarray(index)
        lut = np.zeros(256, dtype=np.uint8)
        lut[: self.num_classes] = self.stored_values
        fill = self.ignore_value if self.ignore_value is not None else self.classes[0].value
        lut[self.num_classes :] = fill
        return lut[index.astype(np.uint8, copy=False)]

    # --- display -----------------------------------------------------------------------------
    def palette(self) -> np.ndarray:
        """(256, 3) uint8 colour for every stored value (unused values black)."""
        pal = np.zeros((256, 3), dtype=np.uint8)
        for c in self.classes:
            pal[c.value] = c.color
        return pal

    def palette_rgba(self, alpha: int = 255) -> np.ndarray:
        """(256, 4) uint8 lookup table; the ignore value and unused values are transparent."""
        lut = np.zeros((256, 4), dtype=np.uint8)
        for c in self.classes:
            lut[c.value] = (*c.color, alpha)
        return lut

    def colorize(self, stored: np.ndarray) -> np.ndarray:
        """HxW stored mask -> HxWx3 RGB image in the scheme's colours."""
        return self.palette()[stored]

    # --- serialisation (model metadata, manifest) --------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "classes": [{"name": c.name, "color": list(c.color), "value": c.value} for c in self.classes],
            "ignore_value": self.ignore_value,
        }

    @classmethod
    def from_dict(cls, d: dict) -> LabelScheme:
        try:
            classes = tuple(
                ClassInfo(str(c["name"]), tuple(int(x) for x in c["color"]), int(c["value"]))
                for c in d["classes"]
            )
            kind = d["kind"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a label scheme description: {exc}") from exc
        if kind not in ("binary", "trimap", "multiclass"):
            raise ValueError(f"unknown scheme kind {kind!r}")
        ignore = d.get("ignore_value")
        return cls(kind, classes, None if ignore is None else int(ignore))


# the Oxford-IIIT Pet trimap convention, the one place these values are spelled out
TRIMAP_FOREGROUND, TRIMAP_BACKGROUND, TRIMAP_BORDER = 1, 2, 3
TRIMAP_VALUES = (TRIMAP_FOREGROUND, TRIMAP_BACKGROUND, TRIMAP_BORDER)
# Where a task keeps sparse labels, pixels nobody labelled are stored as this value by default
# (docs/sparse-labels.md): a value of no class in the scheme, so every reader can tell them apart.
DEFAULT_UNLABELED = {"binary": 128, "trimap": 0, "multiclass": 255}
# a mask that labels less than this fraction of its pixels holds strokes, not a full correction
STROKES_BELOW = 0.5


def binary_scheme(names: tuple[str, str] = ("background", "foreground"),
                  ignore_value: int | None = None) -> LabelScheme:
    return LabelScheme(
        "binary",
        (ClassInfo(names[0], (0, 0, 0), 0), ClassInfo(names[1], (255, 64, 64), 255)),
        ignore_value,
    )


def trimap_scheme(
    names: tuple[str, str, str] = ("foreground", "background", "border"),
    ignore_value: int | None = None,
) -> LabelScheme:
    return LabelScheme(
        "trimap",
        (
            ClassInfo(names[0], (255, 64, 64), TRIMAP_FOREGROUND),
            ClassInfo(names[1], (40, 40, 160), TRIMAP_BACKGROUND),
            ClassInfo(names[2], (255, 220, 0), TRIMAP_BORDER),
        ),
        ignore_value,
    )


def multiclass_scheme(
    names: list[str] | int,
    colors: list[tuple[int, int, int]] | None = None,
    ignore_value: int | None = None,
) -> LabelScheme:
    """``names`` is a list of class names or a class count (names become ``class_0``...)."""
    if isinstance(names, int):
        names = [f"class_{i}" for i in range(names)]
    if colors is None:
        colors = [_DEFAULT_COLORS[i % len(_DEFAULT_COLORS)] for i in range(len(names))]
    if len(colors) != len(names):
        raise ValueError(f"{len(names)} class names but {len(colors)} colours")
    classes = tuple(ClassInfo(n, tuple(c), i) for i, (n, c) in enumerate(zip(names, colors)))
    return LabelScheme("multiclass", classes, ignore_value)


CAMVID_CLASSES = [
    "Sky", "Building", "Pole", "Road", "Pavement", "Tree",
    "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist",
]
CAMVID_COLORS = [
    (128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
    (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192),
]


def camvid_scheme() -> LabelScheme:
    return multiclass_scheme(CAMVID_CLASSES, CAMVID_COLORS, ignore_value=11)


def scheme_by_name(kind: str, num_classes: int | None = None, ignore_value: int | None = None) -> LabelScheme:
    """Build a default scheme from a CLI-style description."""
    if kind == "binary":
        return binary_scheme(ignore_value=ignore_value)
    if kind == "trimap":
        return trimap_scheme(ignore_value=ignore_value)
    if kind == "multiclass":
        if not num_classes:
            raise ValueError("a multiclass scheme needs the number of classes")
        return multiclass_scheme(num_classes, ignore_value=ignore_value)
    raise ValueError(f"unknown label scheme {kind!r} (binary, trimap or multiclass)")


# --- binary <-> trimap -----------------------------------------------------------------------
def binary_to_trimap(binary: np.ndarray, band: int = 3) -> np.ndarray:
    """Binary stored mask (0/255, or any nonzero = foreground) -> trimap (1/2/3).

    Pixels within ``band`` px of the foreground/background boundary (on either side) become
    border (3); ``band=0`` gives a trimap without a border.
    """
    fg = np.asarray(binary) > 0
    trimap = np.where(fg, TRIMAP_FOREGROUND, TRIMAP_BACKGROUND).astype(np.uint8)
    if band > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
        fg8 = fg.astype(np.uint8)
        edge = cv2.dilate(fg8, k) != cv2.erode(fg8, k)
        trimap[edge] = TRIMAP_BORDER
    return trimap


def trimap_to_binary(trimap: np.ndarray, border_as_foreground: bool = True) -> np.ndarray:
    """Trimap stored mask (1/2/3) -> binary stored mask (0/255)."""
    trimap = np.asarray(trimap)
    fg = (trimap == TRIMAP_FOREGROUND) | ((trimap == TRIMAP_BORDER) if border_as_foreground
                                          else False)
    return np.where(fg, 255, 0).astype(np.uint8)


def describe_classes(scheme: LabelScheme) -> str:
    return f"{', '.join(scheme.names)} ({scheme.kind})"


def _value_names(scheme: LabelScheme) -> frozenset[tuple[int, str]]:
    return frozenset((c.value, c.name.casefold()) for c in scheme.classes)


def class_mismatch(model: LabelScheme, target: LabelScheme, *,
                   renamed: bool = False) -> str | None:
    """Why ``model``'s predictions (stored values) do not mean ``target``'s classes; None when
    they do: the one rule of the window, batch predict and the loop. They do for the same
    classes in any order (:meth:`LabelScheme.same_class_set`); with ``renamed`` (the model is
    the target task's own, whose classes the task renamed since) for the same stored values
    whatever their names. Training from such a model maps its classifier's rows by value or by
    name (:meth:`LabelScheme.same_classes` is the training rule)."""
    if model.same_class_set(target) or (renamed and model.same_value_set(target)):
        return None
    return (f"the model predicts {describe_classes(model)}, this folder's task labels "
            f"{describe_classes(target)}")


def adapt_labels(labels: np.ndarray, model_scheme: LabelScheme,
                 target: LabelScheme) -> np.ndarray:
    """A prediction in the workspace's label scheme (trimap <-> binary converted).

    Raises ``ValueError`` saying why when the model's classes cannot become the folder's.
    """
    if model_scheme.same_value_set(target):  # stored values: a reorder changes none
        return labels
    convert = _conversion(model_scheme, target)
    if convert is None:
        raise ValueError(
            f"the model predicts {model_scheme.kind} masks ({model_scheme.num_classes} classes) "
            f"but this folder's masks are {target.kind} ({target.num_classes} classes)")
    return convert(labels)


def _conversion(model_scheme: LabelScheme, target: LabelScheme):
    """The function putting ``model_scheme``'s stored values into ``target``'s, or None."""
    if model_scheme.kind == "trimap" and target.kind == "binary" \
            and target.stored_values == (0, 255):
        return trimap_to_binary
    if model_scheme.kind == "binary" and target.kind == "trimap":
        return binary_to_trimap
    return None


def adaptable(model_scheme: LabelScheme, target: LabelScheme) -> bool:
    """Whether :func:`adapt_labels` can put ``model_scheme``'s predictions in ``target``."""
    return model_scheme.same_value_set(target) or _conversion(model_scheme, target) is not None
