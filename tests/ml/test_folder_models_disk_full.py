"""A full disk while the folder's models are written: a run whose result cannot be recorded
(task.json unwritable) no longer holds the folder as "training" for good, and a reservation
that could not be written does not keep its version number for good."""

from __future__ import annotations

import errno

import pytest

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop import folder_models
from unet_desktop.ml.loop.folder_models import FolderModels


@pytest.fixture
def models(tmp_path) -> FolderModels:
    root = tmp_path / "cells"
    root.mkdir()
    save_task(root, Task("cells", trimap_scheme()))
    return FolderModels(root, tmp_path / "user-models")


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_run_whose_result_cannot_be_recorded_ends_the_run(models, model_file_factory,
                                                             monkeypatch):
    plan = models.plan_run("loop", None)
    models.begin(plan)
    made, _ = model_file_factory(trimap_scheme(), name="made.safetensors")
    plan.out.write_bytes(made.read_bytes())
    with monkeypatch.context() as patch:
        patch.setattr(folder_models, "save_task", lambda *a: (_ for _ in ()).throw(
            FileError(plan.root / "task.json", "No space left on device")))
        with pytest.raises(FileError):
            models.finish_run(plan, plan.out, promote=True)
    assert models.running is None  # space back: the next run may start
    models.begin(models.plan_run("manual", None))


def test_a_reservation_that_cannot_be_written_is_not_left_behind(models, monkeypatch):
    monkeypatch.setattr(folder_models.json, "dump", disk_full)
    with pytest.raises(FileError):
        models.plan_run("loop", None)
    monkeypatch.undo()
    folder = models.plan_run("loop", None).out.parent
    assert not [p for p in folder.iterdir() if p.name != "cells-v1.safetensors.reserved"]
    assert models.plan_run("loop", None).name == "cells-v2"  # v1 reserved just above
