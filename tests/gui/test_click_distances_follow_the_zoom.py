"""How near is near enough is judged on screen, at every zoom: a polygon's first vertex closes it
only when clicked on screen, and a click with a pixel of jitter stays a click (and a short drag a
drag) for Accept prediction here and Fix region, zoomed far out or far in."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from tests.gui.conftest import open_window
from tests.gui.helpers import click
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import LabelScheme, binary_scheme, multiclass_scheme

HEIGHT, WIDTH = 300, 400
LEFT = Qt.MouseButton.LeftButton


def _window(qtbot, tmp_path, scheme: LabelScheme):
    root = tmp_path / "f"
    root.mkdir()
    Image.fromarray(np.full((HEIGHT, WIDTH), 100, np.uint8)).save(root / "a.png")
    save_task(root, Task("t", scheme))
    win = open_window(qtbot)
    assert win.open_folder(root)
    return win


def _zoom_to(win, zoom: float) -> None:
    win.canvas.zoom_by(zoom / win.canvas.zoom())
    assert abs(win.canvas.zoom() / zoom - 1) < 0.2


def _press_release(qtbot, win, x: float, y: float, screen_dx: int) -> None:
    """Press at image point (x, y); release ``screen_dx`` screen pixels to the right."""
    viewport, pos = win.canvas.viewport(), win.canvas.widget_pos(x, y)
    qtbot.mousePress(viewport, LEFT, pos=pos)
    qtbot.mouseMove(viewport, pos=pos + QPoint(screen_dx, 0))
    qtbot.mouseRelease(viewport, LEFT, pos=pos + QPoint(screen_dx, 0))


def _disc(radius: float) -> np.ndarray:
    rows, cols = np.mgrid[:HEIGHT, :WIDTH]
    return (cols - WIDTH / 2) ** 2 + (rows - HEIGHT / 2) ** 2 < radius ** 2


def test_a_polygon_zoomed_in_closes_only_at_its_first_vertex_on_screen(qtbot, tmp_path):
    win = _window(qtbot, tmp_path, binary_scheme())
    _zoom_to(win, 20.0)
    win.tools.set_tool("polygon")
    cx, cy = WIDTH / 2, HEIGHT / 2
    for x, y in ((cx, cy), (cx + 10, cy), (cx + 10, cy + 8), (cx + 3, cy + 1)):
        click(qtbot, win.canvas, x, y)  # the 4th is 3.2 image px = 64 screen px from the 1st
    assert len(win.tools.tool.points) == 4
    assert not win.session.document.dirty
    click(qtbot, win.canvas, cx + 0.1, cy + 0.1)  # 2 screen px from the first: closes
    assert win.tools.tool.points == [] and win.session.document.dirty
    win.close()


def test_accept_here_tells_a_click_from_a_drag_on_screen(qtbot, tmp_path):
    win = _window(qtbot, tmp_path, binary_scheme(ignore_value=128))
    disc = _disc(100)
    labels = np.where(disc, 255, 0).astype(np.uint8)
    win.tools.set_prediction_source(lambda: (labels, None))
    win.tools.set_tool("accept")
    doc = win.session.document
    _zoom_to(win, 0.25)  # 1 screen px = 4 image px
    _press_release(qtbot, win, WIDTH / 2, HEIGHT / 2, 1)
    assert (doc.mask == 255).sum() == disc.sum()  # a click: the whole region
    win.session.undo()
    _zoom_to(win, 20.0)
    _press_release(qtbot, win, WIDTH / 2, HEIGHT / 2, 30)  # 1.5 image px: a drag
    assert 0 < (doc.mask == 255).sum() < 2 * win.tools.size ** 2  # under the brush only
    win.close()


def test_fix_region_tells_a_click_from_a_drag_on_screen(qtbot, tmp_path):
    win = _window(qtbot, tmp_path, multiclass_scheme(4))
    doc = win.session.document
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[100:110, 190:200] = 1  # a speck of class 1...
    mask[100:110, 200:260] = 2  # ...beside a region of class 2
    doc.replace_mask(mask)
    win.tools.set_tool("fix")
    win.tools.set_value(3)
    _zoom_to(win, 0.25)  # 1 screen px = 4 image px: the release lands over class 2
    _press_release(qtbot, win, 198.5, 105.5, 1)
    assert (doc.mask[100:110, 190:200] == 3).all()  # a click: the chosen class
    win.session.undo()
    _zoom_to(win, 20.0)
    _press_release(qtbot, win, 198.5, 105.5, 30)  # 1.5 image px, over class 2: a drag
    assert (doc.mask[100:110, 190:200] == 2).all()  # the class under the release
    win.close()
