"""Help > Keyboard Shortcuts says what a right button drag on the canvas does: it zooms
(pyqtgraph's ViewBox); a middle button drag pans."""

from __future__ import annotations

from tests.gui.conftest import open_window


def test_the_right_button_drag_is_listed_as_zoom_not_pan(qtbot):
    win = open_window(qtbot)
    dialog = win.help.show_shortcuts()
    keys = {action: k for _menu, action, k in dialog.rows}
    dialog.close()
    assert keys["Pan"] == "Middle button drag"
    assert keys["Zoom"] == "Right button drag"
    win.close()
