"""Recovery journal: unsaved edits written aside so that a crash never loses a stroke.

The app autosaves each dirty :class:`MaskDocument` into the journal's folder (never over the
user's mask files) with :func:`save_document`; an explicit save or a "discard changes" calls
:meth:`RecoveryJournal.discard`. On the next start :meth:`RecoveryJournal.left_behind` lists what
is left, i.e. edits that were never saved, with the time of their last autosave, and
:meth:`RecoveryJournal.load` returns such a mask.

Every window (process) of the user shares the journal. Each entry names the process that wrote
it: a window recovers, discards and clears only entries that are its own or were left behind by a
process that no longer runs, never those of another window still open (a second window on the
same folder, read-only, took the first one's live autosaves for a crash's leftovers and, on
quitting, cleared them). Two windows editing the same image keep an entry each: a second
window's autosave never replaces the first one's. A window that recovers a leftover into memory
(it cannot write the folder) adopts it: from then on it is that window's to save or clear.

Layout of the folder::

    journal.json       {"format": "unet-desktop-recovery", "version": 1, "entries": [...]}
    journal.lock       held while one process changes journal.json (windows share the folder)
    masks/<id>.png     one recovered mask per (workspace, image key, window)
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.editing.history import AcceptedPrediction, mask_fingerprint
from unet_desktop.core.folder.folder_lock import LockHolder
from unet_desktop.core.io.atomic import atomic_write_bytes
from unet_desktop.core.io.file_lock import exclusive
from unet_desktop.core.io.maskio import read_mask, write_mask
from unet_desktop.core.io.paths import folder_identity, user_data_dir
from unet_desktop.core.labels import LabelScheme

JOURNAL_NAME = "journal.json"
LOCK_NAME = "journal.lock"  # held while the journal is read, changed and written back
FORMAT_NAME = "unet-desktop-recovery"
FORMAT_VERSION = 1


def default_recovery_dir() -> Path:
    return user_data_dir() / "recovery"


@dataclass(frozen=True)
class RecoveryEntry:
    """One autosaved mask: which image of which workspace, where, when (epoch seconds)."""

    workspace: str  # absolute workspace root
    key: str  # image key inside the workspace
    mask_file: str  # file name inside the journal's masks/ folder
    saved_at: float
    checksum: int  # history.mask_fingerprint of the mask written
    owner: str = ""  # "host:pid" of the window (process) that wrote it; "" in older journals
    # the mask file the edits started from (journal.file_identity; () none), None: not recorded
    base: tuple[int, ...] | None = None
    # (mtime_ns, size) of the image file, to tell it in a folder moved since; None: unknown
    image: tuple[int, ...] | None = None
    # the edits were undone back to no mask file (the mask is all-unlabeled): recovering it
    # takes the file saved since away, the image unlabeled, not an empty 'corrected' mask
    no_mask: bool = False
    # the mask is a model's prediction the user accepted and did not edit: the model version
    # ("" none recorded) and uncertainty a save records with it; None: the user's edits
    accepted_version: str | None = None
    uncertainty: float | None = None

    @property
    def ident(self) -> tuple[str, str, str]:
        return self.workspace, self.key, self.owner

    @property
    def saved_at_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))

    @property
    def mine(self) -> bool:
        return self.owner == this_process()

    @property
    def left_behind(self) -> bool:
        """Written by this process, by one of this host that no longer runs (a crash, a kill)
        or before owners were recorded: a leftover to recover. Another live window's autosave
        (or another host's, which cannot be checked) is that window's own."""
        if not self.owner or self.mine:
            return True
        host, _, pid = self.owner.rpartition(":")
        return pid.isdigit() and LockHolder(host, int(pid), "").is_dead


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _workspace_id(workspace: str | os.PathLike) -> str:
    return str(folder_identity(workspace))


class RecoveryJournal:
    """The recovery folder ``directory`` (created on first write). ``warnings`` collects
    problems met while reading it (an unreadable journal is treated as empty, not fatal)."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.warnings: list[str] = []
        # (workspace id, key) -> the mask file the document's edits start from (note_start)
        self._starts: dict[tuple[str, str], tuple[int, ...]] = {}

    @property
    def journal_path(self) -> Path:
        return self.directory / JOURNAL_NAME

    @property
    def masks_dir(self) -> Path:
        return self.directory / "masks"

    def _updating(self):
        """Another process's read-change-write of the journal waits for this one."""
        return exclusive(self.directory / LOCK_NAME)

    # --- reading -----------------------------------------------------------------------------
    def _read(self) -> dict[tuple[str, str, str], RecoveryEntry]:
        try:
            raw = json.loads(self.journal_path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            self.warnings.append(f"{self.journal_path}: unreadable recovery journal ({exc})")
            return {}
        entries: dict[tuple[str, str, str], RecoveryEntry] = {}
        if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
            self.warnings.append(f"{self.journal_path}: not a recovery journal")
            return entries
        for item in raw.get("entries", []):
            try:
                entry = RecoveryEntry(
                    str(item["workspace"]),
                    str(item["key"]),
                    str(item["mask_file"]),
                    float(item["saved_at"]),
                    int(item["checksum"]),
                    str(item.get("owner", "")),
                    _ints(item.get("base")),
                    _ints(item.get("image")),
                    bool(item.get("no_mask", False)),
                    _text(item.get("accepted_version")),
                    _number(item.get("uncertainty")),
                )
            except (KeyError, TypeError, ValueError):
                self.warnings.append(f"{self.journal_path}: skipped a malformed entry {item!r}")
                continue
            entries[entry.ident] = entry
        return entries

    def entries(self, workspace: str | os.PathLike | None = None) -> list[RecoveryEntry]:
        """Recorded autosaves (of one workspace if given) whose mask file exists, oldest first."""
        wanted = None if workspace is None else _workspace_id(workspace)
        found = [
            e
            for e in self._read().values()
            if (wanted is None or e.workspace == wanted) and self.mask_path(e).is_file()
        ]
        return sorted(found, key=lambda e: (e.saved_at, e.workspace, e.key))

    def left_behind(self, workspace: str | os.PathLike) -> list[RecoveryEntry]:
        """The autosaves of ``workspace`` to recover now, not another live window's; the
        newest of each image where windows that ended left more than one."""
        newest = {e.key: e for e in self.entries(workspace) if e.left_behind}  # oldest first
        return sorted(newest.values(), key=lambda e: (e.saved_at, e.key))

    def left_in_gone_folders(self) -> list[RecoveryEntry]:
        """Leftovers of workspaces that are no folder any more (moved or renamed since)."""
        return [e for e in self.entries() if e.left_behind and not os.path.isdir(e.workspace)]

    def note_start(self, workspace: str | os.PathLike, key: str, base: list[int] | None) -> None:
        """The mask file (``journal.file_identity``; None: none) that this window's edits of
        ``key`` start from: recorded with each autosave of it from now on."""
        self._starts[(_workspace_id(workspace), key)] = tuple(base or ())

    def get(self, workspace: str | os.PathLike, key: str) -> RecoveryEntry | None:
        """This window's autosave of ``key``."""
        entry = self._read().get((_workspace_id(workspace), key, this_process()))
        return entry if entry is not None and self.mask_path(entry).is_file() else None

    def holds(self, workspace: str | os.PathLike, key: str, mask: np.ndarray,
              no_mask: bool = False, accepted: AcceptedPrediction | None = None) -> bool:
        """Whether this window's autosave of ``key`` is already ``mask`` (and as ``no_mask``
        and ``accepted``): nothing new to write (another window's is not: that window may
        discard its own)."""
        previous = self.get(workspace, key)
        return (previous is not None and previous.mine and previous.no_mask == no_mask
                and (previous.accepted_version, previous.uncertainty) == _accepted(accepted)
                and previous.checksum == mask_fingerprint(mask))

    def mask_path(self, entry: RecoveryEntry) -> Path:
        return self.masks_dir / entry.mask_file

    def load(self, entry: RecoveryEntry, scheme: LabelScheme | None = None) -> np.ndarray:
        """The autosaved mask (raises :class:`MaskError` if it cannot be read)."""
        return read_mask(self.mask_path(entry), scheme)

    # --- writing -----------------------------------------------------------------------------
    def _write(self, entries: dict[tuple[str, str, str], RecoveryEntry]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "entries": [asdict(e) for e in entries.values()],
        }
        atomic_write_bytes(self.journal_path, json.dumps(data, indent=1).encode())

    def save(
        self,
        workspace: str | os.PathLike,
        key: str,
        mask: np.ndarray,
        scheme: LabelScheme,
        no_mask: bool = False,
        accepted: AcceptedPrediction | None = None,
    ) -> RecoveryEntry:
        """Write ``mask`` aside (atomically) and record it; replaces this window's earlier
        autosave of the image (never another window's). ``no_mask``: the edits are undone back
        to no mask file (``RecoveryEntry.no_mask``); ``accepted``: the mask is that prediction,
        accepted and not edited (``RecoveryEntry.accepted_version``)."""
        ws, owner = _workspace_id(workspace), this_process()
        text = f"{ws}\0{key}\0{owner}".encode(errors="surrogateescape")  # a name not UTF-8
        digest = hashlib.sha1(text).hexdigest()[:20]
        entry = RecoveryEntry(ws, key, f"{digest}.png", time.time(), mask_fingerprint(mask),
                              owner, self._starts.get((ws, key)), image_stamp(ws, key), no_mask,
                              *_accepted(accepted))
        self.masks_dir.mkdir(parents=True, exist_ok=True)
        write_mask(self.mask_path(entry), mask, scheme)
        with self._updating():
            entries = self._read()
            before = entries.get(entry.ident)
            entries[entry.ident] = entry
            self._write(entries)
        if before is not None and before.mask_file != entry.mask_file:  # an adopted one
            with contextlib.suppress(FileNotFoundError):
                self.mask_path(before).unlink()
        return entry

    def adopt(self, entry: RecoveryEntry) -> RecoveryEntry:
        """Make a left-behind ``entry`` this window's (recovered into its memory: it saves or
        clears it from now on, and a crash of this window leaves it behind again)."""
        mine = dataclasses.replace(entry, owner=this_process())
        with self._updating():
            entries = self._read()
            if entries.pop(entry.ident, None) is None:
                return entry
            entries[mine.ident] = mine
            self._write(entries)
        return mine

    def discard(self, workspace: str | os.PathLike, key: str, only_mine: bool = False) -> bool:
        """Forget the autosaves of one image (after a real save): this window's and those left
        behind; True if there was one. Another live window's stays: its edits are not the
        ones saved. ``only_mine``: nothing was saved (the edits were undone or only looked
        at), so a window that ended's edits stay too, for the window that recovers them."""
        if not self.journal_path.exists():  # nothing to forget (and nothing to create)
            return False
        ws = _workspace_id(workspace)
        with self._updating():
            entries = self._read()
            gone = [e for e in entries.values()
                    if e.workspace == ws and e.key == key
                    and (e.mine if only_mine else e.left_behind)]
            for entry in gone:
                del entries[entry.ident]
            if gone:
                self._write(entries)
            for entry in gone:
                with contextlib.suppress(FileNotFoundError):
                    self.mask_path(entry).unlink()
        return bool(gone)

    def forget(self, leftovers: list[RecoveryEntry]) -> int:
        """Remove ``leftovers`` (entries left behind, e.g. of a folder that is gone) that the
        user chose not to recover; returns how many were removed."""
        if not self.journal_path.exists():
            return 0
        with self._updating():
            entries = self._read()
            gone = [e for e in leftovers if e.ident in entries and entries[e.ident].left_behind]
            for entry in gone:
                with contextlib.suppress(FileNotFoundError):
                    self.mask_path(entries.pop(entry.ident)).unlink()
            if gone:
                self._write(entries)
        return len(gone)

    def clear(self, workspace: str | os.PathLike | None = None) -> int:
        """Forget this window's autosaves (of one workspace if given): its edits the user chose
        not to keep; returns how many were removed. Leftovers of windows that ended stay for
        the window that recovers them (this one adopted those it recovered)."""
        if not self.directory.is_dir():
            return 0
        with self._updating():
            entries = self._read()
            wanted = None if workspace is None else _workspace_id(workspace)
            gone = [k for k, e in entries.items()
                    if (wanted is None or e.workspace == wanted) and e.mine]
            for k in gone:
                with contextlib.suppress(FileNotFoundError):
                    self.mask_path(entries.pop(k)).unlink()
            if gone or self.journal_path.exists():
                self._write(entries)
        return len(gone)


def _ints(raw: object) -> tuple[int, ...] | None:
    return None if raw is None else tuple(int(v) for v in raw)  # type: ignore[union-attr]


def _text(raw: object) -> str | None:
    return None if raw is None else str(raw)


def _number(raw: object) -> float | None:
    return None if raw is None else float(raw)  # type: ignore[arg-type]


def _accepted(accepted: AcceptedPrediction | None) -> tuple[str | None, float | None]:
    """What an entry records of an accepted prediction: (model version, uncertainty)."""
    if accepted is None:
        return None, None
    return accepted.model_version or "", accepted.uncertainty


def image_stamp(workspace: str | os.PathLike, key: str) -> tuple[int, int] | None:
    """``(mtime_ns, size)`` of the image file of ``key`` (a path from the workspace root; a
    slice's key names its stack, then `` [page/pages]``), None if there is none. A folder
    moved or renamed keeps these; another folder's image of the same name has others."""
    for name in (key, key.rsplit(" [", 1)[0]):
        try:
            st = os.stat(Path(workspace) / name)
        except OSError:
            continue
        return st.st_mtime_ns, st.st_size
    return None


def save_document(
    journal: RecoveryJournal, workspace: str | os.PathLike, document: MaskDocument
) -> RecoveryEntry | None:
    """Autosave ``document`` if it has unsaved changes not yet written to the journal.

    Returns the new entry, or ``None`` when there was nothing new to write. A stroke still
    being drawn is left alone (the next call writes it), so the tool's undo step stays whole.
    """
    if not document.dirty or document.in_stroke:
        return None
    no_mask, accepted = document.history.at_no_mask, document.history.accepted
    if journal.holds(workspace, document.key, document.mask, no_mask, accepted):
        return None
    return journal.save(workspace, document.key, document.mask, document.scheme, no_mask,
                        accepted)
