"""Mask > Classes: moving a class Up (names and values kept) or renaming one (a typo fix) keeps
the task's own model fitting the folder: no "does not fit" banner, Accept stays available, and
the next model starts from it (the reorder by name, the rename by value)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from tests.gui.conftest import open_window
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import multiclass_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

FOUR = multiclass_scheme(["bg", "nucleus", "cyto", "debris"], ignore_value=255)


def _four_class_folder(tmp_path):
    root = tmp_path / "four"
    root.mkdir()
    Image.fromarray(np.full((48, 48, 3), 90, np.uint8)).save(root / "a.png")
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 4, depth=2, base=4), scheme=FOUR,
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="four-v0")
    model = tmp_path / "models" / "four-v0.safetensors"
    model.parent.mkdir()
    save_model(model, build_model(meta.arch), meta)
    save_task(root, Task("four", FOUR, model=str(model)))
    return root, model


def _edit_classes(qtbot, win, edit) -> None:
    dialog = win.task_commands.edit_classes()
    edit(dialog.editor)
    assert dialog.problem() is None
    dialog.accept()
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=60000)


def _fits(win) -> bool:
    commands = win.task_commands
    return commands.banner.text() == "" and commands.accept_button.isEnabled()


def test_a_reorder_and_a_rename_keep_the_task_s_model(qtbot, tmp_path):
    root, model = _four_class_folder(tmp_path)
    win = open_window(qtbot, model_path=model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=60000)
    assert win.open_folder(root)
    assert _fits(win)
    _edit_classes(qtbot, win, lambda editor: editor.move(3, -1))  # 'debris' up one row
    assert [c.name for c in load_task(root).scheme.classes] == ["bg", "nucleus", "debris", "cyto"]
    assert _fits(win)
    start = win.task_commands.owner.starting_point(win.models.active.path,
                                                   win.models.active.meta.scheme)
    assert start.path == model and start.new_classes
    _edit_classes(qtbot, win, lambda editor: editor.rename(2, "junk"))  # 'debris', now row 2
    assert _fits(win)
    start = win.task_commands.owner.starting_point(win.models.active.path,
                                                   win.models.active.meta.scheme)
    assert start.path == model and start.renamed
    win.close()
