"""The SHA-1 of a file's bytes, read in chunks (``hashlib.file_digest`` needs Python 3.11)."""

from __future__ import annotations

import hashlib
import os

_CHUNK = 1 << 20


def file_sha1(path: str | os.PathLike) -> str | None:
    """The hex SHA-1 of the file's bytes; None when it cannot be read (gone, no access)."""
    digest = hashlib.sha1()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()
