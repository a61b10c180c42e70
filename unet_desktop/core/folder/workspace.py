"""A workspace: a folder of images, their masks, and where each image stands in the labelling
cycle. :class:`Workspace` owns the open folder's state; what it reads and writes is each in a
module of its own:

- opening (:mod:`.folder_open`): the scan by names only, the folder's lock, the manifest and its
  journal merged with the mask files on disk (:mod:`.folder_states`: ``state != UNLABELED``
  exactly when the image has a mask file), the label scheme (:mod:`.scheme_choice`) and the
  folder's labelling task (``task``, :mod:`unet_desktop.core.folder.task`). Opening writes
  nothing but what :mod:`.folder_open` says; a read-only folder opens with a warning, states
  then live in memory only and ``save_mask`` raises :class:`MaskError`;
- masks (:mod:`.mask_files`): written only as PNG files directly inside the mask folder;
  :meth:`changed_on_disk` tells whether a mask file was replaced by someone else (another window
  or program) since this workspace last read or wrote it, or since it opened: batch prediction
  never overwrites such a mask;
- invalid masks (:mod:`.invalid_masks`): a mask file whose values or size do not fit the scheme
  is recorded in ``invalid`` (key -> reason) when it is read (:meth:`load_mask`,
  :meth:`check_masks`) and is not ``labelled()`` until a mask is saved for it in this scheme;
- the manifest (:mod:`.manifest_writer`): each ``save_mask`` is journalled before the mask is
  written, so that a run killed before the manifest was written loses no state;
- the images (:mod:`.image_files`) and the view settings (:mod:`.view_settings`).

One writer: ``open(folder, writer=True)`` (the window) takes the folder's advisory lock; when
another live process holds it, the workspace opens read-only and ``lock_holder`` names that
process. :meth:`close` lets it go. ``save_mask`` and ``set_state`` are thread-safe.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np

from unet_desktop.core.errors import FileError, MaskError
from unet_desktop.core.folder.folder_lock import FolderLock, LockHolder
from unet_desktop.core.folder.folder_open import load_task_or_warn, open_folder
from unet_desktop.core.folder.image_entry import LABELLED_STATES, ImageEntry
from unet_desktop.core.folder.image_files import read_raw
from unet_desktop.core.folder.invalid_masks import LockedDict, check_stepwise, keep_aside
from unet_desktop.core.folder.journal import file_identity
from unet_desktop.core.folder.layouts import FolderScan
from unet_desktop.core.folder.manifest import (
    ImageState,
    JournalLine,
    Manifest,
    ManifestRecord,
    clean_uncertainty,
)
from unet_desktop.core.folder.manifest_writer import ManifestWriter
from unet_desktop.core.folder.mask_files import (
    SeenMasks,
    check_target,
    read_entry_mask,
    write_entry_mask,
)
from unet_desktop.core.folder.task import Task, TaskError, save_task
from unet_desktop.core.folder.view_settings import (
    ViewSettings,
    load_view_settings,
    save_view_settings,
)
from unet_desktop.core.io.stacks import clear_mask_page, rewrite_loses_pages
from unet_desktop.core.labels import LabelScheme

__all__ = ["ImageEntry", "ImageState", "Workspace"]


class Workspace:
    """Use :meth:`open`; attributes are read-only by convention (change state through methods)."""

    def __init__(self, scan: FolderScan, scheme: LabelScheme, entries: list[ImageEntry],
                 warnings: list[str], read_only: bool, folded_journal: str | None = None,
                 task: Task | None = None):
        self._scan = scan
        self.root: Path = scan.root
        self.layout: str = scan.layout
        self.image_dir: Path = scan.image_dir
        self.mask_dir: Path = scan.mask_dir
        self.scheme = scheme
        self.entries = entries
        self.skipped: list[tuple[Path, str]] = scan.skipped
        self.image_channels: dict[Path, int] = scan.channels  # of TIFFs, read once by the scan
        self.warnings = warnings
        self.read_only = read_only
        self.closed = False  # close() was called: nothing is written through it any more
        self._by_key = {e.key: e for e in entries}
        self._lock = threading.RLock()
        self._manifest = ManifestWriter(scan.root, folded_journal, self._lock)
        self.manifest_path = self._manifest.path
        self.task = task
        self.view: ViewSettings = load_view_settings(scan.root)
        self.invalid: dict[str, str] = LockedDict()  # key -> why its mask file is not usable
        self.lock_holder: LockHolder | None = None  # who writes the folder when not us
        self._writer_lock: FolderLock | None = None
        self._root_identity = _identity(scan.root)  # a save checks the folder is still there
        self._seen = SeenMasks()

    # --- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | os.PathLike, scheme: LabelScheme | None = None,
             default_scheme: LabelScheme | None = None, writer: bool = False) -> Workspace:
        """Scan ``folder`` and merge the manifest; raises :class:`FileError` if it is no folder.
        ``writer``: take the folder's lock (module docstring); read-only if another holds it."""
        opened = open_folder(folder, scheme, default_scheme, writer)
        ws = cls(opened.scan, opened.scheme, opened.entries, opened.warnings, opened.read_only,
                 opened.folded_journal, opened.task)
        ws._manifest.absent = opened.absent  # kept until their images come back
        if isinstance(opened.held, LockHolder):
            ws.lock_holder = opened.held
        elif opened.held is not None:
            ws._writer_lock = opened.held
        if not ws.read_only and ws._manifest.journal.exists():
            try:
                ws.save_manifest()
            except FileError as exc:
                ws.warnings.append(f"could not fold the journal into the manifest: {exc}")
        return ws

    def close(self) -> None:
        """Let the folder's lock go (another window may then write it). Nothing is written
        through this object afterwards: a run still holding it (a batch) would write its
        states over what the folder opened again records since."""
        self.read_only = self.closed = True
        if self._writer_lock is not None:
            self._writer_lock.release()
            self._writer_lock = None

    @property
    def _refusal(self) -> str:
        return ("cannot save: the folder was closed in this window" if self.closed
                else "cannot save: the workspace folder is read-only")

    def reload_task(self) -> Task | None:
        """Read the task again (its owner, ``ml.loop.folder_models``, saved a new one)."""
        task = load_task_or_warn(self.root, [])
        if task is not None and task.scheme == self.scheme:
            self.task = task
        return self.task

    def changed_on_disk(self, key: str) -> bool:
        """Whether ``key``'s mask file was replaced by someone else since this workspace last
        read or wrote it (or, never read, since the folder was opened)."""
        return self._seen.changed(self[key].mask_path)

    # --- lookup ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[ImageEntry]:
        return iter(self.entries)

    def __getitem__(self, item: int | str) -> ImageEntry:
        if isinstance(item, str):
            try:
                return self._by_key[item]
            except KeyError:
                raise KeyError(f"no image {item!r} in the workspace {self.root}") from None
        return self.entries[item]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def index_of(self, key: str) -> int:
        return self.entries.index(self[key])

    def labelled(self, states: Iterable[ImageState] = LABELLED_STATES) -> list[ImageEntry]:
        """Entries in ``states`` whose mask is not known to be invalid."""
        wanted = set(states)
        return [e for e in self.entries if e.state in wanted and e.key not in self.invalid]

    def counts(self) -> dict[ImageState, int]:
        """Number of images in each state."""
        counts = dict.fromkeys(ImageState, 0)
        for e in self.entries:
            counts[e.state] += 1
        return counts

    # --- pixels ------------------------------------------------------------------------------
    def load_image(self, key: str) -> np.ndarray:
        """The image as shown, ``HxW`` or ``HxWx3`` uint8: 8-bit gray and RGB as stored, other
        data (12/16-bit, float, 2 or more than 3 channels) through the folder's contrast limits
        (:mod:`unet_desktop.core.io.display`). Models get :meth:`load_raw` and their input rule."""
        from unet_desktop.core.io.display import render

        return render(self.load_raw(key), self.view.limits)

    def set_view(self, view: ViewSettings) -> None:
        """The folder's display settings (contrast limits), remembered in its sidecar unless
        the folder is read-only (raises :class:`ViewSettingsError` if they cannot be written)."""
        self.view = view
        if not self.read_only:
            save_view_settings(self.root, view)

    def load_raw(self, key: str) -> np.ndarray:
        """The image's stored values, data kept (uint8, 12/16-bit, float; gray or channels
        last): what a model's input rule (:mod:`unet_desktop.core.io.input_rule`) is applied to."""
        return read_raw(self[key])

    def load_mask(self, key: str) -> np.ndarray | None:
        """The stored mask values (HxW uint8), or ``None`` if the image has no mask file."""
        entry = self[key]
        if not entry.has_mask or not entry.mask_path.is_file():
            return None
        identity = file_identity(entry.mask_path)
        try:
            mask = read_entry_mask(entry, self.scheme)
        except MaskError as exc:
            self.invalid[key] = str(exc)
            raise
        self.invalid.pop(key, None)
        self._seen.note(entry.mask_path, identity)
        return mask

    def check_masks(self, entries: Iterable[ImageEntry] | None = None) -> dict[str, str]:
        """Read the mask files of ``entries`` (default: every image with one) and record the
        invalid ones (values outside the scheme, another size than the image's); returns those
        found now (key -> "<file>: <reason>"). Images are not decoded, only their headers."""
        found: dict[str, str] = {}
        for invalid in self.check_masks_stepwise(entries):
            found.update(invalid)
        return found

    def check_masks_stepwise(self, entries: Iterable[ImageEntry] | None = None,
                             ) -> Iterator[dict[str, str]]:
        """:meth:`check_masks` one image with a mask file at a time: yields after each what
        it found invalid (``{}`` or ``{key: reason}``), so that long work can be stepped."""
        return check_stepwise(self.entries if entries is None else entries, self.load_mask,
                              self.invalid)

    def save_mask(self, key: str, mask: np.ndarray, state: ImageState,
                  model_version: str | None = None, uncertainty: float | None = None,
                  keep_existing: bool = False) -> Path:
        """Write ``mask`` (stored values) atomically as the image's PNG mask; record its state.

        ``model_version`` and ``uncertainty`` replace the recorded ones when given, else the old
        ones are kept. A non-PNG original mask (e.g. a Carvana GIF) is left in place and a PNG is
        written beside it (it wins over the original on the next scan). An invalid mask file is
        first kept aside in ``.unet-desktop/replaced/``, and so is a mask stack whose rewrite
        would drop a labelled page (another slice's invalid page, pages beyond the image's
        slices), and a mask file someone else replaced since this workspace read or wrote it
        (:meth:`changed_on_disk`; ``keep_existing``: whatever is there). Returns the path
        written. Raises :class:`MaskError` if the workspace is
        read-only, the target is unsafe, or the record cannot be journalled (then the mask is
        not written).
        """
        state = ImageState(state)
        if state is ImageState.UNLABELED:
            raise ValueError("a saved mask cannot be 'unlabeled'")
        entry = self[key]
        target = entry.mask_path
        if entry.page is None and target.suffix.lower() != ".png":
            target = self._scan.new_mask_path(entry.image_path.stem)
        if self.read_only:
            raise MaskError(target, self._refusal)
        with self._lock:  # journal, mask and record together: a fold never splits them
            self._refuse_a_moved_root(target, MaskError)
            try:
                self.mask_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise MaskError(target, f"cannot create the mask folder ({exc.strerror})") from exc
            check_target(self.root, self.mask_dir, target)
            labelled = ({e.page for e in self._siblings(entry)
                         if e.has_mask and e.key not in self.invalid}
                        if entry.is_slice else set())
            drops_pages = entry.is_slice and rewrite_loses_pages(target, entry.page, entry.pages,
                                                                 labelled)
            theirs = keep_existing or (target == entry.mask_path and self.changed_on_disk(key))
            if (key in self.invalid or drops_pages or theirs) and target.is_file():
                # a stack is copied: the rewrite keeps its other pages
                keep_aside(self.manifest_path.parent, target, copy=entry.is_slice)
            record = ManifestRecord(
                state, entry.model_version if model_version is None else model_version,
                entry.uncertainty if uncertainty is None else clean_uncertainty(uncertainty))
            line = JournalLine(key, record, Path(os.path.relpath(target, self.root)).as_posix(),
                               file_identity(target))
            # the record first, so that a process killed after the write still has it
            self._manifest.record(line, target)
            try:
                write_entry_mask(entry, target, mask, self.scheme, labelled)
            except OSError as exc:
                raise MaskError(target, f"cannot write ({exc.strerror or exc})") from exc
            entry.mask_path = target
            self._seen.note(target, file_identity(target))
            self.invalid.pop(key, None)  # written in this scheme
            self._record(entry, state, model_version, uncertainty)
        return target

    def _refuse_a_moved_root(self, target: Path, error: type[FileError]) -> None:
        """Raise ``error`` naming ``target`` when the folder was renamed, moved or deleted since
        it was opened (a save re-created the old path as an empty folder holding only the mask
        and a manifest; the moved folder never got the edit)."""
        if self._root_identity is not None and _identity(self.root) != self._root_identity:
            raise error(target, f"the folder {self.root} was renamed, moved or deleted since it "
                                "was opened (or its drive was disconnected): open it again "
                                "where it is now")

    def neighbour_slice(self, key: str, step: int = -1) -> str | None:
        """The key of the slice ``step`` slices from ``key`` in the same stack (-1: the
        previous one), or None (no such slice, or ``key`` is no slice)."""
        entry = self[key]
        if entry.page is None:
            return None
        wanted = entry.page + step
        return next((e.key for e in self._siblings(entry) if e.page == wanted), None)

    def _siblings(self, entry: ImageEntry) -> list[ImageEntry]:
        """The entries of the slices of ``entry``'s stack."""
        return [e for e in self.entries if e.image_path == entry.image_path and e.is_slice]

    def save_task(self, task: Task) -> None:
        """Write the folder's task atomically (raises :class:`TaskError`). Its classes must be
        the workspace's: a task with other classes takes effect by opening the folder again."""
        if task.scheme != self.scheme:
            raise ValueError("the task's classes differ from the open workspace's: save it "
                             "with core.folder.task.save_task and open the folder again")
        if self.read_only:
            raise TaskError(self.root, "cannot save the task: the folder is read-only")
        save_task(self.root, task)
        self.task = task

    @property
    def write_lock(self) -> threading.RLock:
        """Held while a mask is journalled, written and recorded. Hold it to check something
        and save without another thread writing in between, or to change what a concurrent
        writer may write (it then waits for the write in progress to finish)."""
        return self._lock

    # --- states ------------------------------------------------------------------------------
    def set_state(self, key: str, state: ImageState, model_version: str | None = None,
                  uncertainty: float | None = None) -> None:
        """Change an image's state (e.g. corrected -> verified) and persist the manifest.

        Any state but ``unlabeled`` needs a mask file, and ``unlabeled`` needs none (the state
        always agrees with the files). ``None`` arguments keep the recorded values. The manifest
        is written at once, even inside :meth:`deferred_manifest` (no mask file carries this
        change, so the journal could not replay it).
        """
        state = ImageState(state)
        entry = self[key]
        if (state is ImageState.UNLABELED) == entry.has_mask:
            need = "has a mask file" if entry.has_mask else "has no mask yet: save one first"
            raise ValueError(f"{key}: cannot mark it {state.value}: it {need}")
        with self._lock:
            self._record(entry, state, model_version, uncertainty, defer=False)

    def remove_mask(self, key: str) -> Path | None:
        """The image is back to no mask (its edits all undone): its mask file is moved to
        ``.unet-desktop/replaced/`` and its state recorded ``unlabeled``; returns where the file
        was kept (None: there was none). A slice's page is listed unlabeled in its mask stack
        instead, the other slices keeping theirs (:meth:`_clear_page`). Raises
        :class:`MaskError` if the workspace is read-only or the file cannot be moved or
        rewritten."""
        entry = self[key]
        if self.read_only:
            raise MaskError(entry.mask_path, self._refusal)
        with self._lock:
            self._refuse_a_moved_root(entry.mask_path, MaskError)
            if entry.is_slice and self._labelled_siblings(entry):
                kept = self._clear_page(entry)
            else:  # an image, or the stack's only labelled slice: no label is left in the file
                kept = (keep_aside(self.manifest_path.parent, entry.mask_path)
                        if entry.mask_path.is_file() else None)
                self._seen.note(entry.mask_path, None)
            self.invalid.pop(key, None)
            self._record(entry, ImageState.UNLABELED, None, None, defer=False)
        return kept

    def _labelled_siblings(self, entry: ImageEntry) -> set[int]:
        """The pages of the other slices of ``entry``'s stack that hold a usable label."""
        return {e.page for e in self._siblings(entry)
                if e is not entry and e.has_mask and e.key not in self.invalid}

    def _clear_page(self, entry: ImageEntry) -> Path | None:
        """Rewrite ``entry``'s mask stack with its page unlabeled; returns where a copy of the
        stack was kept first (None: none was needed): when the rewrite drops another labelled
        page (an invalid one, pages beyond the image's slices), or someone else replaced the
        file since this workspace read or wrote it."""
        target = entry.mask_path
        if not target.is_file():
            return None
        check_target(self.root, self.mask_dir, target)
        others = self._labelled_siblings(entry)
        kept = None
        if (rewrite_loses_pages(target, entry.page, entry.pages, others)
                or self.changed_on_disk(entry.key)):
            kept = keep_aside(self.manifest_path.parent, target, copy=True)
        try:
            clear_mask_page(target, entry.page, entry.pages, self.scheme, others)
        except OSError as exc:
            raise MaskError(target, f"cannot write ({exc.strerror or exc})") from exc
        self._seen.note(target, file_identity(target))
        return kept

    def note_uncertainty(self, key: str, score: float) -> None:
        """A fresh prediction's uncertainty, kept in memory (saved with the image's next mask
        or state change); non-finite scores are forgotten."""
        with self._lock:
            self[key].uncertainty = clean_uncertainty(score)

    def _record(self, entry: ImageEntry, state: ImageState, model_version: str | None,
                uncertainty: float | None, defer: bool = True) -> None:
        entry.state = state
        if model_version is not None:
            entry.model_version = model_version
        if uncertainty is not None:
            entry.uncertainty = clean_uncertainty(uncertainty)
        if self.read_only:
            return
        if self._manifest.due(defer):
            self.save_manifest()

    def deferred_manifest(self) -> AbstractContextManager[None]:
        """Write the manifest once at the end of a block of many saves (batch prediction); the
        journal keeps each save durable meanwhile."""
        return self._manifest.deferred(lambda: self.save_manifest())

    def to_manifest(self) -> Manifest:
        records = {e.key: ManifestRecord(e.state, e.model_version, e.uncertainty)
                   for e in self.entries}
        return Manifest(self.scheme, records, self._manifest.folded_journal)

    def save_manifest(self) -> None:
        """Write the manifest atomically and fold the journal into it (then delete it); raises
        :class:`FileError` on a read-only workspace or when the manifest cannot be written."""
        if self.read_only:
            raise FileError(self.manifest_path, self._refusal)
        with self._lock:  # every journalled save is recorded in memory by now
            self._refuse_a_moved_root(self.manifest_path, FileError)
            self._manifest.write(self.to_manifest())


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
