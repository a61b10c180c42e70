"""A workspace: a folder of images, their masks, and where each image stands in the labelling cycle.

``Workspace.open(folder)`` scans names only (see :mod:`unet_desktop.core.folder.layouts`), so it is
fast on large folders, and merges the per-image states of the sidecar manifest
(:mod:`unet_desktop.core.folder.manifest`) with what is on disk:

- no manifest (or a corrupt one, which is renamed ``manifest.json.corrupt-<time>`` and reported
  in ``warnings``): an image with a mask file is ``corrected``, one without is ``unlabeled``;
- manifest entries of images that are gone are dropped; a state that claims a mask whose file is
  gone becomes ``unlabeled``; a mask file that appeared for an ``unlabeled`` image makes it
  ``corrected``. So ``state != UNLABELED`` exactly when the image has a mask file.

Opening writes nothing (except renaming a corrupt manifest, or folding the journal of a run that
did not finish into the manifest). A read-only folder opens with a warning; states then live in
memory only and ``save_mask`` raises :class:`MaskError`.

Task: the folder's labelling task (:mod:`unet_desktop.core.folder.task`, ``.unet-desktop/task.json``)
is read into ``task``; a task file that cannot be read is reported in ``warnings`` and left as it
is.

Invalid masks: a mask file whose values or size do not fit the scheme is recorded in ``invalid``
(key -> reason) when it is read (:meth:`load_mask`, :meth:`check_masks`); such an image is not
``labelled()`` (training skips it) until a mask is saved for it in this scheme; that save first
moves the invalid file to ``.unet-desktop/replaced/`` (nothing the user made is lost).

Scheme: the one given, else the task's, else the manifest's, else trimap for the Oxford layout,
else guessed from
ONE existing mask by :func:`unet_desktop.core.io.maskio.guess_scheme` (values within {0, 1} or
{0, 255} -> binary, other values -> multiclass with max+1 classes), else binary.

Invalid masks are recorded from worker threads (batch predict, training, the loop) while the
UI thread lists them: ``invalid`` is a :class:`LockedDict` (changes under a lock; iterating it
walks a snapshot).

One writer: ``open(folder, writer=True)`` (the window) takes the folder's advisory lock
(:mod:`unet_desktop.core.folder.folder_lock`); when another live process holds it, the workspace opens
read-only, ``lock_holder`` names that process and ``warnings`` says so. :meth:`close` lets it go.
:meth:`changed_on_disk` tells whether a mask file was replaced by someone else (another window
or program) since this workspace last read or wrote it, or since it opened: batch prediction
never overwrites such a mask.

Masks are only ever written as PNG files directly inside the workspace's mask folder; the target
is checked after resolving symbolic links. ``save_mask`` and ``set_state`` are thread-safe.

Durability: ``save_mask`` appends the mask's record to ``.unet-desktop/manifest.journal``
(:mod:`unet_desktop.core.folder.journal`) before it replaces the mask file, and every manifest write
folds the journal in and deletes it. A process killed after a mask was replaced but before the
manifest was written (a batch run defers the manifest to once per batch) thus leaves the record
in the journal: ``open`` replays each line whose mask file was really replaced (its identity
changed since the line was written) and, when the folder is writable, folds the journal into
the manifest. Without it such a mask would read as ``corrected``: a prediction taken for a
person's mask, and used as training data.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_desktop.core.errors import FileError, MaskError
from unet_desktop.core.folder.folder_lock import FolderLock, LockHolder, acquire, lock_path
from unet_desktop.core.folder.journal import Journal, file_identity, was_replaced
from unet_desktop.core.folder.layouts import FolderScan, scan_folder
from unet_desktop.core.folder.manifest import (
    ImageState,
    JournalLine,
    Manifest,
    ManifestError,
    ManifestRecord,
    clean_uncertainty,
    journal_path,
    load_manifest,
    manifest_path,
    quarantine,
    save_manifest,
)
from unet_desktop.core.folder.task import Task, TaskError, load_task, save_task
from unet_desktop.core.folder.view_settings import (
    ViewSettings,
    load_view_settings,
    save_view_settings,
)
from unet_desktop.core.io.atomic import remove_stale_temp_files
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.io.paths import first_free_path
from unet_desktop.core.labels import LabelScheme, binary_scheme, trimap_scheme

__all__ = ["ImageEntry", "ImageState", "Workspace"]

LABELLED_STATES = (ImageState.CORRECTED, ImageState.VERIFIED)

log = logging.getLogger(__name__)


@dataclass
class ImageEntry:
    key: str  # image path relative to the workspace root, posix
    image_path: Path
    mask_path: Path  # existing mask, or where the app will write it
    state: ImageState
    model_version: str | None = None  # the model that made the prediction this mask started from
    uncertainty: float | None = None  # the prediction's uncertainty score (higher = less sure)
    page: int | None = None  # the slice of a multi-page TIFF (0-based), None for an image
    pages: int = 1  # slices in the image's file; its masks are one mask stack of that many

    @property
    def is_slice(self) -> bool:
        return self.page is not None

    @property
    def label(self) -> str:
        """How the folder list names it: the key, or ``volume.tif [3/30]`` for a slice."""
        if self.page is None:
            return self.key
        from unet_desktop.core.io.stacks import slice_label

        return slice_label(self.key.rsplit(" [", 1)[0], self.page, self.pages)

    @property
    def has_mask(self) -> bool:
        return self.state is not ImageState.UNLABELED


def _is_writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (or its nearest existing ancestor).

    The write bits are checked as well as ``os.access`` so that a folder marked read-only is
    treated as such even for root, who may write anywhere.
    """
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return os.access(folder, os.W_OK) and bool(mode & 0o222)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class LockedDict(dict):
    """A dict changed under a lock, iterated over a snapshot (one writer thread may add while
    another lists)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def __setitem__(self, key, value) -> None:
        with self._lock:
            super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        with self._lock:
            super().__delitem__(key)

    def pop(self, key, *default):
        with self._lock:
            return super().pop(key, *default)

    def __iter__(self):
        with self._lock:
            return iter(list(super().keys()))

    def items(self):
        with self._lock:
            return list(super().items())

    def keys(self):
        with self._lock:
            return list(super().keys())

    def values(self):
        with self._lock:
            return list(super().values())


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
        self.warnings = warnings
        self.read_only = read_only
        self.manifest_path = manifest_path(scan.root)
        self._by_key = {e.key: e for e in entries}
        self._journal = Journal(journal_path(scan.root))
        self._folded_journal = folded_journal
        self._lock = threading.RLock()
        self._defer_depth = 0
        self._pending_write = False
        self.task = task
        self.invalid: dict[str, str] = {}  # key -> why its mask file is not usable
        self.view: ViewSettings = load_view_settings(scan.root)
        self.invalid: dict[str, str] = LockedDict()  # key -> why its mask file is not usable
        self.lock_holder: LockHolder | None = None  # who writes the folder when not us
        self._writer_lock: FolderLock | None = None
        self._opened_ns = time.time_ns()
        # mask file -> its identity when this workspace last read or wrote it (a file, not a key:
        # the slices of a stack share one mask file)
        self._seen: dict[str, object] = {}

    # --- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | os.PathLike, scheme: LabelScheme | None = None,
             default_scheme: LabelScheme | None = None, writer: bool = False) -> Workspace:
        """Scan ``folder`` and merge the manifest; raises :class:`FileError` if it is no folder.
        ``writer``: take the folder's lock (module docstring); read-only if another holds it."""
        root = Path(os.path.abspath(os.path.expanduser(folder)))
        try:
            scan = scan_folder(root)
        except NotADirectoryError:
            raise FileError(root, "not a folder") from None
        except OSError as exc:
            where = exc.filename or root
            raise FileError(where, f"cannot list the folder ({exc.strerror or exc})") from exc
        warnings = list(scan.warnings)
        read_only = not (_is_writable(root) and _is_writable(scan.mask_dir))
        if read_only:
            warnings.append(f"{root} is read-only: labelling states are kept in memory only "
                            "and masks cannot be saved")
        held: FolderLock | LockHolder | None = None
        if writer and not read_only:
            try:
                held = acquire(root)
            except OSError as exc:
                warnings.append(f"{lock_path(root)}: cannot take the folder's lock "
                                f"({exc.strerror or exc}); another window may write it too")
            if isinstance(held, LockHolder):
                read_only = True
                warnings.append(f"{root} is open in another window: {held.describe()}. Opened "
                                "read-only (nothing is saved here) until it closes the folder "
                                f"(lock file {lock_path(root)})")
        if not read_only:  # what a killed atomic write left behind
            _remove_stale_temp_files(root, scan.mask_dir, manifest_path(root).parent)
        manifest = _load_or_quarantine(manifest_path(root), read_only, warnings)
        task = _load_task(root, warnings)
        journal = Journal(journal_path(root))
        lines = journal.read()
        folded = manifest.folded_journal if manifest is not None else None
        if journal.id is not None and journal.id == folded:
            lines = []  # already in the manifest: the process died before deleting it
        scheme = _choose_scheme(scheme, manifest, scan, warnings, default_scheme,
                                task.scheme if task is not None else None)
        if task is not None:
            _skip_channel_misfits(scan, InputRule.from_dict(task.input_rule))
        records = _replay_journal(scan, manifest, lines, warnings)
        entries = _merge_states(scan, records, warnings)
        if not entries:
            warnings.append(f"no images found in {scan.image_dir}")
        ws = cls(scan, scheme, entries, warnings, read_only, folded, task)
        if isinstance(held, LockHolder):
            ws.lock_holder = held
        elif held is not None:
            ws._writer_lock = held
        if not read_only and journal.exists():
            try:
                ws.save_manifest()
            except FileError as exc:
                warnings.append(f"could not fold the journal into the manifest: {exc}")
        return ws

    def close(self) -> None:
        """Let the folder's lock go (another window may then write it)."""
        if self._writer_lock is not None:
            self._writer_lock.release()
            self._writer_lock = None

    def reload_task(self) -> Task | None:
        """Read the task again (its owner, ``ml.loop.folder_models``, saved a new one)."""
        task = _load_task(self.root, [])
        if task is not None and task.scheme == self.scheme:
            self.task = task
        return self.task

    def changed_on_disk(self, key: str) -> bool:
        """Whether ``key``'s mask file was replaced by someone else since this workspace last
        read or wrote it (or, never read, since the folder was opened)."""
        identity = file_identity(self[key].mask_path)
        if identity is None:
            return False
        seen = self._seen.get(os.fspath(self[key].mask_path))
        if seen is not None:
            return identity != seen
        return identity[1] > self._opened_ns

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
        entry = self[key]
        if entry.page is not None:
            from unet_desktop.core.io.stacks import read_slice

            return read_slice(entry.image_path, entry.page)
        if entry.image_path.suffix.lower() in (".tif", ".tiff"):
            from unet_desktop.core.io.stacks import read_tiff_image

            return read_tiff_image(entry.image_path)
        from unet_desktop.core.io.imageio import read_image_raw

        return read_image_raw(entry.image_path)

    def load_mask(self, key: str) -> np.ndarray | None:
        """The stored mask values (HxW uint8), or ``None`` if the image has no mask file."""
        from unet_desktop.core.io.maskio import read_mask

        entry = self[key]
        if not entry.has_mask or not entry.mask_path.is_file():
            return None
        identity = file_identity(entry.mask_path)
        try:
            if entry.page is not None:
                from unet_desktop.core.io.stacks import read_mask_page

                mask = read_mask_page(entry.mask_path, entry.page, self.scheme)
            else:
                mask = read_mask(entry.mask_path, self.scheme)
        except MaskError as exc:
            self.invalid[key] = str(exc)
            raise
        self.invalid.pop(key, None)
        self._seen[os.fspath(entry.mask_path)] = identity
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
        for entry in (self.entries if entries is None else entries):
            if not entry.has_mask or not entry.mask_path.is_file():
                continue
            try:
                mask = self.load_mask(entry.key)
            except MaskError as exc:
                yield {entry.key: str(exc)}
                continue
            try:
                width, height = _image_size(entry)
            except FileError:
                yield {}  # an unreadable image is reported by whoever reads it
                continue
            if mask is not None and mask.shape != (height, width):
                reason = (f"{entry.mask_path}: mask is {mask.shape[1]}x{mask.shape[0]} but its "
                          f"image is {width}x{height}")
                self.invalid[entry.key] = reason
                yield {entry.key: reason}
            else:
                yield {}

    def save_mask(self, key: str, mask: np.ndarray, state: ImageState,
                  model_version: str | None = None, uncertainty: float | None = None) -> Path:
        """Write ``mask`` (stored values) atomically as the image's PNG mask; record its state.

        ``model_version`` and ``uncertainty`` replace the recorded ones when given, else the old
        ones are kept. A non-PNG original mask (e.g. a Carvana GIF) is left in place and a PNG is
        written beside it (it wins over the original on the next scan). Returns the path written.
        Raises :class:`MaskError` if the workspace is read-only, the target is unsafe, or the
        record cannot be journalled (then the mask is not written).
        """
        from unet_desktop.core.io.maskio import write_mask

        state = ImageState(state)
        if state is ImageState.UNLABELED:
            raise ValueError("a saved mask cannot be 'unlabeled'")
        entry = self[key]
        target = entry.mask_path
        if entry.page is None and target.suffix.lower() != ".png":
            target = self._scan.new_mask_path(entry.image_path.stem)
        if self.read_only:
            raise MaskError(target, "cannot save: the workspace folder is read-only")
        with self._lock:  # journal, mask and record together: a fold never splits them
            try:
                self.mask_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise MaskError(target, f"cannot create the mask folder ({exc.strerror})") from exc
            self._check_target(target)
            if key in self.invalid and target.is_file():
                self._keep_aside(target, copy=entry.is_slice)  # a stack keeps its other pages
            record = ManifestRecord(
                state, entry.model_version if model_version is None else model_version,
                entry.uncertainty if uncertainty is None else clean_uncertainty(uncertainty))
            line = JournalLine(key, record, Path(os.path.relpath(target, self.root)).as_posix(),
                               file_identity(target))
            try:  # the record first, so that a process killed after the write still has it
                self._journal.append(line.to_dict())
            except OSError as exc:
                raise MaskError(target, f"cannot record the save in {self._journal.path} "
                                        f"({exc.strerror or exc}); the mask was not written"
                                ) from exc
            try:
                if entry.page is not None:
                    self._write_mask_page(entry, mask)
                else:
                    write_mask(target, mask, self.scheme)
            except OSError as exc:
                raise MaskError(target, f"cannot write ({exc.strerror or exc})") from exc
            entry.mask_path = target
            self._seen[os.fspath(target)] = file_identity(target)
            self.invalid.pop(key, None)  # written in this scheme
            self._record(entry, state, model_version, uncertainty)
        return target

    def _write_mask_page(self, entry: ImageEntry, mask: np.ndarray) -> None:
        """Rewrite the slice's mask stack with this page; the other pages keep what is stored
        (an invalid page is kept as unlabeled rather than lost: it was moved aside whole)."""
        from unet_desktop.core.io.stacks import write_mask_page

        write_mask_page(entry.mask_path, entry.page, entry.pages, mask, self.scheme,
                        labelled={e.page for e in self._siblings(entry)
                                  if e.has_mask and e.key not in self.invalid})

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

    def _keep_aside(self, target: Path, copy: bool = False) -> Path:
        """Move an invalid mask file about to be replaced to ``.unet-desktop/replaced/`` (the
        user's file is never lost); raises :class:`MaskError` if it cannot be moved."""
        folder = self.manifest_path.parent / "replaced"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = first_free_path(folder, f"{target.stem}-{stamp}", target.suffix)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if copy:
                shutil.copy2(target, kept)
            else:
                os.replace(target, kept)
        except OSError as exc:
            raise MaskError(target, f"cannot keep the invalid mask aside in {folder} "
                                    f"({exc.strerror or exc}); nothing was written") from exc
        return kept

    @property
    def write_lock(self) -> threading.RLock:
        """Held while a mask is journalled, written and recorded. Hold it to check something
        and save without another thread writing in between, or to change what a concurrent
        writer may write (it then waits for the write in progress to finish)."""
        return self._lock

    def _check_target(self, target: Path) -> None:
        """Refuse any write that would land outside the mask folder, links resolved."""
        if target.parent != self.mask_dir:
            raise MaskError(target, f"not directly inside the mask folder {self.mask_dir}")
        real_root = Path(os.path.realpath(self.root))
        real_dir = Path(os.path.realpath(self.mask_dir))
        if not _is_within(real_dir, real_root):
            raise MaskError(target, f"the mask folder resolves to {real_dir}, outside the "
                                    f"workspace {real_root}")
        real = Path(os.path.realpath(target))
        if real.parent != real_dir:
            raise MaskError(target, f"resolves to {real}, outside the mask folder {real_dir} "
                                    "(a symbolic link?)")

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
        if defer and self._defer_depth:
            self._pending_write = True
        else:
            self.save_manifest()

    @contextlib.contextmanager
    def deferred_manifest(self) -> Iterator[None]:
        """Write the manifest once at the end of a block of many saves (batch prediction); the
        journal keeps each save durable meanwhile."""
        with self._lock:
            self._defer_depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._defer_depth -= 1
                if not self._defer_depth and self._pending_write:
                    self._pending_write = False
                    self.save_manifest()

    def to_manifest(self) -> Manifest:
        records = {e.key: ManifestRecord(e.state, e.model_version, e.uncertainty)
                   for e in self.entries}
        return Manifest(self.scheme, records, self._folded_journal)

    def save_manifest(self) -> None:
        """Write the manifest atomically and fold the journal into it (then delete it); raises
        :class:`FileError` on a read-only workspace or when the manifest cannot be written."""
        if self.read_only:
            raise FileError(self.manifest_path, "cannot save: the workspace folder is read-only")
        with self._lock:  # every journalled save is recorded in memory by now
            manifest = self.to_manifest()
            manifest.folded_journal = self._journal.id or self._folded_journal
            save_manifest(self.manifest_path, manifest)
            self._folded_journal = manifest.folded_journal
            try:
                self._journal.clear()
            except OSError:
                pass  # the manifest names it as folded: it is not replayed again


