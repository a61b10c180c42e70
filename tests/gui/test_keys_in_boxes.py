"""Keys typed into a text or number box of the window go to that box: Enter never accepts the
prediction (nor triggers any other action) from there, and replacing the user's strokes with the
prediction is never one stray key (issue 33, item 2)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    tiny_model,
    tiny_pets,
    window_on,
)
from tests.gui.helpers import drag

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def win(qtbot, tiny_pets, tiny_model):
    w = window_on(qtbot, tiny_pets, tiny_model)
    w.prediction_dock.auto_check.setChecked(False)
    w.training_dock.show()
    w.learning.panel.show()
    yield w
    w.close()


def boxes(win) -> list:
    """Every editable text or number box of the window's docks that is on screen."""
    found = [w for w in win.findChildren(QAbstractSpinBox) + win.findChildren(QLineEdit)
             if w.isVisibleTo(win) and w.window() is win and not w.isReadOnly()
             and not isinstance(w.parent(), QAbstractSpinBox)]  # a spin box's own line edit
    return found


def show_prediction_over_strokes(qtbot, win):
    key = image_key(4)  # unlabeled
    with qtbot.waitSignal(win.prediction.prediction_shown, timeout=TIMEOUT_MS,
                          check_params_cb=lambda k: k == key):
        win.file_dock.select_key(key)
    win.tools.set_tool("brush")
    win.tools.set_value(1)
    drag(qtbot, win.canvas, [(3.5, 3.5), (20.5, 3.5)])
    return win.session.document


def test_enter_in_every_box_triggers_no_action(qtbot, win):
    document = show_prediction_over_strokes(qtbot, win)
    strokes = document.mask.copy()
    triggered: list[str] = []
    for action in win.findChildren(QAction):
        action.triggered.connect(lambda _c=False, a=action: triggered.append(a.text()))
    found = boxes(win)
    names = {type(w).__name__ for w in found}
    assert {"QSpinBox", "DecimalSpinBox", "QLineEdit"} <= names, names  # decimals: gui.decimal_box
    assert len(found) >= 6
    for box in found:
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            box.setFocus()  # (Enter hands the focus back to the canvas)
            qtbot.waitUntil(lambda b=box: QApplication.focusWidget() is b)
            qtbot.keyClick(box, key)
        assert triggered == [], (box, triggered)
        np.testing.assert_array_equal(document.mask, strokes)
    assert win.session.document is document and document.undo_label == "Undo Brush stroke"
    assert win.statusBar().currentMessage().startswith("Accepted") is False


def test_enter_in_the_brush_size_box_hands_the_keys_back_to_the_canvas(qtbot, win):
    document = show_prediction_over_strokes(qtbot, win)
    spin = win.tool_dock.size_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "9")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert win.tools.size == 9  # the box took the value...
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.canvas)  # ...and let go the keys
    qtbot.keyClick(win.canvas, Qt.Key.Key_Z, CTRL)  # so Ctrl+Z now undoes the stroke
    assert not document.can_undo


def test_enter_over_strokes_asks_first(qtbot, win):
    document = show_prediction_over_strokes(qtbot, win)
    strokes = document.mask.copy()
    asked: list[str] = []
    win.prediction.confirm_replace = lambda key: asked.append(key) or False
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_Return)
    assert asked == [image_key(4)]
    np.testing.assert_array_equal(document.mask, strokes)  # "keep my strokes"
    win.prediction.confirm_replace = lambda key: asked.append(key) or True
    qtbot.keyClick(win.canvas, Qt.Key.Key_Return)
    np.testing.assert_array_equal(document.mask, win.prediction.shown.prediction.labels)
    assert document.undo_label == "Undo Accept prediction"
    asked.clear()
    win.file_dock.select_key(image_key(5))  # no strokes there: Enter accepts without asking
    qtbot.waitUntil(lambda: win.prediction.shown_key == image_key(5), timeout=TIMEOUT_MS)
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_Return)
    assert asked == []
    assert win.session.document.undo_label == "Undo Accept prediction"
