"""The autosave writes on a thread of its own: a slow disk never holds the window, and a save,
leaving the image or closing the window while a write is in flight waits for it, so no older
autosave outlives a real save."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.helpers import click, disc
from unet_desktop.core.folder.autosave import RecoveryJournal, default_recovery_dir
from unet_desktop.gui.editing.session import EditingSession

CTRL = Qt.KeyboardModifier.ControlModifier
WRITE_S = 1.5


class SlowJournal(RecoveryJournal):
    """A recovery journal on a disk that takes ``WRITE_S`` per autosave."""

    def __init__(self) -> None:
        super().__init__(default_recovery_dir())
        self.writing = threading.Event()
        self.threads: list[str] = []

    def save(self, workspace, key, mask, scheme, no_mask=False, accepted=None):
        self.threads.append(threading.current_thread().name)
        self.writing.set()
        time.sleep(WRITE_S)
        return super().save(workspace, key, mask, scheme, no_mask, accepted)


@pytest.fixture
def slow(qtbot, workspace_dir):
    journal = SlowJournal()
    win = open_window(qtbot, session=EditingSession(journal=journal, autosave_delay_ms=50))
    assert win.open_folder(workspace_dir)
    win.tools.set_size(3)
    yield win, journal
    win.close()


def wait_for_write(qtbot, journal: SlowJournal) -> None:
    qtbot.waitUntil(journal.writing.is_set, timeout=3000)


@pytest.mark.reliability("disk", "an autosave on a slow disk while the user goes on")
def test_a_slow_autosave_write_does_not_hold_the_window(qtbot, slow):
    win, journal = slow
    click(qtbot, win.canvas, 50.5, 5.5)
    wait_for_write(qtbot, journal)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    qtbot.waitUntil(lambda: journal.get(win.session.workspace.root, KEYS[0]) is not None,
                    timeout=3000)
    timer.stop()
    assert journal.threads and journal.threads[0] != threading.main_thread().name
    # the window kept answering while the disk took WRITE_S: no gap near that long
    gaps = np.diff(ticks)
    assert len(ticks) > 20 and gaps.max() < WRITE_S / 2, (len(ticks), gaps.max())
    qtbot.waitUntil(lambda: "Autosaved" in win.statusBar().currentMessage(), timeout=1000)


@pytest.mark.reliability("concurrency", "Ctrl+S while an older autosave is being written")
def test_saving_while_an_autosave_is_written_leaves_no_stale_autosave(qtbot, slow,
                                                                     workspace_dir):
    win, journal = slow
    click(qtbot, win.canvas, 50.5, 5.5)
    wait_for_write(qtbot, journal)
    click(qtbot, win.canvas, 20.5, 30.5)  # painted while the first autosave is on its way
    qtbot.keyClick(win, Qt.Key.Key_S, CTRL)
    expected = sample_trimap(0)
    value = win.tools.value
    expected[disc(expected.shape, 50.5, 5.5, 3)] = value
    expected[disc(expected.shape, 20.5, 30.5, 3)] = value
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)
    qtbot.wait(int(WRITE_S * 2000))  # anything still queued would land by now
    assert win.session.journal.get(win.session.workspace.root, KEYS[0]) is None
    assert not win.isWindowModified()


@pytest.mark.reliability("concurrency", "leaving an image and closing the window during an autosave")
def test_leaving_and_closing_during_an_autosave_keep_every_edit(qtbot, slow, workspace_dir):
    win, journal = slow
    click(qtbot, win.canvas, 50.5, 5.5)
    wait_for_write(qtbot, journal)
    win.file_dock.select_key(KEYS[1])  # leaves the first image: saved, its autosave retired
    qtbot.waitUntil(lambda: win.session.current_key == KEYS[1], timeout=3000)
    expected = sample_trimap(0)
    expected[disc(expected.shape, 50.5, 5.5, 3)] = win.tools.value
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)
    assert win.session.journal.get(win.session.workspace.root, KEYS[0]) is None
    journal.writing.clear()
    click(qtbot, win.canvas, 10.5, 10.5)
    wait_for_write(qtbot, journal)
    win.close()  # waits for the write, saves the mask, clears the journal
    expected = sample_trimap(1)
    expected[disc(expected.shape, 10.5, 10.5, 3)] = win.tools.value
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[1]), expected)
    assert journal.entries() == []


class FullDisk(RecoveryJournal):
    def __init__(self) -> None:
        super().__init__(default_recovery_dir())

    def save(self, workspace, key, mask, scheme, no_mask=False, accepted=None):
        raise OSError(28, "No space left on device")


@pytest.mark.reliability("disk", "the autosave's disk is full")
def test_a_failed_autosave_is_said_and_the_edit_stays(qtbot, workspace_dir):
    win = open_window(qtbot, session=EditingSession(journal=FullDisk(), autosave_delay_ms=50))
    assert win.open_folder(workspace_dir)
    win.tools.set_size(3)
    click(qtbot, win.canvas, 50.5, 5.5)
    qtbot.waitUntil(lambda: (win.last_error or "").startswith("Autosave failed"), timeout=3000)
    assert "No space left on device" in win.last_error
    assert win.isWindowModified()  # the edit is in memory, and saving it still works
    win.actions.save.trigger()  # File > Save Mask
    expected = sample_trimap(0)
    expected[disc(expected.shape, 50.5, 5.5, 3)] = win.tools.value
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)
    win.close()
