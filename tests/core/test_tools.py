from __future__ import annotations

import cv2
import numpy as np
import pytest

from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.editing.tools import (
    BrushTool,
    EraserTool,
    EyedropperTool,
    FillTool,
    PolygonTool,
    Tool,
)
from unet_desktop.core.labels import binary_scheme, camvid_scheme, trimap_scheme


def doc_for(scheme, fill: int, shape=(50, 60)) -> MaskDocument:
    mask = np.full(shape, fill, np.uint8)
    return MaskDocument("a.png", np.zeros((*shape, 3), np.uint8), mask, scheme)


def drag(tool: Tool, points: list[tuple[float, float]]) -> list:
    """Fake mouse events: press at the first point, move through the rest, release at the last."""
    boxes = [tool.press(*points[0])]
    boxes += [tool.move(x, y) for x, y in points[1:]]
    boxes.append(tool.release(*points[-1]))
    return boxes


def test_brush_drag_paints_a_gapless_line_as_one_undo_step():
    doc = doc_for(binary_scheme(), 0)
    brush = BrushTool(doc, size=3, value=255)
    # Two events only, far apart: a fast diagonal flick.
    boxes = drag(brush, [(2.0, 3.0), (55.0, 46.0), (58.0, 47.0)])
    count, _ = cv2.connectedComponents(doc.mask, connectivity=4)
    assert count == 2 and doc.mask[3, 2] == 255 and doc.mask[47, 58] == 255
    assert all(b is not None for b in boxes[:-1]) and boxes[-1] is None  # release: no move
    assert len(doc.history) == 1 and doc.undo_label == "Undo Brush stroke"
    doc.undo()
    assert not doc.mask.any()


def test_brush_returns_boxes_that_cover_what_changed():
    doc = doc_for(binary_scheme(), 0)
    brush = BrushTool(doc, size=5, value=255)
    before = doc.mask.copy()
    box = brush.press(10.0, 10.0)
    y0, x0, y1, x1 = box
    changed = np.argwhere(doc.mask != before)
    assert (changed >= (y0, x0)).all() and (changed < (y1, x1)).all()
    assert brush.move(10.2, 10.1) is None  # same pixels: nothing to repaint
    assert brush.release(10.2, 10.1) is None
    assert not brush.active and not doc.in_stroke


def test_hover_without_press_does_nothing():
    doc = doc_for(binary_scheme(), 0)
    brush = BrushTool(doc, size=5, value=255)
    assert brush.move(10, 10) is None and brush.release(10, 10) is None
    assert not doc.mask.any() and doc.generation == 0


def test_brush_refuses_values_outside_the_scheme():
    brush = BrushTool(doc_for(trimap_scheme(), 2), value=255)
    with pytest.raises(ValueError, match="not part of the trimap scheme"):
        brush.press(3, 3)


@pytest.mark.parametrize(
    ("scheme", "fill", "paint", "erased"),
    [(binary_scheme(), 0, 255, 0), (trimap_scheme(), 2, 1, 2), (camvid_scheme(), 3, 8, 11)],
)
def test_eraser_paints_the_scheme_erase_value(scheme, fill, paint, erased):
    doc = doc_for(scheme, fill)
    drag(BrushTool(doc, size=9, value=paint), [(20, 20), (30, 20)])
    drag(EraserTool(doc, size=31), [(25, 20)])
    assert doc.mask[20, 25] == erased and doc.undo_label == "Undo Erase"
    explicit = EraserTool(doc, size=3, value=fill)
    drag(explicit, [(25, 20)])
    assert doc.mask[20, 25] == fill


def test_fill_tool_fills_the_region_under_the_click():
    doc = doc_for(trimap_scheme(), 2)
    doc.mask[:, 30] = 3  # wall
    box = FillTool(doc, value=1).press(5.5, 5.5)
    assert box == (0, 0, 50, 30)
    assert (doc.mask[:, :30] == 1).all() and (doc.mask[:, 31:] == 2).all()
    assert doc.undo_label == "Undo Fill"


def test_polygon_clicks_and_double_click():
    doc = doc_for(binary_scheme(), 0)
    poly = PolygonTool(doc, value=255)
    for x, y in [(10, 10), (30, 10), (30, 30)]:
        assert poly.press(x, y) is None
        poly.release(x, y)
    poly.press(10, 30)
    poly.move(12, 31)
    assert poly.preview == [(10, 10), (30, 10), (30, 30), (10, 30), (12, 31)]
    assert doc.mask.sum() == 0
    box = poly.double_click(10, 30)
    assert box == (10, 10, 30, 30) and (doc.mask[10:30, 10:30] == 255).all()
    assert int(doc.mask.sum()) == 255 * 400 and poly.points == []


