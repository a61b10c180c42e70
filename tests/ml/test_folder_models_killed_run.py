"""A run killed after writing its model file but before ``FolderModels.finish_run`` recorded it
(a Learn as I Correct round, a fine-tune): the next run planned removes that file and its
checkpoint with the dead process's reservation, so no model file is left that no version names
(pruning looks only at versions). A recorded file, or one in the user models folder, stays."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from unet_desktop.core.folder.folder_lock import LockHolder
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop.folder_models import FolderModels


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "cells"
    root.mkdir()
    save_task(root, Task("cells", trimap_scheme()))
    return root


def owner(folder: Path) -> FolderModels:
    return FolderModels(folder, folder.parent / "user-models")


def dead_pid() -> int:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


def kill_after_writing(plan, factory) -> None:
    """Stand in for the killed run: its model and checkpoint written, its reservation naming a
    process that no longer runs, nothing recorded."""
    path, _ = factory(trimap_scheme(), name=f"made-{plan.name}.safetensors")
    plan.out.write_bytes(path.read_bytes())
    plan.out.with_suffix(".ckpt").write_bytes(b"checkpoint")
    plan.out.with_name(plan.out.name + ".reserved").write_text(
        json.dumps({**LockHolder.me().to_dict(), "pid": dead_pid()}))


def test_the_unrecorded_model_of_a_killed_run_goes_with_its_reservation(
        folder, model_file_factory):
    killed = owner(folder).plan_run("loop", None)
    kill_after_writing(killed, model_file_factory)

    following = owner(folder).plan_run("loop", None)

    assert not killed.out.exists() and not killed.out.with_suffix(".ckpt").exists()
    reservations = [p.name for p in killed.out.parent.glob("*.reserved")]
    assert reservations == [following.out.name + ".reserved"]
    assert following.name == "cells-v1"  # its number is free again


def test_a_recorded_model_of_a_run_killed_before_its_reservation_went_stays(
        folder, model_file_factory):
    models = owner(folder)
    killed = models.plan_run("loop", None)
    kill_after_writing(killed, model_file_factory)
    models.finish_run(killed, killed.out, promote=True)  # recorded ...
    kill_after_writing(killed, model_file_factory)  # ... and killed before the cleanup

    following = owner(folder).plan_run("loop", None)

    assert killed.out.is_file()
    assert load_task(folder).model is not None
    assert following.name == "cells-v2"


def test_in_the_user_models_folder_a_dead_runs_file_is_left(folder, model_file_factory):
    save_task(folder, replace(load_task(folder), models_in="user"))
    killed = owner(folder).plan_run("loop", None)
    kill_after_writing(killed, model_file_factory)

    owner(folder).plan_run("loop", None)

    assert killed.out.is_file()  # another folder's task there may name it
