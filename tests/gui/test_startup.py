"""Start-up: `unet-desktop [FOLDER] [--model M]` reaches the window; torch is imported only
on the worker thread, after the window shows; a missing model is only a note."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from unet_desktop import cli

REPO = Path(__file__).resolve().parents[2]


def test_bare_folder_argument_opens_the_window(monkeypatch, workspace_dir):
    calls = []
    monkeypatch.setattr("unet_desktop.gui.app.run_gui",
                        lambda folder, test_stroke=None, model=None: calls.append(folder) or 0)
    assert cli.main([str(workspace_dir)]) == 0
    assert cli.main(["gui", str(workspace_dir)]) == 0
    assert cli.main(["gui"]) == 0
    assert calls == [workspace_dir, workspace_dir, None]


def test_missing_folder_is_a_clear_error(capsys, tmp_path):
    assert cli.main(["gui", str(tmp_path / "nope")]) == 2
    assert f"{tmp_path / 'nope'}: not a folder" in capsys.readouterr().err


STARTUP_SCRIPT = """
import sys, threading, time
import importlib.abc

importers = []


class WhoImportsTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not importers:
            importers.append(threading.current_thread().name)
        return None


sys.meta_path.insert(0, WhoImportsTorch())
from unet_desktop.gui.app import create_application
from unet_desktop.gui.main_window import MainWindow

app = create_application()
w = MainWindow(model_path=sys.argv[2] if len(sys.argv) > 2 else None)
w.show()
print("torch imported when shown:", "torch" in sys.modules)
assert w.open_folder(sys.argv[1])
print("image", w.session.current_key)
deadline = time.monotonic() + 90
while time.monotonic() < deadline and w.prediction.shown is None and len(sys.argv) > 2:
    app.processEvents()
    time.sleep(0.01)
print("prediction shown for", w.prediction.shown_key)
print("torch importers:", importers)
w.close()
"""


def run_startup(workspace_dir, home, *model) -> str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", UNET_DESKTOP_HOME=str(home))
    out = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT, str(workspace_dir), *model],
                         check=False, cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_window_shows_before_torch_and_loads_the_model_on_the_worker(
        workspace_dir, isolated_settings, tmp_path):
    from tests.gui.conftest_model import make_model_file

    model = make_model_file(tmp_path / "tiny.safetensors")
    stdout = run_startup(workspace_dir, isolated_settings, str(model))
    assert "torch imported when shown: False" in stdout
    assert "image images/cat_0.png" in stdout
    assert "prediction shown for images/cat_0.png" in stdout
    assert "torch importers: ['model-worker']" in stdout  # never the UI thread


def test_a_missing_default_model_is_a_note_and_the_window_works(qtbot, monkeypatch,
                                                                workspace_dir, tmp_path):
    from tests.gui.conftest import open_window

    missing = tmp_path / "models" / "pets-trimap.safetensors"
    monkeypatch.setattr("unet_desktop.core.io.paths.default_model_path", lambda: missing)
    win = open_window(qtbot, load_model=True)
    qtbot.waitUntil(lambda: "No model" in win.prediction_dock.model_label.text(), timeout=5000)
    assert win.statusBar().currentMessage().startswith(f"No model: {missing}")
    assert win.open_folder(workspace_dir) and win.session.current_key is not None
    assert "No model loaded" in win.prediction_dock.status_label.text()
    qtbot.waitUntil(win.worker.is_idle, timeout=5000)  # the folder's masks were checked
    assert win.models.active is None
    win.close()


def test_gui_command_checks_the_model_option(capsys, workspace_dir, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("unet_desktop.gui.app.run_gui",
                        lambda folder, test_stroke=None, model=None: calls.append(model) or 0)
    assert cli.main([str(workspace_dir), "--model", str(tmp_path / "nope.safetensors")]) == 2
    assert "nope.safetensors: no such model file" in capsys.readouterr().err
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"x")
    assert cli.main([str(workspace_dir), "--model", str(model)]) == 0
    assert calls == [model]


def test_without_a_folder_the_first_start_opens_the_samples(qtbot, isolated_settings):
    from unet_desktop.core.folder.samples import sample_workspace
    from unet_desktop.gui.app import starting_folder
    from unet_desktop.gui.settings import AppSettings

    settings = AppSettings()
    assert starting_folder(settings) == sample_workspace()
    assert sample_workspace().is_relative_to(isolated_settings)
    other = isolated_settings / "mine"
    other.mkdir()
    settings.add_recent_folder(other)
    assert starting_folder(settings) == other
