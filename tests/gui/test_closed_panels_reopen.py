"""A panel closed with the X of its title bar comes back from View (the window saves it closed,
so without an entry the file list, the tools or the prediction panel were gone for good)."""

from __future__ import annotations

from tests.gui.conftest import open_window


def view_entry(win, title: str):
    found = [a for a in win.actions.view_menu.actions() if a.text() == title]
    assert len(found) == 1, (title, [a.text() for a in win.actions.view_menu.actions()])
    return found[0]


def test_every_closed_panel_comes_back_from_view(qtbot, window):
    docks = (window.file_dock, window.tool_dock, window.prediction_dock, window.training_dock,
             window.contrast_dock)
    for dock in docks:
        dock.show()
        dock.close()  # its title bar's X
        assert not dock.isVisible()
        entry = view_entry(window, dock.windowTitle())
        assert entry.isEnabled() and not entry.isChecked()
        entry.trigger()
        assert dock.isVisible() and entry.isChecked(), dock.windowTitle()


def test_a_panel_closed_at_quit_comes_back_from_view_after_a_restart(qtbot, window):
    window.file_dock.close()
    settings = window.settings
    window.close()
    again = open_window(qtbot, settings=settings)
    try:
        assert not again.file_dock.isVisible()  # the window restores it closed...
        view_entry(again, "Images").trigger()  # ...and View brings it back
        assert again.file_dock.isVisible()
    finally:
        again.close()
