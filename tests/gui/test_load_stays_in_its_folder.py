"""A model opened in folder A (Model > Open) that the worker had already swapped in when the
user opened folder B was announced in B: it became B's model in use, and B's task recorded it.
The folder was checked only before the swap. A load asked for in one folder never becomes the
model in use of another: it is taken out again, with a status-bar note, and B keeps its own."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
    window_on,
)
from tests.gui.test_rollback_only_drops_run_results import settle
from unet_desktop.core.folder.task import Task, load_task, model_file, save_task, stored_reference
from unet_desktop.core.labels import trimap_scheme


def opened_in_a_then_b(qtbot, win, paths, b):
    """Model > Open of each of ``paths`` in the folder open now, each swapped in by the worker
    before the window hears of it; then folder ``b`` opens and everything settles. Returns the
    messages said meanwhile and the files of the models announced in ``b``."""
    said, announced = [], []
    win.models.message.connect(said.append)
    win.models.model_changed.connect(lambda model: announced.append(model.path))
    for path in paths:
        job = win.models.load(path)
        assert win.models.worker.wait_until_finished(job, TIMEOUT_MS / 1000)
        assert win.models.slots.current.path == path  # the worker's side: swapped in
    assert not announced
    assert win.open_folder(b)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    settle(qtbot, win)
    return said, announced


def not_in_use(win, path) -> None:
    """``path``'s model is neither shown nor predicting (nor the model C compares with)."""
    models = win.models
    assert models.current.path != path and models.slots.current.path != path
    assert all(m.path != path for m in models.slots.loaded())


def test_a_load_of_folder_a_is_not_in_use_in_folder_b(qtbot, tiny_model, tmp_path):
    a, b = make_pets(tmp_path / "a"), make_pets(tmp_path / "b")
    win = window_on(qtbot, a, tiny_model)
    other = make_model_file(tmp_path / "other.safetensors", seed=1, name="other")
    said, _ = opened_in_a_then_b(qtbot, win, [other], b)
    not_in_use(win, other)
    assert win.models.current.path == tiny_model  # the model in use when B opened
    assert win.models.slots.current is win.models.current
    assert any(other.name in m and "not put into use" in m for m in said), said
    win.close()


def test_folder_b_keeps_its_tasks_model(qtbot, tiny_model, tmp_path):
    a, b = make_pets(tmp_path / "a"), make_pets(tmp_path / "b")
    b_model = make_model_file(tmp_path / "b_model.safetensors", seed=5, name="bmodel")
    save_task(b, Task("pets", trimap_scheme(), model=stored_reference(b, b_model)))
    win = window_on(qtbot, a, tiny_model)
    other = make_model_file(tmp_path / "other.safetensors", seed=1, name="other")
    _, announced = opened_in_a_then_b(qtbot, win, [other], b)
    assert announced == [b_model]  # never A's model, which B's task would record as in use
    not_in_use(win, other)
    assert win.models.active.path == b_model
    assert model_file(b, load_task(b).model) == b_model
    win.close()


def test_folder_b_whose_task_has_the_model_shown_keeps_it(qtbot, tiny_model, tmp_path):
    """B's task names the model the window showed: B loads nothing, and the worker's swap of
    A's model must still be undone (else it predicts in B with A's model)."""
    a, b = make_pets(tmp_path / "a"), make_pets(tmp_path / "b")
    b_model = make_model_file(b / "models" / "tiny_b.safetensors", seed=0, name="tiny")
    save_task(b, Task("pets", trimap_scheme(), model=stored_reference(b, b_model)))
    win = window_on(qtbot, a, b_model)
    other = make_model_file(tmp_path / "other.safetensors", seed=1, name="other")
    opened_in_a_then_b(qtbot, win, [other], b)
    not_in_use(win, other)
    assert win.models.slots.current.path == b_model and win.models.current.path == b_model
    assert model_file(b, load_task(b).model) == b_model
    win.close()


def test_two_loads_of_folder_a_are_both_taken_out(qtbot, tiny_model, tmp_path):
    a, b = make_pets(tmp_path / "a"), make_pets(tmp_path / "b")
    win = window_on(qtbot, a, tiny_model)
    first = make_model_file(tmp_path / "first.safetensors", seed=1, name="first")
    second = make_model_file(tmp_path / "second.safetensors", seed=2, name="second")
    opened_in_a_then_b(qtbot, win, [first, second], b)
    not_in_use(win, first)
    not_in_use(win, second)
    assert win.models.slots.current.path == tiny_model == win.models.current.path
    win.close()
