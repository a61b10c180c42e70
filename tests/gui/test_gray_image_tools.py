"""First-image work on a gray, textured, EM-like image in the real window, without any model:
New Task proposes native scale and colours that show; Box to mask cuts a cell out (or says in
the status bar why it cannot); the magic wand grows smoothly over a tolerance sweep; Fix region
never paints the whole slice nor converts a whole membrane network with one click."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.conftest import _gray_cells
from tests.gui.conftest import open_window
from tests.gui.helpers import click, drag

UNLABELED = 128


def cell_centre(membrane: np.ndarray, cells: np.ndarray, near=(128, 128)) -> tuple[int, int]:
    """(row, col) deepest inside the cell at ``near``."""
    depth = cv2.distanceTransform((~membrane).astype(np.uint8), cv2.DIST_L2, 3)
    depth[cells != cells[near]] = 0
    return tuple(int(v) for v in np.unravel_index(np.argmax(depth), depth.shape))


@pytest.fixture
def em(qtbot, tmp_path):
    """The window on a flat folder of one EM-like slice (and a featureless one), a new sparse
    binary task made through its own dialog with the proposed settings."""
    root = tmp_path / "em"
    root.mkdir()
    image, membrane, cells = _gray_cells(256)
    Image.fromarray(image).save(root / "slice_0.png")
    flat = np.random.default_rng(1).normal(120, 3, (256, 256)).clip(0, 255).astype(np.uint8)
    Image.fromarray(flat).save(root / "slice_1.png")
    win = open_window(qtbot, ask_for_task=True)
    assert win.open_folder(root)
    qtbot.waitUntil(lambda: win.task_commands.dialog is not None, timeout=5000)
    dialog = win.task_commands.dialog
    win.proposed = (dialog.scale_combo.currentData(),
                    [c.color for c in dialog.classes.scheme().classes])
    dialog.name_edit.setText("membranes")
    dialog.accept()
    win.file_dock.select_key("slice_0.png")
    qtbot.waitUntil(lambda: win.session.current_key == "slice_0.png", timeout=5000)
    win.canvas.fit_to_window()
    win.truth = (membrane, cells)
    yield win
    win.close()


def test_new_task_proposes_native_scale_and_visible_colours(em):
    scale, colours = em.proposed
    assert scale == "native"
    assert all(max(c) - min(c) >= 150 for c in colours)  # no black class on dark gray EM
    assert em.session.workspace.scheme.ignore_value == UNLABELED  # sparse: strokes teach


def test_box_without_a_model_cuts_the_cell_out_or_says_why(qtbot, em):
    membrane, cells = em.truth
    row, col = cell_centre(membrane, cells)
    cell = (cells == cells[row, col]) & ~membrane
    ys, xs = np.nonzero(cell)
    em.tools.set_tool("box")
    em.tools.set_value(255)
    drag(qtbot, em.canvas, [(xs.min() - 3, ys.min() - 3), (col, row), (xs.max() + 4, ys.max() + 4)])
    got = em.session.document.mask == 255
    assert (got & cell).sum() / (got | cell).sum() > 0.8

    em.file_dock.select_key("slice_1.png")  # nothing to tell apart: a message, no edit
    qtbot.waitUntil(lambda: em.session.current_key == "slice_1.png", timeout=5000)
    before = em.session.document.mask.copy()
    drag(qtbot, em.canvas, [(60, 60), (120, 120), (190, 190)])
    assert (em.session.document.mask == before).all()
    assert "no object that stands out" in em.statusBar().currentMessage()


def test_wand_grows_smoothly_over_a_tolerance_sweep(qtbot, em):
    membrane, cells = em.truth
    row, col = cell_centre(membrane, cells)
    em.tools.set_tool("wand")
    em.tools.set_value(255)
    em.tools.set_tolerance(0)
    click(qtbot, em.canvas, col + 0.5, row + 0.5)
    areas = []
    for tolerance in range(0, 256, 4):
        em.tools.set_tolerance(tolerance)  # the last click follows (a slider)
        areas.append(float((em.session.document.mask == 255).mean()))
    steps = np.diff(areas)
    assert (steps >= 0).all() and steps.max() <= 0.2
    assert areas[0] < 0.01 and areas[-1] > 0.9


def test_fix_region_on_unlabeled_pixels_never_paints_the_slice(qtbot, em):
    membrane, cells = em.truth
    row, col = cell_centre(membrane, cells)
    em.tools.set_tool("fix")
    em.tools.set_value(255)
    click(qtbot, em.canvas, col + 0.5, row + 0.5)
    painted = em.session.document.mask == 255
    assert painted[row, col] and painted.mean() < 0.1
    assert (em.session.document.mask == UNLABELED).mean() > 0.9


def test_fix_region_on_a_thin_network_converts_a_stretch_not_the_network(qtbot, tmp_path):
    root = tmp_path / "net"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    image, membrane, _ = _gray_cells(256)
    Image.fromarray(image).save(root / "images" / "slice.png")
    Image.fromarray(np.where(membrane, 0, 255).astype(np.uint8)).save(root / "masks" / "slice.png")
    win = open_window(qtbot)
    assert win.open_folder(root)
    win.canvas.fit_to_window()
    depth = cv2.distanceTransform(membrane.astype(np.uint8), cv2.DIST_L2, 3)
    line = np.argwhere(depth >= 1.5)
    row, col = line[len(line) // 2]
    win.tools.set_tool("fix")
    win.tools.set_value(255)
    click(qtbot, win.canvas, col + 0.5, row + 0.5)
    changed = (win.session.document.mask == 255) & membrane
    assert changed[row, col] and changed.sum() < 0.1 * membrane.sum()
    win.close()
