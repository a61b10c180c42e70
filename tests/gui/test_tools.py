"""Every tool driven with real mouse and key events on the canvas; saved PNGs checked by pixel."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.gui.conftest import HEIGHT, KEYS, WIDTH, sample_trimap, saved_mask
from tests.gui.helpers import capsule, click, disc, double_click, drag

SHAPE = (HEIGHT, WIDTH)


def save(qtbot, win) -> None:
    qtbot.keyClick(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)


def test_canvas_fits_the_image_at_a_useful_zoom(window):
    assert window.canvas.zoom() > 4  # 64x48 px in a ~700x600 canvas
    x, y = window.canvas.image_pos(window.canvas.widget_pos(12.5, 30.5))
    assert abs(x - 12.5) < 0.25 and abs(y - 30.5) < 0.25


def test_brush_stroke_paints_a_gapless_capsule(qtbot, window, workspace_dir):
    qtbot.keyClick(window, Qt.Key.Key_B)
    qtbot.keyClick(window, Qt.Key.Key_3)  # class 3 = border
    window.tools.set_size(5)
    # a fast move: only two points far apart, the stroke must still be continuous
    drag(qtbot, window.canvas, [(5.5, 40.5), (55.5, 40.5)])
    save(qtbot, window)
    expected = sample_trimap(0)
    expected[capsule(SHAPE, (5.5, 40.5), (55.5, 40.5), 5)] = 3
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)


def test_eraser_paints_background(qtbot, window, workspace_dir):
    qtbot.keyClick(window, Qt.Key.Key_E)
    window.tools.set_size(7)
    click(qtbot, window.canvas, 20.5, 20.5)
    save(qtbot, window)
    expected = sample_trimap(0)
    expected[disc(SHAPE, 20.5, 20.5, 7)] = 2
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)


def test_bracket_keys_resize_the_brush_and_its_cursor(qtbot, window):
    window.tools.set_size(20)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.tools.size == 23
    assert window.tool_dock.size_spin.value() == 23
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert window.tools.size < 23
    qtbot.mouseMove(window.canvas.viewport(), window.canvas.widget_pos(30, 20))
    rect = window.canvas._cursor_item.rect()
    assert window.canvas._cursor_item.isVisible()
    assert rect.width() == window.tools.size
    assert abs(rect.center().x() - 30) <= 0.5 and abs(rect.center().y() - 20) <= 0.5  # snapped
    window.tools.set_size(10_000)
    assert window.tools.size == 500


def test_flood_fill_stops_at_the_region_border(qtbot, window, workspace_dir):
    qtbot.keyClick(window, Qt.Key.Key_G)
    qtbot.keyClick(window, Qt.Key.Key_2)  # background into the object
    click(qtbot, window.canvas, 25.5, 20.5)
    save(qtbot, window)
    expected = sample_trimap(0)
    expected[expected == 1] = 2  # the whole 4-connected foreground, not the border ring
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)


def test_polygon_clicks_then_double_click_fill_the_inside(qtbot, window, workspace_dir):
    qtbot.keyClick(window, Qt.Key.Key_P)
    qtbot.keyClick(window, Qt.Key.Key_1)
    for x, y in [(44, 34), (60, 34), (60, 44)]:
        click(qtbot, window.canvas, x, y)
    assert len(window.tools.tool.points) == 3
    double_click(qtbot, window.canvas, 44, 44)
    save(qtbot, window)
    expected = sample_trimap(0)
    expected[34:44, 44:60] = 1  # pixel centres inside the rectangle of corners (44,34)-(60,44)
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)


def test_polygon_escape_cancels_and_return_finishes(qtbot, window, workspace_dir):
    qtbot.keyClick(window, Qt.Key.Key_P)
    qtbot.keyClick(window, Qt.Key.Key_3)
    for x, y in [(2, 2), (8, 2), (8, 8)]:
        click(qtbot, window.canvas, x, y)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.tools.tool.points == []
    for x, y in [(2, 2), (8, 2), (8, 8), (2, 8)]:
        click(qtbot, window.canvas, x, y)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    save(qtbot, window)
    expected = sample_trimap(0)
    expected[2:8, 2:8] = 3
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)


def test_lasso_drag_fills_the_enclosed_area(qtbot, window, workspace_dir):
    qtbot.keyClick(window, Qt.Key.Key_L)
    qtbot.keyClick(window, Qt.Key.Key_1)
    drag(qtbot, window.canvas, [(44, 34), (52, 34), (60, 34), (60, 44), (44, 44)])
    assert window.tools.tool.points == []
    save(qtbot, window)
    expected = sample_trimap(0)
    expected[34:44, 44:60] = 1
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)


def test_eyedropper_picks_the_class_and_returns_to_the_brush(qtbot, window, workspace_dir):
    qtbot.keyClick(window, Qt.Key.Key_B)
    qtbot.keyClick(window, Qt.Key.Key_2)
    qtbot.keyClick(window, Qt.Key.Key_I)
    assert window.tools.tool_name == "eyedropper"
    click(qtbot, window.canvas, 9.5, 20.5)  # on the border ring
    assert window.tools.value == 3
    assert window.tool_dock.class_list.currentItem().text().endswith("(3)")
    assert window.tools.tool_name == "brush"
    assert not window.session.document.dirty  # picking changes nothing


def test_number_keys_and_class_list_select_the_class(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert window.tools.value == 2
    window.tool_dock.class_list.setCurrentRow(0)
    assert window.tools.value == 1
    qtbot.keyClick(window, Qt.Key.Key_9)  # no ninth class: nothing changes
    assert window.tools.value == 1


def test_trimap_band_fill_holes_and_remove_islands(qtbot, window, workspace_dir):
    canvas = window.canvas
    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_2)
    click(qtbot, canvas, 25.5, 20.5)  # a one-pixel hole in the object
    qtbot.keyClick(window, Qt.Key.Key_1)
    click(qtbot, canvas, 55.5, 5.5)  # a one-pixel island in the background
    window.tools.set_value(1)
    window.tool_dock.holes_button.click()
    window.tool_dock.island_spin.setValue(5)
    window.tool_dock.islands_button.click()
    window.tool_dock.band_spin.setValue(2)
    window.tool_dock.band_button.click()
    assert window.actions.undo.text() == "Undo Trimap band"
    save(qtbot, window)
    from unet_desktop.core.labels import binary_to_trimap

    fg = np.zeros(SHAPE, bool)
    fg[9:31, 9:41] = True  # the old border counts as object when rebuilding the band
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), binary_to_trimap(fg, 2))


def test_middle_drag_pans_instead_of_painting(qtbot, window):
    canvas = window.canvas
    before = canvas.view_box.viewRange()
    viewport = canvas.viewport()
    start, end = canvas.widget_pos(30, 20), canvas.widget_pos(40, 25)
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(viewport, pos=start + (end - start) * i / 5)
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=end)
    after = canvas.view_box.viewRange()
    assert after[0][0] < before[0][0] - 5  # moved left by about 10 image px
    assert not window.session.document.dirty


def test_pointer_shows_position_and_label_in_the_status_bar(qtbot, window):
    qtbot.mouseMove(window.canvas.viewport(), window.canvas.widget_pos(12.5, 15.5))
    status = window.pointer_status
    assert status.position_label.text() == "x 12  y 15"
    assert status.value_label.text() == "1 foreground"
    assert status.zoom_label.text().endswith("%")


def test_make_trimap_band_leaves_a_sparse_trimap_alone_and_says_why(qtbot, tmp_path):
    """Strokes of a sparse trimap task: the band would label every unpainted pixel background
    and turn a thin foreground stroke into border; it changes nothing and says so."""
    from PIL import Image

    from tests.gui.conftest import open_window
    from unet_desktop.core.folder.task import Task, save_task
    from unet_desktop.core.labels import trimap_scheme

    root = tmp_path / "pets"
    root.mkdir()
    Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(root / "p.png")
    save_task(root, Task("pets", trimap_scheme(ignore_value=0)))
    win = open_window(qtbot)
    said = []
    win.statusBar().messageChanged.connect(said.append)
    assert win.open_folder(root)
    win.tools.set_size(3)
    qtbot.keyClick(win, Qt.Key.Key_1)
    drag(qtbot, win.canvas, [(20.5, 20.5), (40.5, 20.5)])
    before = win.session.document.mask.copy()
    win.tool_dock.band_button.click()
    np.testing.assert_array_equal(win.session.document.mask, before)
    assert any("nobody painted" in m for m in said)
    win.close()
