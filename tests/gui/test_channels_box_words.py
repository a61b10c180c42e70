"""The New Task dialog's Channels box counts from 1, and so do its messages."""

from __future__ import annotations

import pytest

from unet_desktop.core.labels import binary_scheme
from unet_desktop.gui.task.task_dialog import TaskDialog


@pytest.fixture
def dialog(qtbot):
    dialog = TaskDialog(binary_scheme(), name="nuclei")
    qtbot.addWidget(dialog)
    return dialog


def _ok(dialog: TaskDialog) -> bool:
    return dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


@pytest.mark.parametrize("text", ["0", "1,2,0", "-1"])
def test_channel_zero_is_answered_counted_from_1(dialog, text):
    dialog.channels_edit.setText(text)
    problem = dialog.problem_label.text()
    assert "counted from 1" in problem and repr(text) in problem
    assert "0-based" not in problem and "-1," not in problem
    assert not _ok(dialog)


def test_four_channels_are_answered_in_the_box_numbers(dialog):
    dialog.channels_edit.setText("1,2,3,4")
    problem = dialog.problem_label.text()
    assert "one to three" in problem and "'1,2,3,4'" in problem and "0-based" not in problem
    assert not _ok(dialog)


def test_channels_from_1_feed_the_rule_from_0(dialog):
    dialog.channels_edit.setText("2")
    assert dialog.problem_label.text() == "" and _ok(dialog)
    assert dialog.task().input_rule["channels"] == [1]
