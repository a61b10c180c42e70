"""Help > Keyboard Shortcuts lists every action with a shortcut from the menus themselves;
File List Icons explains each state; About names version, model, device and log folder
(issue 18, item 4)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401
from unet_desktop import __version__
from unet_desktop.core.paths import user_log_dir
from unet_desktop.gui.help_dialogs import STATE_MEANINGS


def test_keyboard_shortcuts_come_from_the_actions(qtbot):
    win = open_window(qtbot)
    menu_titles = [a.text() for a in win.menuBar().actions()]
    assert menu_titles[-1] == "&Help"
    dialog = win.help.show_shortcuts()
    table = dialog.table
    shown = {(table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    native = QKeySequence.SequenceFormat.NativeText
    in_menus = [a for a in win.findChildren(QAction) if a.shortcuts()
                and any(isinstance(o, QMenu) for o in a.associatedObjects())]
    assert len(in_menus) > 30
    for action in in_menus:
            keys = ", ".join(k.toString(native) for k in action.shortcuts())
            text = action.text().replace("&", "").rstrip(".")
            assert (text, keys) in shown, (text, keys)
    assert ("Class 3", "3") in shown  # from the Tools > Class submenu
    assert ("Brush", "B") in shown and ("Next Most Uncertain", "U") in shown
    assert ("Keyboard Shortcuts", "F1") in shown
    # an action added later shows up the next time: nothing to keep in sync by hand
    extra = QAction("Extra Thing", win)
    extra.setShortcut("Ctrl+Shift+X")
    win.actions.view_menu.addAction(extra)
    dialog.close()
    again = win.help.show_shortcuts()
    assert ("View", "Extra Thing", "Ctrl+Shift+X") in again.rows
    again.filter_edit.setText("extra")
    visible = [r for r in range(again.table.rowCount()) if not again.table.isRowHidden(r)]
    assert [again.rows[r][1] for r in visible] == ["Extra Thing"]
    win.close()


def test_legend_and_about(qtbot, tiny_model):
    win = open_window(qtbot, model_path=tiny_model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    win.help.legend.trigger()
    legend = win.help.dialog
    states = [legend.table.item(r, 0).text().lower() for r in range(legend.table.rowCount())]
    assert states == list(STATE_MEANINGS)
    assert not legend.table.item(0, 0).icon().isNull()
    legend.close()
    win.help.about.trigger()
    about = win.help.dialog.value_labels
    assert about["Version"].text() == __version__
    assert "tiny" in about["Model"].text() and str(tiny_model) in about["Model"].text()
    assert about["Device"].text().startswith("cpu")
    assert about["Log folder"].text() == str(user_log_dir())
    win.close()
