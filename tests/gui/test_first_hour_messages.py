"""What a new user reads: no contradictory messages while the model loads or after a failed
batch run, no stale result when the batch dialog opens again (issue 18, item 3)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_pets,
    tiny_model,
)
from tests.gui.helpers import block


def test_while_the_model_loads_the_dock_does_not_say_there_is_none(qtbot, tmp_path, tiny_model):
    from unet_desktop.gui.main_window import MainWindow

    win = MainWindow(model_path=tiny_model, ask_for_task=False)  # no New Task question: it
    # would hold predictions back until answered (issue 33, item 8)
    qtbot.addWidget(win)
    gate = block(win.worker)  # the load waits behind this job
    win.show()
    qtbot.waitUntil(lambda: any(job.name == "load model" for job in win.worker.pending()),
                    timeout=TIMEOUT_MS)
    assert win.open_folder(make_pets(tmp_path / "pets", n_images=2, n_labelled=0))
    dock = win.prediction_dock
    assert dock.model_label.text() == "Loading the model..."
    assert "No model" not in dock.status_label.text()
    assert "once the model is loaded" in dock.status_label.text()
    gate.set()
    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)
    assert "tiny" in dock.model_label.text() and "Mean uncertainty" in dock.status_label.text()
    win.close()


def test_a_failed_batch_run_says_failed_only_and_a_reopened_dialog_starts_clean(
        qtbot, tmp_path, tiny_model):
    win = open_window(qtbot, model_path=tiny_model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(make_pets(tmp_path / "pets", n_images=2, n_labelled=0))
    dialog = win.training_commands.batch_predict()
    dialog.model_edit.setText(str(tmp_path / "missing.safetensors"))
    with qtbot.waitSignal(dialog.run_finished, timeout=TIMEOUT_MS):
        dialog.start()
    shown = dialog.status_label.text() + "\n" + dialog.summary_view.toPlainText()
    assert "Failed" in shown and "missing.safetensors" in shown
    assert "Finished" not in shown and "0 written" not in shown
    assert win.statusBar().currentMessage().startswith("Failed: ")
    dialog.close()
    again = win.training_commands.batch_predict()
    assert again is dialog  # the same dialog (a run may still be going in others)
    assert dialog.status_label.text() == "" and dialog.summary_view.toPlainText() == ""
    win.close()
