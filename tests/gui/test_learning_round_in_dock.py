"""A learning round speaks in the Training dock's own status line and Cancel Training stops it:
the dock said "No training yet." (or an old fine-tune's result) with Cancel greyed out during
and after rounds, and the round's progress was the last line of the panel's scrolled column,
below its visible part."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QScrollArea

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401 - fixtures by name
from tests.gui.test_learning_loop import FAST, correct, new_window, pets, turn_on  # noqa: F401
from unet_desktop.core.folder.learning_record import CurvePoint, LearningRecord
from unet_desktop.gui.main_window import TRAINING_DOCK_HEIGHT


def test_a_finished_round_is_said_in_the_dock(qtbot, pets, tiny_model):
    win = new_window(qtbot, pets, tiny_model)
    dock = win.training_dock
    result = turn_on(qtbot, win)
    assert result.model_path is not None
    text = dock.status_label.text()
    assert text.startswith(f"Learning round {result.model_path.stem}: "), text
    assert result.reason in text
    assert not dock.cancel_button.isEnabled()  # nothing runs now
    win.close()


def test_cancel_training_stops_a_round_until_the_next_correction(qtbot, pets, tiny_model):
    win = new_window(qtbot, pets, tiny_model)
    # a round that trains until it is stopped (a time budget, no epoch count)
    win.learning.settings = dataclasses.replace(FAST, epochs=None, round_seconds=600)
    dock = win.training_dock
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: "step" in dock.status_label.text(), timeout=TIMEOUT_MS)
    assert dock.status_label.text().startswith("Learning round "), dock.status_label.text()
    assert "loss" in dock.status_label.text()
    assert dock.cancel_button.isEnabled()
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as done:
        dock.cancel_button.click()
    assert done.args[0] is None or done.args[0].model_path is None  # nothing kept
    assert "cancelled" in dock.status_label.text(), dock.status_label.text()
    assert "next correction you save" in dock.status_label.text()
    assert not dock.cancel_button.isEnabled()
    assert not win.learning.running  # it did not start again at once
    win.learning.settings = FAST
    correct(qtbot, win, 4)  # a saved correction: the next round
    assert win.learning.running
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS):
        pass
    win.close()


def test_the_panel_status_line_is_above_a_long_estimate(qtbot):
    win = open_window(qtbot)
    panel, dock = win.learning.panel, win.training_dock
    panel.show_record(LearningRecord(enabled=True, points=(
        CurvePoint(1, "slice_07.png", 0.55, "dice", 0.9, "membranes-v1",
                   labelled_fraction=0.017),)))
    panel.show_status("Learning round membranes-v2: step 7, loss 0.907")
    panel.setVisible(True)
    dock.reveal()
    qtbot.waitUntil(dock.isVisible)
    qtbot.wait(50)
    assert abs(dock.height() - TRAINING_DOCK_HEIGHT) <= 10, dock.height()
    area = panel.findChild(QScrollArea)
    label = panel.status_label
    top = label.mapTo(area.viewport(), QPoint(0, 0)).y()
    assert 0 <= top and top + label.height() <= area.viewport().height(), (
        top, label.height(), area.viewport().height())
    win.close()
