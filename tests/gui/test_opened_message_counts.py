"""The status bar's "Opened ..." counts in words that agree with their numbers."""

from pathlib import Path
from types import SimpleNamespace

from unet_desktop.gui.editing.folder_opened import opened_message


def _ws(entries, skipped=()):
    class Ws(list):
        pass
    ws = Ws(entries)
    ws.root, ws.layout, ws.task, ws.warnings = Path("/data/cells"), "flat", object(), []
    ws.scheme = SimpleNamespace(kind="binary")
    ws.entries, ws.skipped = entries, list(skipped)
    return ws


def _slice(path):
    return SimpleNamespace(image_path=Path(path), is_slice=True, has_mask=False)


def test_one_stack_and_one_skipped_file_are_counted_in_the_singular():
    ws = _ws([_slice("/data/cells/s.tif")] * 3, [(Path("/data/cells/g.tif"), "1 channel")])
    said = opened_message(ws, [])
    assert "3 images (1 file, 1 stack)" in said
    assert "1 file skipped (g.tif: 1 channel)" in said
