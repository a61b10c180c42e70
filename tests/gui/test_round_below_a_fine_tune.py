"""A learning round that speaks in the Training dock after a fine-tune (cancelled or finished):
the result line below its status is the fine-tune's and says so. It read as the round's outcome:
'Learning round pets-v2: Promoted...' above 'No model was saved (stopped before the first
validation).'"""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    model_worker,
    models,
    tiny_model,
)
from tests.gui.test_learning_loop import correct, new_window, pets, turn_on  # noqa: F401
from tests.gui.test_models_meet import hold_fine_tunes, start_fine_tune
from unet_desktop.gui.training.training_dock import TrainingDock


def test_a_round_after_a_cancelled_fine_tune_names_its_line_as_the_fine_tunes(
        qtbot, pets, tiny_model, monkeypatch):
    win = new_window(qtbot, pets, tiny_model)
    dock = win.training_dock
    try:
        turn_on(qtbot, win)
        qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
        go = hold_fine_tunes(monkeypatch)
        start_fine_tune(win)
        job = dock.job
        qtbot.waitUntil(lambda: job.started, timeout=TIMEOUT_MS)
        correct(qtbot, win, 4)  # a round is asked for: it waits for the fine-tune
        with qtbot.waitSignal(win.learning.round_finished, timeout=60_000):
            dock.cancel_button.click()
            go.set()
        assert dock.status_label.text().startswith("Learning round")
        assert dock.result_label.text() == ("Last fine-tune: no model was saved (stopped "
                                            "before the first validation).")
    finally:
        win.close()


def test_a_new_fine_tune_clears_the_line_and_a_round_leaves_an_empty_one_empty(qtbot, models):
    dock = TrainingDock(models.worker)
    qtbot.addWidget(dock)
    dock.show_round("Learning round pets-v1: step 1, loss 0.900")
    assert dock.result_label.text() == ""  # no fine-tune yet: nothing to name
    dock._show_result("Saved pets-v1 (epoch 2). Not validated: ...")
    dock.show_round("Learning round pets-v2: step 1, loss 0.800")
    dock.show_round("Learning round pets-v2: step 2, loss 0.700")  # named once, not twice
    assert dock.result_label.text() == "Last fine-tune: saved pets-v1 (epoch 2). Not validated: ..."
