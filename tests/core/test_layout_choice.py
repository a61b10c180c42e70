"""Where a folder's masks are read from: the place that pairs the most images by name, and what
was not used said in the warnings (a real label folder was ignored for an empty one, masks
beside the images were listed as images, JPEG masks and a YOLO labels/ were passed over without
a word, and an images/ folder opened on its own never mentioned ../masks)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.folder.workspace import ImageState, Workspace

IMAGE = np.full((8, 8), 90, np.uint8)
MASK = np.zeros((8, 8), np.uint8)
MASK[2:5, 2:5] = 255


def put(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values).save(path)


def labelled(ws):
    return sum(1 for e in ws if e.has_mask)


def test_masks_beside_the_images_win_over_an_empty_masks_folder(tmp_path):
    for i in range(3):
        put(tmp_path / f"c{i}.png", IMAGE)
        put(tmp_path / f"c{i}_mask.png", MASK)
    (tmp_path / "masks").mkdir()
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["c0.png", "c1.png", "c2.png"]
    assert labelled(ws) == 3 and ws.mask_dir == tmp_path


def test_mask_files_beside_images_in_images_folder_are_not_images(tmp_path):
    for i in range(2):
        put(tmp_path / "images" / f"c{i}.png", IMAGE)
        put(tmp_path / "images" / f"c{i}_mask.png", MASK)
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["images/c0.png", "images/c1.png"]
    assert labelled(ws) == 2 and ws.layout == "suffix"
    assert not any("match no image" in w for w in ws.warnings)


def test_labels_folder_that_pairs_wins_over_an_empty_masks_folder(tmp_path):
    for i in range(3):
        put(tmp_path / "images" / f"c{i}.png", IMAGE)
        put(tmp_path / "labels" / f"c{i}.png", MASK)
    (tmp_path / "masks").mkdir()
    ws = Workspace.open(tmp_path)
    assert ws.mask_dir == tmp_path / "labels" and labelled(ws) == 3


def test_an_empty_trimaps_folder_does_not_hide_the_masks(tmp_path):
    for i in range(3):
        put(tmp_path / "images" / f"c{i}.png", IMAGE)
        put(tmp_path / "masks" / f"c{i}.png", MASK)
    (tmp_path / "annotations" / "trimaps").mkdir(parents=True)
    ws = Workspace.open(tmp_path)
    assert ws.layout == "generic" and labelled(ws) == 3


def test_a_place_not_chosen_that_pairs_images_is_said(tmp_path):
    for i in range(3):
        put(tmp_path / "images" / f"c{i}.png", IMAGE)
        put(tmp_path / "masks" / f"c{i}.png", MASK)
    put(tmp_path / "labels" / "c0.png", MASK)
    ws = Workspace.open(tmp_path)
    assert ws.mask_dir == tmp_path / "masks"
    assert any(f"1 mask(s) in {tmp_path / 'labels'}" in w and "not used" in w
               for w in ws.warnings), ws.warnings


def test_a_yolo_labels_folder_is_never_written_into(tmp_path):
    for i in range(2):
        put(tmp_path / "images" / f"c{i}.png", IMAGE)
        (tmp_path / "labels").mkdir(exist_ok=True)
        (tmp_path / "labels" / f"c{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    ws = Workspace.open(tmp_path, writer=True)
    assert ws.mask_dir == tmp_path / "masks"
    assert any("labels holds no mask images (files like c0.txt" in w for w in ws.warnings)
    ws.save_mask("images/c0.png", MASK, ImageState.CORRECTED)
    ws.close()
    assert sorted(p.name for p in (tmp_path / "labels").iterdir()) == ["c0.txt", "c1.txt"]
    assert (tmp_path / "masks" / "c0.png").exists()


@pytest.mark.parametrize("beside", [False, True])
def test_jpeg_masks_are_named_as_not_used(tmp_path, beside):
    for i in range(2):
        put(tmp_path / "images" / f"c{i}.jpg", IMAGE)
        mask = (tmp_path / "images" / f"c{i}_mask.jpg" if beside
                else tmp_path / "masks" / f"c{i}.jpg")
        put(mask, MASK)
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["images/c0.jpg", "images/c1.jpg"] and labelled(ws) == 0
    if beside:
        assert {p.name: why for p, why in ws.skipped} == {
            n: "a JPEG mask beside its image, not read (lossy): convert it to PNG"
            for n in ("c0_mask.jpg", "c1_mask.jpg")}
    else:
        assert any("2 mask(s)" in w and "are JPEG (c0.jpg, c1.jpg): not used" in w
                   and "lossy" in w for w in ws.warnings), ws.warnings


def test_opening_the_images_folder_names_the_masks_beside_it(tmp_path):
    for i in range(3):
        put(tmp_path / "images" / f"c{i}.png", IMAGE)
        put(tmp_path / "masks" / f"c{i}.png", MASK)
    ws = Workspace.open(tmp_path / "images")
    assert (f"masks for these images seem to be in ../masks (3 pair by name), which is not read "
            f"here: open the parent folder {tmp_path}") in ws.warnings


def test_names_differing_in_case_are_skipped_for_that_reason(tmp_path):
    put(tmp_path / "A.png", IMAGE)
    put(tmp_path / "a.png", IMAGE)
    put(tmp_path / "B.png", IMAGE)
    put(tmp_path / "b.jpg", IMAGE)
    reasons = {p.name: why for p, why in Workspace.open(tmp_path).skipped}
    assert reasons["a.png"].startswith("same name as A.png apart from case:")
    assert reasons["b.jpg"].startswith("same name as B.png apart from case and the extension:")
