from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unet_desktop.core.editing import brush, cleanup, fills
from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.editing.history import EditHistory
from unet_desktop.core.labels import multiclass_scheme, trimap_scheme

SHAPE = (24, 32)


def new_doc(mask: np.ndarray | None = None) -> MaskDocument:
    mask = np.full(SHAPE, 2, np.uint8) if mask is None else mask
    image = np.zeros((*mask.shape, 3), np.uint8)
    return MaskDocument("img.png", image, mask, trimap_scheme())


def dab(doc: MaskDocument, x: float, value: int = 1, size: int = 5):
    return doc.apply(brush.brush_segment(doc.mask, (x, 10.0), (x, 10.0), size, value))


def test_dirty_follows_edits_saves_and_undo_back_to_the_saved_state():
    doc = new_doc()
    assert not doc.dirty
    dab(doc, 5)
    assert doc.dirty
    doc.mark_saved()
    assert not doc.dirty
    dab(doc, 15)
    assert doc.dirty
    doc.undo()
    assert not doc.dirty  # back to what is on disk
    doc.undo()
    assert doc.dirty
    doc.redo()
    assert not doc.dirty


def test_unsaved_document_starts_dirty():
    doc = MaskDocument("k", np.zeros(SHAPE, np.uint8), np.full(SHAPE, 2, np.uint8),
                       trimap_scheme(), saved=False)
    assert doc.dirty


def test_generation_and_listeners_see_every_change():
    doc = new_doc()
    seen = []
    doc.add_listener(seen.append)
    box = dab(doc, 5)
    assert box is not None and seen == [box] and doc.generation == 1
    assert dab(doc, 5) is None  # no change: no generation, no notification
    assert doc.generation == 1
    assert doc.undo() == box and doc.generation == 2 and seen == [box, box]
    doc.remove_listener(seen.append)
    doc.redo()
    assert len(seen) == 2


def test_a_stroke_is_one_undo_step():
    doc = new_doc()
    original = doc.mask.copy()
    doc.begin_stroke("Brush stroke")
    for x in (3, 6, 9, 12):
        doc.apply(brush.brush_segment(doc.mask, (x, 8.0), (x + 3, 8.0), 3, 1))
    assert doc.in_stroke and doc.dirty and doc.undo_label == "Undo Brush stroke"
    assert not doc.can_redo
    box = doc.end_stroke()
    assert box is not None and box[1] <= 2 and box[3] >= 15
    assert len(doc.history) == 1
    painted = doc.mask.copy()
    doc.undo()
    assert np.array_equal(doc.mask, original)
    doc.redo()
    assert np.array_equal(doc.mask, painted)


def test_undo_during_a_stroke_ends_it_first():
    doc = new_doc()
    doc.begin_stroke("Brush stroke")
    dab(doc, 5)
    doc.undo()
    assert not doc.in_stroke and (doc.mask == 2).all() and doc.can_redo


def test_replace_mask_is_one_undoable_step():
    doc = new_doc()
    dab(doc, 5)
    before = doc.mask.copy()
    prediction = np.full(SHAPE, 1, np.uint8)
    prediction[:, :4] = 3
    box = doc.replace_mask(prediction)
    assert box is not None and np.array_equal(doc.mask, prediction)
    assert doc.undo_label == "Undo Accept prediction"
    doc.undo()
    assert np.array_equal(doc.mask, before)
    with pytest.raises(ValueError, match="replacement mask"):
        doc.replace_mask(np.zeros((3, 3), np.uint8))


def test_shape_mismatch_and_bad_masks_are_refused_with_the_key():
    with pytest.raises(ValueError, match="img.png: image is 5x4 px but its mask is 32x24"):
        MaskDocument("img.png", np.zeros((4, 5, 3), np.uint8), np.zeros(SHAPE, np.uint8),
                     trimap_scheme())
    with pytest.raises(ValueError, match="uint8"):
        MaskDocument("a", np.zeros(SHAPE, np.uint8), np.zeros(SHAPE, np.int64), trimap_scheme())


def test_value_at_and_shared_history():
    history = EditHistory()
    doc = MaskDocument("a", np.zeros(SHAPE, np.uint8), np.full(SHAPE, 2, np.uint8),
                       trimap_scheme(), history)
    dab(doc, 5)
    assert doc.value_at(5.5, 10.5) == 1 and doc.value_at(-1, 3) is None
    assert doc.value_at(32.0, 3) is None
    doc.park()
    assert history.matches(doc.mask)
    # Coming back later: a new document on the same history can still undo.
    again = MaskDocument("a", doc.image, doc.mask.copy(), trimap_scheme(), history)
    again.undo()
    assert (again.mask == 2).all()


