"""Fine-tuning from the GUI: dialog settings, live curves, cancel keeps the best, hot-swap."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import time

import pytest
from PIL import Image

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    disc_pair,
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import trimap_to_binary
from unet_desktop.gui.training.finetune_dialog import FinetuneDialog
from unet_desktop.gui.training.training_dock import TrainingDock, verdict
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import FinalReport

FAST = {"batch_size": 4, "patience": None}


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.open(make_pets(tmp_path / "pets", n_images=8, n_labelled=8))


@pytest.fixture
def dock(qtbot, models) -> TrainingDock:
    d = TrainingDock(models.worker)
    qtbot.addWidget(d)
    return d


def dialog_for(qtbot, models, ws, tmp_path, epochs: int) -> FinetuneDialog:
    dialog = FinetuneDialog(models.active, ws, tmp_path / "trained", device="cpu")
    qtbot.addWidget(dialog)
    dialog.epochs_spin.setValue(epochs)
    dialog.size_spin.setValue(32)
    dialog.val_spin.setValue(0.25)
    return dialog


def test_dialog_turns_its_settings_into_a_training_config(qtbot, models, ws, tmp_path,
                                                          tiny_model):
    dialog = dialog_for(qtbot, models, ws, tmp_path, epochs=3)
    assert "8 corrected" in dialog.data_label.text()
    assert dialog.size_spin.value() == 32 and dialog.from_current_check.isChecked()
    assert dialog.classes_label.isHidden()  # a trimap model on trimap masks
    config = dialog.config()
    assert (config.epochs, config.size, config.val_fraction) == (3, 32, 0.25)
    assert not config.new_classes
    assert config.init == tiny_model and config.out.parent == tmp_path / "trained"
    assert config.out != tiny_model and config.lr == pytest.approx(3e-4)
    assert dialog.scale_combo.currentData() == "fit" and config.scale == "fit"  # the model's
    dialog.scale_combo.setCurrentIndex(dialog.scale_combo.findData("native"))
    assert dialog.config().scale == "native"
    dialog.from_current_check.setChecked(False)
    dialog.minutes_check.setChecked(True)
    dialog.minutes_spin.setValue(2.0)
    scratch = dialog.config()
    assert scratch.init is None and scratch.arch is None  # the ImageNet-pretrained encoder
    assert scratch.max_minutes == 2.0 and scratch.lr == pytest.approx(1e-3)


def binary_folder(root, n: int = 6):
    """Generic layout (images/ + masks/) with 0/255 masks of the same discs."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        image, trimap = disc_pair(i)
        Image.fromarray(image).save(root / "images" / f"car_{i}.png")
        Image.fromarray(trimap_to_binary(trimap)).save(root / "masks" / f"car_{i}.png")
    return Workspace.open(root)


def test_a_folder_with_other_classes_fine_tunes_into_its_classes(qtbot, dock, models,
                                                                 tmp_path):
    cars = binary_folder(tmp_path / "cars")
    assert cars.scheme.kind == "binary"
    dialog = dialog_for(qtbot, models, cars, tmp_path, epochs=1)
    line = dialog.classes_label.text()
    assert not dialog.classes_label.isHidden()
    assert line == ("The model's classes (trimap: foreground, background, border) will be "
                    "replaced by this folder's (binary: background, foreground).")
    dialog.scale_combo.setCurrentIndex(dialog.scale_combo.findData("native"))  # thin things
    config = dialog.config(**FAST)
    assert config.new_classes and config.init == models.active.path
    with qtbot.waitSignal(dock.training_finished, timeout=30_000) as finished:
        dock.start(cars, config)
    assert finished.args[0].stopped == "completed"
    meta = read_meta(finished.args[0].model_path)
    assert meta.scheme.kind == "binary" and meta.parent_version == models.active_version
    assert meta.scale == "native"
    dialog.from_current_check.setChecked(False)  # a new pretrained model: the folder's classes
    new = dialog.config()
    assert new.init is None and not new.new_classes


def test_fine_tune_plots_live_and_its_model_can_be_swapped_in(qtbot, dock, models, ws,
                                                              tmp_path):
    parent_version = models.active_version
    config = dialog_for(qtbot, models, ws, tmp_path, epochs=2).config(**FAST)
    dock.model_trained.connect(models.load)  # the wiring the window uses
    with qtbot.waitSignal(dock.training_finished, timeout=30_000) as finished:
        dock.start(ws, config)
    final = finished.args[0]
    assert isinstance(final, FinalReport) and final.stopped == "completed"
    meta = read_meta(final.model_path)
    assert final.model_path == config.out.with_name(f"tiny-{meta.version}.safetensors")
    assert final.model_path.is_file() and not config.out.exists()  # named after its version
    assert meta.parent_version == parent_version
    x, y = dock.loss_curve.getData()
    assert len(x) >= 2 and all(v > 0 for v in y)  # a point per step
    assert len(dock.miou_curve.getData()[0]) == 2  # a point per epoch
    assert dock.parent_line.isVisible()
    assert ("better" in dock.result_label.text()) != ("worse" in dock.result_label.text())
    assert not dock.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: models.active_version == meta.version,
                    timeout=TIMEOUT_MS)
    assert models.slots.previous.version == parent_version  # rollback is one action away


