"""File > Open Recent shows a folder named with '&' as it is ('R&D pets' showed as 'RD pets',
the D underlined), and opens it."""

from __future__ import annotations

import shutil

from tests.gui.conftest import open_window


def test_a_recent_folder_with_an_ampersand_is_shown_and_opened(qtbot, workspace_dir, tmp_path):
    folder = tmp_path / "R&D pets"
    shutil.copytree(workspace_dir, folder)
    win = open_window(qtbot)
    try:
        assert win.open_folder(folder) and win.open_folder(workspace_dir)
        menu = win.actions.recent_menu
        menu.aboutToShow.emit()
        entry = next(a for a in menu.actions() if a.iconText().endswith("D pets"))
        assert entry.iconText() == str(folder)  # what the menu draws: no mnemonic eaten
        entry.trigger()
        assert win.session.workspace.root == folder
    finally:
        win.close()
