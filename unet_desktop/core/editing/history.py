"""Undo/redo history of mask edits, one per image, stored as compact deltas.

A step keeps only the pixels that changed inside its box (a bit mask plus their old and new
values, zlib-compressed), so a long diagonal stroke over a 4000x4000 mask costs tens of
kilobytes, not the 16 MB of its bounding box. Each history is capped in steps and bytes; the oldest steps go first and the
newest one is always kept. :class:`HistoryStore` keeps one history per image key, so undo still
works after moving to another image and back.
"""

from __future__ import annotations

import dataclasses
import itertools
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from unet_desktop.core.editing.delta import BBox, Delta

DEFAULT_MAX_STEPS = 1000
DEFAULT_MAX_BYTES = 256 * 2**20
DEFAULT_STORE_BYTES = 1024 * 2**20


@dataclass(frozen=True)
class Step:
    """A stored edit: which pixels of ``bbox`` changed (packed bits) and their values, each
    zlib-compressed (level 1): a stroke's change map is mostly runs of zeros and its values
    mostly one value, so a long diagonal stroke over a 4000x4000 mask keeps tens of kilobytes,
    not the 2 MB of its packed box."""

    bbox: BBox
    changed: np.ndarray  # zlib of np.packbits of the boolean change mask of bbox, row-major
    old_values: np.ndarray  # zlib of the changed pixels' values before
    new_values: np.ndarray  # and after
    label: str
    serial: int

    @classmethod
    def pack(cls, delta: Delta, serial: int) -> Step:
        diff = delta.old != delta.new
        return cls(
            delta.bbox,
            _compress(np.packbits(diff, axis=None)),
            _compress(delta.old[diff]),
            _compress(delta.new[diff]),
            delta.label,
            serial,
        )

    @classmethod
    def uncompressed(cls, bbox: BBox, changed: np.ndarray, old_values: np.ndarray,
                     new_values: np.ndarray, label: str) -> Step:
        """A step stored before steps were compressed (packed bits and values as they are)."""
        return cls(bbox, _compress(changed), _compress(old_values), _compress(new_values),
                   label, 0)

    def _where(self) -> np.ndarray:
        y0, x0, y1, x1 = self.bbox
        shape = (y1 - y0, x1 - x0)
        bits = np.unpackbits(_decompress(self.changed), count=shape[0] * shape[1])
        return bits.view(bool).reshape(shape)

    def apply(self, mask: np.ndarray) -> BBox:
        y0, x0, y1, x1 = self.bbox
        mask[y0:y1, x0:x1][self._where()] = _decompress(self.new_values)
        return self.bbox

    def revert(self, mask: np.ndarray) -> BBox:
        y0, x0, y1, x1 = self.bbox
        mask[y0:y1, x0:x1][self._where()] = _decompress(self.old_values)
        return self.bbox

    @property
    def nbytes(self) -> int:
        return int(self.changed.nbytes + self.old_values.nbytes + self.new_values.nbytes)


def _compress(values: np.ndarray) -> np.ndarray:
    return np.frombuffer(zlib.compress(np.ascontiguousarray(values, np.uint8).data, 1), np.uint8)


def _decompress(packed: np.ndarray) -> np.ndarray:
    return np.frombuffer(zlib.decompress(packed.data), np.uint8)


@dataclass(frozen=True)
class AcceptedPrediction:
    """A model's prediction that a state of the history is exactly (accepted, not edited)."""

    model_version: str  # "": none recorded (a mask file marked 'predicted' without one)
    uncertainty: float | None
    automatic: bool = False  # became the mask by itself, not by the user's accept


