"""An exclusive lock across processes for a read-modify-write of a shared file.

Two windows (two processes) on different folders share one recovery journal; each autosave reads
its list, adds an entry and writes it back. Two such updates at once lost one of the entries
(two processes saving 150 entries each left 171 of 300). :func:`exclusive` holds ``path`` (a lock
file beside the shared one, created if missing) with ``flock`` on POSIX and ``msvcrt.locking`` on
Windows, blocking until the other process lets go; the kernel releases it if the process dies.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

if os.name == "nt":  # pragma: no cover - Windows
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for 10 s, then raises OSError

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive(path: str | os.PathLike) -> Iterator[None]:
    """Hold the lock file ``path`` for the ``with`` block (raises ``OSError`` if it cannot be
    created)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _lock(fd)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
