"""Roll Back (and C) after a folder opened with its task's model went to the model of the
folder open before, the previous model in memory, and recorded it as the new folder's task
model in use. A folder's own model as it opens leaves no previous model of another folder."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import new_window
from tests.gui.test_rollback_only_drops_run_results import settle
from unet_desktop.core.folder.task import Task, load_task, model_file, save_task, stored_reference
from unet_desktop.core.labels import trimap_scheme


def test_roll_back_in_a_folder_never_brings_the_last_folders_model(qtbot, tmp_path, tiny_model):
    a = make_pets(tmp_path / "A", n_images=4, n_labelled=2)
    b = make_pets(tmp_path / "B", n_images=4, n_labelled=2)
    b_model = make_model_file(tmp_path / "b_model.safetensors", seed=5, name="bmodel")
    save_task(a, Task("pets", trimap_scheme(), model=stored_reference(a, tiny_model)))
    save_task(b, Task("pets", trimap_scheme(), model=stored_reference(b, b_model)))
    win = new_window(qtbot, a, tiny_model)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert win.open_folder(b)
    settle(qtbot, win)
    assert win.models.active.path == b_model
    assert win.models.slots.previous is None  # not A's model
    win.model_commands.rollback()  # nothing of B's before its model: refused or a no-op
    settle(qtbot, win)
    assert win.models.active.path == b_model
    assert model_file(b, load_task(b).model) == b_model
    win.close()
