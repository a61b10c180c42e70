"""Model > Versions says "not validated" for a version with no figure on images it did not
train on: a fine-tune that held nothing out (validation fraction 0), a loop round judged on its
training loss; a validated one shows its score."""

from __future__ import annotations

from unet_desktop.core.folder.task import Task, version_from_metadata
from unet_desktop.core.labels import binary_scheme
from unet_desktop.gui.model.versions_dialog import COLUMNS, VersionsDialog


def meta(version: str, val_on_train: bool) -> dict:
    return {"version": version, "name": version, "metrics": {"miou": 0.813, "mdice": 0.9},
            "data_summary": {"images": 2, "val_on_train": val_on_train,
                             "val_images": 0 if val_on_train else 3}}


def validation_column(qtbot, task: Task) -> dict[str, str]:
    """Model > Versions' Validation column, by version name."""
    dialog = VersionsDialog(task)
    qtbot.addWidget(dialog)
    column = COLUMNS.index("Validation")
    return {dialog.table.item(r, 0).text(): dialog.table.item(r, column).text()
            for r in range(dialog.table.rowCount())}


def test_a_version_that_held_nothing_out_is_listed_as_not_validated(qtbot):
    unvalidated = version_from_metadata("a.safetensors", meta("v1", True), "cells-v1")
    validated = version_from_metadata("b.safetensors", meta("v2", False), "cells-v2")
    assert "miou" not in unvalidated.metrics and validated.metrics["miou"] == 0.813
    task = Task("cells", binary_scheme(), versions=(unvalidated, validated))
    rows = validation_column(qtbot, task)
    assert rows == {"cells-v1": "not validated", "cells-v2": "mIoU 0.813"}


def test_a_version_validated_on_strokes_says_so(qtbot):
    """Held-out masks of strokes: the figure counts only their painted pixels."""
    on_strokes = meta("v3", False)
    on_strokes["data_summary"]["val_labelled"] = 0.072
    version = version_from_metadata("c.safetensors", on_strokes, "cells-v3")
    full = meta("v4", False)
    full["data_summary"]["val_labelled"] = 1.0
    task = Task("cells", binary_scheme(), versions=(
        version, version_from_metadata("d.safetensors", full, "cells-v4")))
    rows = validation_column(qtbot, task)
    assert rows == {"cells-v3": "mIoU 0.813 on strokes (7.2% painted)", "cells-v4": "mIoU 0.813"}
    # kept in task.json as it was read from the model file
    assert Task.from_dict(task.to_dict()).versions[0].metrics["val_labelled"] == 0.072
