"""Start-up with a device saved on another machine (a home folder shared by GPU and CPU nodes):
the window says so and predicts on a device it has, keeping the setting; choosing a device in a
window without a model loads it."""

from __future__ import annotations

import pytest

from tests.gui.conftest_model import make_model_file
from tests.gui.test_startup_remembered_model import start_window
from unet_desktop.gui.settings import AppSettings

TIMEOUT_MS = 60_000


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A tiny model standing for the shipped one."""
    model = make_model_file(tmp_path / "shipped" / "pets-trimap.safetensors", name="shipped")
    monkeypatch.setattr("unet_desktop.core.io.paths.default_model_path", lambda: model)
    return model


def test_a_saved_device_missing_here_falls_back_and_is_kept(qtbot, shipped):
    win, said = start_window(qtbot, {"device": "cuda:7"})
    assert win.models.active.path == shipped
    device = str(win.models.active.predictor.device)
    assert any("cuda:7" in text and f"runs on {device} instead" in text for text in said), said
    assert not any(text.startswith("No model") for text in said)
    assert AppSettings().device == "cuda:7"  # kept for the machines that have it
    with qtbot.waitSignal(win.models.device_changed, timeout=TIMEOUT_MS):
        win.model_commands.set_device("cpu")
    assert str(win.models.active.predictor.device) == "cpu" and AppSettings().device == "cpu"
    win.close()


def test_choosing_a_device_without_a_model_loads_it(qtbot, shipped, monkeypatch):
    from unet_desktop.ml import api

    real = api.load_model
    calls = []

    def first_fails(*args, **kwargs):
        calls.append(kwargs.get("device"))
        if len(calls) == 1:
            raise RuntimeError("CUDA out of memory")  # whatever left the window without one
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "load_model", first_fails)
    from unet_desktop.gui.main_window import MainWindow

    win = MainWindow(load_model=True, ask_for_task=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: bool(calls) and win.worker.is_idle(), timeout=TIMEOUT_MS)
    assert win.models.active is None
    win.model_commands.set_device("cpu")
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.models.active.path == shipped and str(win.models.active.predictor.device) == "cpu"
    win.close()
