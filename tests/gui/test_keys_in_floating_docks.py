"""Enter typed into a box of a floating dock (Tools, Training, Contrast undocked with the float
button) is the box's, as in a docked one: Qt offers a floating dock its main window's shortcuts,
so Enter there accepted the prediction."""
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


@pytest.fixture
def win(qtbot, tiny_pets, tiny_model):
    w = window_on(qtbot, tiny_pets, tiny_model)
    w.prediction_dock.auto_check.setChecked(False)
    key = image_key(5)  # unlabeled, no strokes: Enter on the canvas would accept at once
    with qtbot.waitSignal(w.prediction.prediction_shown, timeout=TIMEOUT_MS,
                          check_params_cb=lambda k: k == key):
        w.file_dock.select_key(key)
    yield w
    w.close()


def floating_boxes(dock) -> list:
    """The editable text or number boxes of ``dock`` that are on screen."""
    return [w for w in dock.findChildren(QAbstractSpinBox) + dock.findChildren(QLineEdit)
            if w.isVisibleTo(dock) and not w.isReadOnly()
            and not isinstance(w.parent(), QAbstractSpinBox)]


def test_enter_in_the_boxes_of_floating_docks_triggers_no_action(qtbot, win):
    document = win.session.document
    before = document.mask.copy()
    triggered: list[str] = []
    for action in win.findChildren(QAction):
        action.triggered.connect(lambda _c=False, a=action: triggered.append(a.text()))
    docks = (win.tool_dock, win.training_dock, win.contrast_dock)
    tried = 0
    for dock in docks:
        dock.show()
        dock.setFloating(True)
        qtbot.waitUntil(dock.isVisible)
        assert dock.window() is dock  # a window of its own
        for box in floating_boxes(dock):
            box.setFocus()
            qtbot.waitUntil(lambda b=box: QApplication.focusWidget() is b)
            qtbot.keyClick(box, Qt.Key.Key_Return)
            tried += 1
            assert triggered == [], (dock.windowTitle(), box, triggered)
    assert tried >= 4
    np.testing.assert_array_equal(document.mask, before)
    assert not document.can_undo


def test_enter_in_the_floating_brush_size_box_sets_the_size(qtbot, win):
    win.tool_dock.setFloating(True)
    spin = win.tool_dock.size_spin
    spin.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is spin)
    spin.selectAll()
    qtbot.keyClicks(spin, "9")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert win.tools.size == 9
    assert not win.session.document.can_undo  # nothing accepted
