"""The window's menus stay alive on every PySide6 pyproject allows (.ci/run also runs this file
with the oldest): before 6.11 a menu reached through ``QAction.menu()`` was deleted together
with the wrapper that call returned, so the window did not open ("Internal C++ object
(PySide6.QtWidgets.QMenu) already deleted") and Help > Keyboard Shortcuts killed the menus it
walked."""

from __future__ import annotations

import gc

import PySide6
from PIL import Image
from PySide6.QtWidgets import QMenu

from tests.gui.conftest import open_window


def test_the_window_opens_and_its_menus_outlive_the_shortcuts_dialog(qtbot, tmp_path):
    win = open_window(qtbot)
    mask_menu = win.actions.mask_menu
    assert "&Classes..." in [a.text() for a in mask_menu.actions()]  # the task's, put there
    win.help.show_shortcuts().close()
    gc.collect()
    menus = win.findChildren(QMenu)
    titles = {menu.title() for menu in menus}  # raises if a menu object was deleted
    assert {"&File", "&View", "&Mask", "&Tools", "&Class"} <= titles, PySide6.__version__
    assert win.actions.view_menu.actions()
    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    win.open_folder(str(tmp_path))  # refreshes File > Open Recent
    assert win.actions.recent_menu.actions()
