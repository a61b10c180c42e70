"""Greyed entries say why and when they become available: as their tooltip in the menu, and in
the status bar when their key is pressed (C did nothing and said nothing). Enabled, the entry
has its own tooltip and its key is its own."""

from __future__ import annotations

from PySide6.QtCore import Qt

from unet_desktop.gui.greyed_reasons import NO_PREVIOUS_MODEL


def test_greyed_entries_say_why_in_their_menus(qtbot, window):
    m, t = window.model_actions, window.task_actions
    entries = (t.versions, m.compare_previous, m.rollback, window.slice_commands.from_previous)
    for action in entries:
        assert not action.isEnabled(), action.text()  # no task, one model, no stack
        assert action.toolTip().startswith("Available "), action.text()
        menus = [o for o in action.associatedObjects() if hasattr(o, "toolTipsVisible")]
        assert menus and all(menu.toolTipsVisible() for menu in menus), action.text()


def test_c_while_greyed_says_why_and_enabled_compares(qtbot, window):
    compare = window.model_actions.compare_previous
    triggered: list[bool] = []
    compare.triggered.connect(lambda _c=False: triggered.append(True))
    window.canvas.setFocus()
    window.statusBar().clearMessage()
    qtbot.keyClick(window.canvas, Qt.Key.Key_C)
    said = window.statusBar().currentMessage()
    assert said.startswith("Compare with Previous Model: not available now.")
    assert said.endswith(NO_PREVIOUS_MODEL) and triggered == []
    compare.setEnabled(True)  # as when a second model is loaded
    assert compare.toolTip() != NO_PREVIOUS_MODEL
    window.statusBar().clearMessage()
    qtbot.keyClick(window.canvas, Qt.Key.Key_C)
    assert triggered == [True]  # the key is the action's alone again
    assert "not available" not in window.statusBar().currentMessage()
    compare.setEnabled(False)
    assert compare.toolTip() == NO_PREVIOUS_MODEL
