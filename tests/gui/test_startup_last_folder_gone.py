"""Start-up without a FOLDER argument when the folder opened last was moved or renamed: an
older recent folder opened without a word (and could be labelled for the missing one)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import open_window
from unet_desktop.gui.app import open_starting_folder


def folder_of_one_image(path):
    path.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path / "a.png")
    return path


def notes(window) -> list[str]:
    return [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_a_gone_last_folder_is_said_when_an_older_one_opens(qtbot, tmp_path):
    older = folder_of_one_image(tmp_path / "exp_old")
    last = folder_of_one_image(tmp_path / "exp_today")
    window = open_window(qtbot)
    window.settings.add_recent_folder(older)
    window.settings.add_recent_folder(last)
    last.rename(tmp_path / "exp_today renamed")

    open_starting_folder(window)
    assert window.session.workspace.root == older
    said = (f"The folder opened last, {last}, no longer exists (moved, renamed, or on a drive "
            f"not connected?); {older} was opened instead.")
    assert [n for n in notes(window) if n.startswith(said)] != []
    assert window.statusBar().currentMessage().startswith(said)


def test_the_last_folder_opens_without_a_note(qtbot, tmp_path):
    last = folder_of_one_image(tmp_path / "exp")
    window = open_window(qtbot)
    window.settings.add_recent_folder(last)
    open_starting_folder(window)
    assert window.session.workspace.root == last
    assert not any("no longer exists" in n for n in notes(window))
