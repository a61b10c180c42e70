"""The folder's task file: round trip, atomic write, bad files, model names and references, the
class checks, and how a workspace uses it (scheme, invalid masks)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.folder.task import (
    ModelVersion,
    Task,
    TaskError,
    classes_by_name,
    classes_mismatch,
    file_stem,
    load_task,
    model_file,
    models_folder,
    removed_values,
    save_task,
    stored_reference,
    task_path,
    version_from_metadata,
)
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import guess_scheme
from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme

SPARSE = binary_scheme(("membrane", "cell"), ignore_value=128)


def test_a_task_round_trips_through_its_file(tmp_path):
    v1 = ModelVersion("cells-v1", "models/cells-v1.safetensors", "20260101-a", None,
                      "2026-01-01T10:00:00+00:00", {"miou": 0.8}, 2)
    task = Task("cells", SPARSE, None, "folder", v1.file, (v1,))
    path = save_task(tmp_path, task)
    assert path == tmp_path / ".unet-desktop" / "task.json"
    assert load_task(tmp_path) == task
    assert json.loads(path.read_text())["scheme"]["ignore_value"] == 128
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert load_task(tmp_path / "elsewhere") is None


@pytest.mark.parametrize("content", [b"{", b'{"format": "other"}',
                                     b'{"format": "unet-desktop-task", "version": 99}',
                                     (b'{"format": "unet-desktop-task", "version": 1, "name": "",'
                                      b' "scheme": {"kind": "binary", "classes": []}}')])
def test_a_bad_task_file_is_an_error_naming_it(tmp_path, content):
    task_path(tmp_path).parent.mkdir()
    task_path(tmp_path).write_bytes(content)
    with pytest.raises(TaskError, match="task.json"):
        load_task(tmp_path)


def test_versions_are_named_after_the_task_and_numbered_on():
    task = Task("My Cells!", SPARSE)
    assert file_stem(task.name) == "my-cells" and task.next_model_name() == "my-cells-v1"
    v = ModelVersion("my-cells-v4", "models/my-cells-v4.safetensors", "x")
    task = task.with_version(v)
    assert task.next_model_name() == "my-cells-v5" and task.model == v.file
    again = task.with_version(ModelVersion("my-cells-v4", v.file, "y"))  # same file: replaced
    assert [x.version for x in again.versions] == ["y"]


def test_model_files_are_stored_relative_inside_the_sidecar_and_absolute_elsewhere(tmp_path):
    inside = tmp_path / ".unet-desktop" / "models" / "a.safetensors"
    outside = tmp_path / "m" / "b.safetensors"
    assert stored_reference(tmp_path, inside) == "models/a.safetensors"
    assert stored_reference(tmp_path, outside) == str(outside)
    assert model_file(tmp_path, "models/a.safetensors") == inside
    assert model_file(tmp_path, str(outside)) == outside
    task = Task("t", SPARSE)
    assert models_folder(tmp_path, task, tmp_path / "user") == tmp_path / ".unet-desktop/models"
    user = Task("t", SPARSE, models_in="user")
    assert models_folder(tmp_path, user, tmp_path / "user") == tmp_path / "user"


def test_a_version_entry_comes_from_the_model_metadata():
    meta = {"version": "v2", "parent_version": "v1", "created": "2026-01-02",
            "metrics": {"miou": 0.7, "mdice": 0.8, "history": [1]},
            "data_summary": {"images": 5}, "name": "cells-v2"}
    v = version_from_metadata("models/cells-v2.safetensors", meta)
    assert (v.name, v.version, v.parent, v.corrected_images) == ("cells-v2", "v2", "v1", 5)
    assert v.metrics == {"miou": 0.7, "mdice": 0.8}


def test_classes_differ_by_kind_values_or_names():
    assert classes_mismatch(binary_scheme(("Membrane", "cell")), SPARSE) is None
    assert "background, foreground (binary)" in classes_mismatch(binary_scheme(), SPARSE)
    assert classes_mismatch(trimap_scheme(), SPARSE) is not None
    assert classes_by_name(binary_scheme(("background", "cell")), SPARSE) == {"cell": "cell"}
    four = multiclass_scheme(["a", "b", "c", "d"], ignore_value=255)
    assert removed_values(four, multiclass_scheme(["a", "b", "c"], ignore_value=255)) == [3]
    assert removed_values(four, multiclass_scheme(["a", "b", "c", "d"])) == [255]
    # a class's value made the unlabeled one stays readable (its pixels become unlabeled)
    three = multiclass_scheme(["a", "b", "c"])
    assert removed_values(three, multiclass_scheme(["a", "b"], ignore_value=2)) == []
    assert removed_values(three, multiclass_scheme(["a", "b", "c"], ignore_value=255)) == []


def test_sparse_binary_masks_are_guessed_with_128_unlabeled():
    mask = np.array([[0, 128], [255, 128]], np.uint8)
    assert guess_scheme(mask) == binary_scheme(ignore_value=128)
    assert guess_scheme(np.array([[0, 255]], np.uint8)) == binary_scheme()


def test_a_workspace_takes_its_task_scheme_and_sets_invalid_masks_aside(tmp_path):
    for name in ("a", "b", "c"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / f"{name}.png")
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(tmp_path / "masks" / "a.png")
    Image.fromarray(np.full((8, 8), 2, np.uint8)).save(tmp_path / "masks" / "b.png")  # trimap
    Image.fromarray(np.full((4, 4), 0, np.uint8)).save(tmp_path / "masks" / "c.png")  # size
    save_task(tmp_path, Task("t", SPARSE))
    ws = Workspace.open(tmp_path)
    assert ws.scheme == SPARSE and ws.task.name == "t"
    assert len(ws.labelled()) == 3  # nothing read yet
    found = ws.check_masks()
    assert set(found) == {"b.png", "c.png"}
    assert "values [2]" in found["b.png"] and "masks/b.png" in found["b.png"]
    assert "4x4" in found["c.png"] and "8x8" in found["c.png"]
    assert [e.key for e in ws.labelled()] == ["a.png"]
    ws.save_mask("b.png", np.full((8, 8), 255, np.uint8), ImageState.CORRECTED)
    assert "b.png" not in ws.invalid and len(ws.labelled()) == 2
    kept = list((tmp_path / ".unet-desktop" / "replaced").glob("b-*.png"))
    assert len(kept) == 1 and np.all(np.array(Image.open(kept[0])) == 2)  # not lost
    with pytest.raises(ValueError, match="open the folder again"):
        ws.save_task(Task("t", binary_scheme()))
    ws.save_task(Task("renamed", SPARSE))
    assert load_task(tmp_path).name == "renamed"


def test_a_broken_task_file_is_reported_and_left_as_it_is(tmp_path):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "a.png")
    task_path(tmp_path).parent.mkdir()
    task_path(tmp_path).write_text("not json")
    ws = Workspace.open(tmp_path)
    assert ws.task is None and any("task ignored" in w for w in ws.warnings)
    assert task_path(tmp_path).read_text() == "not json"


def test_a_task_keeps_its_scale_and_old_files_read_as_fit(tmp_path):
    from unet_desktop.ml.models.modelfile import SCALES  # what a model file may record

    assert all(Task("em", SPARSE, scale=s).scale == s for s in SCALES)
    save_task(tmp_path, Task("em", SPARSE, scale="native"))
    assert load_task(tmp_path).scale == "native"
    old = Task("em", SPARSE).to_dict()
    del old["scale"]
    assert Task.from_dict(old).scale == "fit"
    with pytest.raises(ValueError, match="scale"):
        Task("em", SPARSE, scale="huge")
