"""The Fine-tune dialog's own defaults on a folder of few corrected images: a time limit, no
epoch count, nothing held out, the few-image recipe, and a result that says "not validated"."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import pytest

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.gui.training.finetune_dialog import FinetuneDialog
from unet_desktop.gui.training.training_dock import TrainingDock
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.training.few_image_recipe import FEW_IMAGE_MINUTES, MIN_EARLY_STOPPING_IMAGES


def test_two_images_train_for_the_time_limit_by_default_and_say_not_validated(
        qtbot, models, tmp_path):
    ws = Workspace.open(make_pets(tmp_path / "pets", n_images=4, n_labelled=2))
    dialog = FinetuneDialog(models.active, ws, tmp_path / "trained", device="cpu")
    qtbot.addWidget(dialog)
    assert dialog.minutes_check.isChecked() and not dialog.epochs_check.isChecked()
    assert dialog.minutes_spin.value() == FEW_IMAGE_MINUTES and dialog.val_spin.value() == 0.0
    assert f"at least {MIN_EARLY_STOPPING_IMAGES} validation images" in dialog.rule_label.text()
    assert "not validated" in dialog.rule_label.text()
    config = dialog.config()
    assert config.epochs is None and config.max_minutes == FEW_IMAGE_MINUTES
    assert config.val_fraction == 0.0 and config.batch_size is None  # left to the recipe
    dialog.epochs_spin.setValue(7)  # choosing a count turns the epoch limit on
    assert dialog.epochs_check.isChecked() and dialog.config().epochs == 7
    dialog.epochs_check.setChecked(False)

    # the run itself, with only the limit shortened for the test: it lasts its budget
    dialog.size_spin.setValue(32)
    dialog.minutes_spin.setValue(0.04)  # 2.4 s
    config = dialog.config()
    dock = TrainingDock(models.worker)
    qtbot.addWidget(dock)
    with qtbot.waitSignal(dock.training_finished, timeout=60_000) as finished:
        dock.start(ws, config)
        assert "not validated" in dock.metric_plot.plotItem.titleLabel.text.lower()
    final = finished.args[0]
    assert final.stopped == "time_budget" and final.epochs_run >= 1
    assert final.val_images == 0 and final.better_than_parent is None
    summary = read_meta(final.model_path).data_summary
    assert summary["schedule"] == {"batch_size": 4, "warmup_steps": 2, "min_lr_ratio": 0.01,
                                   "kept_norm_statistics": True}  # a fine-tune (issue 31)
    assert summary["train_images"] == 2 and summary["early_stopping"] is False
    text = dock.result_label.text()
    assert "Not validated" in text and "better than its parent" not in text


@pytest.mark.parametrize(("held_out", "allowed"), [(1, False), (4, False), (5, True)])
def test_early_stopping_needs_enough_validation_images(held_out, allowed):
    from unet_desktop.ml.training.few_image_recipe import early_stopping_allowed

    assert early_stopping_allowed(held_out) is allowed
