"""Append-only journals of JSON lines: the record of a file, written before the file is replaced.

A writer that keeps a summary file (the workspace manifest, the folder-mode prediction record)
beside many data files (masks) cannot afford to rewrite the summary after every data file. It
appends one line per data file to a journal instead, then replaces the data file, and folds the
journal into the summary now and then. A reader replays the journal over the summary.

Ordering, and why no fsync per line: the line is written and the file closed (so the kernel has
it) before the caller starts replacing the data file. A process that dies after that point, by a
crash, SIGKILL or the OOM killer, cannot take back a write the kernel accepted, so every data
file it replaced has its line. The data file itself is fsynced by :func:`atomic_write`; on ext4
(default ``data=ordered``) that commit also carries the earlier append, elsewhere a power cut
may lose the last lines, and the files they describe then read as unknown, as without a journal.

A line may describe a replacement that never happened (killed just before it, or the write
failed). :func:`file_identity` taken before the replacement tells them apart: an atomic
replacement always makes a new inode, so the line holds only if the file's identity changed.

The first line of a journal file is a header with a random id, so that a summary can name the
journal it has already folded in (see :attr:`Journal.id`); a journal left behind by a kill
between saving the summary and deleting the journal is then recognised and not replayed.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

HEADER_KEY = "journal"


def file_identity(path: str | os.PathLike) -> list[int] | None:
    """``[inode, mtime_ns, size]`` of ``path``, or ``None`` when there is no such file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_mtime_ns, st.st_size]


def was_replaced(path: str | os.PathLike, before: object) -> bool:
    """Whether ``path`` exists and is not the file whose identity was ``before``."""
    now = file_identity(path)
    return now is not None and now != before


class Journal:
    """One journal file of JSON objects, one per line, after a header line with its id."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._id: str | None = None

    @property
    def id(self) -> str | None:
        """The id in the file's header; ``None`` when there is no journal file (or no header)."""
        if self._id is None:
            self.read()
        return self._id

    def append(self, entry: dict[str, Any]) -> None:
        """Write ``entry`` as one line and hand it to the kernel before returning.

        Creates the folder and the header as needed. Raises ``OSError`` (the caller must then
        not replace the file the entry describes).
        """
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                self._id = uuid.uuid4().hex
                line = json.dumps({HEADER_KEY: self._id}) + "\n" + line
            else:  # a line torn by a full disk or a kill stays alone: this one is not glued on
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    line = "\n" + line
            # a file name not UTF-8 (os.fsdecode: \udcXX) goes in as a JSON escape, read back whole
            f.write(line.encode("utf-8", "backslashreplace"))

    def read(self) -> list[dict[str, Any]]:
        """The entries in the order written. A torn line (the last one, when a process died
        while writing it) or any other line that is not a JSON object is skipped."""
        self._id = None
        try:
            data = self.path.read_bytes()
        except OSError:
            return []
        entries = []
        for n, raw in enumerate(data.splitlines()):
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue
            if not isinstance(entry, dict):
                continue
            if n == 0 and isinstance(entry.get(HEADER_KEY), str) and len(entry) == 1:
                self._id = entry[HEADER_KEY]
            else:
                entries.append(entry)
        return entries

    def exists(self) -> bool:
        return self.path.exists()

    def clear(self) -> None:
        """Delete the journal (after its entries were folded into the summary)."""
        self.path.unlink(missing_ok=True)
        self._id = None
