"""File names as the user is shown them.

``os.fsdecode`` stands each byte of a name that is not UTF-8 in for a lone surrogate
(``\\udc80``-``\\udcff``), which Qt drops and JSON escapes. Shown to a user, such a byte is read
as Latin-1 instead (``M\\udcfcller`` -> ``Müller``): the one rule of the image list, the version
notes and every other place that shows a name.
"""

from __future__ import annotations

import re

_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # os.fsdecode's stand-in for a byte not UTF-8


def shown_text(text: str) -> str:
    """``text`` with each escaped byte of a file name read as Latin-1."""
    return _ESCAPED_BYTE.sub(lambda m: chr(ord(m.group()) - 0xDC00), text)


def not_utf8(name: str) -> bool:
    """Whether ``name`` holds a byte that is not UTF-8 (as ``os.fsdecode`` escapes it)."""
    return _ESCAPED_BYTE.search(name) is not None


def as_qt_passes_it(name: str) -> str:
    """``name`` with its escaped bytes dropped, as it arrives through a Qt signal of type str."""
    return _ESCAPED_BYTE.sub("", name)
