"""The editing session: the open workspace, the image being edited, saving and autosave.

A thin Qt layer (signals, a timer) over the Qt-free core: ``Workspace`` loads and saves,
``MaskDocument`` owns the mask and its undo history, ``HistoryStore`` keeps each image's history
while the user moves between images, ``RecoveryJournal`` holds autosaves.

Saving: leaving an image, quitting and Ctrl+S write the mask into the workspace
(``Workspace.save_mask``, atomic). Between those, an edit is autosaved to the recovery journal
within two seconds (never over the user's files; written off the UI thread by
``gui.editing.journal_writer``); a crash loses nothing older than that, and the
next :meth:`open_workspace` writes such leftovers into the workspace and reports them. An image
whose save fails keeps its document in memory (edits are never dropped) and is retried on quit.

A batch run over the open folder asks :meth:`is_protected` (from its writer thread) before each
write: the image on screen and every image with unsaved edits are never written by it. The set
is replaced under the workspace's write lock, so a batch write in progress finishes before an
image is loaded and none starts on it afterwards.

Accepting a model's prediction (:meth:`accept_prediction`) is one undo step. A mask saved while
it is still exactly an accepted prediction is recorded as ``predicted`` (with the model version
and uncertainty); once the user changes it, it is saved as ``corrected``. In a task with sparse
labels a mask file a model wrote (batch predict) opens all-unlabeled (``core.folder.open_document``)
with that mask as the prediction layer (:meth:`batch_prediction`; shown by the prediction
controller, with or without a model loaded): a saved correction holds the user's strokes (and
what the user accepted), the save that replaces the model's file keeps it in
``.unet-desktop/replaced/``, and undoing back to the image as it opened writes the model's mask
back ``predicted``.

Viewing never writes a mask file: a prediction that became the mask by itself (auto-accept) and
was not edited is neither saved nor autosaved when the image is left or the window closes; it
becomes a file once the user edits it, accepts it, saves (Ctrl+S) or marks it verified.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from unet_desktop.core.editing.delta import BBox, Delta, delta_from_masks
from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.editing.history import AcceptedPrediction, HistoryStore
from unet_desktop.core.editing.history_archive import HistoryArchive
from unet_desktop.core.editing.mask_values import erase_value
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.autosave import (
    RecoveryEntry,
    RecoveryJournal,
    default_recovery_dir,
    image_stamp,
    save_document,
)
from unet_desktop.core.folder.folder_lock import let_go
from unet_desktop.core.folder.image_entry import ImageEntry
from unet_desktop.core.folder.journal import file_identity
from unet_desktop.core.folder.open_document import (
    ModelsMask,
    is_models_mask_of_sparse_task,
    open_document,
)
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.paths import folder_identity
from unet_desktop.core.labels import LabelScheme
from unet_desktop.gui.editing.autosave_controller import DEFAULT_DELAY_MS, AutosaveController
from unet_desktop.gui.editing.journal_writer import JournalWriter


class EditingSession(QObject):
    """Opens images of a workspace into documents and writes them back."""

    folder_opening = Signal(object)  # the folder about to open; the open workspace still writes
    workspace_opened = Signal()
    document_opened = Signal()  # ``document`` is a new image (or None)
    mask_changed = Signal(object)  # the changed box (y0, x0, y1, x1)
    edit_state_changed = Signal()  # dirty flag or undo/redo labels may have changed
    # keys and messages as Python objects: a Qt string drops the bytes of a name not UTF-8
    entry_changed = Signal(object)  # key: an image's state or unsaved mark changed
    saved = Signal(object, str)  # key, reason ("save", "leave", "quit", "verify", "recovered")
    autosaved = Signal(object)  # key written to the recovery journal
    error = Signal(object)  # a message for the user (load or save failure)
    notice = Signal(object)  # what a save did beside saving, for the status bar (not an error)

    def __init__(
        self,
        histories: HistoryStore | None = None,
        journal: RecoveryJournal | None = None,
        autosave_delay_ms: int = DEFAULT_DELAY_MS,
        parent: QObject | None = None,
        archive: HistoryArchive | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.document: MaskDocument | None = None
        self.histories = histories or HistoryStore()
        # the timer's autosaves are written off this thread (gui.editing.journal_writer)
        self._journal_writer = JournalWriter(journal or RecoveryJournal(default_recovery_dir()),
                                             self)
        self._journal_writer.written.connect(self.autosaved)
        self._journal_writer.failed.connect(self.error)
        self.archive = archive or HistoryArchive()  # undo history across restarts
        self._unsaved: dict[str, MaskDocument] = {}  # left images whose save failed
        # sparse task: the masks a model wrote that images opened without (open_document)
        self._models_masks: dict[str, ModelsMask] = {}
        # whether a prediction Enter can accept is on screen over an image (the prediction
        # controller tells; without one: none)
        self.acceptable_prediction_shown: Callable[[str], bool] = lambda _key: False
        # (workspace root, keys) a batch run must leave alone; replaced whole, read by any thread
        self._protected: tuple[Path | None, frozenset[str]] = (None, frozenset())
        self.autosave = AutosaveController(
            self._autosave_in_background, self._in_stroke, autosave_delay_ms, self
        )
        # the read-only folder reopens to be written: leaving it is no failure to report
        self._reopening_writable = False
        self._leaving_folder = False  # a save failing now leaves the edits in the journal
        self.folder_opening.connect(self._on_folder_opening)

    # --- queries -------------------------------------------------------------------------------
    @property
    def journal(self) -> RecoveryJournal:
        """The recovery journal, once the autosave being written (if any) is on disk: what this
        thread reads or writes there comes after every autosave handed over before."""
        self._journal_writer.wait_idle()
        return self._journal_writer.journal

    @property
    def current_key(self) -> str | None:
        return self.document.key if self.document else None

    def is_dirty(self, key: str) -> bool:
        if self.document is not None and self.document.key == key:
            return self.document.dirty and not self.only_viewed()
        return key in self._unsaved

    def only_viewed(self, document: MaskDocument | None = None) -> bool:
        """Whether the (current) mask is a prediction that became the mask by itself and was
        not edited: such a mask is not written when the image is left."""
        document = document or self.document
        return self.is_accepted_prediction(document) and document.history.accepted.automatic

    def unsaved_keys(self) -> list[str]:
        """Images with edits of the user's not yet written (a prediction only looked at is
        none: leaving it writes nothing)."""
        keys = list(self._unsaved)
        if self.document is not None and self.is_dirty(self.document.key):
            keys.append(self.document.key)
        return keys

    def is_protected(self, key: str, root: str | Path | None = None) -> bool:
        """Whether a batch run must not write the mask of ``key`` (in the workspace at ``root``;
        default: the open one): the image on screen or one with unsaved edits. Thread-safe."""
        protected_root, keys = self._protected
        return key in keys and (root is None or folder_identity(root) == protected_root)

    def _update_protected(self, *also: str) -> None:
        """Protect the images with unsaved edits (the one on screen once edited or a prediction
        accepted) and ``also`` (an image about to load). An image on screen only looked at (a
        prediction it showed by itself included) is not: a batch run writes it and the view
        shows what it wrote (:meth:`reload_image`)."""
        document = self.document
        edited = [document.key] if document is not None and self.is_dirty(document.key) else []
        keys = frozenset((*self._unsaved, *also, *edited))
        ws = self.workspace
        if ws is None:
            self._protected = (None, frozenset())
            return
        if self._protected == (folder_identity(ws.root), keys):
            return
        with ws.write_lock:  # waits for a batch write in progress; no new one starts on them
            self._protected = (folder_identity(ws.root), keys)

    def is_accepted_prediction(self, document: MaskDocument | None = None) -> bool:
        """Whether the (current) mask is exactly a prediction accepted and not edited since."""
        document = document or self.document
        if document is None or document.in_stroke:
            return False
        return document.history.accepted is not None  # kept with the history (see EditHistory)

    def batch_prediction(self, key: str) -> ModelsMask | None:
        """In a task with sparse labels, the mask a model wrote into the file of ``key`` (a
        batch prediction, which the image opened without: ``open_document``), while the file
        still holds it; the prediction controller shows it as the prediction layer."""
        models_mask = self._models_masks.get(key)
        ws = self.workspace
        if models_mask is None or ws is None or key not in ws \
                or not is_models_mask_of_sparse_task(ws, ws[key]):
            return None
        return models_mask

    def has_user_edits(self) -> bool:
        """Unsaved changes of the current mask other than an accepted prediction."""
        document = self.document
        return document is not None and document.dirty and not self.is_accepted_prediction()

    def _in_stroke(self) -> bool:
        return self.document is not None and self.document.in_stroke

    # --- opening -------------------------------------------------------------------------------
    def open_workspace(self, folder: str | Path,
                       default_scheme: LabelScheme | None = None) -> list[str]:
        """Open ``folder`` (raises :class:`FileError`) after leaving the current image; returns
        the keys of edits recovered from an earlier session that did not end normally.
        ``default_scheme`` (the model's) applies when nothing in the folder tells the scheme.
        ``folder_opening`` goes first: a run writing the open folder stops while it still can
        (its Workspace writes nothing once closed; two of one folder would overwrite states);
        a path that is no folder (moved, renamed) is refused before it, and stops nothing."""
        root = Path(folder).expanduser().absolute()
        if not root.is_dir():
            raise FileError(root, "not a folder")  # as Workspace.open says it
        self.folder_opening.emit(root)
        workspace = Workspace.open(folder, default_scheme=default_scheme, writer=True)
        self._leaving_folder = True
        try:
            self.save_all("leave")  # what fails stays in the recovery journal for next time
            self.close_document("leave")
        finally:
            self._leaving_folder = False
        if self.workspace is not None:
            self.workspace.close()  # its lock goes (re-entrant: the same folder stays held)
        self.workspace = workspace
        self.histories.clear()
        self._unsaved.clear()
        self._models_masks.clear()
        recovered = self._recover()
        self._update_protected()
        self.workspace_opened.emit()
        return recovered

    def _on_folder_opening(self, folder: Path) -> None:
        ws = self.workspace
        self._reopening_writable = (
            ws is not None and ws.read_only and ws.lock_holder is not None
            and folder_identity(folder) == folder_identity(ws.root) and self.writer_ended())

    def writer_ended(self) -> bool:
        """Whether the open folder was read-only because another window wrote it and that
        window has closed it (or ended) since: opening it again here makes it writable."""
        ws = self.workspace
        if ws is None or not ws.read_only or ws.lock_holder is None:
            return False
        return let_go(ws.root, ws.lock_holder)

    def _recover(self) -> list[str]:
        """Write autosaves left in the journal into the workspace (or keep them in memory); what
        cannot be matched to an image here stays in the journal and is said."""
        self._reopening_writable = False
        ws = self.workspace
        recovered, notes = [], []
        leftovers = self.journal.left_behind(ws.root)  # not another live window's
        for entry in leftovers:
            if entry.key not in ws:
                continue
            try:
                mask = self.journal.load(entry, ws.scheme)
            except FileError as exc:
                notes.append(f"Cannot recover the autosave of {entry.key}: {exc}")
                continue
            if entry.no_mask and _no_users_mask(ws, ws[entry.key]):
                self.journal.discard(ws.root, entry.key)  # as the edits left it: nothing to do
                continue
            if not entry.no_mask and self._saved_already(entry.key, mask):
                self.journal.discard(ws.root, entry.key)  # killed between a save and its discard
                continue
            recovered.append(entry.key)
            newer = _replaced_since_edit(ws[entry.key], entry)
            before = self._mask_on_disk(entry.key, mask)
            # a sparse task's image opened all-unlabeled over a model's mask (open_document)
            models_entry = (dataclasses.replace(ws[entry.key]) if before is not None
                            and is_models_mask_of_sparse_task(ws, ws[entry.key]) else None)
            no_file = not ws[entry.key].has_mask  # a slice: its page is unlabeled
            try:
                if entry.no_mask:  # every edit undone: unlabeled, the file saved since kept
                    ws.remove_mask(entry.key)
                else:
                    ws.save_mask(entry.key, mask, *_recovered_as(ws, entry),
                                 keep_existing=newer or models_entry is not None)
            except (FileError, OSError):
                document = self._load_document(entry.key)  # the mask on disk, then the edits
                if document is not None and document.shape == mask.shape:
                    document.replace_mask(mask, "Recovered autosave")
                    if entry.accepted_version is not None:  # its save records the model's
                        document.history.mark_accepted(
                            AcceptedPrediction(entry.accepted_version, entry.uncertainty))
                    if entry.no_mask:
                        document.history.mark_no_mask()  # its save takes the file away
                    self._unsaved[entry.key] = document
                    self.journal.adopt(entry)  # this window's to save or clear from now on
                continue
            self._recovered_step(entry.key, before, mask, no_file, models_entry)
            if entry.no_mask:
                self.histories.get(entry.key, mask).mark_no_mask()  # a redo saves it again
            self.journal.discard(ws.root, entry.key)
            self.saved.emit(entry.key, "recovered")
            if newer:
                notes.append(_newer_note(ws[entry.key]))
        unmatched = _not_told([e for e in leftovers if e.key not in ws])
        moved = _not_told([e for e in self.journal.left_in_gone_folders()
                           if _same_image(ws, e)])
        if unmatched or moved:
            notes.append(_unmatched_note(unmatched, moved, self.journal))
        if notes:
            self.error.emit("\n".join(notes))  # one message: a second would hide the first
        return recovered

    def _saved_already(self, key: str, autosaved: np.ndarray) -> bool:
        """Whether the user's mask file of ``key`` already holds ``autosaved``: the edits were
        saved (with the state that save recorded, 'verified' included) and the app ended before
        their autosave was discarded. A sparse task's file of a model's mask is not the user's."""
        ws = self.workspace
        entry = ws[key]
        if not entry.has_mask or is_models_mask_of_sparse_task(ws, entry):
            return False
        try:
            on_disk = ws.load_mask(key)
        except FileError:
            return False
        return on_disk is not None and np.array_equal(on_disk, autosaved)

    def _mask_on_disk(self, key: str, like: np.ndarray) -> np.ndarray | None:
        """The mask of ``key`` as the files hold it (an empty one when there is no file), or
        None when it cannot be read or is not of ``like``'s size."""
        try:
            mask = self.workspace.load_mask(key)
        except FileError:
            return None
        if mask is None:
            mask = np.full_like(like, erase_value(self.workspace.scheme))
        return mask if mask.shape == like.shape else None

    def _recovered_step(self, key: str, before: np.ndarray | None, recovered: np.ndarray,
                        no_file: bool, models_entry: ImageEntry | None = None) -> None:
        """A recovered autosave written over the mask ``before`` (``no_file``: none) is one
        undo step, as an edit of the user's: Ctrl+Z gives back the mask saved before the crash
        (or no mask file). ``models_entry``: ``before`` is a model's mask a sparse task's image
        opened without (its entry as it was): the edits started all-unlabeled, so Ctrl+Z gives
        back that, and leaving it writes the model's mask back ``predicted``."""
        models_mask = None
        if models_entry is not None and before is not None:
            models_mask, before, no_file = before, np.full_like(
                recovered, erase_value(self.workspace.scheme)), True
        delta = None if before is None else delta_from_masks(before, recovered,
                                                             "Recovered autosave")
        if delta is not None:
            history = self.histories.get(key)
            if no_file:
                history.mark_no_mask()
            if models_mask is not None:
                self._models_masks[key] = ModelsMask.of(models_mask, history, models_entry)
            history.push(delta)
            history.remember(recovered)

    def open_image(self, key: str) -> bool:
        """Leave the current image (saving it) and load ``key``; False if it cannot be read."""
        if self.workspace is None or key == self.current_key:
            return key == self.current_key
        self._reopening_writable = False
        self._update_protected(key)  # before its mask is read
        self.close_document("leave")
        document = self._unsaved.pop(key, None)
        if document is None:
            document = self._load_document(key)
        if document is None:
            self._update_protected()
            self.document_opened.emit()
            return False
        document.add_listener(self._on_document_changed)
        self.document = document
        self._update_protected()
        self.document_opened.emit()
        self.edit_state_changed.emit()
        return True

    def reload_image(self, key: str) -> bool:
        """Read the current image's mask again after another writer (batch prediction) changed
        it; only when it has no unsaved edits (a prediction only looked at is none). True if
        reloaded."""
        document = self.document
        if document is None or document.key != key or self.is_dirty(key):
            return False
        self.autosave.cancel()
        document.park()
        document.remove_listener(self._on_document_changed)
        if document.dirty:  # a prediction only looked at: its undo step is no edit to keep
            self.histories.discard(key)
            self._forget_own_autosave(key)
        self.document = None
        return self.open_image(key)

    def _load_document(self, key: str) -> MaskDocument | None:
        self._note_start(key)  # before the read: a file replaced meanwhile counts as changed
        return open_document(self.workspace, key, self.histories, self.archive, self.error.emit,
                             self._models_masks)

    def _note_start(self, key: str) -> None:
        """Tell the journal which mask file (if any) the edits of ``key`` start from: recovery
        compares it with the file there then."""
        entry = self.workspace[key]
        base = file_identity(entry.mask_path) if entry.has_mask else None
        self._journal_writer.journal.note_start(self.workspace.root, key, base)

    def close_document(self, reason: str = "leave") -> bool:
        """Save the current image if it has unsaved edits and let it go. False if the save
        failed (the edits then stay in memory and the image stays marked unsaved)."""
        document = self.document
        if document is None:
            return True
        ok = self.save(reason)
        self.autosave.cancel()
        document.park()
        document.remove_listener(self._on_document_changed)
        if ok:
            self._archive(document)
        else:
            self._unsaved[document.key] = document
            self.autosave_now(document)
        self.document = None
        self._update_protected()
        return ok

    # --- editing -------------------------------------------------------------------------------
    def accept_prediction(self, labels: np.ndarray, model_version: str,
                          uncertainty: float | None = None,
                          automatic: bool = False) -> BBox | None:
        """Make ``labels`` (stored values) the current mask as one undo step. An earlier
        accepted prediction that was neither edited nor saved since is replaced, not stacked on:
        one Undo still brings back the mask from before any prediction, or the saved one (a
        saved prediction is stacked on). ``automatic``: not asked for by the user
        (auto-accept), so not written unless the user goes on with it."""
        document = self.document
        if document is None:
            return None
        if self.is_accepted_prediction() and document.dirty and document.can_undo:
            document.undo()
        bbox = document.replace_mask(labels, "Accept prediction")
        if bbox is not None:
            document.history.mark_accepted(
                AcceptedPrediction(model_version, uncertainty, automatic))
        self.edit_finished()
        return bbox

    def apply(self, delta: Delta | None) -> BBox | None:
        """Apply a whole-mask edit (band, fill holes, ...) as one undo step."""
        if self.document is None:
            return None
        bbox = self.document.apply(delta)
        self.edit_finished()
        return bbox

    def edit_finished(self) -> None:
        """Called after a stroke or any edit: refresh labels and unsaved marks."""
        self._update_protected()  # an undo back to the file, an accepted prediction: not edited
        self.edit_state_changed.emit()
        if self.document is not None:
            self.entry_changed.emit(self.document.key)

    def undo(self) -> BBox | None:
        if self.document is None:
            return None
        bbox = self.document.undo()
        self.edit_finished()
        return bbox

    def redo(self) -> BBox | None:
        if self.document is None:
            return None
        bbox = self.document.redo()
        self.edit_finished()
        return bbox

    def _on_document_changed(self, bbox: BBox) -> None:
        self.mask_changed.emit(bbox)
        self.autosave.notify_edit()
        if self.document is not None and self.document.key not in self._protected[1]:
            self._update_protected()  # edited now: a batch run leaves it alone

    # --- saving --------------------------------------------------------------------------------
    def _autosave_in_background(self) -> None:
        """The timer's autosave: the current mask copied here, written by the journal writer."""
        document = self.document
        if document is None or self.workspace is None:
            return
        if not document.dirty or self.only_viewed(document) or document.in_stroke:
            self.autosave_now(document)  # a discard (or nothing): no mask to encode
            return
        accepted = document.history.accepted  # a prediction accepted: a save records it so
        self._journal_writer.submit(self.workspace.root, document.key, document.mask.copy(),
                                    document.scheme, document.history.at_no_mask, accepted)

    def shutdown(self) -> None:
        """Wait for the autosave being written and stop its thread (the window closes)."""
        self.autosave.cancel()
        self._journal_writer.shutdown()

    def autosave_now(self, document: MaskDocument | None = None) -> bool:
        """Write the (current) document's unsaved edits to the recovery journal."""
        document = document or self.document
        if document is None or self.workspace is None:
            return True
        try:
            if not document.dirty or self.only_viewed(document):  # nothing of the user's
                self._forget_own_autosave(document.key)
            elif save_document(self.journal, self.workspace.root, document) is not None:
                self.autosaved.emit(document.key)
        except (FileError, OSError) as exc:
            self.error.emit(f"Autosave failed: {exc}")
            return False
        return True

    def save(self, reason: str = "save") -> bool:
        """Write the current mask into the workspace if it has unsaved edits (``corrected``)."""
        document = self.document
        if document is None:
            return True
        if not document.dirty:
            self._forget_own_autosave(document.key)
            return True
        if reason != "save" and self.only_viewed(document):  # viewing never writes a file
            self._forget_own_autosave(document.key)
            return True
        return self._write(document, reason)

    def _forget_own_autosave(self, key: str) -> None:
        """Nothing was saved: only this window's autosave of ``key`` goes. One left by a window
        that ended (a crash) stays for the window that writes the folder to recover."""
        self.journal.discard(self.workspace.root, key, only_mine=True)

    def _save_failed_message(self, exc: Exception) -> str:
        kept = (f"Your edits are kept in the recovery journal: open {self.workspace.root} again "
                "to get them back" if self._leaving_folder else "Your edits are kept in memory")
        message = f"Could not save the mask: {exc}. {kept}."
        if self.writer_ended():
            message += (f" The window that wrote {self.workspace.root.name} "
                        f"({self.workspace.lock_holder.describe()}) no longer holds it: open "
                        "the folder again here (File > Open Recent) to write it; your edits "
                        "are then saved.")
        return message

    def _archive(self, document: MaskDocument) -> None:
        """Keep the undo history of a saved document for the next time the app opens it."""
        if self.workspace is not None and not document.dirty:
            self.archive.store(self.workspace.root, document.key, document.history,
                               document.mask)

    def save_all(self, reason: str = "quit") -> list[str]:
        """Save the current image and every image kept in memory; returns the keys that failed."""
        failed = [] if self.save(reason) else [self.current_key]
        if not failed and self.document is not None:
            self._archive(self.document)
        for key, document in list(self._unsaved.items()):
            if self._write(document, reason):
                del self._unsaved[key]
            else:
                failed.append(key)
        self._update_protected()
        return failed

    def mark_verified(self) -> bool:
        """Save the current mask (with its edits) as ``verified``. Without edits only the
        state changes, unless the mask file is gone or another program rewrote it: the mask
        verified is the one on screen, so it is written (a rewritten file is kept aside)."""
        document = self.document
        if document is None:
            return False
        if self._models_mask_at(document) is not None:
            self.error.emit(self._nothing_to_verify_message(document.key))
            return False
        entry = self.workspace[document.key]
        if (document.dirty or not entry.has_mask or not entry.mask_path.is_file()
                or self.workspace.changed_on_disk(document.key)):
            return self._write(document, "verify", ImageState.VERIFIED)
        try:
            self.workspace.set_state(document.key, ImageState.VERIFIED)
        except (FileError, ValueError) as exc:
            self.error.emit(f"Cannot mark {document.key} verified: {exc}")
            return False
        self.entry_changed.emit(document.key)
        self.saved.emit(document.key, "verify")
        return True

    def _write(self, document: MaskDocument, reason: str,
               state: ImageState | None = None) -> bool:
        """Save ``document``: as ``state`` if given, else ``predicted`` while it is an accepted
        prediction and ``corrected`` otherwise. In a sparse task an accepted prediction is
        ``corrected`` too: there a prediction becomes labels only where the user accepts it,
        so what the mask labels is the user's (saved as ``predicted`` it left the training
        images, and batch predict could write over it). Back at the state the image opened in
        with no mask file (every edit undone), the file saved since is kept aside and the image
        is ``unlabeled`` again, not a ``corrected`` empty mask; where the image opened with a
        mask a model wrote (a sparse task), that mask is written back ``predicted``."""
        key = document.key  # a drag in progress stays open: mark_saved keeps it one step
        models_mask = self._models_mask_at(document) if state is None else None
        if models_mask is not None:
            return self._write_back(document, models_mask, reason)
        unlabeled = state is None and document.history.at_no_mask
        accepted = document.history.accepted if self.is_accepted_prediction(document) else None
        if state is None:
            sparse = self.workspace.scheme.ignore_value is not None
            state = ImageState.PREDICTED if accepted and not sparse else ImageState.CORRECTED
        version = (accepted.model_version or None) if accepted else None  # "": none recorded
        uncertainty = accepted.uncertainty if accepted else None
        theirs = self.workspace.changed_on_disk(key)  # another program wrote it meanwhile
        # a sparse task's file of a model's mask, replaced by what the user labelled: kept
        models = not unlabeled and is_models_mask_of_sparse_task(self.workspace,
                                                                 self.workspace[key])
        try:
            if not unlabeled:
                self.workspace.save_mask(key, document.mask, state, version, uncertainty,
                                         keep_existing=models)
            elif self.workspace[key].has_mask:
                theirs = self.workspace.remove_mask(key) is not None and theirs  # kept aside
            else:
                theirs = False
        except (FileError, OSError) as exc:
            if not (self._reopening_writable and self.workspace.read_only):  # saved on reopen
                self.error.emit(self._save_failed_message(exc))
            self.entry_changed.emit(key)
            return False
        self._written(document, reason, _kept_theirs_message(key, unlabeled) if theirs else None)
        if models:  # the sparse workflow's usual save: said in the status bar, not as a warning
            self.notice.emit(_kept_models_message(key))
        return True

    def _nothing_to_verify_message(self, key: str) -> str:
        """Mark Verified on a sparse task's image as it opened over a model's mask file."""
        said = (f"Nothing to mark verified on {key}: its mask file holds a model's prediction, "
                "set aside (a task with sparse labels saves only what you paint or accept), "
                "and nothing is labelled on screen.")
        if self.acceptable_prediction_shown(key):
            return f"{said} Accept the prediction (Enter) or paint, then mark it verified."
        return (f"{said} No prediction is shown (no model that labels this task's classes has "
                "predicted it): paint, or open such a model and accept its prediction (Enter), "
                "then mark it verified. The first save keeps the model's mask file in "
                ".unet-desktop/replaced/.")

    def _models_mask_at(self, document: MaskDocument) -> ModelsMask | None:
        """The mask a model wrote that ``document``'s current state stands for (a sparse task's
        image as it opened from a batch prediction), if this session has it."""
        models_mask = self._models_masks.get(document.key)
        if models_mask is None or not models_mask.stands_for(document.history) \
                or document.in_stroke:
            return None
        return models_mask

    def _write_back(self, document: MaskDocument, models_mask: ModelsMask, reason: str) -> bool:
        """Every edit undone on an image that opened with a model's mask: write that mask back
        as it was, ``predicted`` by its model."""
        key, prediction = document.key, models_mask.prediction
        theirs = self.workspace.changed_on_disk(key)
        try:
            self.workspace.save_mask(key, models_mask.mask, ImageState.PREDICTED,
                                     prediction.model_version or None, prediction.uncertainty)
        except (FileError, OSError) as exc:
            if not (self._reopening_writable and self.workspace.read_only):
                self.error.emit(self._save_failed_message(exc))
            self.entry_changed.emit(key)
            return False
        self._written(document, reason, _kept_theirs_message(key, False) if theirs else None)
        return True

    def _written(self, document: MaskDocument, reason: str, note: str | None) -> None:
        """``document`` was saved: it is clean, its autosave goes, the list follows; ``note``:
        a message for the user (another program's file kept aside)."""
        key = document.key
        document.mark_saved()
        document.history.forget_automatic()  # an undo back to a prediction now changes the file
        self._note_start(key)  # further edits start from the file just written
        if note:
            self.error.emit(note)
        if document is self.document:
            self.autosave.cancel()
        try:
            self.journal.discard(self.workspace.root, key)
        except OSError as exc:  # the mask is saved; a stale autosave is only a nuisance
            self.error.emit(f"Could not update the recovery journal: {exc}")
        self.entry_changed.emit(key)
        self.edit_state_changed.emit()
        self.saved.emit(key, reason)


def _kept_theirs_message(key: str, removed: bool) -> str:
    """What a save over a mask file another program wrote meanwhile says (``removed``: the undo
    back to no mask file took it away)."""
    outcome = ("the image is unlabeled again (no mask file), as your undo left it" if removed
               else "yours saved")
    return (f"{key}: its mask file was changed by another program while it was open here; that "
            f"version was kept in .unet-desktop/replaced/ and {outcome}")


def _kept_models_message(key: str) -> str:
    """What the save that replaces a model's mask file of a sparse task says."""
    return (f"{key}: its mask file held a model's prediction; it was kept in "
            ".unet-desktop/replaced/ and the file now holds only what you labelled")


def _no_users_mask(ws: Workspace, entry: ImageEntry) -> bool:
    """Whether the image holds no mask of the user's: no mask file (a slice: its page
    unlabeled), or a sparse task's file of a model's mask (it opens all-unlabeled)."""
    return not entry.has_mask or is_models_mask_of_sparse_task(ws, entry)


def _recovered_as(ws: Workspace, entry: RecoveryEntry) -> tuple[ImageState, str | None,
                                                                 float | None]:
    """The state, model version and uncertainty a recovered autosave is saved with: what
    :meth:`EditingSession._write` records of the same mask (an accepted prediction not edited:
    ``predicted`` by its model, ``corrected`` in a task with sparse labels; the user's edits:
    ``corrected``)."""
    if entry.accepted_version is None:
        return ImageState.CORRECTED, None, None
    sparse = ws.scheme.ignore_value is not None
    state = ImageState.CORRECTED if sparse else ImageState.PREDICTED
    return state, entry.accepted_version or None, entry.uncertainty


def _replaced_since_edit(entry: ImageEntry, autosave: RecoveryEntry) -> bool:
    """Whether the image's mask file is not the one the autosaved edits started from (another
    window saved it meanwhile); autosaves that did not record it: whether it is newer."""
    if autosave.base is None:
        return _newer_than_autosave(entry, autosave.saved_at)
    if entry.is_slice and not entry.has_mask:
        return False
    now = file_identity(entry.mask_path)
    return now is not None and tuple(now) != autosave.base


def _newer_than_autosave(entry: ImageEntry, saved_at: float) -> bool:
    """Whether the image's mask file was written after its autosave at ``saved_at``. A stack's
    file is rewritten for any of its slices: a slice whose page is unlabeled has nothing of its
    own there to be newer."""
    if entry.is_slice and not entry.has_mask:
        return False
    return _written_after(entry.mask_path, saved_at)


def _newer_note(entry: ImageEntry) -> str:
    if entry.is_slice:
        return (f"{entry.key}: its mask stack {entry.mask_path.name} was written after your "
                "unsaved edits (for this slice or another) and they were recovered over it; "
                "the stack as it was is kept in .unet-desktop/replaced/")
    return (f"{entry.key}: its mask file is newer than your unsaved edits (another window or "
            "program saved it after they started); they were recovered over it and that version "
            "was kept in .unet-desktop/replaced/")


_TOLD: set[str] = set()  # leftovers already named in this session (their journal file names)


def _not_told(entries: list[RecoveryEntry]) -> list[RecoveryEntry]:
    """The leftovers not named yet in this session (each is named once, not at every open)."""
    new = [e for e in entries if e.mask_file not in _TOLD]
    _TOLD.update(e.mask_file for e in new)
    return new


def _same_image(ws: Workspace, leftover: RecoveryEntry) -> bool:
    """Whether a leftover of a folder that is gone is of this folder's image of that name (the
    folder was moved or renamed to this one): the image file's time and size are the same
    (an autosave that did not record them: the name alone)."""
    if leftover.key not in ws:
        return False
    return leftover.image is None or image_stamp(ws.root, leftover.key) == leftover.image


def _unmatched_note(unmatched: list[RecoveryEntry], moved: list[RecoveryEntry],
                    journal: RecoveryJournal) -> str:
    """Leftovers of a session that ended unexpectedly that match no image of this folder."""
    items = [f"{e.key} (autosaved {e.saved_at_text}, file {e.mask_file}): no image of that "
             "name here now (renamed or deleted?)" for e in unmatched]
    items += [f"{e.key} of {e.workspace} (autosaved {e.saved_at_text}, file {e.mask_file}): "
              "that folder no longer exists (moved or renamed?)" for e in moved]
    shown = "; ".join(items[:5]) + (f"; and {len(items) - 5} more" if len(items) > 5 else "")
    return (f"Unsaved edits of {len(items)} image(s), left when the app last ended "
            f"unexpectedly, were not recovered here; they are kept in {journal.masks_dir} "
            f"(File > Discard Unrecovered Autosaves forgets them): {shown}")


def _written_after(path: Path, when: float) -> bool:
    """Whether the file at ``path`` was written after ``when`` (epoch seconds)."""
    try:
        return path.stat().st_mtime > when
    except OSError:
        return False
