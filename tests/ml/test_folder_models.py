"""The one owner of a folder's models (``ml.loop.folder_models``), without Qt: version names allocated
once, the promotion rule (only while the parent is still in use), pruning, deleting, one queue of
runs, and the frozen validation set shared by every run of the folder."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.learning_record import LearningRecord, record_path, save_record
from unet_desktop.core.folder.task import (
    Task,
    load_task,
    model_file,
    models_folder,
    save_task,
    stored_reference,
)
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop.folder_models import FolderModels, RunBusy


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "cells"
    root.mkdir()
    save_task(root, Task("cells", trimap_scheme()))
    return root


def owner(folder: Path, **kw) -> FolderModels:
    return FolderModels(folder, folder.parent / "user-models", **kw)


def train_into(plan, factory, seed: int = 0) -> Path:
    """Stand in for a training run: a real model file at the plan's output."""
    path, _ = factory(trimap_scheme(), seed=seed, name=f"made-{plan.name}-{seed}.safetensors")
    plan.out.write_bytes(path.read_bytes())
    return plan.out


def test_two_runs_planned_before_either_writes_get_two_names(folder):
    models = owner(folder)
    names = []

    def plan_one():
        names.append(models.plan_run("loop", None))

    threads = [threading.Thread(target=plan_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outs = [p.out for p in names]
    assert len(set(outs)) == 8 and len({p.name for p in names}) == 8
    # a second owner (a restarted window) never takes a name a reservation holds
    again = owner(folder).plan_run("manual", None)
    assert again.out not in outs


def test_a_result_is_promoted_only_while_its_parent_is_in_use(folder, model_file_factory):
    models = owner(folder)
    first = models.plan_run("loop", None)
    assert models.finish_run(first, train_into(first, model_file_factory), promote=True).in_use
    parent = models.task.model
    late = models.plan_run("loop", model_file(folder, parent))
    assert late.in_use == parent
    # meanwhile the user puts another model into use (Model > Open, roll back)
    other, _ = model_file_factory(trimap_scheme(), seed=7, name="other.safetensors")
    models.use(other)
    outcome = models.finish_run(late, train_into(late, model_file_factory, 1), promote=True)
    assert not outcome.in_use and "candidate" in outcome.note
    task = load_task(folder)
    assert model_file(folder, task.model) == other.resolve()
    assert any(v.file.endswith(late.out.name) for v in task.versions)  # kept, pickable


def test_pruning_keeps_the_model_in_use_its_nearest_ancestors_and_the_last_candidates(
        folder, model_file_factory):
    models = owner(folder, keep_candidates=2, keep_ancestors=3)
    plan = models.plan_run("loop", None)
    models.finish_run(plan, train_into(plan, model_file_factory), promote=True)
    lineage = [models.task.model]
    for i in range(5):  # five promoted generations, each the parent of the next
        plan = models.plan_run("loop", model_file(folder, models.task.model))
        models.finish_run(plan, train_into(plan, model_file_factory, 10 + i), promote=True)
        lineage.append(models.task.model)
    candidates = []
    for i in range(5):  # five rejected rounds
        plan = models.plan_run("loop", model_file(folder, models.task.model))
        models.finish_run(plan, train_into(plan, model_file_factory, 20 + i), promote=False)
        candidates.append(plan.out)
    assert models.prune() == []  # each finished run pruned already
    task = load_task(folder)
    kept = {v.file for v in task.versions}
    assert set(lineage[-4:]) <= kept  # in use and its three nearest ancestors (roll back)
    assert not any(model_file(folder, f).exists() for f in lineage[:2])  # older generations
    assert {c.name for c in candidates[-2:]} <= {Path(f).name for f in kept}
    assert all(not c.is_file() for c in candidates[:3]) and len(task.versions) == 4 + 2
    assert all(model_file(folder, f).is_file() for f in kept)


def test_deleting_a_version_refuses_the_one_in_use(folder, model_file_factory):
    models = owner(folder)
    a = models.plan_run("loop", None)
    models.finish_run(a, train_into(a, model_file_factory), promote=True)
    b = models.plan_run("loop", model_file(folder, models.task.model))
    models.finish_run(b, train_into(b, model_file_factory, 1), promote=False)
    with pytest.raises(ValueError, match="in use"):
        models.delete(models.task.model)
    candidate = next(v.file for v in models.task.versions if v.file != models.task.model)
    models.delete(candidate)
    assert not model_file(folder, candidate).exists()
    assert [v.file for v in load_task(folder).versions] == [models.task.model]


def test_one_run_at_a_time_per_folder(folder):
    models = owner(folder)
    loop_round = models.plan_run("loop", None)
    models.begin(loop_round)
    with pytest.raises(RunBusy) as busy:
        models.begin(models.plan_run("manual", None))
    assert busy.value.running is loop_round
    models.cancel_run(loop_round)  # the manual run cancels the round...
    assert loop_round.cancel.cancelled and models.running is loop_round
    models.discard(loop_round)  # ...which stops at its next step, keeping nothing
    assert models.running is None
    assert not loop_round.out.exists()  # its reservation went with it


def test_every_run_of_the_folder_holds_out_the_frozen_validation_set(folder):
    save_record(record_path(folder), LearningRecord(every_k=2))
    models = owner(folder)
    held = models.holdout(["a.png", "b.png", "c.png", "d.png", "e.png"])
    assert held == ("b.png", "d.png")
    # chosen once: a later call with more images keeps them and adds every k-th new one
    assert models.holdout(["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"]) \
        == ("b.png", "d.png", "f.png")


def test_a_version_records_whether_and_on_how_many_images_it_was_validated(
        folder, model_file_factory):
    models = owner(folder)
    plan = models.plan_run("loop", None)
    models.finish_run(plan, train_into(plan, model_file_factory), promote=True, validated=False,
                      validation_images=1)
    version = load_task(folder).version_of(models.task.model)
    # a loop round's validation image, too few to judge, is held back (not validating)
    assert (version.validated, version.validation_images, version.held_back) == (False, 0, 1)


def test_pruning_never_deletes_a_file_the_caller_still_holds(folder, model_file_factory):
    """After a roll back the window holds the rolled-back version as its previous model."""
    models = owner(folder, keep_candidates=1)
    first = models.plan_run("loop", None)
    models.finish_run(first, train_into(first, model_file_factory), promote=True)
    held = model_file(folder, models.task.model)
    other, _ = model_file_factory(trimap_scheme(), seed=7, name="other.safetensors")
    models.use(other)  # roll back: held is the previous model now, in memory
    for i in range(3):  # candidates beyond keep_candidates
        plan = models.plan_run("loop", other)
        models.finish_run(plan, train_into(plan, model_file_factory, 1 + i), promote=False,
                          keep=[other, held, None])
    assert held.is_file()
    assert stored_reference(folder, held) in {v.file for v in load_task(folder).versions}
    models.prune()  # once the window no longer holds it, it goes
    assert not held.is_file()


def test_a_missing_model_file_is_never_in_use_nor_a_start(folder, model_file_factory):
    models = owner(folder)
    first = models.plan_run("loop", None)
    models.finish_run(first, train_into(first, model_file_factory), promote=True)
    in_use = models.task.model
    gone = folder / "gone.safetensors"
    with pytest.raises(FileError, match="no such model file"):
        models.use(gone)
    assert load_task(folder).model == in_use
    with pytest.raises(FileError, match="missing"):
        models.plan_run("loop", gone)
    assert not list(models_folder(folder, models.task, folder).glob("*.reserved"))


def test_the_reservation_of_a_process_that_no_longer_runs_is_removed(folder):
    import json
    import subprocess
    import sys

    from unet_desktop.core.folder.folder_lock import LockHolder

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    first = owner(folder).plan_run("loop", None)  # cells-v1, reserved by this process
    (first.out.parent / "cells-v2.safetensors.reserved").write_text(
        json.dumps({**LockHolder.me().to_dict(), "pid": dead.pid}))  # a crashed window's
    assert owner(folder).plan_run("loop", None).name == "cells-v2"
    assert owner(folder).plan_run("loop", None).name == "cells-v3"  # a live one holds
