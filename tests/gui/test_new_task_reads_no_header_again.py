"""File > New Task (and the task Learn as I Correct makes) in a folder of many TIFFs: the channel
counts come from the headers the folder's scan read, so the UI thread opens none of those files
again (it opened every one: seconds of a frozen window on a folder of thousands). The proposal
and the figures it names are those of before."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.gui.conftest import open_window
from unet_desktop.core.folder.task_proposal import SAMPLE_IMAGES

TWO_CHANNELS, GRAY, PNGS = 16, 8, 2


@pytest.fixture
def tiff_opens(monkeypatch):
    """How many TIFF files were opened (header or pixels) since the list was cleared."""
    opened: list[str] = []
    init = tifffile.TiffFile.__init__

    def counting_init(self, arg, *args, **kwargs):
        opened.append(str(arg))
        init(self, arg, *args, **kwargs)

    monkeypatch.setattr(tifffile.TiffFile, "__init__", counting_init)
    return opened


def _folder(root, two_channels: int = TWO_CHANNELS):
    rng = np.random.default_rng(0)
    for i in range(two_channels):
        tifffile.imwrite(root / f"two{i:02d}.tif",
                         rng.integers(0, 4000, (24, 32, 2), dtype=np.uint16),
                         photometric="minisblack", planarconfig="contig")
    for i in range(GRAY):
        tifffile.imwrite(root / f"gray{i:02d}.tif", rng.integers(0, 255, (24, 32), np.uint8))
    for i in range(PNGS):
        Image.fromarray(rng.integers(0, 255, (24, 32), np.uint8)).save(root / f"p{i}.png")
    return root


def test_new_task_reads_only_the_sampled_images(qtbot, tmp_path, tiff_opens):
    root = _folder(tmp_path)
    win = open_window(qtbot)
    assert win.open_folder(root)
    tiff_opens.clear()
    dialog = win.task_commands.new_task()
    assert len(set(tiff_opens)) <= SAMPLE_IMAGES  # the scale and colours' samples only
    files = TWO_CHANNELS + GRAY + PNGS
    note = " ".join(label.text() for label in dialog.findChildren(type(dialog.problem_label)))
    assert f"{TWO_CHANNELS} of the folder's {files} image file(s) have 2 channels" in note
    assert dialog.channels_edit.text() == "1"
    dialog.name_edit.setText("nuclei")
    dialog.channels_edit.setText("")  # gray or RGB as stored: the 2-channel files left out
    assert dialog.fit_label.text().startswith(f"{TWO_CHANNELS} of the folder's {files} image "
                                              "file(s) will be skipped with these channels")
    dialog.reject()
    win.close()


def test_a_task_made_for_learning_reads_no_header_again(qtbot, tmp_path, tiff_opens):
    root = _folder(tmp_path, two_channels=0)  # gray images: the task lists every one
    win = open_window(qtbot)
    assert win.open_folder(root)
    tiff_opens.clear()
    task = win.task_commands.ensure_task()
    assert task is not None and task.input_rule == {}
    assert tiff_opens == []
    assert len(win.session.workspace) == GRAY + PNGS
    win.close()
