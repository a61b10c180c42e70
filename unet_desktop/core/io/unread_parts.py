"""What of each image file is not read, for the command line's warnings.

A TIFF is read as its first series (:mod:`unet_desktop.core.io.stacks`); the folder's warnings
name what that leaves out (the other positions of an OME-TIFF, the other series, pages of
another size). ``predict`` and ``evaluate`` say the same of the files they read, since the
folder's warnings reach only the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from unet_desktop.core.errors import FileError
from unet_desktop.core.io.stacks import is_tiff_name, probe_tiff


def parts_not_read(paths: Iterable[Path]) -> list[str]:
    """One line per file of ``paths`` that is read only in part, naming the file and what is
    not read (each file once; a file whose header cannot be read says why when it is read)."""
    notes = []
    for path in dict.fromkeys(paths):
        if not is_tiff_name(path):
            continue
        try:
            note = probe_tiff(path).note
        except FileError:
            continue
        if note:
            notes.append(note)
    return notes
