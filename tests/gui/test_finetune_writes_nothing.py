"""Ctrl+T (Fine-tune) while an unlabeled image shows its prediction writes no file: looking at
an image never writes one; the user's own edits are still saved first (issue 33, item 3)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    tiny_model,
    tiny_pets,
    window_on,
)
from tests.gui.helpers import drag
from unet_desktop.core.folder.workspace import ImageState, Workspace

CTRL = Qt.KeyboardModifier.ControlModifier


def test_ctrl_t_on_an_unlabeled_image_writes_nothing(qtbot, tiny_pets, tiny_model):
    win = window_on(qtbot, tiny_pets, tiny_model)
    key = image_key(4)  # unlabeled: its prediction becomes the mask by itself
    with qtbot.waitSignal(win.prediction.accepted, timeout=TIMEOUT_MS):
        win.file_dock.select_key(key)
    assert win.session.document.dirty and win.session.only_viewed()
    mask_file = tiny_pets / "annotations" / "trimaps" / "img_04.png"
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_T, CTRL)
    dialog = win.training_commands.finetune_dialog
    assert dialog is not None and dialog.isVisible()
    assert not mask_file.exists()
    assert Workspace.open(tiny_pets)[key].state is ImageState.UNLABELED
    dialog.reject()
    # a stroke of the user's is training data: Ctrl+T saves it first
    win.tools.set_tool("brush")
    mask = win.session.document.mask
    win.tools.set_value(2 if mask[3, 3] == 1 else 1)  # a value the prediction does not have there
    drag(qtbot, win.canvas, [(3.5, 3.5), (12.5, 3.5)])
    assert win.session.has_user_edits(), win.session.document.undo_label
    qtbot.keyClick(win.canvas, Qt.Key.Key_T, CTRL)
    assert mask_file.exists()
    assert Workspace.open(tiny_pets)[key].state is ImageState.CORRECTED
    win.training_commands.finetune_dialog.reject()
    win.close()
