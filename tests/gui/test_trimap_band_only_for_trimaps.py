"""Mask > Make Trimap Band is enabled only where it does something, as the Tools dock's button:
in a binary folder it was enabled, and choosing it changed nothing and said nothing."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.gui.conftest import open_window


def binary_folder(root):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(2):
        image = np.random.default_rng(i).integers(0, 255, (48, 64), np.uint8)
        Image.fromarray(image).save(root / "images" / f"s{i}.png")
        mask = np.zeros((48, 64), np.uint8)
        mask[10:30, 10:40] = 255
        Image.fromarray(mask).save(root / "masks" / f"s{i}.png")
    return root


def test_the_band_entry_follows_the_folder_kind(qtbot, tmp_path, workspace_dir):
    win = open_window(qtbot)
    try:
        band = win.actions.trimap_band
        assert not band.isEnabled()  # no image
        assert win.open_folder(binary_folder(tmp_path / "em"))
        qtbot.waitUntil(lambda: win.session.document is not None)
        assert win.session.workspace.scheme.kind == "binary"
        assert not band.isEnabled() and not win.tool_dock.band_button.isEnabled()
        assert "trimap folders only" in band.statusTip()
        assert win.open_folder(workspace_dir)  # trimaps
        qtbot.waitUntil(lambda: win.session.document is not None
                        and win.session.document.scheme.kind == "trimap")
        assert band.isEnabled() and win.tool_dock.band_button.isEnabled()
    finally:
        win.close()
