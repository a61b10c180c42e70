"""Save Model As and Export to ONNX onto a full disk: the error names the file that could not
be written (os.write and fsync raise an OSError that names none), and nothing is left there."""

from __future__ import annotations

import errno

import pytest

from tests.gui.conftest_model import make_model_file, make_pets, window_on
from unet_desktop.gui.worker import FAILED
from unet_desktop.ml import model_files

JOB_TIMEOUT_MS = 60_000


def _full_disk(path, *args):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    model = make_model_file(tmp_path / "m" / "model.safetensors", seed=1, name="A")
    window = window_on(qtbot, make_pets(tmp_path / "pets", 4, 2), model)
    monkeypatch.setattr(model_files, "atomic_write", _full_disk)
    monkeypatch.setattr(model_files, "atomic_write_bytes", _full_disk)
    yield window
    window.close()


def _run(qtbot, win, name, start):
    with qtbot.waitSignal(win.worker.job_finished, timeout=JOB_TIMEOUT_MS,
                          check_params_cb=lambda job: job.name == name) as done:
        start()
    return done.args[0]


def test_save_model_as_on_a_full_disk_names_the_file(qtbot, win, tmp_path):
    target = tmp_path / "copy.safetensors"
    job = _run(qtbot, win, "save model", lambda: win.model_commands.save_model_as(target))
    assert job.state == FAILED and not target.exists()
    assert win.last_error.startswith(f"Cannot save the model: {target}: ")
    assert "No space left on device" in win.last_error and "OSError" not in win.last_error


def test_export_onnx_on_a_full_disk_names_the_file(qtbot, win, tmp_path):
    pytest.importorskip("onnx")
    target = tmp_path / "copy.onnx"
    job = _run(qtbot, win, "export onnx", lambda: win.model_commands.export_onnx(target))
    assert job.state == FAILED and not target.exists()
    assert win.last_error.startswith(f"Cannot export to ONNX: {target}: ")
    assert "No space left on device" in win.last_error and "OSError" not in win.last_error
