"""A version's note in task.json that names an image whose file name is not UTF-8 (a Latin-1
byte such as 0xff from an old zip): the note kept the raw key (``os.fsdecode``'s ``\\udcff``),
written as a lone-surrogate JSON escape, and Model > Versions and the model card showed the name
with that byte dropped ('cell.png' for cellÿ.png). Now a note (and a parent's name), words for
the user, reads the way the image list shows such names, and task.json holds plain UTF-8; the
model files and keys it records read back unchanged."""

from __future__ import annotations

import json
import os

import numpy as np
from PIL import Image

from unet_desktop.core.folder.learning_record import (
    LearningRecord,
    load_record,
    record_path,
    save_record,
)
from unet_desktop.core.folder.task import ModelVersion, Task, load_task, save_task, task_path
from unet_desktop.core.folder.workspace import Workspace


def _folder_with_a_latin_1_name(root) -> Workspace:
    (root / "images").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(os.fsencode(root / "images/cell") +
                                                     b"\xff.png")
    return Workspace.open(root)


def _as_listed(key: str) -> str:
    """The image list's reading of the name: each byte that is not UTF-8 as Latin-1."""
    return os.fsencode(key).decode("latin-1")


def _undone_note(key: str) -> str:
    return (f"learning loop: Kept as a candidate, not put into use: {key} is no longer "
            "corrected (undone and saved as the round finished)")


def test_a_note_names_the_image_as_the_list_shows_it_in_plain_utf8(tmp_path):
    ws = _folder_with_a_latin_1_name(tmp_path)
    key = next(iter(ws)).key
    assert "\udcff" in key  # the file's name is not UTF-8
    version = ModelVersion("cells-v1", "models/cells-v1.safetensors", "v1",
                           note=_undone_note(key), parent_name="start\udcff")
    save_task(tmp_path, Task("cells", ws.scheme).with_version(version))
    text = task_path(tmp_path).read_bytes().decode("utf-8")  # strict
    assert "\\udc" not in text  # no lone-surrogate escape
    stored = json.loads(text)["versions"][0]
    assert stored["note"] == _undone_note(_as_listed(key)) and stored["parent_name"] == "startÿ"
    back = load_task(tmp_path).versions[0]
    assert "images/cellÿ.png is no longer corrected" in back.note
    back.note.encode("utf-8")  # a Qt label shows it whole


def test_a_note_written_before_reads_as_shown(tmp_path):
    ws = _folder_with_a_latin_1_name(tmp_path)
    key = next(iter(ws)).key
    task = Task("cells", ws.scheme).to_dict()
    task["versions"] = [{"name": "cells-v1", "file": "models/cells-v1.safetensors",
                         "version": "v1", "note": _undone_note(key)}]
    (tmp_path / ".unet-desktop").mkdir(exist_ok=True)
    task_path(tmp_path).write_bytes(
        json.dumps(task, ensure_ascii=False).encode("utf-8", "backslashreplace"))
    assert load_task(tmp_path).versions[0].note == _undone_note(_as_listed(key))


def test_the_files_and_keys_recorded_read_back_the_same(tmp_path):
    ws = _folder_with_a_latin_1_name(tmp_path)
    key = next(iter(ws)).key
    outside = str(tmp_path / "models\udcff/cells-v1.safetensors")  # a user models folder
    task = Task("cells", ws.scheme, start_from=outside).with_version(
        ModelVersion("cells-v1", outside, "v1", note=_undone_note(key)))
    save_task(tmp_path, task)
    back = load_task(tmp_path)
    assert back.start_from == outside and back.model == outside
    assert back.versions[0].file == outside
    record = LearningRecord(enabled=True, every_k=2).with_corrected(key)
    save_record(record_path(tmp_path), record)
    assert load_record(record_path(tmp_path)).corrected == (key,)
    record_path(tmp_path).read_bytes().decode("utf-8")  # strict
