"""Roll Back and C pressed while a promoted round's version is still loading (the task names
it as in use, the window still predicts with the model before it): Roll Back drops that load,
so the model in use stays, in the window and in the task; C waits, saying why."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import gate_scores, new_window
from unet_desktop.core.folder.task import Task, load_task, model_file, save_task, stored_reference
from unet_desktop.core.labels import trimap_scheme


def hold_version_loads(monkeypatch, gate: threading.Event) -> None:
    """Loads of the folder's own versions wait for ``gate`` (a version not yet in the ONNX
    cache takes seconds to load)."""
    from unet_desktop.ml import api

    load_model = api.load_model

    def held(path=None, *args, **kwargs):
        if path is not None and ".unet-desktop" in Path(path).parts:
            gate.wait(30)
        return load_model(path, *args, **kwargs)

    monkeypatch.setattr(api, "load_model", held)


def test_roll_back_while_the_promoted_version_loads_keeps_the_model_in_use(
        qtbot, tmp_path, tiny_model, monkeypatch):
    root = make_pets(tmp_path / "pets", n_images=6, n_labelled=4)
    save_task(root, Task("pets", trimap_scheme(), model=stored_reference(root, tiny_model)))
    gate = threading.Event()
    hold_version_loads(monkeypatch, gate)
    win = new_window(qtbot, root, tiny_model)
    said: list[str] = []
    win.models.message.connect(said.append)
    try:
        other = make_model_file(tmp_path / "other.safetensors", seed=3, name="other")
        win.model_commands.open_model(other)  # tiny becomes the previous model: C has a pair
        qtbot.waitUntil(lambda: win.models.active.path == other, timeout=TIMEOUT_MS)
        gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
        with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
            win.model_actions.learn_as_i_correct.trigger()
        result = done.args[0]
        assert result.promoted and win.models.loading
        assert model_file(root, load_task(root).model) == result.model_path  # recorded
        assert win.models.active.path == other  # still predicting

        win.model_actions.compare_previous.trigger()  # C: would compare other with tiny
        assert not win.models.using_previous and not win.model_actions.compare_previous.isChecked()
        assert said[-1] == f"{result.model_path.name} is still loading: C compares it with " \
                           "the model before it once it is in use"

        win.model_actions.rollback.trigger()  # rejects the promoted version, not other
        assert not win.models.loading and win.models.active.path == other
        assert said[-1].startswith("Rolled back to other") and result.model_path.name in said[-1]
        assert model_file(root, load_task(root).model) == other

        gate.set()  # the dropped load ends: nothing changes, nothing more is said of it
        qtbot.waitUntil(lambda: win.worker.running is None and not win.worker.pending(),
                        timeout=TIMEOUT_MS)
        qtbot.wait(50)
        assert win.models.active.path == other and win.models.slots.previous.path == tiny_model
        assert model_file(root, load_task(root).model) == other
        assert not any("not put into use: the folder" in m for m in said)
    finally:
        gate.set()
        win.close()


def test_a_load_that_swapped_its_model_in_is_not_dropped(tiny_model):
    from unet_desktop.gui.model.model_controller import ModelSlots, PendingLoad

    slots = ModelSlots()
    first, second = SimpleNamespace(version="1"), SimpleNamespace(version="2")
    load = PendingLoad(tiny_model)
    slots.current = first
    assert slots.install(second, load)  # the worker swapped first...
    assert slots.drop([load]) == []  # ...before Roll Back came: Roll Back swaps back
    assert slots.current is second and slots.rollback() is first
    late = PendingLoad(tiny_model)
    assert slots.drop([late]) == [late] and not slots.install(second, late)
    assert slots.current is first
