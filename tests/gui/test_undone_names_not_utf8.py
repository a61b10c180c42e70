"""An image undone during a run, whose file name is not UTF-8 (Latin-1 bytes from an old zip):
the fine-tune's verdict, a learning round's outcome and the loop's messages named it by its raw
key, which a Qt label or a ``Signal(str)`` cuts short ('images/Mller_01.png' for Müller_01.png).
They show those bytes as Latin-1 letters now, as the file list does (``shown_name``)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS
from tests.gui.test_file_names_not_utf8 import make_folder
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.gui.training.training_dock import undone_during_run
from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings
from unet_desktop.ml.reports import RoundResult, SkippedPair

SHOWN = "images/Müller_01.png"


def test_the_fine_tune_verdict_names_an_undone_image_whole(qtbot):
    key = "images/M\udcfcller_01.png"
    label = QLabel(undone_during_run({"train_keys": [key]}, lambda k: False))
    qtbot.addWidget(label)
    assert label.text().startswith(f"{SHOWN} was undone (no longer corrected)")


def stopped_round_once(key: str):
    """``LearningLoop.run_round`` as a round that skips ``key``, then finds it undone (stopped,
    nothing kept); later rounds have nothing to train."""
    rounds = []

    def run_round(self, plan, cancel=None):
        rounds.append(plan)
        if len(rounds) == 1:
            yield SkippedPair(key, key, "a test's reason")
            yield self._undone_result([key], (), (key,), (), 0.0)
        else:
            yield RoundResult(None, "", False, "nothing_to_train", "Nothing to train.", {})

    return run_round


def test_a_learning_round_names_an_undone_image_whole(qtbot, tmp_path, monkeypatch):
    root = tmp_path / "old zip"
    key = make_folder(root)[0]
    mask = np.zeros((40, 48), np.uint8)
    mask[5:20, 10:30] = 255
    Workspace.open(root).save_mask(key, mask, ImageState.CORRECTED)
    monkeypatch.setattr(LearningLoop, "run_round", stopped_round_once(key))
    win = open_window(qtbot)
    learning = win.learning
    learning.settings = LoopSettings(epochs=1, size=32, batch_size=4)
    assert win.open_folder(root)
    said: list[str] = []
    learning.message.connect(said.append)
    shown = []  # the panel's and the dock's lines as the round ended
    learning.round_finished.connect(lambda _r: shown.append(
        (learning.panel.status_label.text(), win.training_dock.status_label.text())))
    with qtbot.waitSignal(learning.round_finished, timeout=TIMEOUT_MS):
        learning.action.trigger()  # Training > Learn as I Correct: on
    assert any(m.startswith(f"The learning round skips {SHOWN}: ") for m in said), said
    stopped = f"Stopped, nothing kept: {SHOWN} is no longer corrected"
    assert all(stopped in line for line in shown[0]), shown
    win.close()
