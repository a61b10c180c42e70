"""A learning-loop round's entry in the task counts every labelled image of the round (those it
trained on and the validation set), as a fine-tune's does; a validation set too small to judge
is held back, and no image is said to validate the round."""

from __future__ import annotations

from dataclasses import replace

from tests.ml.conftest import tiny_meta
from unet_desktop.core.folder.learning_record import LearningRecord, record_path, save_record
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.gui.model.versions_dialog import images_text
from unet_desktop.ml.loop.folder_models import FolderModels
from unet_desktop.ml.models.architecture import build_model
from unet_desktop.ml.models.modelfile import save_model


def round_file(plan, trained: int):
    """A model file as a round writes it: its header counts the images it trained on."""
    meta = replace(tiny_meta(trimap_scheme()), data_summary={
        "images": trained, "train_images": trained, "val_images": trained,
        "val_on_train": True})
    save_model(plan.out, build_model(meta.arch), meta)
    return plan.out


def owner(tmp_path) -> FolderModels:
    folder = tmp_path / "folder"
    folder.mkdir()
    save_task(folder, Task("pets", trimap_scheme()))
    save_record(record_path(folder), LearningRecord(every_k=2))
    return FolderModels(folder, tmp_path / "user-models")


def test_a_validated_round_counts_its_training_and_validation_images(tmp_path):
    models = owner(tmp_path)
    plan = models.plan_run("loop", None)
    models.finish_run(plan, round_file(plan, 3), promote=True,
                      validated=True, validation_images=3)
    version = load_task(models.root).versions[-1]
    assert (version.corrected_images, version.validation_images, version.held_back) == (6, 3, 0)
    assert images_text(version) == "6 (3 validate)"


def test_an_unvalidated_round_holds_its_validation_image_back(tmp_path):
    models = owner(tmp_path)
    plan = models.plan_run("loop", None)
    models.finish_run(plan, round_file(plan, 5), promote=True,
                      validated=False, validation_images=1)
    version = load_task(models.root).versions[-1]
    assert (version.corrected_images, version.validation_images, version.held_back) == (6, 0, 1)
    assert images_text(version) == "6 (5 trained, 1 held back: too few to validate)"
    assert images_text(replace(version, held_back=0)) == "6 (none validates)"