def test_cancel_stops_within_a_step_and_keeps_the_best_model(qtbot, dock, models, ws,
                                                             tmp_path):
    config = dialog_for(qtbot, models, ws, tmp_path, epochs=500).config(**FAST)
    dock.start(ws, config)
    qtbot.waitUntil(lambda: len(dock._epochs) >= 1, timeout=30_000)
    steps_then = len(dock._steps)
    started = time.monotonic()
    with qtbot.waitSignal(dock.training_finished, timeout=TIMEOUT_MS) as finished:
        dock.cancel()
    assert time.monotonic() - started < 5.0
    final = finished.args[0]
    assert final.stopped == "cancelled" and final.model_path.is_file()
    assert read_meta(final.model_path).version in final.model_path.name
    assert final.best_epoch >= 1
    assert len(dock._steps) <= steps_then + 8  # what was in flight, not another epoch's worth
    assert dock.result_label.text().startswith("Cancelled; the best model so far is kept.")
    # the status line above it said "Finished after 1 epoch(s)."
    assert dock.status_label.text().startswith("Cancelled after")


def test_training_without_labelled_images_fails_with_a_reason(qtbot, dock, models, tmp_path):
    empty = Workspace.open(make_pets(tmp_path / "empty", n_images=2, n_labelled=0))
    dialog = FinetuneDialog(models.active, empty, tmp_path / "trained", device="cpu")
    qtbot.addWidget(dialog)
    assert "0 corrected" in dialog.data_label.text()
    with qtbot.waitSignal(dock.training_failed, timeout=TIMEOUT_MS) as failed:
        dock.start(empty, dialog.config())
    assert "no corrected or verified masks" in failed.args[0]
    assert "failed" in dock.result_label.text()


def test_verdict_sentences(tmp_path):
    path = tmp_path / "m.safetensors"
    worse = FinalReport(path, {"miou": 0.5}, {"miou": 0.6}, False, "completed", 3, 2, 4)
    assert "worse than its parent (0.600)" in verdict(worse)
    better = FinalReport(path, {"miou": 0.7}, {"miou": 0.6}, True, "time_budget", 3, 3, 4)
    assert verdict(better).startswith("Time limit reached.") and "better" in verdict(better)
    assert "on 4 held-out image(s)" in verdict(better)
    assert "No model was saved" in verdict(FinalReport(None, {}, None, None, "cancelled"))
    seen = FinalReport(path, {"miou": 0.7}, {"miou": 0.6}, None, "completed", 3, 3, 4, True)
    assert "Not compared with its parent" in verdict(seen) and "better" not in verdict(seen)


def test_a_run_that_held_nothing_out_says_not_validated(tmp_path):
    """Validation fraction 0 (or too few images): the figures are on the training images."""
    final = FinalReport(tmp_path / "m.safetensors", {"miou": 0.81}, {"miou": 0.6}, None,
                        "time_budget", 9, 9, val_images=0)
    text = verdict(final)
    assert "Not validated" in text and "none held out" in text
    assert "better" not in text and "worse" not in text
    assert "on its own training images" in text and "strokes" not in text


def test_a_figure_on_strokes_says_so(tmp_path):
    """Sparse masks: the figures count only the painted pixels, and the verdict says that."""
    path = tmp_path / "m.safetensors"
    own = FinalReport(path, {"miou": 0.86}, None, None, "time_budget", 9, 9, val_images=0,
                      val_labelled=0.087)
    assert "mIoU 0.860 on the strokes (8.7% of the pixels) of its own training images" \
        in verdict(own)
    held = FinalReport(path, {"miou": 0.7}, None, None, "completed", 3, 3, 4, val_labelled=0.05)
    assert "validation mIoU 0.700 on the strokes (5.0% of the pixels) of 4 held-out image(s)" \
        in verdict(held)


def test_a_tie_with_the_parent_is_no_better_not_worse(tmp_path):
    """``better_than_parent`` is new > parent: an equal score is not better, nor worse."""
    tie = FinalReport(tmp_path / "m.safetensors", {"miou": 0.6}, {"miou": 0.6}, False,
                      "completed", 3, 2, 4)
    text = verdict(tie)
    assert "no better than its parent (0.600)" in text and "worse" not in text


def test_images_held_out_but_too_few_to_validate_are_said_so(tmp_path):
    """A folder's validation set of one image: left out of training, yet too few to judge."""
    final = FinalReport(tmp_path / "m.safetensors", {"miou": 0.8}, None, None, "completed",
                        3, 3, val_images=0, held_back=1)
    text = verdict(final)
    assert "Not validated: 1 image(s) held out, too few to validate (2 needed)" in text
    assert "none held out" not in text and "on its own training images" in text


@pytest.mark.parametrize(("val_fraction", "held", "title"), [
    (0.0, 2, "Validated on 2"),  # the folder's holdout validates
    (0.25, 1, "Not validated"),  # one image: too few to judge
])
def test_the_plot_title_follows_the_split_the_run_made(qtbot, dock, models, ws, tmp_path,
                                                        val_fraction, held, title):
    """In a task folder the holdout decides the split, not the validation fraction."""
    dialog = dialog_for(qtbot, models, ws, tmp_path, epochs=1)
    dialog.val_spin.setValue(val_fraction)
    holdout = tuple(e.key for e in ws.labelled())[:held]
    config = dialog.config(**FAST, holdout=holdout)
    with qtbot.waitSignal(dock.training_finished, timeout=30_000) as finished:
        dock.start(ws, config)
        assert dock.metric_plot.plotItem.titleLabel.text == "Scores"  # not known yet
    assert finished.args[0].val_images == (held if held >= 2 else 0)
    assert dock.metric_plot.plotItem.titleLabel.text == title


def test_a_run_ended_by_its_step_limit_says_so(tmp_path):
    final = FinalReport(tmp_path / "m.safetensors", {"miou": 0.7}, None, None, "step_limit",
                        2, 2, 4)
    assert verdict(final).startswith("Step limit reached.")
