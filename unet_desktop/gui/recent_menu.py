"""File > Open Recent: the folders opened last, read again each time the menu opens.

A folder that is not there any more (moved, renamed, deleted, or on a drive not connected) is
shown greyed with the reason, not dropped: the drive may come back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMenu

NOT_FOUND = " (not found)"
GONE = ("no longer exists where it was (moved, renamed, deleted, or on a drive not connected?). "
        "Use File > Open Folder to open it where it is now.")
NOT_FOUND_TIP = f"This folder {GONE}"


def menu_text(folder: str) -> str:
    """A path as menu text: each '&' doubled, which Qt would read as a mnemonic ('R&D' showed
    as 'RD')."""
    return folder.replace("&", "&&")


def fill_recent_menu(menu: QMenu, folders: list[str], open_folder: Callable[[str], object],
                     say: Callable[[str], object]) -> None:
    """``menu`` lists ``folders``, each opening with ``open_folder``; those not found greyed,
    and ``say`` tells why one gone since the menu was filled does not open."""
    menu.clear()
    menu.setToolTipsVisible(True)
    for folder in folders:
        found = Path(folder).is_dir()
        action = menu.addAction(menu_text(folder) + ("" if found else NOT_FOUND))
        action.setEnabled(found)
        if not found:
            action.setToolTip(NOT_FOUND_TIP)
        action.triggered.connect(lambda _checked=False, f=folder: _open(f, open_folder, say))
    menu.setEnabled(bool(folders))


def _open(folder: str, open_folder: Callable[[str], object], say: Callable[[str], object]) -> None:
    if Path(folder).is_dir():
        open_folder(folder)
    else:
        say(f"Cannot open {folder}: it {GONE}")
