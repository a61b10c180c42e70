"""A read-only window (another process writes the folder) changes no task: File > New Task and
Mask > Classes refuse, naming the writer, and write nothing over the writer's task.json."""

from __future__ import annotations

from dataclasses import replace

from tests.gui.conftest import open_window, workspace_dir  # noqa: F401 - fixture used by name
from tests.gui.test_finetune_meets import hold_folder_in_another_process
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import multiclass_scheme


def test_a_read_only_window_changes_no_task_and_says_who_writes_the_folder(
        qtbot, workspace_dir):  # noqa: F811
    save_task(workspace_dir, Task("pets", Workspace.open(workspace_dir).scheme))
    other = hold_folder_in_another_process(workspace_dir)
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir) and win.session.workspace.read_only
    # the writing window records its fine-tuned model after this one read the task
    save_task(workspace_dir, replace(load_task(workspace_dir), model="models/pets-v1.safetensors"))
    task_file = workspace_dir / ".unet-desktop" / "task.json"
    before = task_file.read_bytes()
    tasks = win.task_commands
    said: list[str] = []
    tasks.message.connect(said.append)
    tasks.error.connect(said.append)
    assert tasks.new_task() is None and tasks.edit_classes() is None
    stale = win.session.workspace.task
    extra = multiclass_scheme([*stale.scheme.names, "extra"])  # Mask > Classes' OK, reached
    assert not tasks.apply_task(replace(stale, scheme=extra))
    assert task_file.read_bytes() == before
    assert len(said) == 3 and all(m.startswith("Cannot change the task here: this folder is "
                                               "read-only here: it is open in another window, "
                                               f"process {other} ") for m in said), said
    win.close()
