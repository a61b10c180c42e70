"""Save Model As and Export to ONNX write the model the window predicts with, or refuse: its
file may have been rewritten by another program since it was loaded, or deleted; and an export
never lands on a model file."""

from __future__ import annotations

import pytest

from tests.gui.conftest_model import make_model_file, make_pets, window_on
from unet_desktop.gui.worker import DONE, FAILED
from unet_desktop.ml.models.modelfile import read_meta

JOB_TIMEOUT_MS = 60_000


@pytest.fixture
def setup(qtbot, tmp_path):
    model = make_model_file(tmp_path / "m" / "model.safetensors", seed=1, name="A")
    win = window_on(qtbot, make_pets(tmp_path / "pets", 4, 2), model)
    yield win, model
    win.close()


def _run(qtbot, win, name, start):
    with qtbot.waitSignal(win.worker.job_finished, timeout=JOB_TIMEOUT_MS,
                          check_params_cb=lambda job: job.name == name) as done:
        start()
    return done.args[0]


def test_save_as_and_export_refuse_a_file_rewritten_with_another_model(qtbot, setup, tmp_path):
    pytest.importorskip("onnx")
    win, model = setup
    in_use = win.models.active_version
    other = read_meta(make_model_file(model, seed=2, name="B")).version  # another program
    saved, exported = tmp_path / "s.safetensors", tmp_path / "e.onnx"
    job = _run(qtbot, win, "save model", lambda: win.model_commands.save_model_as(saved))
    assert job.state == FAILED and not saved.exists()
    assert f"now holds another model (version {other})" in win.last_error
    assert in_use in win.last_error
    job = _run(qtbot, win, "export onnx", lambda: win.model_commands.export_onnx(exported))
    assert job.state == FAILED and not exported.exists()
    assert "Cannot export to ONNX" in win.last_error and other in win.last_error


def test_save_as_of_a_deleted_file_says_why(qtbot, setup, tmp_path):
    win, model = setup
    model.unlink()
    job = _run(qtbot, win, "save model",
               lambda: win.model_commands.save_model_as(tmp_path / "s.safetensors"))
    assert job.state == FAILED
    assert "the model in use was loaded from it, and Save As copies that file" in win.last_error


def test_save_as_of_the_unchanged_file_saves_the_model_in_use(qtbot, setup, tmp_path):
    win, _ = setup
    saved = tmp_path / "s.safetensors"
    job = _run(qtbot, win, "save model", lambda: win.model_commands.save_model_as(saved))
    assert job.state == DONE and read_meta(saved).version == win.models.active_version


def test_export_onto_the_model_in_use_is_refused(qtbot, setup):
    pytest.importorskip("onnx")
    win, model = setup
    before = model.read_bytes()
    job = _run(qtbot, win, "export onnx", lambda: win.model_commands.export_onnx(model))
    assert job.state == FAILED and "choose a .onnx name" in win.last_error
    assert model.read_bytes() == before
