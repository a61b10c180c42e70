"""A learning round recorded while an old version's file cannot be deleted by pruning (on
Windows, open in another program): the PermissionError escaped the round's end, so the
promoted version was the task's model in use but never loaded, the dock went on showing the
round's last step and no further round started. Now the file is kept (deleted at a later
prune), the window says which, and the round ends as any other."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import sys

from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import new_window, pets  # noqa: F401
from unet_desktop.core.folder.task import load_task, model_file
from unet_desktop.ml.loop import folder_models as fm


def test_a_round_whose_pruning_cannot_delete_a_file_ends_and_says_so(qtbot, pets, tiny_model,
                                                                      monkeypatch):
    errors = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: errors.append(a[1]))
    win = new_window(qtbot, pets, tiny_model)
    learning = win.learning
    said = []
    learning.message.connect(said.append)
    with qtbot.waitSignal(learning.round_finished, timeout=TIMEOUT_MS):
        win.model_actions.learn_as_i_correct.trigger()
    owner = fm.folder_models(pets, learning.tasks.user_models)
    monkeypatch.setattr(owner, "keep_candidates", 0)
    monkeypatch.setattr(owner, "keep_ancestors", 0)

    def open_elsewhere(path):
        raise PermissionError(13, "The process cannot access the file because it is being "
                              "used by another process", str(path))

    monkeypatch.setattr(fm, "_remove_model", open_elsewhere)
    for _ in range(4):  # the window holds the last two: the third round prunes the first
        qtbot.waitUntil(lambda: not win.models.loading and not learning.running,
                        timeout=TIMEOUT_MS)
        learning.loop.request_round()
        with qtbot.waitSignal(learning.round_finished, timeout=TIMEOUT_MS) as done:
            assert learning.start_round() is not None
        assert done.args[0].promoted
        if any("cannot delete it" in line for line in said):
            break
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert errors == []
    [line] = [line for line in said if "cannot delete it" in line]
    assert "pets-v1.safetensors: cannot delete it (The process cannot access" in line
    assert line.endswith("kept, deleted at a later prune")
    task = load_task(pets)
    assert win.models.active.path == model_file(pets, task.model)  # the window agrees
    assert "step" not in win.training_dock.status_label.text()  # the round's end was said
    win.close()
