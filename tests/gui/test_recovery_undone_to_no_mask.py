"""An image with no mask file: a stroke, saved, then undone back to nothing, autosaved, and the
app killed before it left the image. The autosave holds an all-unlabeled mask; recovered as a
'corrected' mask it was a label of nothing that counted as a training image. Now the journal
records that the edits were undone back to no mask file, and recovery leaves the image
unlabeled (the file saved before kept aside), in a task with sparse labels and in a dense one;
Ctrl+Z after the recovery gives back the stroke as it was saved."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.helpers import drag
from tests.gui.test_sparse_batch_predicted_stroke import DENSE, SCHEME, folder, on_disk
from unet_desktop.core.editing.mask_values import erase_value
from unet_desktop.core.folder.autosave import RecoveryJournal, default_recovery_dir
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.gui.editing.session import EditingSession

CTRL = Qt.KeyboardModifier.ControlModifier


def painted_saved_and_undone(qtbot, root, key) -> np.ndarray:
    """A window paints ``key`` (no mask file), saves, undoes the stroke and autosaves that (in
    the background, as the timer does); returns the stroke's mask. The window is not closed
    before the next one opens the folder: as after a crash, the autosave is left behind."""
    win = open_window(qtbot, autosave_delay_ms=50)
    assert win.open_folder(root)
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.session.current_key == key)
    win.tools.set_tool("brush")
    win.tools.set_value(255)  # 'cell': not the value of an unlabeled pixel, sparse or dense
    win.tools.set_size(3)
    drag(qtbot, win.canvas, [(20, 20), (30, 20)])
    qtbot.keyClick(win, Qt.Key.Key_S, CTRL)
    painted = win.session.document.mask.copy()
    assert on_disk(root, key)[1] is ImageState.CORRECTED
    with qtbot.waitSignal(win.session.autosaved, timeout=10_000):
        qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)  # back to nothing, not saved
    assert RecoveryJournal(default_recovery_dir()).get(root, key) is not None
    win.session.autosave.cancel()
    return painted


@pytest.mark.parametrize(("scheme", "stack"), [(SCHEME, False), (DENSE, False), (SCHEME, True)],
                         ids=["sparse", "dense", "sparse stack slice"])
def test_recovering_edits_undone_to_no_mask_leaves_the_image_unlabeled(qtbot, tmp_path,
                                                                        scheme, stack):
    root, key, _other = folder(tmp_path, stack, scheme)
    painted = painted_saved_and_undone(qtbot, root, key)
    session = EditingSession()  # the restart
    assert session.open_workspace(root) == [key]
    mask, state = on_disk(root, key)
    assert mask is None and state is ImageState.UNLABELED  # not an empty 'corrected' mask
    assert key not in [e.key for e in session.workspace.labelled()]
    kept = [p for p in (root / ".unet-desktop" / "replaced").rglob("*") if p.is_file()]
    assert len(kept) == 1  # the stroke saved before the crash (its image's file or stack)
    assert RecoveryJournal(default_recovery_dir()).get(root, key) is None
    assert session.open_image(key)
    document = session.document
    assert np.all(document.mask == erase_value(scheme)) and not document.dirty
    assert session.undo() is not None  # the stroke, as it was saved
    np.testing.assert_array_equal(document.mask, painted)
    assert session.redo() is not None and session.save()  # back to nothing: still no mask
    assert on_disk(root, key) == (None, ImageState.UNLABELED)
    session.shutdown()
