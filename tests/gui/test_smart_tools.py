"""The smart tools in the real window: keys pick them, mouse events on the canvas drive them,
Ctrl+Z undoes each in one step, saved masks are checked by pixel."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    tiny_model,
    tiny_pets,
)
from tests.gui.helpers import click, double_click, drag

CTRL = Qt.KeyboardModifier.ControlModifier
SHAPE = (72, 96)
CENTRE, RADIUS = (48.0, 36.0), 22.0


def disc_image() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    image = rng.normal((60, 70, 90), 10, (*SHAPE, 3)).clip(0, 255).astype(np.uint8)
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    disc = (xx + 0.5 - CENTRE[0]) ** 2 + (yy + 0.5 - CENTRE[1]) ** 2 <= RADIUS**2
    image[disc] = (220, 140, 40)
    return image, disc


@pytest.fixture
def win(qtbot, tmp_path):
    """The window on one image of an orange disc, its trimap all background."""
    root = tmp_path / "disc"
    (root / "images").mkdir(parents=True)
    (root / "annotations" / "trimaps").mkdir(parents=True)
    image, _ = disc_image()
    Image.fromarray(image).save(root / "images" / "disc.png")
    Image.fromarray(np.full(SHAPE, 2, np.uint8)).save(root / "annotations" / "trimaps" / "disc.png")
    w = open_window(qtbot)
    assert w.open_folder(root)
    w.root = root
    yield w
    w.close()


def saved(qtbot, win) -> np.ndarray:
    qtbot.keyClick(win, Qt.Key.Key_S, CTRL)
    return np.array(Image.open(win.root / "annotations" / "trimaps" / "disc.png"))


def iou(a, b) -> float:
    return float((a & b).sum() / (a | b).sum())


def undo_restores_background(qtbot, win) -> None:
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    assert (win.session.document.mask == 2).all()


def test_box_key_drag_and_refining_stroke(qtbot, win):
    _, disc = disc_image()
    qtbot.keyClick(win, Qt.Key.Key_R)
    qtbot.keyClick(win, Qt.Key.Key_1)
    assert win.tools.tool_name == "box" and win.actions.tools["box"].isChecked()
    viewport = win.canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=win.canvas.widget_pos(22.5, 10.5))
    qtbot.mouseMove(viewport, pos=win.canvas.widget_pos(60.5, 50.5))
    rect = win.canvas.box_preview_rect()
    assert rect is not None and rect.left() == 22 and rect.bottom() == 51  # the dashed box
    qtbot.mouseMove(viewport, pos=win.canvas.widget_pos(74, 62))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=win.canvas.widget_pos(74, 62))
    assert win.canvas.box_preview_rect() is None
    assert iou(saved(qtbot, win) == 1, disc) > 0.95
    win.tools.set_size(6)
    drag(qtbot, win.canvas, [(48.5, 20.5), (48.5, 50.5)])  # on the object: cuts it
    mask = saved(qtbot, win)
    assert (mask[22:50, 47:50] == 2).all() and (mask == 1).sum() > 0.8 * disc.sum()
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    assert iou(win.session.document.mask == 1, disc) > 0.95
    undo_restores_background(qtbot, win)


def test_wand_click_and_tolerance_slider_preview(qtbot, win):
    _, disc = disc_image()
    qtbot.keyClick(win, Qt.Key.Key_W)
    qtbot.keyClick(win, Qt.Key.Key_1)
    win.tool_dock.tolerance_slider.setValue(20)
    assert win.tools.tolerance == 20
    click(qtbot, win.canvas, 48.5, 36.5)
    assert iou(win.session.document.mask == 1, disc) > 0.97
    win.tool_dock.tolerance_slider.setValue(200)  # live: the same click, a wider region
    assert (win.session.document.mask == 1).sum() > 2 * disc.sum()
    win.tool_dock.tolerance_slider.setValue(20)
    assert iou(saved(qtbot, win) == 1, disc) > 0.97
    assert win.tool_dock.tolerance_label.text() == "20"
    undo_restores_background(qtbot, win)  # one step for the click and every slider move


def test_wand_sideways_drag_moves_the_slider(qtbot, win):
    qtbot.keyClick(win, Qt.Key.Key_W)
    win.tool_dock.tolerance_slider.setValue(10)
    zoom = win.canvas.zoom()  # screen px per image px
    drag(qtbot, win.canvas, [(48.5, 36.5), (48.5 + 40 / zoom, 36.5)])  # 40 screen px: +20
    assert abs(win.tools.tolerance - 30) <= 1
    assert win.tool_dock.tolerance_slider.value() == win.tools.tolerance


def test_scissors_clicks_snap_and_enter_closes(qtbot, win):
    _, disc = disc_image()
    qtbot.keyClick(win, Qt.Key.Key_S)
    qtbot.keyClick(win, Qt.Key.Key_1)
    for x, y in ((48.0, 14.5), (70.0, 36.0), (48.0, 58.0), (26.0, 36.0)):
        click(qtbot, win.canvas, x, y)
    assert len(win.tools.tool.points) > 20  # snapped paths, not 4 straight sides
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert iou(saved(qtbot, win) == 1, disc) > 0.9
    undo_restores_background(qtbot, win)


def test_scissors_double_click_closes(qtbot, win):
    _, disc = disc_image()
    qtbot.keyClick(win, Qt.Key.Key_S)
    qtbot.keyClick(win, Qt.Key.Key_1)
    for x, y in ((48.0, 14.5), (70.0, 36.0), (48.0, 58.0)):
        click(qtbot, win.canvas, x, y)
    double_click(qtbot, win.canvas, 26.0, 36.0)
    assert iou(win.session.document.mask == 1, disc) > 0.9


def test_fix_region_click_on_the_prediction_shown(qtbot, tiny_pets, tiny_model):
    win = open_window(qtbot, model_path=tiny_model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(win.prediction.prediction_shown, timeout=TIMEOUT_MS):
        assert win.open_folder(tiny_pets)  # img_00 has a trimap: shown, not accepted
    labels = win.prediction.shown.prediction.labels
    before = win.session.document.mask.copy()
    qtbot.keyClick(win, Qt.Key.Key_X)
    qtbot.keyClick(win, Qt.Key.Key_3)  # border class
    y, x = 5, 5
    grouped = np.where(labels == 3, 1, labels)  # a pet and its border are one region
    _, components = cv2.connectedComponents((grouped == grouped[y, x]).astype(np.uint8),
                                            connectivity=8)
    region = components == components[y, x]
    assert before[y, x] == 2  # so the region is not all border already: it takes class 3
    click(qtbot, win.canvas, x + 0.5, y + 0.5)
    expected = before.copy()
    expected[region] = 3
    np.testing.assert_array_equal(win.session.document.mask, expected)
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(win.session.document.mask, before)
    assert Path(tiny_pets).is_dir() and image_key(0) == win.session.current_key
    win.close()


def test_on_a_large_image_the_wand_works_in_the_visible_part(qtbot, win, monkeypatch):
    from PySide6.QtCore import QRectF

    from unet_desktop.gui.editing import tool_controller

    monkeypatch.setattr(tool_controller, "LARGE_IMAGE_PIXELS", 1000)  # this image is "large"
    qtbot.keyClick(win, Qt.Key.Key_W)
    win.tool_dock.tolerance_slider.setValue(30)
    win.canvas.view_box.setRange(QRectF(4, 4, 16, 12), padding=0)  # zoomed into the noise
    qtbot.wait(50)
    click(qtbot, win.canvas, 8.5, 8.5)
    (vx0, vx1), (vy0, vy1) = win.canvas.view_box.viewRange()
    painted = np.argwhere(win.session.document.mask != 2)
    assert len(painted) > 0
    margin_x, margin_y = (vx1 - vx0) / 4 + 1, (vy1 - vy0) / 4 + 1
    assert painted[:, 1].max() < vx1 + margin_x and painted[:, 0].max() < vy1 + margin_y
    assert win.tools.tool.limit is not None  # the region of interest was used
