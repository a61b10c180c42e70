"""Model > Versions says what a version learnt from: the folder's validation images held back as
too few count apart (signals review, bug 6); when it was trained, in local time (bug 9)."""

from __future__ import annotations

import time

import pytest

from tests.ml.test_train import config, disc_samples
from unet_desktop.core.folder.task import ModelVersion, Task, version_from_metadata
from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.core.labels import binary_scheme
from unet_desktop.gui.model.versions_dialog import (
    COLUMNS,
    VersionsDialog,
    images_text,
    trained_text,
)
from unet_desktop.ml.training.train import train


@pytest.mark.usefixtures("one_torch_thread")
def test_a_version_whose_validation_image_was_held_back_says_it_learnt_from_the_rest(tmp_path):
    cfg = config(tmp_path, epochs=1, max_steps=1, holdout=("img01.png",))
    final = list(train(disc_samples(3), cfg))[-1]
    assert final.held_back == 1
    version = version_from_metadata(str(cfg.out), model_metadata(cfg.out))
    assert version.held_back == 1 and version.corrected_images == 3
    assert images_text(version) == "3 (2 trained, 1 held back: too few to validate)"
    assert ModelVersion.from_dict(version.to_dict()).held_back == 1


def test_a_file_from_before_the_count_says_held_back_too():
    summary = {"images": 3, "train_images": 2, "val_images": 0, "val_on_train": True}
    version = version_from_metadata("m.safetensors", {"version": "v", "data_summary": summary})
    assert "2 trained, 1 held back" in images_text(version)
    summary = {"images": 3, "train_images": 3, "val_images": 0, "val_on_train": True}
    version = version_from_metadata("m.safetensors", {"version": "v", "data_summary": summary})
    assert images_text(version) == "3 (none validates)"
    summary = {"images": 10, "train_images": 8, "val_images": 2, "val_on_train": False}
    version = version_from_metadata("m.safetensors", {"version": "v", "data_summary": summary})
    assert images_text(version) == "10 (2 validate)"


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("berlin")
def test_the_trained_column_shows_local_time(qtbot):
    """Files store UTC (signals review, bug 9): 16:29 UTC is 17:29 in Berlin in December."""
    version = ModelVersion("m", "m.safetensors", "v1", created="2026-12-07T16:29:40+00:00")
    dialog = VersionsDialog(Task("t", binary_scheme(), versions=(version,)))
    qtbot.addWidget(dialog)
    assert dialog.table.item(0, COLUMNS.index("Trained")).text() == "2026-12-07 17:29"
    assert trained_text("2026-12-07T16:29:40+00:00") == "2026-12-07 17:29"
    assert trained_text("2026-12-07T16:29:40") == "2026-12-07 16:29"  # no zone: as stored
    assert trained_text("") == ""
