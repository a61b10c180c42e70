"""The status bar's pixel read-out names the pixel's value as the mask is now: a click, an undo
or another image under a pointer that did not move changes it (it followed pointer moves only)."""

from __future__ import annotations

from tests.gui.conftest import open_window
from tests.gui.helpers import _pos, click


def readout_value(win) -> int:
    return int(win.pointer_status.value_label.text().split()[0])


def test_readout_follows_a_click_and_an_undo_under_a_still_pointer(qtbot, workspace_dir):
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    canvas, document = win.canvas, win.session.document
    x, y = 5.5, 5.5
    qtbot.mouseMove(canvas.viewport(), pos=_pos(canvas, x, y))
    qtbot.waitUntil(lambda: win.pointer_status.value_label.text() != "")
    before = document.value_at(x, y)
    assert readout_value(win) == before
    painted = next(c.value for c in document.scheme.classes if c.value != before)
    win.tools.set_tool("brush")
    win.tools.set_value(painted)

    click(qtbot, canvas, x, y)
    assert document.value_at(x, y) == painted
    assert readout_value(win) == painted

    win.session.undo()
    assert readout_value(win) == before

    win.actions.next_image.trigger()  # another image under the pointer
    assert win.session.document is not document
    assert readout_value(win) == win.session.document.value_at(x, y)
    win.close()
