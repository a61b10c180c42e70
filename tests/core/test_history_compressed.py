"""Undo steps are stored compressed: a big mask keeps hundreds of long strokes, and histories
archived before compression are still read."""

from __future__ import annotations

import json

import cv2
import numpy as np

from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.editing.history import DEFAULT_MAX_BYTES, EditHistory, mask_fingerprint
from unet_desktop.core.editing.history_archive import HistoryArchive


def test_two_hundred_long_strokes_on_a_4000_px_mask_are_all_undoable():
    """README: undo is 200+ steps deep per image. A corner-to-corner 20 px stroke changes
    ~100k pixels over a 3800 px box; stored raw, 138 such steps filled the 256 MB cap."""
    mask = np.zeros((4000, 4000), np.uint8)
    painted = cv2.line(mask.copy(), (10, 10), (3800, 3800), 1, 20)
    stroke = delta_from_masks(mask, painted, "Brush stroke")
    history = EditHistory()
    for _ in range(200):
        history.push(stroke)
    assert len(history) == 200 and history.nbytes < DEFAULT_MAX_BYTES // 50
    history.undo(painted)
    np.testing.assert_array_equal(painted, mask)


def test_a_history_archived_uncompressed_is_restored(tmp_path):
    """An archive file written before steps were compressed (format 1)."""
    before = np.zeros((6, 8), np.uint8)
    after = before.copy()
    after[1:3, 2:5] = 1
    archive = HistoryArchive(tmp_path)
    path = archive.path("/folder", "a.png")
    path.parent.mkdir(parents=True)
    changed = np.packbits(before != after, axis=None)
    header = {"format": 1, "key": "a.png", "fingerprint": mask_fingerprint(after), "undo": 1,
              "steps": [{"bbox": [0, 0, 6, 8], "label": "Brush stroke"}]}
    np.savez_compressed(path, header=np.frombuffer(json.dumps(header).encode(), np.uint8),
                        changed0=changed, old0=before[before != after],
                        new0=after[before != after])
    history = EditHistory()
    assert archive.restore("/folder", "a.png", after, history)
    mask = after.copy()
    history.undo(mask)
    np.testing.assert_array_equal(mask, before)
