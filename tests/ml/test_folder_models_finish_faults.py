"""FolderModels.finish_run when the folder misbehaves as a run finishes:

- task.json unreadable for a moment (half written by a sync client or an editor): it raised
  before the run was over, so the folder stayed 'training' for good (every later round waited
  for it, ``begin`` raised ``RunBusy``) and the name's reservation stayed; now the run is over
  either way and the error is a ``FileError`` the caller reports;
- a version file pruning cannot delete (``PermissionError``: on Windows, open in another
  program): the ``OSError`` escaped after the version was recorded, which the window does not
  catch; now the file and its version are kept, the outcome says which, and a later prune
  deletes it. Model > Versions > Delete of such a file says why (a ``FileError``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.conftest_model import make_model_file
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.task import Task, load_task, model_file, save_task, task_path
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop import folder_models as fm
from unet_desktop.ml.loop.folder_models import FolderModels


def cells(tmp_path, **keep) -> FolderModels:
    root = tmp_path / "cells"
    root.mkdir()
    save_task(root, Task("cells", trimap_scheme()))
    return FolderModels(root, tmp_path / "user-models", **keep)


def run_once(models: FolderModels, parent: Path | None = None, seed: int = 0):
    plan = models.plan_run("loop", parent)
    models.begin(plan)
    make_model_file(plan.out, seed=seed)
    return plan


def test_a_task_file_unreadable_as_a_run_finishes_ends_the_run(tmp_path):
    models = cells(tmp_path)
    plan = run_once(models)
    whole = task_path(models.root).read_bytes()
    task_path(models.root).write_text("{ half written")
    with pytest.raises(FileError):
        models.finish_run(plan, plan.out, promote=True)
    assert models.running is None
    assert not list(plan.out.parent.glob("*.reserved"))
    task_path(models.root).write_bytes(whole)  # whole again: the next run may begin
    models.begin(models.plan_run("loop", None))


def test_a_file_pruning_cannot_delete_is_kept_and_named(tmp_path, monkeypatch):
    models = cells(tmp_path, keep_candidates=0, keep_ancestors=0)
    first = run_once(models, seed=1)
    models.finish_run(first, first.out, promote=True)
    second = run_once(models, first.out, seed=2)

    def open_elsewhere(path):
        raise PermissionError(13, "The process cannot access the file because it is being "
                              "used by another process", str(path))

    with monkeypatch.context() as patched:
        patched.setattr(fm, "_remove_model", open_elsewhere)
        outcome = models.finish_run(second, second.out, promote=True)
    assert outcome.in_use and models.running is None
    assert outcome.not_pruned == (f"{first.out}: cannot delete it (The process cannot access "
                                  "the file because it is being used by another process); "
                                  "kept, deleted at a later prune")
    task = load_task(models.root)
    assert task.model == "models/cells-v2.safetensors"
    assert [v.name for v in task.versions] == ["cells-v1", "cells-v2"]  # its entry too
    assert first.out.is_file()

    assert models.prune() == ["models/cells-v1.safetensors"]  # no longer open: deleted now
    assert models.not_pruned == "" and not first.out.exists()
    assert [v.name for v in load_task(models.root).versions] == ["cells-v2"]


def test_deleting_a_version_whose_file_is_open_elsewhere_says_why(tmp_path, monkeypatch):
    models = cells(tmp_path)
    first = run_once(models, seed=1)
    models.finish_run(first, first.out, promote=False)
    monkeypatch.setattr(fm, "_remove_model", lambda path: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", str(path))))
    with pytest.raises(FileError, match="cannot delete it"):
        models.delete("models/cells-v1.safetensors")
    assert load_task(models.root).versions  # still recorded: its file is there
    assert model_file(models.root, "models/cells-v1.safetensors").is_file()
