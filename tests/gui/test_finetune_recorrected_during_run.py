"""Training > Fine-tune, and a corrected image edited and saved again while the run trains on it:
the run learnt the mask it read, so its verdict names the image as learnt before that edit. An
edit saved before the run read the mask is learnt as saved, and not named."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments
from __future__ import annotations

from tests.gui.conftest_model import TIMEOUT_MS, disc_pair, image_key, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import pets, win  # noqa: F401
from tests.gui.test_models_meet import hold_fine_tunes, start_fine_tune
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.gui.training.training_dock import edited_during_run
from unet_desktop.ml.reports import StepReport

EDITED = "images/img_04.png was edited and saved again after the run read it"


def corrected_on_screen(qtbot, win, key):
    s = win.session
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.prediction.shown_key == key, timeout=TIMEOUT_MS)
    assert win.prediction.accept() and s.save("save")
    s.apply(delta_from_masks(s.document.mask, disc_pair(4)[1], "correct"))
    assert s.save("save") and s.workspace[key].state is ImageState.CORRECTED


def correct_again(s) -> None:
    again = s.document.mask.copy()
    again[:5, :5] = 1 if again[0, 0] != 1 else 2
    s.apply(delta_from_masks(s.document.mask, again, "correct"))
    assert s.save("save") and s.workspace[s.current_key].state is ImageState.CORRECTED


def test_an_image_corrected_again_during_a_fine_tune_is_named_in_its_verdict(
        qtbot, win, monkeypatch):
    key, s, dock = image_key(4), win.session, win.training_dock
    win.learning.panel.k_spin.setValue(10)  # no validation image among the first ten
    corrected_on_screen(qtbot, win, key)
    report, edited = dock._on_report, []

    def edit_on_first_step(r):  # the run has read every mask by its first step
        if isinstance(r, StepReport) and not edited:
            correct_again(s)
            edited.append(key)
        report(r)

    monkeypatch.setattr(dock, "_on_report", edit_on_first_step)
    with qtbot.waitSignal(dock.training_finished, timeout=60_000) as done:
        start_fine_tune(win)
    assert edited
    summary = model_metadata(done.args[0].model_path)["data_summary"]
    assert key in summary["train_keys"]
    result = dock.result_label.text()
    assert (f"{EDITED}: the new model learnt it as it was before that edit (a new fine-tune "
            "learns it as saved now).") in result, result
    assert result.startswith(("Saved", "Cancelled", "Time limit", "Step limit", "Stopped early"))
    assert not any(image_key(i) in result for i in range(4)), result  # unchanged


def test_an_image_corrected_again_before_the_run_reads_it_is_learnt_as_saved(
        qtbot, win, monkeypatch):
    key, s, dock = image_key(4), win.session, win.training_dock
    win.learning.panel.k_spin.setValue(10)
    corrected_on_screen(qtbot, win, key)
    go = hold_fine_tunes(monkeypatch)  # the run waits before it reads any mask
    start_fine_tune(win)
    correct_again(s)  # saved after Start, before the run read it: it learns this mask
    with qtbot.waitSignal(dock.training_finished, timeout=60_000):
        go.set()
    result = dock.result_label.text()
    assert result.startswith("Saved") and "edited" not in result, result


def test_the_verdict_names_edited_training_and_validation_images_apart():
    summary = {"train_keys": ["a.png", "b.png", "c.png"], "val_keys": ["d.png", "e.png"],
               "mask_sha1": {"a.png": "1", "b.png": "2", "c.png": "3", "d.png": "4"}}
    now = {"a.png": "x", "b.png": "2", "c.png": "y", "d.png": "z", "e.png": "w"}.get
    assert edited_during_run(summary, now) == (
        "a.png, c.png were edited and saved again after the run read them: the new model "
        "learnt them as they were before those edits (a new fine-tune learns them as saved "
        "now). d.png was edited and saved again after the run read it: its validation figures "
        "judge it as it was before that edit.")  # e.png: no digest recorded, nothing said
    assert edited_during_run(summary, lambda k: None) == ""  # not written since, or undone
    assert edited_during_run({}, now) == ""  # a file without a data summary
