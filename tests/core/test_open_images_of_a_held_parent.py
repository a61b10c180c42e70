"""A folder opened at DATA/images while another window (process) writes DATA was a second
writer of the same images: its corrections went to DATA/images/masks/, which DATA never reads.
It opens read-only now, naming the process and DATA."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace


def data_folder(root):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(3):
        Image.fromarray(np.full((16, 16), 40 * i, np.uint8)).save(root / "images" / f"im{i}.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(root / "masks" / "im0.png")
    return root


@pytest.fixture
def other_window():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def hold(root, pid):
    lock = root / ".unet-desktop" / "writer.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": pid,
                                "since": "2026-12-07T17:00:00Z"}))


def test_images_of_a_parent_held_elsewhere_open_read_only(tmp_path, other_window):
    data = data_folder(tmp_path / "data")
    hold(data, other_window)
    ws = Workspace.open(data / "images", writer=True)
    assert ws.read_only and ws.lock_holder.pid == other_window
    said = " ".join(ws.warnings)
    assert f"holds the images of {data}" in said and f"process {other_window}" in said
    assert not (data / "images" / ".unet-desktop" / "writer.lock").exists()
    ws.close()


def test_images_of_a_free_parent_or_another_layout_open_writable(tmp_path, other_window):
    data = data_folder(tmp_path / "data")
    ws = Workspace.open(data / "images", writer=True)  # nobody writes data
    assert not ws.read_only
    ws.close()
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(other / "sub" / "a.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(other / "b.png")
    hold(other, other_window)  # held, but its images are its own, not sub/'s
    ws = Workspace.open(other / "sub", writer=True)
    assert not ws.read_only
    ws.close()
