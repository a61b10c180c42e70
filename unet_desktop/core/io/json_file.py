"""JSON files of the folder's sidecar (the manifest, the task, the learning record, the view
settings): read whole, written atomically, every failure raised as the caller's
:class:`FileError` naming the file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from unet_desktop.core.errors import FileError
from unet_desktop.core.io.atomic import atomic_write_bytes


def read_file(path: str | os.PathLike, error: type[FileError]) -> bytes | None:
    """The bytes of ``path``; None if there is no such file; other failures raise ``error``."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise error(path, f"cannot be read ({exc.strerror or exc})") from exc


def read_json(path: str | os.PathLike, error: type[FileError], what: str) -> Any:
    """The JSON value in ``path``; None if there is no such file. ``what`` names the content
    in the message (e.g. "task file")."""
    path = Path(path)
    data = read_file(path, error)
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(path, f"not a valid {what} ({exc})") from exc


def write_json(path: str | os.PathLike, value: Any, error: type[FileError], what: str) -> None:
    """Write ``value`` to ``path`` atomically (whole or untouched), creating its folder but not
    the folder that holds it: a folder renamed, moved or deleted while open is not made again
    (every caller writes into ``<folder>/.unet-desktop/``)."""
    path = Path(path)
    data = json.dumps(value, indent=1, ensure_ascii=False, allow_nan=False)
    if not path.parent.parent.is_dir():
        raise error(path, f"cannot write the {what}: {path.parent.parent} is not there any more "
                          "(renamed, moved or deleted?)")
    try:
        path.parent.mkdir(exist_ok=True)
        # a file name not UTF-8 (os.fsdecode: \udcXX) goes in as a JSON escape, read back whole
        atomic_write_bytes(path, data.encode("utf-8", "backslashreplace"))
    except OSError as exc:
        raise error(path, f"cannot write the {what} ({exc.strerror or exc})") from exc


def check_format(d: Any, name: str, newest: int) -> None:
    """Raise ``ValueError`` unless ``d`` is an object of format ``name`` whose version this app
    reads (an int up to ``newest``)."""
    if not isinstance(d, dict) or d.get("format") != name:
        raise ValueError(f"not a {name} file")
    version = d.get("version")
    if not isinstance(version, int) or version > newest:
        raise ValueError(f"format version {version!r} is not one this app reads "
                         f"(up to {newest})")
