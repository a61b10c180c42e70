"""The training dock's words match what the run did: the epoch's mIoU on held-out or on training
images (signals review, bug 4); a skipped pair is an image it could not use, not always an
"invalid mask" (bug 5)."""

from __future__ import annotations

from types import SimpleNamespace

from unet_desktop.gui.training.training_dock import TrainingDock
from unet_desktop.ml.reports import EpochReport, FinalReport, SkippedPair, SplitReport

VAL = {"miou": 0.112, "mdice": 0.2, "loss": 1.0}


def _dock(qtbot) -> TrainingDock:
    dock = TrainingDock(worker=None)
    qtbot.addWidget(dock)
    return dock


def test_the_epoch_status_says_training_images_when_nothing_is_held_out(qtbot):
    dock = _dock(qtbot)
    dock._on_report(SplitReport(train_images=9, val_images=0))
    dock._on_report(EpochReport(3, None, 0.5, VAL, True, 23.0))
    text = dock.status_label.text()
    assert "mIoU on training images 0.112" in text and "validation" not in text
    dock._on_report(SplitReport(train_images=8, val_images=0, held_back=1))
    dock._on_report(EpochReport(4, None, 0.5, VAL, True, None))
    assert "validation" not in dock.status_label.text()


def test_the_epoch_status_says_validation_on_held_out_images(qtbot):
    dock = _dock(qtbot)
    dock._on_report(SplitReport(train_images=9, val_images=3))
    dock._on_report(EpochReport(1, 5, 0.5, VAL, True, 23.0))
    assert "Epoch 1 / 5 · validation mIoU 0.112" in dock.status_label.text()


def test_a_skipped_image_is_not_called_an_invalid_mask(qtbot, tmp_path):
    dock = _dock(qtbot)
    reason = "file is truncated or corrupt"
    dock._on_report(SkippedPair("images/im04.png", str(tmp_path / "images/im04.png"), reason))
    dock.final = FinalReport(tmp_path / "m.safetensors", VAL, None, None, "completed", 1, 1)
    dock._on_finished(SimpleNamespace(state="done"))
    text = dock.result_label.text()
    assert "Left out 1 labelled image(s) it could not use" in text
    assert f"im04.png: {reason}" in text and "invalid mask" not in text
