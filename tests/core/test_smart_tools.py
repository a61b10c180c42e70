"""The smart mouse tools driven by fake press/move/release events, with undo."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.core.smart.smart_tools import BoxTool, RegionFixTool, ScissorsTool, WandTool


def disc_document(scheme=None, fill=0):
    rng = np.random.default_rng(0)
    image = rng.normal((60, 70, 90), 10, (100, 120, 3)).clip(0, 255).astype(np.uint8)
    yy, xx = np.mgrid[:100, :120]
    disc = (xx + 0.5 - 60) ** 2 + (yy + 0.5 - 50) ** 2 <= 25**2
    image[disc] = (220, 140, 40)
    mask = np.full((100, 120), fill, np.uint8)
    return MaskDocument("a.png", image, mask, scheme or binary_scheme()), disc


def drag(tool, points):
    tool.press(*points[0])
    for p in points[1:]:
        tool.move(*p)
    return tool.release(*points[-1])


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_box_drag_is_one_undo_step_and_a_stroke_inside_refines_it():
    doc, disc = disc_document()
    tool = BoxTool(doc, value=255, size=8)
    assert drag(tool, [(30.0, 20.0), (60.0, 50.0), (90.0, 80.0)]) is not None
    assert iou(doc.mask == 255, disc) > 0.95 and len(doc.history) == 1
    assert doc.undo_label == "Undo Box to mask"
    drag(tool, [(60.0, 40.0), (60.0, 60.0)])  # starts on the object: marks background
    assert not (doc.mask[40:60, 58:62] == 255).any() and len(doc.history) == 2
    doc.undo()
    assert iou(doc.mask == 255, disc) > 0.95
    doc.undo()
    assert not doc.mask.any()
    drag(tool, [(60.0, 40.0), (60.0, 60.0)])  # after undo the stroke starts a new box instead
    assert not doc.mask.any() and tool.cut is None


def test_box_keeps_other_classes_where_it_finds_background():
    doc, disc = disc_document(trimap_scheme(), fill=2)
    doc.mask[:5] = 3
    drag(BoxTool(doc, value=1), [(0.0, 0.0), (120.0, 100.0)])
    assert iou(doc.mask == 1, disc) > 0.9 and (doc.mask[:5] == 3).all()


def test_box_uses_the_prediction_when_there_is_one():
    doc, disc = disc_document()
    doc.image[:] = 100  # nothing to see: only the prediction knows the object
    labels = np.where(disc, 255, 0).astype(np.uint8)
    tool = BoxTool(doc, value=255,
                   prediction=lambda: (labels, np.zeros(labels.shape, np.float32)))
    drag(tool, [(30.0, 20.0), (90.0, 80.0)])
    assert iou(doc.mask == 255, disc) > 0.97


def test_wand_click_fills_and_a_sideways_drag_changes_the_tolerance_in_one_step():
    doc, disc = disc_document()
    heard = []
    tool = WandTool(doc, value=255, tolerance=20, on_tolerance=heard.append)
    tool.press(60.5, 50.5)
    assert iou(doc.mask == 255, disc) > 0.97
    tool.move(80.5, 50.5)
    tool.move(380.5, 50.5)  # +180 steps: the tolerance reaches the noise around the disc
    tool.release(380.5, 50.5)
    assert heard == [30, 180] and tool.tolerance == 180
    assert (doc.mask == 255).sum() > disc.sum() * 1.5 and len(doc.history) == 1
    tool.set_tolerance(20)  # the slider, after the click: still amends the same step
    assert iou(doc.mask == 255, disc) > 0.97 and len(doc.history) == 1
    doc.undo()
    assert not doc.mask.any()
    assert tool.set_tolerance(30) is None and not doc.mask.any()  # no longer its edit


def test_scissors_clicks_around_the_disc_and_a_click_on_the_first_point_fills_it():
    doc, disc = disc_document()
    tool = ScissorsTool(doc, value=255)
    for x, y in ((60.0, 24.0), (86.0, 50.0), (60.0, 76.0), (34.0, 50.0)):
        tool.press(x, y)
        tool.release(x, y)
    assert len(tool.points) > 20 and not doc.mask.any()
    tool.move(40.0, 30.0)
    assert tool.preview[-1] == (40.0, 30.0)
    assert tool.press(61.0, 25.0) is not None  # near the first point: closes
    assert iou(doc.mask == 255, disc) > 0.9 and tool.points == []
    assert doc.undo_label == "Undo Intelligent scissors"
    doc.undo()
    assert not doc.mask.any()


def test_fix_tool_removes_a_blob_with_a_click_pet_and_border_together():
    doc, _ = disc_document(trimap_scheme(), fill=2)
    labels = np.full((100, 120), 2, np.uint8)
    labels[10:20, 10:20] = 1  # a false positive the user accepted
    labels[20:22, 10:20] = 3  # with its border
    labels[40:60, 50:70] = 1
    doc.mask[:] = labels
    tool = RegionFixTool(doc, value=1, prediction=lambda: (labels, None))
    drag(tool, [(15.5, 15.5)])
    assert (doc.mask[10:22, 10:20] == 2).all() and (doc.mask[40:60, 50:70] == 1).all()
    assert len(doc.history) == 1
    doc.undo()
    assert np.array_equal(doc.mask, labels)


def test_fix_tool_gives_the_region_the_class_under_the_release():
    labels = np.zeros((100, 120), np.uint8)
    labels[10:30, 10:30] = 4  # predicted as class 4, really class 2 like its neighbour
    labels[10:30, 40:60] = 2
    doc = MaskDocument("a.png", np.zeros((100, 120, 3), np.uint8), labels.copy(),
                       multiclass_scheme(5))
    tool = RegionFixTool(doc, value=1, prediction=lambda: (labels, None))
    drag(tool, [(20.5, 20.5), (30.5, 20.5), (50.5, 20.5)])  # press on 4, release over 2
    assert (doc.mask[10:30, 10:30] == 2).all() and len(doc.history) == 1
    drag(tool, [(20.5, 20.5), (22.5, 21.5)])  # released in the region: the current class
    assert (doc.mask[10:30, 10:30] == 1).all()


def test_fix_tool_without_a_prediction_works_on_the_mask_regions():
    doc, _ = disc_document()
    doc.mask[5:10, 5:10] = 255
    drag(RegionFixTool(doc, value=255), [(7.5, 7.5)])
    assert not doc.mask.any()


def test_box_tool_on_a_featureless_box_changes_nothing_and_says_why():
    image = np.random.default_rng(0).normal(120, 3, (80, 80)).clip(0, 255).astype(np.uint8)
    doc = MaskDocument("a.png", image, np.zeros((80, 80), np.uint8), binary_scheme())
    tool = BoxTool(doc, value=255)
    assert drag(tool, [(20.0, 20.0), (60.0, 60.0)]) is None
    assert not doc.mask.any() and len(doc.history) == 0
    assert tool.message and "no object" in tool.message


def test_fix_tool_on_unlabeled_pixels_takes_the_image_region_never_the_whole_image(gray_cells):
    image, membrane, _ = gray_cells(256)
    scheme = binary_scheme(ignore_value=128)
    mask = np.full(image.shape, 128, np.uint8)  # sparse: nothing labelled yet
    mask[5:8, 5:60] = 255  # one stroke
    doc = MaskDocument("a.png", image, mask.copy(), scheme)
    row, col = 128, 128
    while membrane[row, col]:
        col += 1
    drag(RegionFixTool(doc, value=255), [(col + 0.5, row + 0.5)])
    painted = (doc.mask == 255) & (mask == 128)
    assert painted[row, col]
    assert painted.mean() < 0.1  # a region, not the slice
    assert (painted & membrane).sum() < 0.2 * painted.sum()  # mostly the clicked cell