# --- random edit sequences -------------------------------------------------------------------
coord = st.floats(-4, 36, allow_nan=False)
value = st.sampled_from([0, 1, 2, 3, 255])
op = st.one_of(
    st.tuples(st.just("brush"), coord, coord, coord, coord, st.integers(1, 12), value),
    st.tuples(st.just("stroke"), st.lists(st.tuples(coord, coord), min_size=1, max_size=5),
              st.integers(1, 8), value),
    st.tuples(st.just("fill"), coord, coord, value),
    st.tuples(st.just("polygon"), st.lists(st.tuples(coord, coord), min_size=3, max_size=6),
              value),
    st.tuples(st.just("islands"), st.integers(2, 30)),
    st.tuples(st.just("holes"), value),
    st.tuples(st.just("replace"), value),
    st.tuples(st.just("undo")),
)


def run_op(doc: MaskDocument, spec: tuple) -> None:
    kind, *args = spec
    mask = doc.mask
    if kind == "brush":
        x0, y0, x1, y1, size, v = args
        doc.apply(brush.brush_segment(mask, (x0, y0), (x1, y1), size, v))
    elif kind == "stroke":
        points, size, v = args
        doc.begin_stroke("Brush stroke")
        for a, b in zip(points, points[1:] + points[-1:]):
            doc.apply(brush.brush_segment(doc.mask, a, b, size, v))
        doc.end_stroke()
    elif kind == "fill":
        doc.apply(fills.flood_fill(mask, args[0], args[1], args[2]))
    elif kind == "polygon":
        doc.apply(fills.polygon_fill(mask, args[0], args[1]))
    elif kind == "islands":
        doc.apply(cleanup.remove_islands(mask, args[0]))
    elif kind == "holes":
        doc.apply(cleanup.fill_holes(mask, args[0]))
    elif kind == "replace":
        doc.replace_mask(np.roll(np.where(mask == args[0], 3, mask).astype(np.uint8), 2, axis=1))
    else:
        doc.undo()


@settings(max_examples=40, deadline=None)
@given(st.lists(op, min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_random_edits_then_undo_all_restores_the_original(ops, seed):
    start = np.random.default_rng(seed).choice([1, 2, 3], size=SHAPE).astype(np.uint8)
    doc = MaskDocument("r", np.zeros(SHAPE, np.uint8), start.copy(), multiclass_scheme(4))
    for spec in ops:
        run_op(doc, spec)
    while doc.redo() is not None:  # the newest state, including steps undone by the ops
        pass
    final = doc.mask.copy()
    while doc.undo() is not None:
        pass
    assert np.array_equal(doc.mask, start)
    assert not doc.dirty
    while doc.redo() is not None:
        pass
    assert np.array_equal(doc.mask, final)


def test_a_save_part_way_through_a_stroke_keeps_it_one_undo_step():
    doc = new_doc()
    original = doc.mask.copy()
    doc.begin_stroke("Brush stroke")
    dab(doc, 5)
    doc.mark_saved()  # Ctrl+S while the mouse button is down
    assert doc.in_stroke and not doc.dirty
    dab(doc, 15)
    assert doc.dirty  # the stroke painted more than was saved
    doc.end_stroke()
    assert len(doc.history) == 1 and doc.dirty
    doc.undo()
    np.testing.assert_array_equal(doc.mask, original)
    assert doc.dirty and len(doc.history) == 0


def test_a_stroke_saved_with_all_it_painted_is_clean_when_it_ends():
    doc = new_doc()
    doc.begin_stroke("Brush stroke")
    dab(doc, 5)
    doc.mark_saved()
    assert dab(doc, 5) is None  # over the same pixels: nothing new
    doc.end_stroke()
    assert len(doc.history) == 1 and not doc.dirty
    doc.undo()
    assert doc.dirty
    doc.redo()
    assert not doc.dirty


def test_an_undo_redo_or_another_edit_ends_the_drag():
    doc = new_doc()
    doc.begin_stroke("Brush stroke")
    dab(doc, 5)
    doc.undo()  # ends the stroke, then undoes it
    assert not doc.in_stroke
    doc.redo()
    assert not doc.in_stroke  # the drag stays over, though the stroke is back
    doc.begin_stroke("Brush stroke")
    dab(doc, 15)
    doc.replace_mask(np.zeros_like(doc.mask))  # another edit during the drag
    assert not doc.in_stroke
    assert len(doc.history) == 3


def test_an_empty_stroke_saved_stays_open_and_clean():
    doc = new_doc()
    doc.begin_stroke("Brush stroke")  # nothing painted yet (pressed outside the image)
    doc.mark_saved()
    assert doc.in_stroke and not doc.dirty
    dab(doc, 5)
    doc.end_stroke()
    assert len(doc.history) == 1 and doc.dirty
