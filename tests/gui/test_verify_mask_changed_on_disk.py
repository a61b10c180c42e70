"""Mark Verified (Ctrl+E) with no edit, after another program deleted or rewrote the mask file
of the image on screen: the mask on screen is what is verified, so it is written (a rewritten
file kept aside), never a state recorded for a file the user did not see."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, sample_trimap, saved_mask
from unet_desktop.core.folder.workspace import ImageState, Workspace

CTRL = Qt.KeyboardModifier.ControlModifier


def verify_and_reopen(qtbot, window, workspace_dir) -> Workspace:
    qtbot.keyClick(window, Qt.Key.Key_E, CTRL)
    window.close()
    return Workspace.open(workspace_dir)


def test_verify_after_the_mask_file_was_deleted_writes_the_mask_shown(qtbot, window,
                                                                      workspace_dir):
    (workspace_dir / "annotations" / "trimaps" / "cat_0.png").unlink()
    shown = window.session.document.mask.copy()
    ws = verify_and_reopen(qtbot, window, workspace_dir)
    assert ws[KEYS[0]].state is ImageState.VERIFIED
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), shown)


def test_verify_after_the_mask_file_was_rewritten_writes_the_mask_shown(qtbot, window,
                                                                        workspace_dir):
    shown = window.session.document.mask.copy()
    theirs = np.full_like(sample_trimap(0), 2)  # another program: all background
    Image.fromarray(theirs).save(workspace_dir / "annotations" / "trimaps" / "cat_0.png")
    ws = verify_and_reopen(qtbot, window, workspace_dir)
    assert ws[KEYS[0]].state is ImageState.VERIFIED
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), shown)
    kept = list((workspace_dir / ".unet-desktop" / "replaced").glob("cat_0*"))
    assert len(kept) == 1 and np.array_equal(np.array(Image.open(kept[0])), theirs)


def test_verify_with_the_file_unchanged_only_records_the_state(qtbot, window, workspace_dir):
    mask_file = workspace_dir / "annotations" / "trimaps" / "cat_0.png"
    before = mask_file.stat().st_mtime_ns
    ws = verify_and_reopen(qtbot, window, workspace_dir)
    assert ws[KEYS[0]].state is ImageState.VERIFIED
    assert mask_file.stat().st_mtime_ns == before
