"""An image of a workspace opened for editing: its stored values shown through the folder's
contrast, its mask (or an empty one when the file is missing, unreadable or of another size; one
of another size is recorded invalid, so that a save keeps it aside before replacing it) and its
undo history (kept in memory while the user moves around, else restored from the archive of an
earlier session). Two states of the history are marked as the files hold them: a missing file's,
so that undoing back to it removes a file saved since, and a mask file recorded 'predicted' (a
batch run's), so that undoing back to it saves the model's output 'predicted' again, not as a
correction."""

from __future__ import annotations

import zlib
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

import numpy as np

from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.editing.history import AcceptedPrediction, EditHistory, HistoryStore
from unet_desktop.core.editing.history_archive import HistoryArchive
from unet_desktop.core.editing.mask_values import erase_value
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.image_entry import ImageEntry
from unet_desktop.core.folder.invalid_masks import size_mismatch
from unet_desktop.core.folder.manifest import ImageState
from unet_desktop.core.io.display import render


@dataclass(frozen=True)
class ModelsMask:
    """The mask a model wrote into a sparse task's file (recorded 'predicted'), which the image
    opened without: state ``state`` of ``history`` (all-unlabeled) stands for it."""

    history: EditHistory
    state: int
    packed: bytes  # zlib of the mask's values: kept for the session, a prediction packs small
    shape: tuple[int, int]
    prediction: AcceptedPrediction

    @classmethod
    def of(cls, mask: np.ndarray, history: EditHistory, entry: ImageEntry) -> ModelsMask:
        return cls(history, history.state_id, zlib.compress(np.ascontiguousarray(mask).data, 1),
                   mask.shape, AcceptedPrediction(entry.model_version or "", entry.uncertainty))

    def stands_for(self, history: EditHistory) -> bool:
        """Whether ``history`` is at the state that stands for this mask file."""
        return history is self.history and history.state_id == self.state

    @property
    def mask(self) -> np.ndarray:
        return np.frombuffer(zlib.decompress(self.packed), np.uint8).reshape(self.shape).copy()


def open_document(ws, key: str, histories: HistoryStore, archive: HistoryArchive,
                  report: Callable[[str], None],
                  models_masks: MutableMapping[str, ModelsMask] | None = None,
                  ) -> MaskDocument | None:
    """The document of ``key``, or None when its image cannot be read; every problem is passed
    to ``report`` as a message for the user. In a sparse task a mask file a model wrote opens
    all-unlabeled, the file's mask kept in ``models_masks`` (module docstring)."""
    try:
        stored = ws.load_raw(key)  # decoded once: shown through the folder's contrast
        image = render(stored, ws.view.limits)
    except FileError as exc:
        report(f"Cannot open the image: {exc}")
        return None
    mask: np.ndarray | None = None
    known_invalid = key in ws.invalid
    try:
        mask = ws.load_mask(key)
    except FileError as exc:
        if not known_invalid:  # reported once; the file is kept aside if you save over it
            report(f"{exc}; starting from an empty mask")
    if mask is not None and mask.shape != image.shape[:2]:
        reason = size_mismatch(ws[key], mask.shape, image.shape)
        ws.invalid[key] = reason  # so that a save keeps the file aside before replacing it
        report(f"{reason}; starting from an empty mask")
        mask = None
    from_file = mask is not None
    models_mask = mask if from_file and is_models_mask_of_sparse_task(ws, ws[key]) else None
    if mask is None or models_mask is not None:
        mask = np.full(image.shape[:2], erase_value(ws.scheme), dtype=np.uint8)
    fresh = key not in histories
    history = histories.get(key, mask)
    if fresh:
        archive.restore(ws.root, key, mask, history)
    if not ws[key].has_mask or models_mask is not None:
        history.mark_no_mask()  # saving this state removes the file (a slice: its page)
    if models_mask is not None:  # ... unless this session still has the model's mask to write
        if models_masks is not None:
            models_masks[key] = ModelsMask.of(models_mask, history, ws[key])
    elif from_file:
        _mark_a_saved_prediction(ws[key], history)
    return MaskDocument(key, image, mask, ws.scheme, history,
                        stored=None if stored is image else stored)


def is_models_mask_of_sparse_task(ws, entry: ImageEntry) -> bool:
    """Whether the image's mask file is a model's output (recorded 'predicted': a batch run's,
    ``predict --in-place``'s) in a task with sparse labels, where it is not the user's label."""
    return ws.scheme.ignore_value is not None and entry.state is ImageState.PREDICTED


def _mark_a_saved_prediction(entry: ImageEntry, history: EditHistory) -> None:
    """A mask file recorded 'predicted' (a batch run's, ``predict --in-place``'s) is the model's
    output: its state in the history is an accepted prediction, so that an undo back to it after a
    saved correction saves it 'predicted', not as a label of the user's. Not automatic: that undo
    changes the file, so it is saved."""
    if entry.state is ImageState.PREDICTED and history.accepted is None:
        history.mark_accepted(AcceptedPrediction(entry.model_version or "", entry.uncertainty))
