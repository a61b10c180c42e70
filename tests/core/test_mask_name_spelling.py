"""Masks whose names differ from their image's only in letter case or in Unicode form (a name
copied from a Mac is decomposed, NFD) are the image's masks: they were shown unlabelled, ignored
by training, and a save wrote a second mask beside them. Saves now replace that very file."""

from __future__ import annotations

import unicodedata

import numpy as np
import tifffile
from PIL import Image

from unet_desktop.core.folder.workspace import ImageState, Workspace

IMAGE = np.full((8, 8), 90, np.uint8)
MASK = np.zeros((8, 8), np.uint8)
MASK[2:5, 2:5] = 255


def put(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values).save(path)


def nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


def mask_files(root):
    return sorted(p.name for p in (root / "masks").iterdir())


def test_a_mask_named_in_nfd_is_its_nfc_images_mask_and_a_save_replaces_it(tmp_path):
    for stem in ("café_01", "Müller_02"):
        put(tmp_path / "images" / f"{nfc(stem)}.png", IMAGE)
        put(tmp_path / "masks" / f"{nfd(stem)}.png", MASK)
    ws = Workspace.open(tmp_path)
    assert [e.state for e in ws] == [ImageState.CORRECTED] * 2
    assert not any("match no image" in w for w in ws.warnings)
    key = f"images/{nfc('café_01')}.png"
    np.testing.assert_array_equal(ws.load_mask(key), MASK)

    written = ws.save_mask(key, 255 - MASK, ImageState.VERIFIED)
    assert written.name == f"{nfd('café_01')}.png"
    assert mask_files(tmp_path) == sorted([f"{nfd('café_01')}.png", f"{nfd('Müller_02')}.png"])
    again = Workspace.open(tmp_path)
    assert again[key].state is ImageState.VERIFIED
    np.testing.assert_array_equal(again.load_mask(key), 255 - MASK)


def test_a_mask_named_in_another_case_is_its_images_mask_and_a_save_replaces_it(tmp_path):
    put(tmp_path / "images" / "Cell_01.tif", IMAGE)
    put(tmp_path / "images" / "IMG_0002.TIF", IMAGE)
    put(tmp_path / "masks" / "cell_01.png", MASK)
    put(tmp_path / "masks" / "img_0002.gif", MASK)  # not a PNG: a PNG is written beside it
    ws = Workspace.open(tmp_path)
    assert [(e.key, e.state, e.mask_path.name) for e in ws] == [
        ("images/Cell_01.tif", ImageState.CORRECTED, "cell_01.png"),
        ("images/IMG_0002.TIF", ImageState.CORRECTED, "img_0002.gif")]

    ws.save_mask("images/Cell_01.tif", MASK, ImageState.VERIFIED)
    ws.save_mask("images/IMG_0002.TIF", MASK, ImageState.VERIFIED)
    assert mask_files(tmp_path) == ["cell_01.png", "img_0002.gif", "img_0002.png"]
    again = Workspace.open(tmp_path)
    assert [e.mask_path.name for e in again] == ["cell_01.png", "img_0002.png"]
    assert [e.state for e in again] == [ImageState.VERIFIED] * 2


def test_a_mask_stack_named_in_another_case_is_its_stacks_masks(tmp_path):
    volume = np.random.default_rng(0).integers(0, 255, (5, 8, 8), dtype=np.uint8)
    labels = np.stack([MASK] * 5)
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    tifffile.imwrite(tmp_path / "images/Volume.tif", volume)
    tifffile.imwrite(tmp_path / "masks/volume.tif", labels)
    ws = Workspace.open(tmp_path)
    assert [e.state for e in ws] == [ImageState.CORRECTED] * 5
    assert {e.mask_path.name for e in ws} == {"volume.tif"}


def test_the_exact_name_wins_and_two_other_spellings_are_said_not_guessed(tmp_path):
    put(tmp_path / "images" / "a.png", IMAGE)
    put(tmp_path / "masks" / "a.png", MASK)
    put(tmp_path / "masks" / "A.png", MASK)  # the exact name above wins over it
    put(tmp_path / "images" / "Cell.png", IMAGE)
    put(tmp_path / "masks" / "cell.png", MASK)
    put(tmp_path / "masks" / "CELL.png", MASK)
    ws = Workspace.open(tmp_path)
    assert ws["images/a.png"].mask_path.name == "a.png"
    assert ws["images/Cell.png"].state is ImageState.UNLABELED
    said = " | ".join(ws.warnings)
    assert "differ from Cell.png only in letter case or Unicode form (CELL.png, cell.png)" in said
    assert "3 mask file(s) in" in said and "match no image: A.png, CELL.png, cell.png" in said


def test_images_named_alike_in_two_unicode_forms_are_one_image(tmp_path):
    put(tmp_path / "images" / f"{nfc('café')}.png", IMAGE)
    put(tmp_path / "images" / f"{nfd('café')}.png", IMAGE)
    ws = Workspace.open(tmp_path)
    assert len(ws.entries) == 1
    assert any("apart from Unicode form" in reason for _, reason in ws.skipped)
