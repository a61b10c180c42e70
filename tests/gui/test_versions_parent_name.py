"""Model > Versions names the model a folder's first version started from (a starter model
outside the task) by its name, not by its bare version id."""

from __future__ import annotations

from dataclasses import replace

from tests.ml.conftest import tiny_meta
from unet_desktop.core.folder.task import ModelVersion, Task, load_task, save_task
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.gui.model.versions_dialog import COLUMNS, VersionsDialog
from unet_desktop.ml.loop.folder_models import FolderModels
from unet_desktop.ml.models.architecture import build_model
from unet_desktop.ml.models.modelfile import save_model


def model(path, name: str):
    meta = replace(tiny_meta(trimap_scheme()), name=name)
    save_model(path, build_model(meta.arch), meta)
    return path


def test_the_first_versions_parent_is_named(qtbot, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    save_task(folder, Task("pets", trimap_scheme()))
    starter = model(tmp_path / "starter-file.safetensors", "starter")
    models = FolderModels(folder, tmp_path / "user-models")
    plan = models.plan_run("loop", starter)
    models.finish_run(plan, model(plan.out, plan.name), promote=True)
    task = load_task(folder)
    assert task.versions[-1].parent_name == "starter"
    assert ModelVersion.from_dict(task.versions[-1].to_dict()).parent_name == "starter"
    dialog = VersionsDialog(task)
    qtbot.addWidget(dialog)
    assert dialog.table.item(0, COLUMNS.index("Parent")).text() == "starter"
