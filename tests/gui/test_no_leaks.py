"""Dialogs made per use are deleted; temp files of a killed write are removed when a folder
opens (issue 18, item 13: each failed before its fix)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import os
import time

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_pets,
    tiny_model,
    window_on,
)
from unet_desktop.gui.model.model_card_dialog import ModelCardDialog
from unet_desktop.gui.training.finetune_dialog import FinetuneDialog


@pytest.fixture
def win(qtbot, tmp_path, tiny_model):
    w = window_on(qtbot, make_pets(tmp_path / "pets", n_images=3, n_labelled=2), tiny_model)
    yield w
    w.close()


def deleted_later() -> None:
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_fine_tune_dialogs_and_model_cards_are_deleted_after_use(qtbot, win):
    for _ in range(3):
        win.model_actions.finetune.trigger()
        win.training_commands.finetune_dialog.reject()
        win.model_actions.model_card.trigger()
    deleted_later()
    assert win.findChildren(FinetuneDialog) == []
    assert win.training_commands.finetune_dialog is None
    assert len(win.findChildren(ModelCardDialog)) == 1  # the one on screen
    win.model_commands.card.close()
    deleted_later()
    assert win.findChildren(ModelCardDialog) == [] and win.model_commands.card is None


def test_opening_a_folder_removes_what_a_killed_write_left(qtbot, tmp_path):
    pets = make_pets(tmp_path / "pets", n_images=2, n_labelled=1)
    masks = pets / "annotations" / "trimaps"
    stale = masks / ".img_01.png.k3j9x0ab.tmp"
    fresh = masks / ".img_00.png.q8w7e6r5.tmp"  # may be a write in progress elsewhere
    for path in (stale, fresh):
        path.write_bytes(b"half a mask")
    hour_ago = time.time() - 3700
    os.utime(stale, (hour_ago, hour_ago))
    win = open_window(qtbot)
    assert win.open_folder(pets)
    assert not stale.exists() and fresh.exists()
    win.close()
