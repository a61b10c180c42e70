"""Issue 30, item 3 in the window: in a sparse task the prediction from the strokes stays a layer
of its own; the "Accept prediction here" tool (K) makes it the labels in the clicked region only,
as one undo step, and the saved mask keeps every other unpainted pixel unlabeled."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.helpers import click, drag
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import binary_scheme

UNLABELED = 128
SCHEME = binary_scheme(("outside", "cell"), ignore_value=UNLABELED)
SHAPE = (48, 96)


def two_cells(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """A folder with one image of two bright discs on a dark ground and a sparse task."""
    root.mkdir()
    yy, xx = np.mgrid[:SHAPE[0], :SHAPE[1]]
    left = (yy - 24) ** 2 + (xx - 24) ** 2 < 11 ** 2
    right = (yy - 24) ** 2 + (xx - 72) ** 2 < 11 ** 2
    rng = np.random.default_rng(2)
    image = (rng.normal(60, 10, (*SHAPE, 3)) + (left | right)[..., None] * 120).clip(0, 255)
    Image.fromarray(image.astype(np.uint8)).save(root / "em.png")
    save_task(root, Task("cells", SCHEME))
    return left, right


def test_region_accept_labels_only_the_clicked_region(qtbot, tmp_path):
    left, right = two_cells(tmp_path / "em")
    win = open_window(qtbot)
    assert win.open_folder(tmp_path / "em")
    win.tools.set_tool("brush")
    win.tools.set_size(3)
    win.tools.set_value(255)
    drag(qtbot, win.canvas, [(20, 24), (28, 24)])  # a stroke in the left cell
    win.tools.set_value(0)
    with qtbot.waitSignal(win.live_prediction.shown, timeout=30_000):  # strokes: a prediction
        drag(qtbot, win.canvas, [(3, 3), (92, 3), (92, 44), (3, 44)])
    predicted = win.canvas.prediction_layer.mask == 255
    assert (predicted == (left | right)).mean() > 0.95  # it found both cells
    document = win.session.document
    strokes = document.mask.copy()
    steps = len(document.history)

    qtbot.keyClick(win.canvas.viewport(), Qt.Key.Key_K)
    assert win.tools.tool_name == "accept" and win.actions.tools["accept"].isChecked()
    click(qtbot, win.canvas, 72, 24)  # the right cell, which nobody painted
    mask = document.mask
    accepted = (mask != strokes)
    # exactly the predicted region under the click becomes labels (the forest's disc: its
    # edge moves by a pixel or two as the strokes fall on the screen's pixels), nothing else
    _, regions = cv2.connectedComponents(predicted.astype(np.uint8), connectivity=4)
    region = regions == regions[24, 72]
    assert (region & right).sum() > 0.8 * right.sum() and not region[:, :48].any()
    np.testing.assert_array_equal(accepted, region & (strokes == UNLABELED))
    assert (mask[region] == 255).all()
    assert (mask[left] == UNLABELED).mean() > 0.5  # the left cell: still just its stroke
    assert len(document.history) == steps + 1  # one undo step
    assert win.session.save()
    saved = read_mask(tmp_path / "em" / "masks" / "em.png", SCHEME)
    assert (saved == mask).all() and (saved == UNLABELED).mean() > 0.5
    win.actions.undo.trigger()
    assert (document.mask == strokes).all()
    win.close()
