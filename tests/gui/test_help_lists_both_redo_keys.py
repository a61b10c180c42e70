"""Help > Keyboard Shortcuts names both redo keys (Ctrl+Shift+Z, as the README says, and
Ctrl+Y), not only the platform's first binding of the standard Redo key."""

from __future__ import annotations

from tests.gui.conftest import open_window


def test_redo_lists_ctrl_shift_z_and_ctrl_y(qtbot):
    win = open_window(qtbot)
    dialog = win.help.show_shortcuts()
    keys = {action: k for _menu, action, k in dialog.rows}
    dialog.close()
    assert set(keys["Redo"].split(", ")) == {"Ctrl+Shift+Z", "Ctrl+Y"}
    win.close()


def test_undo_and_redo_are_listed_by_their_names_after_an_edit(qtbot):
    """Their menu text names the step ("Redo Accept prediction"); the table listed that."""
    win = open_window(qtbot)
    win.actions.undo.setText("&Undo Brush stroke")
    win.actions.redo.setText("&Redo Accept prediction")
    dialog = win.help.show_shortcuts()
    names = {action for _menu, action, _k in dialog.rows}
    dialog.close()
    assert {"Undo", "Redo"} <= names and not {n for n in names if n.startswith(("Undo ", "Redo "))}
    win.close()
