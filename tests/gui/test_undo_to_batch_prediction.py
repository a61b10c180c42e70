"""A mask a batch run in place (or ``predict --in-place``) wrote is the model's output: after a
saved correction, an undo back to it saves it 'predicted' again (with the batch's model version),
not as a 'corrected' training label; opening it alone writes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.helpers import drag
from unet_desktop.core.folder.workspace import ImageState, Workspace

CTRL = Qt.KeyboardModifier.ControlModifier
DOG = KEYS[3]


@pytest.mark.parametrize("version", ["v-batch", None])
def test_undo_back_to_a_batch_prediction_saves_it_predicted(qtbot, workspace_dir, version):
    ws = Workspace.open(workspace_dir, writer=True)  # as a batch run in place writes it
    ws.save_mask(DOG, sample_trimap(2), ImageState.PREDICTED, version, 0.2)
    ws.close()
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    s = win.session
    win.file_dock.select_key(DOG)
    assert not win.isWindowModified() and s.unsaved_keys() == []
    win.tools.set_tool("brush")
    win.tools.set_size(3)
    qtbot.keyClick(win, Qt.Key.Key_3)
    drag(qtbot, win.canvas, [(2.5, 2.5), (40.5, 2.5)])
    qtbot.keyClick(win, Qt.Key.Key_S, CTRL)
    assert s.workspace[DOG].state is ImageState.CORRECTED
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(s.document.mask, sample_trimap(2))
    assert win.isWindowModified()  # the file holds the stroke
    win.file_dock.select_key(KEYS[0])  # leaving saves it
    np.testing.assert_array_equal(saved_mask(workspace_dir, DOG), sample_trimap(2))
    assert s.workspace[DOG].state is ImageState.PREDICTED
    assert s.workspace[DOG].model_version == version
    assert DOG not in [e.key for e in s.workspace.labelled()]
    win.close()
