"""Start-up: `unet-desktop [FOLDER]` reaches the window, and torch is not imported."""

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
                        lambda folder, test_stroke=None: calls.append(folder) or 0)
    assert cli.main([str(workspace_dir)]) == 0
    assert cli.main(["gui", str(workspace_dir)]) == 0
    assert cli.main(["gui"]) == 0
    assert calls == [workspace_dir, workspace_dir, None]


def test_missing_folder_is_a_clear_error(capsys, tmp_path):
    assert cli.main(["gui", str(tmp_path / "nope")]) == 2
    assert f"{tmp_path / 'nope'}: not a folder" in capsys.readouterr().err


def test_window_opens_a_folder_without_importing_torch(workspace_dir, isolated_settings):
    script = (
        "import sys\n"
        "from unet_desktop.gui.app import create_application\n"
        "from unet_desktop.gui.main_window import MainWindow\n"
        "app = create_application()\n"
        "w = MainWindow(); w.show(); assert w.open_folder(sys.argv[1]); app.processEvents()\n"
        "print('image', w.session.current_key)\n"
        "print('torch imported:', 'torch' in sys.modules)\n"
        "w.close()\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", UNET_DESKTOP_HOME=str(isolated_settings))
    out = subprocess.run([sys.executable, "-c", script, str(workspace_dir)], check=False,
                         cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "image images/cat_0.png" in out.stdout
    assert "torch imported: False" in out.stdout
