"""Model > Versions says what a version learnt from: the folder's validation images held back as
too few count apart (signals review, bug 6)."""

from __future__ import annotations

import pytest

from tests.ml.test_train import config, disc_samples
from unet_desktop.core.folder.task import ModelVersion, version_from_metadata
from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.gui.model.versions_dialog import images_text
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
