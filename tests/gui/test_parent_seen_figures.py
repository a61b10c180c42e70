"""A parent that trained on the run's validation images is not shown as a comparison: not the
dock's dashed line, not "(parent X)" in the CLI's table; the model card says where its figures
are from (signals review, bug 2)."""

from __future__ import annotations

from unet_desktop.commands.train import ProgressPrinter
from unet_desktop.gui.model.model_card_dialog import metric_rows
from unet_desktop.gui.training.training_dock import TrainingDock
from unet_desktop.ml.reports import FinalReport

METRICS = {"miou": 0.2, "mdice": 0.3, "pixel_accuracy": 0.9,
           "iou": {"background": 0.3, "foreground": 0.1},
           "dice": {"background": 0.4, "foreground": 0.2}}
PARENT = {"miou": 0.139, "mdice": 0.24, "loss": 3.0}


def _final(tmp_path, parent_saw: bool) -> FinalReport:
    return FinalReport(tmp_path / "m.safetensors", METRICS, PARENT, None, "completed", 2, 2,
                       val_images=3, parent_trained_on_val=parent_saw)


def test_the_dock_draws_no_parent_line_for_a_parent_that_saw_the_images(qtbot, tmp_path):
    dock = TrainingDock(worker=None)
    qtbot.addWidget(dock)
    dock._on_report(_final(tmp_path, parent_saw=True))
    assert not dock.parent_line.isVisible()
    dock._on_report(_final(tmp_path, parent_saw=False))
    assert dock.parent_line.isVisible() and dock.parent_line.value() == 0.139


def test_the_cli_prints_no_parent_figures_for_a_parent_that_saw_the_images(tmp_path, capsys):
    ProgressPrinter().show(_final(tmp_path, parent_saw=True))
    out, err = capsys.readouterr()
    assert "mIoU" in out and "(parent" not in out
    assert "not compared with the parent" in err
    ProgressPrinter().show(_final(tmp_path, parent_saw=False))
    assert "(parent 0.139)" in capsys.readouterr().out


def test_the_model_card_says_the_parent_figures_are_on_images_it_trained_on():
    rows = dict(metric_rows({"miou": 0.2, "parent": {**PARENT, "trained_on_these_images": True}},
                            ["background", "foreground"]))
    assert rows["parent miou (on images it trained on)"] == "0.139"
    assert not any("trained_on_these_images" in name for name in rows)
    plain = dict(metric_rows({"miou": 0.2, "parent": PARENT}, ["background", "foreground"]))
    assert plain["parent miou"] == "0.139"
