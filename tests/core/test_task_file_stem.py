"""A task's model files are named after it with its letters kept: ``'Ähren'`` made
``hren-v1.safetensors``, ``'Noyaux été'`` ``noyaux-t-v1`` and ``'細胞核'`` ``task-v1``. A task
whose versions were named so by an older release goes on with those names."""

from __future__ import annotations

import unicodedata

import pytest

from unet_desktop.core.folder.task import (
    MAX_STEM_BYTES,
    ModelVersion,
    Task,
    file_stem,
    save_task,
    sidecar_dir,
)
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop.folder_models import FolderModels


@pytest.mark.parametrize(("name", "stem"), [
    ("Ähren", "ahren"),
    ("Noyaux été", "noyaux-ete"),
    (unicodedata.normalize("NFD", "Noyaux été"), "noyaux-ete"),  # typed on a Mac
    ("Straße", "strasse"),
    ("細胞核", "細胞核"),
    ("नाभिक", "नाभिक"),  # its vowel sign is a mark, kept
    ("My cells!", "my-cells"),  # ASCII names keep the stems they always had
    ("a/b\\c:d*?", "a-b-c-d"),
    ("🐱", "task"),
])
def test_task_names_keep_their_letters_in_file_names(name, stem):
    assert file_stem(name) == stem


def test_a_very_long_name_makes_a_stem_a_file_name_can_hold():
    stem = file_stem("細胞" * 200)
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES and stem.startswith("細胞細胞")


def version(name: str) -> ModelVersion:
    return ModelVersion(name, f"models/{name}.safetensors", f"id-{name}")


def test_a_new_task_is_named_by_its_letters():
    assert Task("Ähren", trimap_scheme()).next_model_name() == "ahren-v1"
    assert Task("Ähren", trimap_scheme(), versions=(version("ahren-v1"),)
                ).next_model_name() == "ahren-v2"


def test_versions_named_by_the_older_stem_go_on_and_stay_the_tasks(tmp_path):
    root = tmp_path / "field"
    models = sidecar_dir(root) / "models"
    models.mkdir(parents=True)
    old = (version("hren-v1"), version("hren-v2"))
    for v in old:
        (models / f"{v.name}.safetensors").write_bytes(b"weights")
    task = Task("Ähren", trimap_scheme(), model=old[1].file, versions=old)
    assert task.next_model_name() == "hren-v3"
    save_task(root, task)
    owner = FolderModels(root, tmp_path / "user-models")
    assert owner.plan_run("manual", None).name == "hren-v3"
    owner.delete(old[0].file)  # Model > Versions > Delete removes the older file too
    assert not (models / "hren-v1.safetensors").exists()