class EditHistory:
    """Undo and redo stacks of one image's edits.

    ``state_id`` names the mask's current state in this history (equal ids = equal masks), which
    :class:`~unet_desktop.core.editing.document.MaskDocument` uses to tell whether it is unsaved.
    The states that are an accepted prediction are kept with it (:meth:`mark_accepted`), so an
    undo back to one saves it as ``predicted`` however often the image was left or the app
    restarted since.
    """

    def __init__(self, max_steps: int = DEFAULT_MAX_STEPS, max_bytes: int = DEFAULT_MAX_BYTES):
        if max_steps < 1 or max_bytes < 0:
            raise ValueError(f"bad history limits: {max_steps} steps, {max_bytes} bytes")
        self.max_steps = max_steps
        self.max_bytes = max_bytes
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        self._serials = itertools.count(1)
        self._base_id = 0  # state id when the undo stack is empty
        self._nbytes = 0
        self.fingerprint: int | None = None  # see remember() / matches()
        self._accepted: dict[int, AcceptedPrediction] = {}  # by state id
        self._no_mask: int | None = None  # the state that stands for "no mask file"

    # --- queries -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._undo)

    @property
    def redo_count(self) -> int:
        return len(self._redo)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        """Edit-menu text, e.g. ``"Undo Brush stroke"``; ``None`` when there is nothing."""
        return f"Undo {self._undo[-1].label}" if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return f"Redo {self._redo[-1].label}" if self._redo else None

    @property
    def nbytes(self) -> int:
        return self._nbytes

    @property
    def state_id(self) -> int:
        return self._undo[-1].serial if self._undo else self._base_id

    @property
    def accepted(self) -> AcceptedPrediction | None:
        """The prediction the current state is exactly, if it is one."""
        return self._accepted.get(self.state_id)

    def state_ids(self) -> list[int]:
        """Every state this history can reach: the base, then one per undo and redo step (the
        redo steps nearest first)."""
        return [self._base_id, *(s.serial for s in self._undo),
                *(s.serial for s in reversed(self._redo))]

    @property
    def at_no_mask(self) -> bool:
        """Whether the current state is the image with no mask file (as it opened, unlabeled)."""
        return self._no_mask is not None and self._no_mask == self.state_id

    @property
    def no_mask_state(self) -> int | None:
        return self._no_mask

    def accepted_predictions(self) -> dict[int, AcceptedPrediction]:
        """The states that are an accepted prediction, by state id."""
        return dict(self._accepted)

    # --- changes -----------------------------------------------------------------------------
    def mark_accepted(self, prediction: AcceptedPrediction) -> None:
        """The current state is exactly ``prediction``."""
        self._accepted[self.state_id] = prediction

    def mark_no_mask(self) -> None:
        """The current state is the image with no mask file: saving it removes the file."""
        self._no_mask = self.state_id

    def forget_automatic(self) -> None:
        """A mask was written: a prediction that became the mask by itself is from now on one
        like any other (an undo back to it is a change to save)."""
        self._accepted = {sid: dataclasses.replace(acc, automatic=False)
                          for sid, acc in self._accepted.items()}

    def push(self, delta: Delta) -> None:
        """Record an edit that has been applied to the mask; clears the redo stack."""
        step = Step.pack(delta, next(self._serials))
        self._drop_redo()
        self._undo.append(step)
        self._nbytes += step.nbytes
        self._trim()

    def undo(self, mask: np.ndarray) -> BBox | None:
        """Revert the newest step on ``mask``; returns the changed box or ``None``."""
        if not self._undo:
            return None
        step = self._undo.pop()
        self._redo.append(step)
        return step.revert(mask)

    def redo(self, mask: np.ndarray) -> BBox | None:
        if not self._redo:
            return None
        step = self._redo.pop()
        self._undo.append(step)
        return step.apply(mask)

    def clear(self) -> None:
        """Forget every step (the current mask becomes the new base state)."""
        self._base_id = next(self._serials)
        self._undo.clear()
        self._redo.clear()
        self._nbytes = 0
        self._accepted.clear()
        self._no_mask = None

    def trim_to(self, max_bytes: int) -> None:
        """Drop the oldest undo steps, then the farthest redo steps, until within ``max_bytes``
        (the newest undo step stays even if it alone is larger)."""
        while self._nbytes > max_bytes and len(self._undo) > 1:
            self._drop_oldest()
        while self._nbytes > max_bytes and self._redo:
            self._forget_step(self._redo.pop(0))

    def export(self) -> tuple[list[Step], list[Step]]:
        """The undo steps (oldest first) and the redo steps (as stacked), to store them."""
        return list(self._undo), list(self._redo)

    def restore(self, undo: list[Step], redo: list[Step],
                accepted: dict[int, AcceptedPrediction] | None = None,
                no_mask: int | None = None) -> None:
        """Replace the stacks with stored steps (numbered anew; limits applied), the accepted
        predictions stored with them and the no-mask state (by place in :meth:`state_ids`)."""
        self.clear()
        self._undo = [dataclasses.replace(s, serial=next(self._serials)) for s in undo]
        self._redo = [dataclasses.replace(s, serial=next(self._serials)) for s in redo]
        self._nbytes = sum(s.nbytes for s in (*self._undo, *self._redo))
        ids = self.state_ids()
        self._accepted = {ids[i]: acc for i, acc in (accepted or {}).items() if 0 <= i < len(ids)}
        self._no_mask = ids[no_mask] if no_mask is not None and 0 <= no_mask < len(ids) else None
        self._trim()

    # --- mask identity -----------------------------------------------------------------------
    def remember(self, mask: np.ndarray) -> None:
        """Store a checksum of ``mask`` as it is now (when the image is left)."""
        self.fingerprint = mask_fingerprint(mask)

    def matches(self, mask: np.ndarray) -> bool:
        """Whether ``mask`` is the one this history was left with (so its steps still fit)."""
        return self.fingerprint is None or self.fingerprint == mask_fingerprint(mask)

    # --- internals ---------------------------------------------------------------------------
    def _drop_oldest(self) -> None:
        step = self._undo.pop(0)
        self._accepted.pop(self._base_id, None)
        if self._no_mask == self._base_id:
            self._no_mask = None
        self._base_id = step.serial
        self._nbytes -= step.nbytes

    def _drop_redo(self) -> None:
        while self._redo:
            self._forget_step(self._redo.pop())

    def _forget_step(self, step: Step) -> None:
        """A redo step goes: the state it leads to can no longer be reached."""
        self._nbytes -= step.nbytes
        self._accepted.pop(step.serial, None)
        if self._no_mask == step.serial:
            self._no_mask = None

    def _trim(self) -> None:
        while len(self._undo) > self.max_steps:
            self._drop_oldest()
        self.trim_to(self.max_bytes)


