"""The read-only banner said the writer 'no longer holds' the folder, and to open it again here to
write it, while that writer held it again (it closed the folder and opened it again) or a third
window had taken it; the watch stopped at the first let-go, so the banner never came right. Now
'free' means no live process holds the folder: the banner names whoever holds it now, and the
watch goes on while the folder is read-only here."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import open_window
from unet_desktop.core.folder.folder_lock import LockHolder, let_go, lock_path
from unet_desktop.gui.task.writer_watch import WriterWatch


@pytest.fixture
def processes():
    """Live processes standing for other windows; killed at the end."""
    started: list[subprocess.Popen] = []

    def start() -> int:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        started.append(proc)
        return proc.pid

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def hold(root, pid: int, since: str) -> LockHolder:
    """The lock file as the window of process ``pid`` writes it on opening ``root``."""
    holder = LockHolder(socket.gethostname(), pid, since)
    lock_path(root).parent.mkdir(parents=True, exist_ok=True)
    lock_path(root).write_text(json.dumps(holder.to_dict()))
    return holder


def test_a_writer_that_opened_the_folder_again_has_not_let_go(workspace_dir, processes):
    pid = processes()
    first = hold(workspace_dir, pid, "2026-12-07T17:00:00Z")
    hold(workspace_dir, pid, "2026-12-07T17:05:00Z")  # closed, then opened again
    assert not let_go(workspace_dir, first)
    hold(workspace_dir, processes(), "2026-12-07T17:06:00Z")  # a third window took it
    assert not let_go(workspace_dir, first)
    lock_path(workspace_dir).unlink()
    assert let_go(workspace_dir, first)


def test_the_banner_names_who_holds_the_folder_now(qtbot, workspace_dir, processes,
                                                   monkeypatch):
    monkeypatch.setattr(WriterWatch, "INTERVAL_MS", 20)
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    writer = processes()
    hold(workspace_dir, writer, "2026-12-07T17:00:00Z")
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir) and win.session.workspace.read_only
    banner, watch = win.task_commands.banner, win.task_commands.writer_watch
    said: list[str] = []
    win.task_commands.message.connect(said.append)

    hold(workspace_dir, writer, "2026-12-07T17:05:00Z")  # the writer closed and reopened it
    qtbot.waitUntil(lambda: "17:05:00" in banner.text(), timeout=5000)
    assert f"open in another window, process {writer}" in banner.text()
    assert "no longer holds" not in banner.text() and watch.watching
    assert win.task_commands.edit_classes() is None
    assert "no longer holds" not in said[-1] and f"process {writer}" in said[-1]

    lock_path(workspace_dir).unlink()  # it let go: now opening again here would write it
    qtbot.waitUntil(lambda: "no longer holds it" in banner.text(), timeout=5000)
    assert watch.watching  # a free folder can be taken again

    third = processes()
    hold(workspace_dir, third, "2026-12-07T17:10:00Z")  # a third window took it
    qtbot.waitUntil(lambda: f"process {third}" in banner.text(), timeout=5000)
    assert "open in another window" in banner.text() and "no longer holds" not in banner.text()
    assert win.task_commands.edit_classes() is None
    assert f"open in another window, process {third}" in said[-1]
    win.close()
