"""Start-up when the model opened last is gone (moved, a drive not connected): the window says
so, predicts with the shipped model, and keeps the user's model in the settings until they open
another."""

from __future__ import annotations

import pytest

from tests.gui.conftest_model import make_model_file
from unet_desktop.gui.settings import AppSettings

TIMEOUT_MS = 60_000


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A tiny model standing for the shipped one."""
    model = make_model_file(tmp_path / "shipped" / "pets-trimap.safetensors", name="shipped")
    monkeypatch.setattr("unet_desktop.core.io.paths.default_model_path", lambda: model)
    return model


def start_window(qtbot, settings: dict):
    from unet_desktop.gui.main_window import MainWindow

    saved = AppSettings()
    for name, value in settings.items():
        setattr(saved, name, value)
    saved.sync()
    win = MainWindow(load_model=True, ask_for_task=False)
    qtbot.addWidget(win)
    said: list[str] = []
    win.statusBar().messageChanged.connect(lambda text: said.append(text) if text else None)
    win.show()
    # the model is installed on the worker thread; its messages come on this one, after
    qtbot.waitUntil(lambda: any(text.startswith("Predicting with") for text in said),
                    timeout=TIMEOUT_MS)
    qtbot.waitUntil(win.worker.is_idle, timeout=TIMEOUT_MS)
    return win, said


def test_a_remembered_model_that_is_gone_is_said_and_stays_remembered(qtbot, tmp_path, shipped):
    mine = tmp_path / "external drive" / "my-cells-v3.safetensors"  # not connected today
    win, said = start_window(qtbot, {"model_path": mine})
    assert win.models.active.path == shipped
    assert any(str(mine) in text and "is not there" in text for text in said), said
    assert win.statusBar().currentMessage().startswith(f"The model opened last, {mine}")
    assert AppSettings().model_path == mine  # the next start looks for it again
    win.model_commands.set_mode("tile")  # another model change: still the stand-in
    qtbot.waitUntil(win.worker.is_idle, timeout=TIMEOUT_MS)
    assert AppSettings().model_path == mine

    other = make_model_file(tmp_path / "other" / "other.safetensors", seed=3, name="other")
    win.model_commands.open_model(other)  # the user chooses another: that one is remembered
    # the worker installs it, then the window hears of it and remembers it
    qtbot.waitUntil(lambda: AppSettings().model_path == other, timeout=TIMEOUT_MS)
    assert win.models.active.path == other
    win.close()


def test_a_remembered_model_gone_without_a_shipped_model_is_named(qtbot, tmp_path, monkeypatch):
    missing = tmp_path / "models" / "pets-trimap.safetensors"
    monkeypatch.setattr("unet_desktop.core.io.paths.default_model_path", lambda: missing)
    mine = tmp_path / "external drive" / "my-cells-v3.safetensors"
    saved = AppSettings()
    saved.model_path = mine
    saved.sync()
    from tests.gui.conftest import open_window

    win = open_window(qtbot, load_model=True)
    qtbot.waitUntil(lambda: "No model" in win.prediction_dock.model_label.text(), timeout=5000)
    assert win.statusBar().currentMessage().startswith(
        f"No model: the model opened last, {mine}, is not there")
    assert str(missing) in win.statusBar().currentMessage()
    assert AppSettings().model_path == mine
    win.close()
