"""Two images whose names differ only in letter case (Linux holds both ``a.png`` and ``A.png``):
the scan keeps one and skips the other, and the one kept was paired with the skipped image's
mask by the any-letter-case rule, so it showed as labelled, trained with that mask, and a save
overwrote it. Such an image now takes only a mask with its exact name, and the clash says so."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from unet_desktop.core.folder.layouts import scan_folder
from unet_desktop.core.folder.workspace import ImageState, Workspace

IMAGE = np.full((8, 8), 90, np.uint8)
MASK = np.zeros((8, 8), np.uint8)
MASK[2:5, 2:5] = 255


def put(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values).save(path)


def test_the_kept_image_of_a_case_clash_never_takes_the_skipped_images_mask(tmp_path):
    put(tmp_path / "images" / "a.png", IMAGE)
    put(tmp_path / "images" / "A.png", IMAGE)
    put(tmp_path / "masks" / "a.png", MASK)  # drawn for a.png
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["images/A.png"]
    assert ws["images/A.png"].state is ImageState.UNLABELED
    assert ws["images/A.png"].mask_path.name == "A.png"

    ws.save_mask("images/A.png", 255 - MASK, ImageState.CORRECTED)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "masks" / "a.png")), MASK)
    reasons = {p.name: why for p, why in ws.skipped}
    assert reasons["a.png"].startswith("same name as A.png apart from case:")
    assert "only a mask named exactly like it" in reasons["a.png"]


def test_the_kept_image_of_a_clash_still_takes_its_exact_mask(tmp_path):
    put(tmp_path / "images" / "a.png", IMAGE)
    put(tmp_path / "images" / "A.png", IMAGE)
    put(tmp_path / "masks" / "a.png", MASK)
    put(tmp_path / "masks" / "A.png", 255 - MASK)
    scan = scan_folder(tmp_path)
    assert [(p.key, p.mask_path.name, p.mask_exists) for p in scan.pairs] == [
        ("images/A.png", "A.png", True)]


def test_a_broken_link_of_the_same_name_also_keeps_its_mask_from_the_other_image(tmp_path):
    put(tmp_path / "images" / "A.png", IMAGE)
    os.symlink(tmp_path / "gone.png", tmp_path / "images" / "a.png")
    put(tmp_path / "masks" / "a.png", MASK)
    scan = scan_folder(tmp_path)
    assert [(p.key, p.mask_exists) for p in scan.pairs] == [("images/A.png", False)]
    assert any(path.name == "a.png" and "broken link" in why for path, why in scan.skipped)


def test_an_image_with_no_clash_still_takes_a_mask_in_another_case(tmp_path):
    put(tmp_path / "images" / "A.png", IMAGE)
    put(tmp_path / "images" / "b.png", IMAGE)
    put(tmp_path / "images" / "B.png", IMAGE)
    put(tmp_path / "masks" / "a.png", MASK)
    scan = scan_folder(tmp_path)
    assert {p.key: p.mask_exists for p in scan.pairs} == {"images/A.png": True,
                                                          "images/B.png": False}
    assert any("only masks named exactly like them" in w for w in scan.warnings), scan.warnings
