"""Accepting the prediction in one region: a click takes the predicted region under it, a drag
the pixels under the brush; in a sparse task only unlabeled pixels, one undo step each."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.labels import binary_scheme
from unet_desktop.core.smart.accept_tool import NO_PREDICTION, AcceptPredictionTool

UNLABELED = 128
SPARSE = binary_scheme(("outside", "cell"), ignore_value=UNLABELED)


def two_cells() -> tuple[MaskDocument, np.ndarray, np.ndarray]:
    """A sparse mask with one stroke; a prediction of two round cells (255) on 0."""
    yy, xx = np.mgrid[:60, :100]
    left = (xx - 25) ** 2 + (yy - 30) ** 2 < 12 ** 2
    right = (xx - 75) ** 2 + (yy - 30) ** 2 < 12 ** 2
    labels = np.where(left | right, 255, 0).astype(np.uint8)
    mask = np.full((60, 100), UNLABELED, np.uint8)
    mask[28:31, 70:80] = 0  # the user's stroke says "outside" where the prediction says cell
    doc = MaskDocument("em.png", np.zeros((60, 100), np.uint8), mask, SPARSE)
    return doc, labels, right


def test_a_click_accepts_the_predicted_region_under_it_and_keeps_the_strokes():
    doc, labels, right = two_cells()
    tool = AcceptPredictionTool(doc, prediction=lambda: (labels, None))
    tool.press(75.2, 20.5)
    assert tool.release(75.6, 20.9) is not None
    stroke = np.zeros_like(right)
    stroke[28:31, 70:80] = True
    assert (doc.mask[right & ~stroke] == 255).all()  # the clicked cell is labelled
    assert (doc.mask[stroke] == 0).all()  # what the user painted stays the label
    assert (doc.mask[~right] == np.where(stroke, 0, UNLABELED)[~right]).all()  # nothing else
    assert len(doc.history) == 1 and doc.undo_label == "Undo Accept prediction here"
    doc.undo()
    assert (doc.mask[~stroke] == UNLABELED).all()


def test_a_drag_accepts_under_the_brush_only_as_one_step():
    doc, labels, _right = two_cells()
    tool = AcceptPredictionTool(doc, size=5, prediction=lambda: (labels, None))
    tool.press(10.0, 10.0)
    for x in (12.0, 20.0, 30.0, 40.0):
        tool.move(x, 10.0)
    tool.release(40.0, 10.0)
    taken = doc.mask != UNLABELED
    taken[28:31, 70:80] = False
    assert taken[8:12, 12:38].all() and not taken[20:].any() and not taken[:, 45:].any()
    assert (doc.mask[taken] == labels[taken]).all()
    assert len(doc.history) == 1


def test_without_sparse_labels_the_region_becomes_the_prediction():
    doc, labels, right = two_cells()
    dense = MaskDocument("a.png", doc.image, np.zeros_like(doc.mask), binary_scheme())
    tool = AcceptPredictionTool(dense, prediction=lambda: (labels, None))
    tool.press(75.0, 30.0)
    tool.release(75.0, 30.0)
    assert ((dense.mask == 255) == right).all()


def test_without_a_prediction_nothing_changes_and_the_tool_says_why():
    doc, _labels, _right = two_cells()
    before = doc.mask.copy()
    tool = AcceptPredictionTool(doc)
    tool.press(75.0, 30.0)
    assert tool.release(75.0, 30.0) is None
    assert tool.message == NO_PREDICTION
    assert (doc.mask == before).all() and len(doc.history) == 0


def test_in_a_trimap_a_click_accepts_the_pet_with_its_border():
    from unet_desktop.core.labels import trimap_scheme

    labels = np.full((40, 40), 2, np.uint8)
    labels[9:31, 9:31] = 3
    labels[10:30, 10:30] = 1
    doc = MaskDocument("pet.png", np.zeros((40, 40, 3), np.uint8), np.full((40, 40), 2, np.uint8),
                       trimap_scheme())
    tool = AcceptPredictionTool(doc, prediction=lambda: (labels, None))
    tool.press(20.0, 20.0)
    tool.release(20.0, 20.0)
    assert (doc.mask == labels).all()


def test_a_drag_saved_part_way_stays_one_step_and_an_undo_ends_it():
    """Ctrl+S with the button down: the drag goes on as one undo step; Ctrl+Z: it ends."""
    doc, labels, _right = two_cells()
    tool = AcceptPredictionTool(doc, size=5, prediction=lambda: (labels, None))
    tool.press(10.0, 10.0)
    tool.move(20.0, 10.0)
    doc.mark_saved()  # what a save does
    for x in (25.0, 30.0, 40.0):
        tool.move(x, 10.0)
    tool.release(40.0, 10.0)
    assert len(doc.history) == 1 and doc.dirty
    doc.undo()
    tool.press(10.0, 10.0)
    tool.move(20.0, 10.0)
    doc.undo()  # Ctrl+Z with the button down
    assert tool.move(30.0, 10.0) is None and tool.release(30.0, 10.0) is None
    assert len(doc.history) == 0 and (doc.mask[:20] == UNLABELED).all()