def mask_fingerprint(mask: np.ndarray) -> int:
    """Cheap checksum of a mask's shape and pixels (CRC32; ~10 ms for 24 MP)."""
    head = f"{mask.shape}{mask.dtype}".encode()
    return zlib.crc32(np.ascontiguousarray(mask).data, zlib.crc32(head))


class HistoryStore:
    """One :class:`EditHistory` per image key, with a total memory cap across images.

    When the total exceeds ``max_total_bytes``, whole histories of the least recently used
    images are dropped (never the one just asked for).
    """

    def __init__(
        self,
        max_steps: int = DEFAULT_MAX_STEPS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_total_bytes: int = DEFAULT_STORE_BYTES,
    ):
        self.max_steps = max_steps
        self.max_bytes = max_bytes
        self.max_total_bytes = max_total_bytes
        self._histories: OrderedDict[str, EditHistory] = OrderedDict()

    def get(self, key: str, mask: np.ndarray | None = None) -> EditHistory:
        """The history of ``key`` (new if none). With ``mask``, a history whose remembered mask
        differs (the file changed meanwhile) is cleared, as its steps no longer fit."""
        history = self._histories.get(key)
        if history is None:
            history = EditHistory(self.max_steps, self.max_bytes)
            self._histories[key] = history
        elif mask is not None and not history.matches(mask):
            history.clear()
        self._histories.move_to_end(key)
        self.enforce_limit()
        return history

    def enforce_limit(self) -> None:
        """Drop least recently used histories until the total fits (keeps the newest one)."""
        while self.nbytes > self.max_total_bytes and len(self._histories) > 1:
            self._histories.popitem(last=False)

    def discard(self, key: str) -> None:
        self._histories.pop(key, None)

    def clear(self) -> None:
        self._histories.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._histories

    def __len__(self) -> int:
        return len(self._histories)

    def keys(self) -> list[str]:
        return list(self._histories)

    @property
    def nbytes(self) -> int:
        return sum(h.nbytes for h in self._histories.values())
