"""The read-only banner of a folder another window writes kept naming that window, 'close it
there to edit here', after it had closed the folder (or its process had ended): the banner was
written once, when the folder opened. It now notices the writer letting go and says what is true
then: that window no longer holds the folder, and opening it again here writes it (which it
does: the banner goes and the edit is saved). A refused task edit says the same."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from unet_desktop.gui.task.writer_watch import WriterWatch


@pytest.fixture
def writer(workspace_dir):
    """Another live process holding the folder's lock; ``end(lock_left)`` ends it, its lock file
    removed as a window closing does, or left behind as by a crash."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    lock = workspace_dir / ".unet-desktop" / "writer.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": proc.pid,
                                "since": "2026-12-07T17:00:00Z"}))

    def end(lock_left: bool) -> None:
        proc.kill()
        proc.wait()
        if not lock_left:
            lock.unlink()

    yield end
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("lock_left", [False, True], ids=["closed", "crashed"])
def test_the_banner_stops_naming_a_writer_that_let_go(qtbot, workspace_dir, writer,
                                                     monkeypatch, lock_left):
    monkeypatch.setattr(WriterWatch, "INTERVAL_MS", 20)
    # a quit that cannot save asks; a failing test must not wait for an answer
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    banner = win.task_commands.banner
    watch = win.task_commands.writer_watch
    assert "open in another window" in banner.text() and "close it there" in banner.text()
    assert watch.watching
    edit = sample_trimap(0).copy()
    edit[40:48, 50:64] = 1
    win.session.document.replace_mask(edit, "edit")
    win.session.edit_finished()

    writer(lock_left)
    qtbot.waitUntil(lambda: "no longer holds it" in banner.text(), timeout=5000)
    assert "close it there" not in banner.text() and "open in another window" not in banner.text()
    assert "open the folder again here" in banner.text()
    assert watch.watching  # a free folder can be taken again (test_read_only_banner_holder_now)
    said: list[str] = []
    win.task_commands.message.connect(said.append)
    assert win.task_commands.edit_classes() is None  # refused, saying what is true now
    assert "no longer holds it; open the folder again here" in said[-1]

    assert win.open_folder(workspace_dir)  # what the banner says to do
    assert not win.session.workspace.read_only and not banner.isVisible()
    assert not watch.watching
    win.close()
    assert np.array_equal(saved_mask(workspace_dir, KEYS[0]), edit)
