"""MaskDocument: one image being edited, its mask, its undo history and its unsaved state.

The document is the single owner of the mask array: tools and dialogs change it only through
:meth:`MaskDocument.apply` (or undo/redo/replace), each of which returns the box that changed
and tells the listeners, so a view repaints just that box.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from unet_desktop.core.editing.delta import BBox, Delta, delta_from_masks, merge_deltas, union_bbox
from unet_desktop.core.editing.history import EditHistory
from unet_desktop.core.labels import LabelScheme

ChangeListener = Callable[[BBox], None]


class MaskDocument:
    """An image with its editable mask (HxW uint8 of stored values) and edit history.

    ``generation`` grows with every change of the mask (cache key for views and autosave);
    ``dirty`` is True when the mask differs from the last saved state, and turns False again
    if undo/redo comes back to it.

    A mouse drag is one stroke and one undo step (:meth:`begin_stroke` .. :meth:`end_stroke`),
    whatever happens while the button is down: a save part-way through (:meth:`mark_saved`)
    writes the mask as it is and the stroke goes on (dirty again once it paints more); an undo,
    a redo or another edit ends it, and a tool still dragging sees :attr:`in_stroke` False (the
    drag is over).
    """

    def __init__(
        self,
        key: str,
        image: np.ndarray,
        mask: np.ndarray,
        scheme: LabelScheme,
        history: EditHistory | None = None,
        *,
        saved: bool = True,
        stored: np.ndarray | None = None,
    ):
        if mask.ndim != 2 or mask.dtype != np.uint8:
            raise ValueError(f"{key}: a mask is a 2-D uint8 array, got {mask.dtype} {mask.shape}")
        if image.shape[:2] != mask.shape:
            raise ValueError(
                f"{key}: image is {image.shape[1]}x{image.shape[0]} px "
                f"but its mask is {mask.shape[1]}x{mask.shape[0]} px"
            )
        self.key = key
        self.image = image  # as shown (uint8 gray or RGB): what the editing tools see
        # the image's stored values (12/16-bit, channels...) that ``image`` shows; None: the same
        self.stored = stored
        self.mask = mask
        self.scheme = scheme
        self.history = history if history is not None else EditHistory()
        self.generation = 0
        self._saved_state: int | None = self.history.state_id if saved else None
        self._stroke: list[Delta] | None = None
        self._stroke_label = ""
        # saved part-way through the open stroke: how many of its parts the saved mask holds
        self._saved_parts: int | None = None
        self._listeners: list[ChangeListener] = []

    # --- facts -------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape  # type: ignore[return-value]

    @property
    def dirty(self) -> bool:
        if self._stroke is not None and self._saved_parts is not None:
            return len(self._stroke) != self._saved_parts
        return bool(self._stroke) or self.history.state_id != self._saved_state

    @property
    def in_stroke(self) -> bool:
        return self._stroke is not None

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo or bool(self._stroke)

    @property
    def can_redo(self) -> bool:
        return self._stroke is None and self.history.can_redo

    @property
    def undo_label(self) -> str | None:
        return f"Undo {self._stroke_label}" if self._stroke else self.history.undo_label

    @property
    def redo_label(self) -> str | None:
        return None if self._stroke is not None else self.history.redo_label

    def value_at(self, x: float, y: float) -> int | None:
        """Mask value of the pixel under image coordinates ``(x, y)``, or ``None`` outside."""
        col, row = math.floor(x), math.floor(y)
        height, width = self.shape
        if 0 <= row < height and 0 <= col < width:
            return int(self.mask[row, col])
        return None

    def show_image(self, image: np.ndarray) -> None:
        """The image is drawn anew (other contrast limits): ``image``, a new array, replaces
        :attr:`image`. Work kept on the old one (the magic wand's smoothed copy, the stroke
        classifier's features) is keyed on the array (``image is not``) and so is done again
        on what is shown now; a thread still reading the old array reads it whole."""
        if image.shape != self.image.shape or image.dtype != self.image.dtype:
            raise ValueError(
                f"{self.key}: the image is {self.image.dtype} {self.image.shape}, "
                f"cannot show it as {image.dtype} {image.shape}"
            )
        if image is self.image:
            raise ValueError(f"{self.key}: show_image needs a new array, not the one shown")
        self.image = image

    # --- listeners ---------------------------------------------------------------------------
    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener(bbox)`` after every change of the mask."""
        self._listeners.append(listener)

    def remove_listener(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)

    def _changed(self, bbox: BBox | None) -> BBox | None:
        if bbox is not None:
            self.generation += 1
            for listener in list(self._listeners):
                listener(bbox)
        return bbox

    # --- edits -------------------------------------------------------------------------------
    def apply(self, delta: Delta | None) -> BBox | None:
        """Apply an edit (a :class:`~unet_desktop.core.editing.delta.Delta`); inside a stroke it
        becomes part of the stroke's single undo step. Returns the changed box."""
        if delta is None:
            return None
        bbox = delta.apply(self.mask)
        if self._stroke is not None:
            self._stroke.append(delta)
        else:
            self.history.push(delta)
        return self._changed(bbox)

    def begin_stroke(self, label: str) -> None:
        """Start grouping edits into one undo step (a mouse stroke); ends any open stroke."""
        self.end_stroke()
        self._stroke = []
        self._stroke_label = label

    def end_stroke(self) -> BBox | None:
        """Close the stroke: its edits become one undo step. Returns the stroke's whole box."""
        parts, self._stroke = self._stroke, None
        saved_parts, self._saved_parts = self._saved_parts, None
        if parts is None:
            return None
        if not parts:
            return None
        merged = merge_deltas(parts, self.mask, self._stroke_label)
        if merged is not None:
            self.history.push(merged)
        if saved_parts and saved_parts < len(parts):  # saved part-way: in no state of the history
            self._saved_state = None
        elif saved_parts:  # saved with all of it
            self._saved_state = self.history.state_id
        box: BBox | None = None
        for part in parts:
            box = union_bbox(box, part.bbox)
        return box

    def replace_mask(self, new_mask: np.ndarray, label: str = "Accept prediction") -> BBox | None:
        """Replace the whole mask (e.g. with a prediction) as one undoable step."""
        if new_mask.shape != self.mask.shape or new_mask.dtype != np.uint8:
            raise ValueError(
                f"{self.key}: replacement mask is {new_mask.dtype} {new_mask.shape}, "
                f"expected uint8 {self.mask.shape}"
            )
        self.end_stroke()
        return self.apply(delta_from_masks(self.mask, new_mask, label))

    def undo(self) -> BBox | None:
        """Undo the newest step; a stroke in progress ends first (and is what is undone)."""
        self.end_stroke()
        return self._changed(self.history.undo(self.mask))

    def redo(self) -> BBox | None:
        self.end_stroke()
        return self._changed(self.history.redo(self.mask))

    # --- saving ------------------------------------------------------------------------------
    def mark_saved(self) -> None:
        """The mask as it is now has been written to disk. A stroke in progress stays open (the
        drag goes on as one undo step); the document is dirty again once the stroke paints more."""
        self._saved_state = self.history.state_id
        self._saved_parts = len(self._stroke) if self._stroke is not None else None

    def park(self) -> None:
        """Called when leaving the image: ends a stroke and lets the history remember the mask
        so that :meth:`HistoryStore.get` can tell if the file changed before coming back."""
        self.end_stroke()
        self.history.remember(self.mask)
