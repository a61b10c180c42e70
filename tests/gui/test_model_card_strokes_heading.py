"""The Model Card's metrics headings say when the figures count only the strokes (as Versions,
the Training dock and the CLI do): a model trained or validated on masks mostly unlabeled."""

from __future__ import annotations

from unet_desktop.core.folder.task import ModelVersion
from unet_desktop.gui.model.model_card_dialog import metrics_heading, verdict_heading


def test_metrics_on_strokes_say_so_whether_held_out_or_not():
    nothing_held_out = {"val_on_train": True, "val_labelled": 0.0513}
    held_out = {"val_on_train": False, "validated": True, "val_images": 5, "val_labelled": 0.0513}
    for summary in (nothing_held_out, held_out):
        assert metrics_heading(summary).endswith(
            ", on the strokes only (5.1% of the pixels painted)")


def test_dense_masks_and_old_files_keep_the_plain_heading():
    assert metrics_heading({"val_on_train": False, "val_labelled": 0.97}) == "Validation metrics"
    assert metrics_heading({}) == "Validation metrics"


def test_the_gate_verdict_heading_says_strokes():
    version = ModelVersion("four-v1", "four-v1.safetensors", "abc", validated=True,
                           validation_images=2,
                           metrics={"val_score": 0.4, "val_labelled": 0.025})
    assert "on the strokes only (2.5% of the pixels painted)" in verdict_heading(version)
