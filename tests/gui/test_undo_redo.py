"""Undo/redo: one stroke per step, labels in the Edit menu, history kept per image."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from tests.gui.conftest import KEYS, sample_trimap, saved_mask
from tests.gui.helpers import LEFT, capsule, click, drag

CTRL = Qt.KeyboardModifier.ControlModifier


def press_sequence(qtbot, widget, sequence: QKeySequence) -> None:
    combo = sequence[0]
    qtbot.keyClick(widget, combo.key(), combo.keyboardModifiers())


def test_one_stroke_is_one_step_with_a_named_menu_entry(qtbot, window):
    doc = window.session.document
    assert not window.actions.undo.isEnabled()
    window.tools.set_size(3)
    qtbot.keyClick(window, Qt.Key.Key_3)
    drag(qtbot, window.canvas, [(2.5, 2.5), (10.5, 2.5), (20.5, 4.5), (30.5, 6.5)])
    assert window.actions.undo.text() == "Undo Brush stroke"
    assert len(doc.history) == 1
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(doc.mask, sample_trimap(0))
    assert window.actions.redo.text() == "Redo Brush stroke"
    assert not window.isWindowModified()
    press_sequence(qtbot, window, QKeySequence(QKeySequence.StandardKey.Redo))
    assert doc.mask[2, 2] == 3 and doc.mask[6, 30] == 3
    assert window.isWindowModified()


def test_redo_also_answers_ctrl_y(qtbot, window):
    doc = window.session.document
    click(qtbot, window.canvas, 3.5, 3.5)
    edited = doc.mask.copy()
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    qtbot.keyClick(window, Qt.Key.Key_Y, CTRL)
    np.testing.assert_array_equal(doc.mask, edited)


def test_undo_redo_across_image_switches(qtbot, window, workspace_dir):
    window.tools.set_size(5)
    qtbot.keyClick(window, Qt.Key.Key_3)
    drag(qtbot, window.canvas, [(5.5, 40.5), (50.5, 40.5)])
    qtbot.keyClick(window, Qt.Key.Key_PageDown)  # leaves (and saves) the first image
    assert window.session.current_key == KEYS[1]
    click(qtbot, window.canvas, 60.5, 2.5)
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.session.current_key == KEYS[2]
    qtbot.keyClick(window, Qt.Key.Key_A)
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert window.session.current_key == KEYS[0]
    assert window.actions.undo.text() == "Undo Brush stroke"
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(window.session.document.mask, sample_trimap(0))
    qtbot.keyClick(window, Qt.Key.Key_Y, CTRL)
    expected = sample_trimap(0)
    expected[capsule(expected.shape, (5.5, 40.5), (50.5, 40.5), 5)] = 3
    np.testing.assert_array_equal(window.session.document.mask, expected)
    qtbot.keyClick(window, Qt.Key.Key_D)  # the second image's stroke is still undoable too
    assert window.session.document.mask[2, 60] == 3
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(window.session.document.mask, sample_trimap(1))


def test_at_least_200_steps_are_kept(qtbot, window):
    doc = window.session.document
    window.tools.set_size(1)
    canvas = window.canvas
    for i in range(210):  # 210 one-pixel dabs, alternating values so each one changes a pixel
        window.tools.set_value(3 if i % 2 == 0 else 1)
        canvas.tool_pressed.emit(2.5 + (i % 60), 2.5 + i // 60)
        canvas.tool_released.emit(2.5 + (i % 60), 2.5 + i // 60)
    assert len(doc.history) == 210
    for _ in range(210):
        QTest.keyClick(window, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(doc.mask, sample_trimap(0))
    assert not window.actions.undo.isEnabled()


def _drag_with_a_key_part_way(qtbot, window, key) -> None:
    """Press, move, the shortcut ``Ctrl+key`` with the button still down, move on, release."""
    canvas, viewport = window.canvas, window.canvas.viewport()
    qtbot.mousePress(viewport, LEFT, pos=canvas.widget_pos(5.5, 5.5))
    qtbot.mouseMove(viewport, pos=canvas.widget_pos(10.5, 5.5))
    qtbot.keyClick(window, key, CTRL)
    for x in range(11, 40, 3):
        qtbot.mouseMove(viewport, pos=canvas.widget_pos(x + 0.5, 5.5))
    qtbot.mouseRelease(viewport, LEFT, pos=canvas.widget_pos(40.5, 5.5))


def test_a_save_part_way_through_a_drag_keeps_it_one_step(qtbot, window, workspace_dir):
    doc = window.session.document
    window.tools.set_size(3)
    qtbot.keyClick(window, Qt.Key.Key_3)
    _drag_with_a_key_part_way(qtbot, window, Qt.Key.Key_S)
    on_disk = saved_mask(workspace_dir, KEYS[0])
    assert on_disk[5, 8] == 3 and on_disk[5, 30] != 3  # the mask as it was at Ctrl+S
    assert doc.mask[5, 30] == 3 and doc.mask[5, 40] == 3  # the drag went on
    assert len(doc.history) == 1 and window.actions.undo.text() == "Undo Brush stroke"
    assert window.isWindowModified()  # painted more than was saved
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(doc.mask, sample_trimap(0))


def test_an_undo_part_way_through_a_drag_ends_it(qtbot, window):
    doc = window.session.document
    window.tools.set_size(3)
    qtbot.keyClick(window, Qt.Key.Key_3)
    _drag_with_a_key_part_way(qtbot, window, Qt.Key.Key_Z)
    np.testing.assert_array_equal(doc.mask, sample_trimap(0))  # undone, and no more painted
    assert len(doc.history) == 0 and not window.actions.undo.isEnabled()
    assert window.actions.redo.text() == "Redo Brush stroke"
    assert not window.isWindowModified()
    drag(qtbot, window.canvas, [(5.5, 40.5), (20.5, 40.5)])  # the next drag paints
    assert doc.mask[40, 15] == 3 and len(doc.history) == 1
