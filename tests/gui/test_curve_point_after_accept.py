"""Enter + Save in a sparse task with Learn as I Correct on: the learning curve's point compares
the prediction the user accepted with the saved mask (they changed nothing), never the pixel
classifier's prediction that the accepted mask would have set off as if it were strokes."""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtWidgets import QApplication

from tests.gui.conftest_model import TIMEOUT_MS
from tests.gui.test_sparse_correction import disc_window
from unet_desktop.gui.model.live_prediction import VERSION as STROKES
from unet_desktop.gui.model.prediction_controller import ShownPrediction
from unet_desktop.ml.loop.learning_loop import LoopSettings


def show_two_class_prediction(win, disc: np.ndarray) -> None:
    """The tiny test model predicts one class everywhere; a real one predicts both (the disc
    with a ragged edge), which the pixel classifier would then learn from."""
    old = win.prediction.shown
    rng = np.random.default_rng(0)
    labels = np.where(disc ^ (rng.random(disc.shape) < 0.05), 255, 0).astype(np.uint8)
    win.prediction.shown = ShownPrediction(
        old.key, old.version, dataclasses.replace(old.prediction, labels=labels), old.scheme)
    win.prediction.prediction_shown.emit(old.key)  # as when the model's prediction arrives


def test_enter_then_save_scores_the_accepted_prediction(qtbot, tmp_path):
    win, disc = disc_window(qtbot, tmp_path)
    win.learning.settings = LoopSettings(epochs=1, size=32, batch_size=4)
    win.model_actions.learn_as_i_correct.trigger()
    model_version = win.models.active_version
    show_two_class_prediction(win, disc)
    live = win.live_prediction
    assert win.prediction.accept()  # Enter: the model's prediction, unchanged

    # the pause after the accept has passed (after the classifier's warm-up) and no run is left
    qtbot.waitUntil(lambda: not live._timer.isActive()
                    and (live._running is None or live._running.done()), timeout=30_000)
    QApplication.processEvents()  # a run's result was posted before its future was done
    assert win.prediction.shown.version == model_version  # no classifier run on the accept

    # a stroke prediction shown after the accept (a run that started before it) is no start
    key = win.session.current_key
    strokes = dataclasses.replace(win.prediction.shown.prediction,
                                  labels=np.zeros_like(disc, dtype=np.uint8))
    assert win.prediction.show_from_strokes(key, strokes)
    assert win.prediction.shown.version == STROKES

    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS):
        assert win.session.save()  # Ctrl+S, nothing edited
    qtbot.waitUntil(lambda: bool(win.learning.loop.record.points), timeout=TIMEOUT_MS)
    point = win.learning.loop.record.points[0]
    win.close()
    assert point.model_version == model_version
    assert point.score == 1.0 and point.changed_fraction == 0