# --- opening helpers -------------------------------------------------------------------------
def _load_or_quarantine(path: Path, read_only: bool, warnings: list[str]) -> Manifest | None:
    try:
        return load_manifest(path)
    except ManifestError as exc:
        note = f"manifest ignored, states rebuilt from the mask files: {exc}"
        if not read_only:
            try:
                kept = quarantine(path)
                note += f" (the bad file is kept as {kept.name})"
            except OSError as move_exc:
                note += f" (could not rename it: {move_exc.strerror})"
        warnings.append(note)
        return None


def _load_task(root: Path, warnings: list[str]) -> Task | None:
    try:
        return load_task(root)
    except TaskError as exc:
        warnings.append(f"task ignored (the file is left as it is): {exc}")
        return None


def _choose_scheme(given: LabelScheme | None, manifest: Manifest | None, scan: FolderScan,
                   warnings: list[str], default: LabelScheme | None = None,
                   task_scheme: LabelScheme | None = None) -> LabelScheme:
    """``given``, else the task's, else the manifest's, else the layout's or the masks', else
    ``default`` (e.g. the model's), else binary."""
    recorded = manifest.scheme if manifest is not None else None
    if given is None and task_scheme is not None:
        return task_scheme
    if given is not None:
        if recorded is not None and recorded != given:
            warnings.append(f"the label scheme given ({given.kind}, {given.num_classes} classes) "
                            f"replaces the manifest's ({recorded.kind}, "
                            f"{recorded.num_classes} classes)")
        return given
    if recorded is not None:
        return recorded
    if scan.layout == "oxford":
        return trimap_scheme()
    sample = next((p.mask_path for p in scan.pairs if p.mask_exists), None)
    if sample is None:
        return default or binary_scheme()
    from unet_desktop.core.io.maskio import guess_scheme, read_mask

    try:
        return guess_scheme(read_mask(sample))
    except (FileError, ValueError) as exc:
        warnings.append(f"could not guess the label scheme, using binary: {exc}")
        return binary_scheme()


