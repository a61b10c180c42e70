"""Mask > Classes (a reorder) during a learning round: the round is cancelled as the folder
reopens in the new order, and the training dock says so; it said the folder "is no longer open"
while it was."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments
from __future__ import annotations

import dataclasses

from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import FAST, new_window, pets  # noqa: F401


def test_reordering_the_classes_during_a_round_does_not_say_the_folder_is_closed(qtbot, pets,
                                                                               tiny_model):
    win = new_window(qtbot, pets, tiny_model)
    dock = win.training_dock
    win.learning.settings = dataclasses.replace(FAST, epochs=None, round_seconds=600)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: "step" in dock.status_label.text(), timeout=TIMEOUT_MS)
    win.learning.settings = FAST
    said = []
    show_round = dock.show_round
    dock.show_round = lambda status, cancel=None: (said.append(status),
                                                   show_round(status, cancel))[1]
    dialog = win.task_commands.edit_classes()
    dialog.editor.move(2, -1)
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS):
        dialog.accept()
    win.close()
    assert not [t for t in said if "no longer open" in t], said
    assert "Learning round pets-v1 cancelled: its classes changed; nothing kept." in said
