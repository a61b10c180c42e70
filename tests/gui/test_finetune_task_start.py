"""What a fine-tune in the window starts from and where it may go: the task it makes in a folder
without one, the choice of a new model from the pretrained encoder, a folder that cannot be
written (a read-only share) and one another window writes."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import new_window
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import trimap_scheme


def test_the_task_a_fine_tune_makes_keeps_a_copy_of_another_folders_version(
        qtbot, tmp_path, tiny_model):
    a = make_pets(tmp_path / "a", n_images=3, n_labelled=2)
    b = make_pets(tmp_path / "b", n_images=3, n_labelled=2)
    theirs = make_model_file(a / ".unet-desktop" / "models" / "a-v1.safetensors", seed=5,
                             name="a")
    save_task(a, Task("a", trimap_scheme(), model="models/a-v1.safetensors"))
    win = new_window(qtbot, a, tiny_model)
    qtbot.waitUntil(lambda: win.models.active.path == theirs, timeout=TIMEOUT_MS)
    assert win.open_folder(b)  # a's version stays loaded: b has no task
    said: list[str] = []
    win.task_commands.message.connect(said.append)
    win.training_commands.finetune().reject()
    ours = b / ".unet-desktop" / "models" / "b-v1.safetensors"
    assert load_task(b).model == "models/b-v1.safetensors" and ours.is_file()
    assert any("this task keeps a copy, b-v1.safetensors" in m for m in said), said
    qtbot.waitUntil(lambda: win.models.active.path == ours, timeout=TIMEOUT_MS)
    assert theirs.is_file()
    win.close()