def _replay_journal(scan: FolderScan, manifest: Manifest | None, lines: list[dict],
                    warnings: list[str]) -> dict[str, ManifestRecord]:
    """The manifest's records with the journal's laid over them: each line whose mask file is
    where the scan found the image's mask and was replaced since the line was written (later
    lines of the same image win)."""
    records = dict(manifest.records) if manifest is not None else {}
    masks = {p.key: p.mask_path for p in scan.pairs}
    replayed = set()
    for raw in lines:
        line = JournalLine.from_dict(raw)
        if line is None or masks.get(line.key) != scan.root / line.mask:
            continue
        if was_replaced(scan.root / line.mask, line.before):
            records[line.key] = line.record
            replayed.add(line.key)
    if replayed:
        warnings.append(f"the states of {len(replayed)} mask(s) saved by a run that did not "
                        "finish were recovered from the manifest's journal")
    return records


def _merge_states(scan: FolderScan, records: dict[str, ManifestRecord],
                  warnings: list[str]) -> list[ImageEntry]:
    entries: list[ImageEntry] = []
    lost = 0
    for pair in scan.pairs:
        rec = records.get(pair.key)
        entry = ImageEntry(pair.key, pair.image_path, pair.mask_path, ImageState.UNLABELED,
                           page=pair.page, pages=pair.pages)
        if rec is not None:
            entry.uncertainty = rec.uncertainty
        if pair.mask_exists:
            entry.state = ImageState.CORRECTED
            if rec is not None and rec.state is not ImageState.UNLABELED:
                entry.state, entry.model_version = rec.state, rec.model_version
        elif rec is not None and rec.state is not ImageState.UNLABELED:
            lost += 1
            entry.uncertainty = None  # it described a mask that is gone
        entries.append(entry)
    if lost:
        warnings.append(f"{lost} image(s) recorded as labelled have no mask file any more and "
                        "are now unlabeled")
    dropped = len(records.keys() - {p.key for p in scan.pairs})
    if dropped:
        warnings.append(f"{dropped} manifest entries for images no longer in the folder dropped")
    return entries


def _skip_channel_misfits(scan: FolderScan, rule: InputRule) -> None:
    """Images whose channels (known from their TIFF header) cannot feed the task's models are
    listed as skipped with the reason, never silently dropped or mixed."""
    kept, misfits = [], {}
    for pair in scan.pairs:
        reason = rule.misfit(pair.channels) if pair.channels is not None else None
        if reason:
            misfits[pair.image_path] = reason
        else:
            kept.append(pair)
    scan.pairs[:] = kept
    scan.skipped.extend((path, f"{reason} (the task's input: {rule.describe()})")
                        for path, reason in misfits.items())


def _image_size(entry: ImageEntry) -> tuple[int, int]:
    """(width, height) of an entry's image from its header."""
    if entry.page is not None:
        from unet_desktop.core.io.stacks import probe_tiff

        layout = probe_tiff(entry.image_path)
        return layout.width, layout.height
    from unet_desktop.core.io.imageio import image_size

    return image_size(entry.image_path)


def _remove_stale_temp_files(*folders: Path) -> None:
    for folder in dict.fromkeys(folders):
        for path in remove_stale_temp_files(folder):
            log.info("%s: removed, left by an interrupted write", path)
