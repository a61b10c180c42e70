"""File names that are not UTF-8 (Latin-1 bytes, as unzipped from an old Windows archive): the
list showed them with letters missing and selecting one opened nothing, as its key went through
a Qt string, which drops the bytes ``os.fsdecode`` could not decode. The list now takes keys
from the entries and shows those bytes as Latin-1 letters; the image opens and its mask saves."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.helpers import drag
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.gui.editing.file_list_dock import STATE_ROLE

NAMES = [b"M\xfcller_01.png", b"caf\xe9.png", b"plain.png"]  # Latin-1 bytes, then ASCII


def make_folder(root) -> list[str]:
    images = os.path.join(os.fsencode(root), b"images")
    os.makedirs(images)
    rng = np.random.default_rng(0)
    for name in NAMES:
        image = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(image).save(os.fsdecode(os.path.join(images, name)), format="PNG")
    return ["images/" + os.fsdecode(name) for name in NAMES]


def test_names_not_utf8_are_listed_whole_and_open(qtbot, tmp_path):
    keys = make_folder(tmp_path / "old zip")
    win = open_window(qtbot)
    errors: list[str] = []
    win.session.error.connect(errors.append)
    assert win.open_folder(tmp_path / "old zip")
    dock = win.file_dock
    assert dock.visible_keys() == keys
    shown = [dock.row_data(key, Qt.ItemDataRole.DisplayRole) for key in keys]
    assert shown == ["images/Müller_01.png", "images/café.png", "images/plain.png"]
    for key in reversed(keys):
        assert dock.select_key(key)
        assert win.session.current_key == key and dock.current_key() == key
        assert win.session.document is not None
    assert errors == []
    win.close()


def test_the_mask_of_a_name_not_utf8_saves_under_its_bytes_and_its_row_updates(qtbot,
                                                                               tmp_path):
    root = tmp_path / "old zip"
    keys = make_folder(root)
    win = open_window(qtbot)
    assert win.open_folder(root)
    dock = win.file_dock
    assert dock.select_key(keys[0])
    repainted: list[int] = []
    dock.view.model().dataChanged.connect(lambda first, _last, *_: repainted.append(first.row()))
    win.tools.set_tool("brush")
    win.tools.set_value(255)
    win.tools.set_size(3)
    drag(qtbot, win.canvas, [(10, 20), (20, 20)])
    assert win.session.save()
    assert os.listdir(os.path.join(os.fsencode(root), b"masks")) == [NAMES[0]]
    assert dock.row_data(keys[0], STATE_ROLE) == "corrected"
    assert dock.view.model().index(0, 0).row() in repainted  # the row shows its new state
    win.close()
    again = Workspace.open(root)
    assert again[keys[0]].state is ImageState.CORRECTED
    assert again[keys[1]].state is ImageState.UNLABELED
