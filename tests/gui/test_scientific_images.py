"""Stacks, 12-bit data and channels in the window: slices in the list, contrast limits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from unet_desktop.core.folder.view_settings import view_path
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.display import Limits, auto_limits, render


def _twelve_bit(size: int = 48) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return ((yy * 37 + xx * 11) % 3000 + 500).astype(np.uint16)  # 500..3499 of 0..4095


def test_a_stack_lists_its_slices_and_each_keeps_its_own_mask(qtbot, tmp_path):
    volume = np.random.default_rng(0).integers(0, 255, (4, 40, 48), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "volume.tif", volume, photometric="minisblack")
    win = open_window(qtbot)
    assert win.open_folder(tmp_path)
    shown = [win.file_dock.row_data(e.key, Qt.ItemDataRole.DisplayRole)
             for e in win.session.workspace]
    assert shown == [f"volume.tif [{i}/4]" for i in range(1, 5)]
    win.session.open_image("volume.tif [3 of 4]")
    np.testing.assert_array_equal(win.session.document.image, volume[2])
    mine = np.zeros((40, 48), np.uint8)
    mine[:10] = 255
    win.session.document.replace_mask(mine, "test")  # one undoable edit
    assert win.session.save("test")
    win.session.open_image("volume.tif [2 of 4]")
    np.testing.assert_array_equal(win.session.document.image, volume[1])
    win.close()
    ws = Workspace.open(tmp_path)
    assert [e.state for e in ws] == [ImageState.UNLABELED, ImageState.UNLABELED,
                                     ImageState.CORRECTED, ImageState.UNLABELED]
    assert (ws.load_mask("volume.tif [3 of 4]")[:10] == 255).all()


def test_12_bit_images_show_by_their_range_and_limits_are_remembered_per_folder(qtbot,
                                                                              tmp_path):
    data = _twelve_bit()
    tifffile.imwrite(tmp_path / "cells.tif", data)
    win = open_window(qtbot)
    assert win.open_folder(tmp_path)
    auto = auto_limits(data)
    np.testing.assert_array_equal(win.session.document.image, render(data, auto))
    assert win.session.document.image.max() == 255  # not the near-black 0..14 of /65535
    dock = win.contrast_dock
    assert dock.limits() == pytest.approx((auto.low, auto.high))  # not rounded to 2 decimals
    assert "automatic" in dock.info_label.text() and "uint16" in dock.info_label.text()

    dock.low_spin.setValue(1000.0)
    dock.high_spin.setValue(2000.0)  # set by hand: the view follows and the folder keeps it
    np.testing.assert_array_equal(win.session.document.image,
                                  render(data, Limits(1000.0, 2000.0)))
    saved = json.loads(view_path(tmp_path).read_text())
    assert saved["contrast_limits"] == [1000.0, 2000.0]
    win.close()

    again = open_window(qtbot)
    assert again.open_folder(tmp_path)
    assert again.contrast_dock.limits() == (1000.0, 2000.0)
    np.testing.assert_array_equal(again.session.document.image,
                                  render(data, Limits(1000.0, 2000.0)))
    again.contrast_dock.auto_button.click()
    np.testing.assert_array_equal(again.session.document.image, render(data, auto))
    assert Workspace.open(tmp_path).view.limits is None
    again.close()


def test_a_two_channel_image_shows_as_a_composite(qtbot, tmp_path):
    two = np.zeros((32, 32, 2), np.uint16)
    two[:16, :, 0] = 4000  # channel 1 (green) on top, channel 2 (magenta) at the bottom
    two[16:, :, 1] = 4000
    tifffile.imwrite(tmp_path / "two.tif", two, photometric="minisblack",
                     planarconfig="contig")
    win = open_window(qtbot)
    assert win.open_folder(tmp_path)
    image = win.session.document.image
    assert image.shape == (32, 32, 3)
    assert tuple(image[4, 4]) == (0, 255, 0) and tuple(image[28, 4]) == (255, 0, 255)
    assert "composite" in win.contrast_dock.info_label.text()
    win.close()


def test_a_slice_starts_from_the_previous_slice_mask_as_one_undo_step(qtbot, tmp_path):
    volume = np.random.default_rng(1).integers(0, 255, (3, 24, 30), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "volume.tif", volume, photometric="minisblack")
    first = np.zeros((24, 30), np.uint8)
    first[5:15, 3:20] = 255
    ws = Workspace.open(tmp_path)
    ws.save_mask("volume.tif [1 of 3]", first, ImageState.CORRECTED)
    win = open_window(qtbot)
    assert win.open_folder(tmp_path)
    commands = win.slice_commands
    assert not commands.from_previous.isEnabled()  # the first slice has none before it
    win.session.open_image("volume.tif [2 of 3]")
    assert commands.from_previous.isEnabled()
    before = win.session.document.mask.copy()
    commands.from_previous.trigger()
    np.testing.assert_array_equal(win.session.document.mask, first)
    win.session.undo()
    np.testing.assert_array_equal(win.session.document.mask, before)
    win.session.open_image("volume.tif [3 of 3]")  # slice 2 has no saved mask
    assert not commands.start_from_previous()
    win.close()


def test_a_new_task_chooses_percentile_input_and_its_channels(qtbot, tmp_path):
    from unet_desktop.core.labels import binary_scheme
    from unet_desktop.gui.task.task_dialog import TaskDialog

    dialog = TaskDialog(binary_scheme(), name="nuclei")
    qtbot.addWidget(dialog)
    assert dialog.task().input_rule == {"kind": "data-range"}  # the default of new models
    dialog.input_combo.setCurrentIndex(dialog.input_combo.findData("percentile"))
    dialog.channels_edit.setText("2")
    assert dialog.task().input_rule == {"kind": "percentile", "low": 1.0, "high": 99.0,
                                        "channels": [1]}
    dialog.channels_edit.setText("1,2")  # two channels fit neither a gray nor an RGB input
    assert "one or three" in dialog.problem_label.text()
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_the_contrast_dock_shows_itself_for_12_bit_data_not_for_8_bit(qtbot, tmp_path):
    (tmp_path / "eight").mkdir()
    (tmp_path / "deep").mkdir()
    tifffile.imwrite(tmp_path / "eight/a.tif", np.zeros((16, 16), np.uint8))
    tifffile.imwrite(tmp_path / "deep/a.tif", _twelve_bit(16))
    win = open_window(qtbot)
    assert win.open_folder(tmp_path / "eight")
    assert not win.contrast_dock.isVisible()
    assert win.open_folder(tmp_path / "deep")
    assert win.contrast_dock.isVisible()
    win.close()


def test_a_model_without_the_tasks_channels_says_which_image_and_strokes_still_predict(
        qtbot, tmp_path, caplog):
    """A 2-channel image in a sparse task that feeds new models channel 2, under a model
    without a channel choice: the window says which image and what would predict it (it said
    "<image>: ... choose the task's channels", which the task had), the worker logs no
    traceback, and strokes still give a live prediction of the disc in channel 2, read from
    that channel alone (the noise of channel 1, which the task leaves out, does not sway it)."""
    from tests.gui.helpers import drag
    from tests.gui.test_sparse_correction import SCHEME, UNLABELED, binary_model
    from unet_desktop.core.folder.task import Task, save_task

    root = tmp_path / "cells"
    root.mkdir()
    yy, xx = np.mgrid[:40, :48]
    disc = (yy - 20) ** 2 + (xx - 24) ** 2 < 10 ** 2
    rng = np.random.default_rng(1)
    nuclei = rng.integers(0, 3000, (40, 48))  # channel 1: noise the task does not use
    cells = rng.normal(600, 100, (40, 48)) + disc * 2000
    tifffile.imwrite(root / "two.tif", np.stack([nuclei, cells]).clip(0, 4095).astype(np.uint16),
                     photometric="minisblack", metadata={"axes": "CYX"})
    save_task(root, Task("cells", SCHEME, input_rule={"kind": "data-range", "channels": [1]}))
    model = binary_model(tmp_path / "cells-v0.safetensors", SCHEME)
    win = open_window(qtbot, model_path=model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=30_000)
    with qtbot.waitSignal(win.predictions.failed, timeout=30_000) as failed:
        assert win.open_folder(root)
    key, message = failed.args
    assert key == "two.tif" and message.startswith("two.tif: the image has 2 channels")
    assert "a model trained on the channels the task chooses" in message
    assert not [r for r in caplog.records if r.exc_info]  # an expected error: no traceback
    win.tools.set_tool("brush")
    win.tools.set_size(3)
    win.tools.set_value(255)
    drag(qtbot, win.canvas, [(20, 20), (28, 20)])
    win.tools.set_value(0)
    with qtbot.waitSignal(win.live_prediction.shown, timeout=30_000):
        drag(qtbot, win.canvas, [(3, 3), (44, 3), (44, 36), (3, 36)])
    assert ((win.canvas.prediction_layer.mask == 255) == disc).mean() > 0.9
    assert (win.session.document.mask == UNLABELED).mean() > 0.6
    stored = win.session.document.stored  # the classifier read channel 2 alone, as the
    np.testing.assert_array_equal(win.live_prediction._image, render(stored[..., 1]))  # task
    win.close()


def test_a_composite_shows_a_dim_channel_by_its_own_limits(qtbot, tmp_path):
    """A 0-300 stain beside a 0-4000 one: with limits from both channels together the dim one
    was drawn at about 20 of 255; each channel now gets its own automatic limits, and the
    dock says so."""
    rng = np.random.default_rng(0)
    two = np.zeros((32, 32, 2), np.uint16)
    two[..., 0] = rng.integers(0, 4000, (32, 32))  # bright stain everywhere
    two[8:24, 8:24, 1] = 300  # a dim square in channel 2 (magenta)
    tifffile.imwrite(tmp_path / "two.tif", two, photometric="minisblack",
                     planarconfig="contig")
    win = open_window(qtbot)
    assert win.open_folder(tmp_path)
    magenta = win.session.document.image[..., 2]  # blue: channel 2's tint alone
    assert magenta[8:24, 8:24].min() > 200 and magenta[:8].max() == 0
    text = win.contrast_dock.info_label.text()
    assert "automatic per channel" in text and "2: 0..300" in text
    win.close()
