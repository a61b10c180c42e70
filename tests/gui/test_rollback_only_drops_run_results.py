"""Roll Back while a model loads rejects only a run's result (a promoted round's version, a
fine-tune's): it never drops a folder's own model as that folder opens (the other folder's model
became the new folder's task model in use), nor a model the user opened after the result."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import threading
from pathlib import Path

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import gate_scores, new_window
from tests.gui.test_rollback_while_loading import hold_version_loads
from unet_desktop.core.folder.task import Task, load_task, model_file, save_task, stored_reference
from unet_desktop.core.labels import trimap_scheme


def hold_loads_of(monkeypatch, name: str, gate: threading.Event) -> None:
    """Loads of the model file called ``name`` wait for ``gate``."""
    from unet_desktop.ml import api

    load_model = api.load_model

    def held(path=None, *args, **kwargs):
        if path is not None and Path(path).name == name:
            gate.wait(30)
        return load_model(path, *args, **kwargs)

    monkeypatch.setattr(api, "load_model", held)


def settle(qtbot, win) -> None:
    qtbot.waitUntil(lambda: win.worker.running is None and not win.worker.pending(),
                    timeout=TIMEOUT_MS)
    qtbot.wait(50)


def test_roll_back_while_a_folder_opens_keeps_that_folders_model(
        qtbot, tmp_path, tiny_model, monkeypatch):
    a = make_pets(tmp_path / "A", n_images=4, n_labelled=2)
    b = make_pets(tmp_path / "B", n_images=4, n_labelled=2)
    b_model = make_model_file(tmp_path / "b_model.safetensors", seed=5, name="bmodel")
    save_task(a, Task("pets", trimap_scheme(), model=stored_reference(a, tiny_model)))
    save_task(b, Task("pets", trimap_scheme(), model=stored_reference(b, b_model)))
    gate = threading.Event()
    hold_loads_of(monkeypatch, b_model.name, gate)
    win = new_window(qtbot, a, tiny_model)
    said: list[str] = []
    win.models.message.connect(said.append)
    try:
        qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
        assert win.open_folder(b)
        qtbot.waitUntil(lambda: win.models.loading, timeout=TIMEOUT_MS)
        assert not win.model_actions.rollback.isEnabled()  # nothing of B's to roll back from
        assert not win.model_commands.rollback()  # asked anyway (a shortcut): it waits
        assert said[-1] == f"{b_model.name} is still loading: Roll Back is possible once it " \
                           "is in use"
        assert win.models.loading
        gate.set()
        settle(qtbot, win)
        assert win.models.active.path == b_model
        assert model_file(b, load_task(b).model) == b_model
        assert model_file(a, load_task(a).model) == tiny_model
    finally:
        gate.set()
        win.close()


def test_roll_back_waits_for_a_model_opened_after_a_promoted_version(
        qtbot, tmp_path, tiny_model, monkeypatch):
    root = make_pets(tmp_path / "pets", n_images=6, n_labelled=4)
    save_task(root, Task("pets", trimap_scheme(), model=stored_reference(root, tiny_model)))
    gate = threading.Event()
    hold_version_loads(monkeypatch, gate)
    win = new_window(qtbot, root, tiny_model)
    said: list[str] = []
    win.models.message.connect(said.append)
    try:
        qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
        gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
        with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
            win.model_actions.learn_as_i_correct.trigger()
        result = done.args[0]
        assert result.promoted and win.models.loading
        assert win.model_actions.rollback.isEnabled()  # the promoted version may be rejected
        other = make_model_file(tmp_path / "other.safetensors", seed=3, name="other")
        win.model_commands.open_model(other)  # queued behind the promoted version's load
        win.model_actions.rollback.trigger()
        assert said[-1] == "other.safetensors is still loading: Roll Back is possible once " \
                           "it is in use"
        assert win.models.loading
        gate.set()
        settle(qtbot, win)
        assert win.models.active.path == other  # the user's choice, opened last
        assert model_file(root, load_task(root).model) == other
        assert not any(m.startswith("Rolled back") for m in said)
    finally:
        gate.set()
        win.close()
