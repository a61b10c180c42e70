"""File > Open Recent: a folder deleted (or moved) since is shown greyed with the reason; it
stayed listed as if there, and choosing it said only 'not a folder'."""

from __future__ import annotations

import shutil

from tests.gui.conftest import open_window


def recent_entries(win) -> dict[str, object]:
    menu = win.actions.recent_menu
    menu.aboutToShow.emit()  # as when the user opens it
    return {a.text(): a for a in menu.actions()}


def test_a_gone_recent_folder_is_greyed_and_says_why(qtbot, workspace_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(workspace_dir, other)
    win = open_window(qtbot)
    try:
        assert win.open_folder(other) and win.open_folder(workspace_dir)
        shutil.rmtree(other)
        entries = recent_entries(win)
        gone = entries[f"{other} (not found)"]
        assert not gone.isEnabled()
        assert "no longer exists" in gone.toolTip() and win.actions.recent_menu.toolTipsVisible()
        assert entries[str(workspace_dir)].isEnabled()
        shutil.copytree(workspace_dir, other)  # back (a drive connected again)
        entries = recent_entries(win)
        assert entries[str(other)].isEnabled()
        entries[str(other)].trigger()
        assert win.session.workspace.root == other
    finally:
        win.close()


def test_a_folder_gone_while_its_entry_was_listed_says_it_no_longer_exists(qtbot, workspace_dir,
                                                                           tmp_path):
    other = tmp_path / "other"
    shutil.copytree(workspace_dir, other)
    win = open_window(qtbot)
    try:
        assert win.open_folder(other) and win.open_folder(workspace_dir)
        entry = recent_entries(win)[str(other)]
        shutil.rmtree(other)  # after the menu was filled
        entry.trigger()
        assert win.last_error.startswith(f"Cannot open {other}: it no longer exists")
        assert win.session.workspace.root == workspace_dir  # the open folder is kept
    finally:
        win.close()
