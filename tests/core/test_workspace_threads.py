"""``Workspace.invalid`` is read on the UI thread while worker threads (batch predict, training,
the loop) record masks they found invalid: a reader never sees it change under its feet."""

from __future__ import annotations

import threading
import time

import numpy as np
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace


def test_reading_the_invalid_masks_while_workers_find_more_is_safe(tmp_path):
    root = tmp_path / "pets"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(40):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / "images" / f"im{i:02d}.png")
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(root / "masks" / f"im{i:02d}.png")
    ws = Workspace.open(root)
    first = ws.entries[0]  # masks 4x4 for 8x8 images: each check finds one invalid
    ws.check_masks([first])
    assert first.key in ws.invalid
    done = threading.Event()

    def worker():
        for entry in ws.entries[1:]:
            ws.check_masks([entry])
            time.sleep(0.002)
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    seen = 0
    try:
        while not done.is_set():
            for key in ws.invalid:  # the window lists them while the worker adds more
                seen += 1
                time.sleep(0.001)
    finally:
        thread.join()
    assert len(ws.invalid) == 40 and seen
