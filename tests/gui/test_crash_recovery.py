"""The app is killed (SIGKILL) after an edit has been autosaved: a restart brings the edit back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.helpers import capsule
from unet_desktop.core.folder.autosave import RecoveryJournal, default_recovery_dir

REPO = Path(__file__).resolve().parents[2]
STROKE = "5.5,40.5,55.5,40.5,3,5"  # x0,y0,x1,y1,value,size


@pytest.mark.reliability("process", "SIGKILL of the window after an autosave")
def test_edit_survives_sigkill_after_autosave(qtbot, workspace_dir, isolated_settings):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", UNET_DESKTOP_HOME=str(isolated_settings))
    app = subprocess.Popen(
        [sys.executable, "-m", "unet_desktop.cli", str(workspace_dir), "--test-stroke", STROKE],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    journal = RecoveryJournal(default_recovery_dir())
    try:
        deadline = time.monotonic() + 60
        while journal.get(workspace_dir, KEYS[0]) is None:
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "no autosave within 60 s of starting the app"
            time.sleep(0.1)
    finally:
        app.send_signal(signal.SIGKILL)
        out, _ = app.communicate(timeout=30)
    assert app.returncode == -signal.SIGKILL
    assert "test stroke painted" in out
    # killed before any regular save: the folder still holds the old mask
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), sample_trimap(0))

    win = open_window(qtbot)  # the restart
    assert win.open_folder(workspace_dir)
    assert win.recovered_keys == [KEYS[0]]
    assert "Recovered unsaved edits of 1 image(s)" in win.statusBar().currentMessage()
    expected = sample_trimap(0)
    expected[capsule(expected.shape, (5.5, 40.5), (55.5, 40.5), 5)] = 3
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)
    np.testing.assert_array_equal(win.session.document.mask, expected)
    assert journal.entries() == []
