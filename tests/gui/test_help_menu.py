"""Help > Keyboard Shortcuts lists every action with a shortcut from the menus themselves;
File List Icons explains each state; About names version, model, device and log folder
(issue 18, item 4)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401
from unet_desktop import __version__
from unet_desktop.core.io.paths import user_log_dir
from unet_desktop.gui.help_dialogs import STATE_MEANINGS, typed_keys


def test_keyboard_shortcuts_come_from_the_actions(qtbot):
    win = open_window(qtbot)
    menu_titles = [a.text() for a in win.menuBar().actions()]
    assert menu_titles[-1] == "&Help"
    dialog = win.help.show_shortcuts()
    table = dialog.table
    shown = {(table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    in_menus = [a for a in win.findChildren(QAction) if a.shortcuts()
                and any(isinstance(o, QMenu) for o in a.associatedObjects())]
    assert len(in_menus) > 30
    for action in in_menus:
            keys = typed_keys(action)
            text = action.text().replace("&", "").rstrip(".")
            assert keys and (text, keys) in shown, (text, keys)
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


def test_shortcut_list_shows_typed_keys_once_and_the_tasks_classes(qtbot, tmp_path):
    """Issue 33, item 5: no Qt aliases (F14, Undo, Zoom In) and no key twice; the class keys
    named by the folder's classes; the mouse on the canvas listed too."""
    import numpy as np
    from PIL import Image

    from unet_desktop.core.folder.task import Task, save_task
    from unet_desktop.core.labels import ClassInfo, LabelScheme

    folder = tmp_path / "em"
    folder.mkdir()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(folder / "slice_00.png")
    scheme = LabelScheme("binary", (ClassInfo("cytoplasm", (0, 0, 0), 0),
                                    ClassInfo("membrane", (255, 0, 0), 255)))
    save_task(folder, Task("em", scheme))
    win = open_window(qtbot)
    assert win.open_folder(folder)
    dialog = win.help.show_shortcuts()
    keys = {action: k for _menu, action, k in dialog.rows}
    for _menu, action, k in dialog.rows:
        names = k.split(", ")
        assert len(names) == len(set(names)), (action, k)
        assert not {"F14", "Undo", "Redo", "Zoom In", "Zoom Out", "Open", "Save",
                    "Copy"} & set(names), (action, k)
    assert keys["Undo"] == "Ctrl+Z"
    assert keys["Zoom In"] == "Ctrl++, ="
    assert keys["Accept Prediction"] == "Enter"
    assert keys["1: cytoplasm"] == "1" and keys["2: membrane"] == "2"
    assert not any(a.startswith(("Class ", "3:")) for a in keys)  # two classes, two keys
    assert keys["Zoom at the pointer"] == "Mouse wheel"
    assert "Middle" in keys["Pan"]
    dialog.close()
    win.close()


def test_legend_shows_every_meaning_whole_and_the_guides_open(qtbot, monkeypatch):
    win = open_window(qtbot)
    win.help.legend.trigger()
    legend = win.help.dialog
    qtbot.wait(10)
    table = legend.table
    row = list(STATE_MEANINGS).index("invalid")
    item_rect = table.visualItemRect(table.item(row, 1))
    needed = table.fontMetrics().boundingRect(
        item_rect.adjusted(0, 0, -6, 0), int(Qt.TextFlag.TextWordWrap),
        STATE_MEANINGS["invalid"])
    assert item_rect.height() >= needed.height(), (item_rect, needed)  # no line cut off
    legend.close()
    opened = []
    monkeypatch.setattr("unet_desktop.gui.help_dialogs.QDesktopServices.openUrl",
                        lambda url: opened.append(url) or True)
    titles = [a.text().replace("&", "") for a in win.help.menu.actions()]
    for title in ("Your Own Task", "Sparse Labels", "Learning as You Correct"):
        action = win.help.menu.actions()[titles.index(title)]
        assert action.isEnabled()
        action.trigger()
    files = [url.toLocalFile() for url in opened]
    assert [f.rsplit("/", 1)[-1] for f in files] == ["README.md", "sparse-labels.md",
                                                      "learning-loop.md"]
    assert opened[0].fragment() == "your-own-task"
    assert all(Path(f).is_file() for f in files)
    win.close()
