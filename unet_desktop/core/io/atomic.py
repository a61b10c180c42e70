"""Atomic file writes: a reader sees the old file or the new one, never a half-written mix.

The data goes to a temporary file in the destination's folder (same file system, so the final
rename is atomic; its name, ``.unet-<8 random characters>.tmp``, is short whatever the
destination's, so any name the file system allows can be written), is flushed and fsynced, and then ``os.replace``d over the destination; the
folder is fsynced too where the platform allows it, so the rename survives a power cut. If
anything fails before the rename, the temporary file is removed and the previous file is left
untouched. Errors are raised as ``OSError`` (callers wrap them in their own ``FileError``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".unet-"
TEMP_SUFFIX = ".tmp"
_WINDOWS_RETRIES = 5
# ".unet-<mkstemp's 8 random characters>.tmp"; earlier versions wrote ".<destination name>.<8>.tmp"
_TEMP_NAME = re.compile(r"(\.unet-|\..+\.)[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


def _umask() -> int:
    # os.umask can only be read by setting it; do it once (not thread-safe, so at import time).
    mask = os.umask(0)
    os.umask(mask)
    return mask


_DEFAULT_MODE = 0o666 & ~_umask()


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; not possible on Windows (directories cannot be opened)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (network, FUSE) refuse; the data itself is already synced
    finally:
        os.close(fd)


def _replace(src: Path, dst: Path) -> None:
    """``os.replace``, retried briefly on Windows where a reader holding ``dst`` blocks it."""
    for attempt in range(_WINDOWS_RETRIES):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if os.name != "nt" or attempt == _WINDOWS_RETRIES - 1:
                raise
            time.sleep(0.05)


def atomic_write(path: str | os.PathLike, write_fn: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` atomically: ``write_fn`` gets a binary file object open for writing.

    The new file keeps the permissions of the file it replaces (or the umask default for a new
    file). Raises ``OSError`` (or whatever ``write_fn`` raises) with the destination intact.
    """
    path = Path(path)
    folder = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = _DEFAULT_MODE
        os.chmod(tmp, mode)
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(folder)


def remove_stale_temp_files(folder: str | os.PathLike, older_than_s: float = 3600.0) -> list[Path]:
    """Delete temporary files that :func:`atomic_write` left in ``folder`` when its process died.

    Only names of the form ``.unet-<8 random chars>.tmp`` (or ``.<name>.<8 random chars>.tmp``,
    from earlier versions) older than ``older_than_s`` seconds
    are removed (younger ones may belong to a write in progress). Returns the removed paths.
    """
    removed = []
    now = time.time()
    for path in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        if not _TEMP_NAME.fullmatch(path.name):
            continue
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime >= older_than_s:
                path.unlink()
                removed.append(path)
    return removed


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda f: f.write(data))
