"""Training > Fine-tune, and a correction undone back to its prediction (and saved) while the run
trains on it: the run's verdict names the image, since the new model learnt from it."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments
from __future__ import annotations

from tests.gui.conftest_model import TIMEOUT_MS, disc_pair, image_key, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import pets, win  # noqa: F401
from tests.gui.test_models_meet import start_fine_tune
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.gui.training.training_dock import undone_during_run
from unet_desktop.ml.reports import StepReport


def test_an_image_undone_during_a_fine_tune_is_named_in_its_verdict(qtbot, win, monkeypatch):
    key, s, dock = image_key(4), win.session, win.training_dock
    win.learning.panel.k_spin.setValue(10)  # no validation image among the first ten
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.prediction.shown_key == key, timeout=TIMEOUT_MS)
    assert win.prediction.accept() and s.save("save")
    predicted = s.document.mask.copy()
    s.apply(delta_from_masks(s.document.mask, disc_pair(4)[1], "correct"))
    assert s.save("save") and s.workspace[key].state is ImageState.CORRECTED

    report = dock._on_report

    def undo_on_first_step(r):
        if isinstance(r, StepReport) and s.workspace[key].state is ImageState.CORRECTED:
            s.undo()  # back to the accepted prediction, while the run trains
            assert (s.document.mask == predicted).all() and s.save("save")
        report(r)

    monkeypatch.setattr(dock, "_on_report", undo_on_first_step)
    with qtbot.waitSignal(dock.training_finished, timeout=60_000) as done:
        start_fine_tune(win)
    final = done.args[0]
    assert s.workspace[key].state is ImageState.PREDICTED
    summary = model_metadata(final.model_path)["data_summary"]
    assert key in summary["train_keys"] + summary["val_keys"]  # the run used it
    result = dock.result_label.text()
    assert f"{key} was undone (no longer corrected) and saved during the run" in result, result
    assert result.startswith(("Saved", "Cancelled", "Time limit", "Step limit", "Stopped early"))
    assert not any(image_key(i) in result for i in range(4)), result  # still corrected


def test_the_verdict_names_undone_training_and_validation_images_apart():
    summary = {"train_keys": ["a.png", "b.png", "c.png"], "val_keys": ["d.png", "e.png"]}
    said = undone_during_run(summary, lambda k: k in {"b.png", "e.png"})
    assert said == ("a.png, c.png were undone (no longer corrected) and saved during the run, "
                    "but the new model learnt from them (Model > Versions... puts another into "
                    "use; a new fine-tune leaves them out). d.png was undone (no longer "
                    "corrected) and saved during the run, but its validation figures still "
                    "count it.")
    assert undone_during_run(summary, lambda k: True) == ""
    assert undone_during_run({}, lambda k: False) == ""  # a file without a data summary
