"""Each tool button says what its tool does, how it is used and its key (its tooltip only
repeated its label); the status bar gets the how-to too."""

from __future__ import annotations

from PySide6.QtWidgets import QToolButton

from tests.gui.conftest import open_window
from unet_desktop.gui.actions import TOOL_SHORTCUTS
from unet_desktop.gui.editing.tool_controller import TOOL_TITLES


def test_every_tool_button_explains_its_tool_and_names_its_key(qtbot):
    win = open_window(qtbot)
    buttons = {b.defaultAction().data(): b for b in win.tool_dock.findChildren(QToolButton)
               if b.defaultAction() is not None and b.defaultAction().data() in TOOL_TITLES}
    assert set(buttons) == set(TOOL_TITLES)
    for name, button in buttons.items():
        title, key, action = TOOL_TITLES[name], TOOL_SHORTCUTS[name], button.defaultAction()
        assert button.toolTip().startswith(f"{title} ({key}): "), button.toolTip()
        assert len(button.toolTip()) > len(f"{title} ({key}): ") + 20
        assert action.statusTip() and action.statusTip() in button.toolTip()
    assert "Enter" in buttons["polygon"].toolTip() and "drag" in buttons["box"].toolTip()
    win.close()
