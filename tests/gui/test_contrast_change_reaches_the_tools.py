"""New contrast limits redraw the image the tools see: the magic wand, the scissors and the
prediction from the strokes work on the image as it is shown now, not as it was shown at their
first use on it."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.helpers import drag
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import binary_scheme
from unet_desktop.core.smart.magic_wand import MagicWand

UNLABELED = 128


def _halves_window(qtbot, tmp_path, scheme):
    """An image of two flat halves, 100 and 104: one region at 0-255, two at limits 98-106."""
    root = tmp_path / "halves"
    root.mkdir()
    image = np.full((60, 80), 100, np.uint8)
    image[:, 40:] = 104
    Image.fromarray(image).save(root / "a.png")
    save_task(root, Task("halves", scheme))
    win = open_window(qtbot)
    assert win.open_folder(root)
    return win


def _narrow_the_limits(win) -> None:
    win.contrast_dock.limits_changed.emit(98.0, 106.0)
    assert set(np.unique(win.session.document.image)) == {63, 191}


def test_the_wand_selects_by_the_contrast_shown(qtbot, tmp_path):
    win = _halves_window(qtbot, tmp_path, binary_scheme())
    doc = win.session.document
    win.tools.set_tool("wand")

    def wand_click() -> int:
        win.canvas.tool_pressed.emit(36.5, 30.5)
        win.canvas.tool_released.emit(36.5, 30.5)
        painted = int((doc.mask == 255).sum())
        win.session.undo()
        return painted

    assert wand_click() > 60 * 45  # both halves at 0-255
    _narrow_the_limits(win)
    _, inside = MagicWand(doc.image).region(36.5, 30.5, win.tools.tolerance)
    assert wand_click() == int(inside.sum()) <= 60 * 40
    win.close()


def test_an_open_scissors_outline_survives_a_contrast_change(qtbot, tmp_path):
    win = _halves_window(qtbot, tmp_path, binary_scheme())
    win.tools.set_tool("scissors")
    scissors = win.tools.tool
    for x, y in ((10.5, 10.5), (30.5, 10.5)):
        win.canvas.tool_pressed.emit(x, y)
        win.canvas.tool_released.emit(x, y)
    _narrow_the_limits(win)
    win.canvas.tool_pressed.emit(30.5, 40.5)
    win.canvas.tool_released.emit(30.5, 40.5)
    assert scissors.path.anchors == [(10.5, 10.5), (30.5, 10.5), (30.5, 40.5)]
    assert scissors.path.image is win.session.document.image
    win.close()


def test_the_prediction_from_strokes_reads_the_contrast_shown(qtbot, tmp_path):
    from unet_desktop.ml.strokes.pixel_classifier import filter_features

    win = _halves_window(qtbot, tmp_path, binary_scheme(("outside", "cell"), ignore_value=UNLABELED))
    doc, live = win.session.document, win.live_prediction
    win.tools.set_size(3)
    win.tools.set_value(255)
    drag(qtbot, win.canvas, [(50.5, 20.5), (70.5, 20.5)])
    win.tools.set_value(0)
    with qtbot.waitSignal(live.shown, timeout=30_000):
        drag(qtbot, win.canvas, [(10.5, 20.5), (30.5, 20.5)])
    _narrow_the_limits(win)
    with qtbot.waitSignal(live.shown, timeout=30_000):
        drag(qtbot, win.canvas, [(10.5, 40.5), (30.5, 40.5)])
    np.testing.assert_allclose(live._predictor.features, filter_features(doc.image))
    win.close()
