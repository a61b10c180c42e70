"""One writer per folder across processes: an advisory lock file in the folder's sidecar.

``<root>/.unet-desktop/writer.lock`` holds ``{"host", "pid", "since"}`` of the process that writes
the folder (its masks, manifest, task and models). :func:`acquire` creates it exclusively; when it
exists and names another live process, that process is the holder (:class:`LockHolder`) and the
caller opens the folder read-only and says who holds it. A lock left by a dead process of this
host (a crash, a kill) is taken over. A lock from another host cannot be checked: it holds until
that host's process closes the folder (or the user deletes the file the message names).

Advisory: it binds the app's windows and commands that ask for it, not other programs; batch
prediction also re-checks each mask's on-disk identity before replacing it
(``Workspace.changed_on_disk``). Re-entrant within one process (a folder opened again by the same
window). Qt-free and torch-free.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from unet_desktop.core.folder.manifest import MANIFEST_DIR
from unet_desktop.core.io.atomic import atomic_write_bytes

LOCK_NAME = "writer.lock"


@dataclass(frozen=True)
class LockHolder:
    host: str
    pid: int
    since: str  # UTC, ISO 8601

    def to_dict(self) -> dict:
        return {"host": self.host, "pid": self.pid, "since": self.since}

    @classmethod
    def from_dict(cls, d: object) -> LockHolder | None:
        if not isinstance(d, dict) or not isinstance(d.get("pid"), int):
            return None
        return cls(str(d.get("host") or "?"), d["pid"], str(d.get("since") or "?"))

    @classmethod
    def me(cls) -> LockHolder:
        return cls(socket.gethostname(), os.getpid(),
                   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def describe(self) -> str:
        return f"process {self.pid} on {self.host} (since {self.since.replace('T', ' ')})"

    @property
    def is_me(self) -> bool:
        return self.host == socket.gethostname() and self.pid == os.getpid()

    @property
    def is_dead(self) -> bool:
        """A process of this host that no longer runs (another host's cannot be checked)."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # it exists but is not ours to signal
            return False
        return False


def lock_path(root: str | os.PathLike) -> Path:
    return Path(root) / MANIFEST_DIR / LOCK_NAME


class FolderLock:
    """This process holds the folder; :meth:`release` (once per :func:`acquire`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.released = False

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        key = os.path.realpath(self.path)
        with _HELD_LOCK:
            _HELD[key] = _HELD.get(key, 1) - 1
            if _HELD[key] > 0:
                return
            del _HELD[key]
        holder = read_holder(self.path)
        if holder is not None and holder.is_me:
            self.path.unlink(missing_ok=True)


_HELD: dict[str, int] = {}  # lock files this process holds -> how many acquire() calls
_HELD_LOCK = threading.Lock()


def read_holder(path: Path) -> LockHolder | None:
    try:
        return LockHolder.from_dict(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError):
        return None


def live_holder(root: str | os.PathLike) -> LockHolder | None:
    """The live process (not this one) that holds ``root`` now; None when the folder is free:
    no lock, one of this process, or one left by a process of this host that ended."""
    holder = read_holder(lock_path(root))
    if holder is None or holder.is_me or holder.is_dead:
        return None
    return holder


def holder_now(root: str | os.PathLike) -> LockHolder | None:
    """The live process (not this one) that holds ``root`` now: its own lock's, or that of the
    parent folder whose layout reads its images from ``root`` (``DATA`` of ``DATA/images``);
    None when the folder is free, so that opening it again here writes it."""
    holder = live_holder(root)
    if holder is not None:
        return holder
    # the owner of "which parent covers root" (it scans the parent's layout; it imports us)
    from unet_desktop.core.folder.folder_open import _parent_holder

    covering = _parent_holder(Path(root))
    return covering[1] if covering is not None else None


def let_go(root: str | os.PathLike, holder: LockHolder) -> bool:
    """Whether ``holder``, which held ``root`` (or the parent folder that reads its images) when
    it was opened here, let it go and no one holds it now: not that window again (a folder closed
    and opened again is held again, under a new ``since``), nor another one."""
    return holder_now(root) is None


def acquire(root: str | os.PathLike) -> FolderLock | LockHolder:
    """The folder's lock, or the live process that holds it. Raises ``OSError`` if the lock
    file cannot be written (the caller treats the folder as read-only)."""
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(path)
    me = LockHolder.me()
    for _ in range(20):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = read_holder(path)
            if holder is None:  # being written, or garbage: look again, then take it
                time.sleep(0.05)
                if read_holder(path) is None and path.exists():
                    _write(path, me)
                continue
            if holder.is_me:
                return _held(path, key)
            if not holder.is_dead:
                return holder
            _write(path, me)  # stale: a dead process of this host
            continue  # read back: of two takers, the last writer wins
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(me.to_dict(), f)
        return _held(path, key)
    holder = read_holder(path)
    return holder if holder is not None else LockHolder("?", -1, "?")


def _write(path: Path, holder: LockHolder) -> None:
    atomic_write_bytes(path, json.dumps(holder.to_dict()).encode("utf-8"))


def _held(path: Path, key: str) -> FolderLock:
    with _HELD_LOCK:
        _HELD[key] = _HELD.get(key, 0) + 1
    return FolderLock(path)
