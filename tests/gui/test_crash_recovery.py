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


def autosaves(journal: RecoveryJournal, workspace_dir, key: str) -> list:
    """The journal's entries of ``key``, whichever window wrote them."""
    return [e for e in journal.entries(workspace_dir) if e.key == key]


def restart_and_find_the_first_windows_stroke(qtbot, workspace_dir):
    """The first window's restart: it recovers the stroke its killed process autosaved, and
    the image's mask file holds it; returns the window."""
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    assert win.recovered_keys == [KEYS[0]]
    expected = sample_trimap(0)
    expected[capsule(expected.shape, (5.5, 40.5), (55.5, 40.5), 5)] = 3
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)
    return win


def start_window_with_an_autosaved_stroke(workspace_dir, home) -> subprocess.Popen:
    """The app in another process, painting one stroke on the first image; returns once the
    stroke is in the recovery journal (the process stays open)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", UNET_DESKTOP_HOME=str(home))
    app = subprocess.Popen(
        [sys.executable, "-m", "unet_desktop.cli", str(workspace_dir), "--test-stroke", STROKE],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    journal = RecoveryJournal(default_recovery_dir())
    deadline = time.monotonic() + 60
    try:
        while not autosaves(journal, workspace_dir, KEYS[0]):
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "no autosave within 60 s of starting the app"
            time.sleep(0.1)
    except AssertionError:
        app.kill()
        app.communicate(timeout=30)
        raise
    return app


@pytest.mark.reliability("process", "SIGKILL of the window after an autosave")
def test_edit_survives_sigkill_after_autosave(qtbot, workspace_dir, isolated_settings):
    app = start_window_with_an_autosaved_stroke(workspace_dir, isolated_settings)
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
    assert RecoveryJournal(default_recovery_dir()).entries() == []


@pytest.mark.reliability("concurrency", "a second window on the folder opens and quits while "
                                        "the first has autosaved edits")
def test_a_second_window_leaves_the_first_windows_autosave_alone(qtbot, workspace_dir,
                                                                 isolated_settings, monkeypatch):
    """Window A (another process) holds the folder with an autosaved edit; window B opens the
    same folder read-only, edits another image and quits without saving. B must neither take
    A's autosave for a crash's leftover nor clear it: when A is killed afterwards, the next
    start still brings A's edit back."""
    first = start_window_with_an_autosaved_stroke(workspace_dir, isolated_settings)
    journal = RecoveryJournal(default_recovery_dir())
    try:
        second = open_window(qtbot)
        monkeypatch.setattr(second, "confirm_discard", lambda keys: True)  # "Quit anyway"
        assert second.open_folder(workspace_dir)
        assert second.session.workspace.read_only  # A holds the folder
        assert second.recovered_keys == []  # A is alive: its autosave is not a leftover
        second.file_dock.select_key(KEYS[1])
        qtbot.waitUntil(lambda: second.session.current_key == KEYS[1], timeout=5000)
        second.session.document.replace_mask(sample_trimap(1) * 0 + 1, "an edit B cannot save")
        second.session.autosave_now()
        assert autosaves(journal, workspace_dir, KEYS[0])
        second.close()
        assert autosaves(journal, workspace_dir, KEYS[0])  # A's edit is still protected
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    restart_and_find_the_first_windows_stroke(qtbot, workspace_dir).close()
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[1]), sample_trimap(1))


@pytest.mark.reliability("concurrency", "two windows autosave the same image; the first crashes")
def test_two_windows_autosaving_the_same_image_keep_an_entry_each(qtbot, workspace_dir,
                                                                  isolated_settings, monkeypatch):
    """Window B (read-only) edits the image window A has an autosaved stroke on: B's autosave
    must not replace A's. A is killed, then B quits without saving ("Quit anyway"): the next
    start recovers A's stroke (B's autosave had taken A's entry: nothing was recovered)."""
    first = start_window_with_an_autosaved_stroke(workspace_dir, isolated_settings)
    journal = RecoveryJournal(default_recovery_dir())
    try:
        second = open_window(qtbot)
        monkeypatch.setattr(second, "confirm_discard", lambda keys: True)
        assert second.open_folder(workspace_dir) and second.session.workspace.read_only
        assert second.session.current_key == KEYS[0]
        second.session.document.replace_mask(sample_trimap(0) * 0 + 2, "B's edit of the same image")
        second.session.autosave_now()
        assert len({e.owner for e in autosaves(journal, workspace_dir, KEYS[0])}) == 2
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    second.close()  # after A's crash: A's entry is a leftover, not B's to clear
    assert len(autosaves(journal, workspace_dir, KEYS[0])) == 1
    restart_and_find_the_first_windows_stroke(qtbot, workspace_dir).close()
    assert autosaves(journal, workspace_dir, KEYS[0]) == []
