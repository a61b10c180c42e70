"""The Training dock of a window that only reads its folder (another live process writes it):
the learning loop's Target and Validation cannot be changed there, nothing is written to the
folder's learning record, and the status says learning is on in the writing window, not here."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from tests.gui.conftest import open_window
from unet_desktop.core.folder.learning_record import (
    LearningRecord,
    load_record,
    record_path,
    save_record,
)
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.folder.workspace import Workspace


def test_a_read_only_window_changes_no_learning_setting(qtbot, workspace_dir):
    save_task(workspace_dir, Task("pets", Workspace.open(workspace_dir).scheme))
    record = record_path(workspace_dir)
    save_record(record, LearningRecord(enabled=True, target=0.9, every_k=5))
    before = record.read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        (workspace_dir / ".unet-desktop" / "writer.lock").write_text(json.dumps(
            {"host": socket.gethostname(), "pid": writer.pid, "since": "2026-12-07T17:00:00Z"}))
        win = open_window(qtbot)
        assert win.open_folder(workspace_dir)
        assert win.session.workspace.read_only
        panel = win.learning.panel
        assert not panel.target_spin.isEnabled() and not panel.k_spin.isEnabled()
        status = panel.status_label.text()
        assert f"is on in the window that writes this folder, process {writer.pid} " in status
        assert "This window only reads the folder" in status
        with qtbot.waitSignal(win.learning.message) as said:
            panel.target_spin.setValue(0.77)  # as if changed: the controller refuses
        assert "not changed" in said.args[0]
        panel.k_spin.setValue(7)
        assert record.read_bytes() == before
        assert (load_record(record).target, load_record(record).every_k) == (0.9, 5)
        assert (panel.target_spin.value(), panel.k_spin.value()) == (0.9, 5)  # the record's
        win.close()
    finally:
        writer.kill()
        writer.wait()