def test_polygon_closes_on_a_click_near_the_first_vertex_or_finish():
    doc = doc_for(binary_scheme(), 0)
    poly = PolygonTool(doc, value=255)
    for x, y in [(10, 10), (20, 10), (20, 20), (11, 11)]:
        poly.press(x, y)
    assert (doc.mask[10:20, 10:20] == 255).sum() > 40 and poly.points == []
    for x, y in [(40, 40), (50, 40)]:
        poly.press(x, y)
    assert poly.finish() is None  # two vertices are not a polygon
    assert poly.points == []


def test_lasso_drag_and_cancel():
    doc = doc_for(binary_scheme(), 0)
    lasso = PolygonTool(doc, value=255, lasso=True)
    boxes = drag(lasso, [(5, 5), (25, 5), (25, 25), (5, 25)])
    assert boxes[-1] == (5, 5, 25, 25) and doc.undo_label == "Undo Lasso fill"
    lasso.press(30, 30)
    lasso.move(45, 30)
    lasso.move(45, 45)
    lasso.cancel()
    assert lasso.points == [] and lasso.release(45, 45) is None
    assert doc.mask[30:, 30:].sum() == 0


def test_eyedropper_picks_without_changing_the_mask():
    doc = doc_for(camvid_scheme(), 3)
    doc.mask[10:, :] = 8
    picked = []
    dropper = EyedropperTool(doc, on_pick=picked.append)
    assert dropper.press(2.5, 2.5) is None
    dropper.move(2.5, 20.5)
    dropper.release(2.5, 20.5)
    dropper.move(2.5, 5.0)  # not pressed: ignored
    assert picked == [3, 8] and dropper.picked == 8 and doc.generation == 0


def test_tools_without_a_document_do_nothing():
    for tool in (BrushTool(), EraserTool(), FillTool(), PolygonTool(), EyedropperTool()):
        assert drag(tool, [(1, 1), (5, 5)]) == [None, None, None]
        assert tool.double_click(5, 5) is None and tool.cancel() is None


def test_switching_documents_keeps_strokes_apart():
    first, second = doc_for(binary_scheme(), 0), doc_for(binary_scheme(), 0)
    brush = BrushTool(first, size=3, value=255)
    brush.press(5, 5)
    brush.cancel()  # e.g. the user switched images mid-stroke
    brush.document = second
    drag(brush, [(20, 20), (25, 20)])
    assert first.mask[5, 5] == 255 and len(first.history) == 1 and not first.in_stroke
    assert second.mask[5, 5] == 0 and second.mask[20, 22] == 255


@pytest.mark.parametrize("make", [lambda d: BrushTool(d, size=3, value=255),
                                  lambda d: EraserTool(d, size=3)])
def test_a_drag_saved_part_way_stays_one_undo_step(make):
    fill = 0 if make(None).name == "brush" else 255
    doc = doc_for(binary_scheme(), fill)
    tool = make(doc)
    tool.press(5.5, 5.5)
    tool.move(10.5, 5.5)
    doc.mark_saved()  # Ctrl+S with the button down: what EditingSession._write does
    part_way = doc.mask.copy()
    assert not doc.dirty
    for x in range(11, 40, 3):
        tool.move(x + 0.5, 5.5)
    tool.release(40.5, 5.5)
    assert len(doc.history) == 1 and doc.dirty and not doc.in_stroke
    assert doc.mask[5, 40] != fill and part_way[5, 40] == fill
    doc.undo()
    assert (doc.mask == fill).all()


@pytest.mark.parametrize("make", [lambda d: BrushTool(d, size=3, value=255),
                                  lambda d: EraserTool(d, size=3)])
def test_an_undo_part_way_ends_the_drag(make):
    fill = 0 if make(None).name == "brush" else 255
    doc = doc_for(binary_scheme(), fill)
    tool = make(doc)
    tool.press(5.5, 5.5)
    tool.move(10.5, 5.5)
    doc.undo()  # Ctrl+Z with the button down: the stroke so far is undone
    assert (doc.mask == fill).all()
    assert tool.move(20.5, 5.5) is None and not tool.active  # the drag paints no more
    assert tool.release(30.5, 5.5) is None
    assert (doc.mask == fill).all() and len(doc.history) == 0
    assert doc.redo_label == f"Redo {tool.label}"
    drag(tool, [(5.5, 20.5), (20.5, 20.5)])  # the next press paints again
    assert len(doc.history) == 1 and doc.mask[20, 20] != fill
