"""A TIFF is read as its first series, as every version has read it (slice keys and mask
pages are numbered within it); what it leaves out (the other positions of a multi-position
OME-TIFF, pages of another size of a file without shape metadata) is not dropped without a
word: the folder's warnings name the file and why. A folder labelled under that numbering keeps
its states and mask pages."""

from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.stacks import probe_tiff, read_mask_stack_header, read_slice


def _page(number: int, shape=(40, 56)) -> np.ndarray:
    page = np.full(shape, 7, np.uint16)
    page[0, 0] = 1000 + number  # the file page it is, 1-based
    return page


def _pillow_stack(path, shapes) -> None:
    """A multi-page TIFF as Pillow (or any writer without tifffile's metadata) writes it."""
    pages = [Image.fromarray(_page(n, s)) for n, s in enumerate(shapes, start=1)]
    pages[0].save(path, save_all=True, append_images=pages[1:])


def test_a_page_of_another_size_is_not_read_and_named(tmp_path):
    (tmp_path / "images").mkdir()
    path = tmp_path / "images/cells.tif"
    _pillow_stack(path, [(40, 56), (30, 40), (40, 56), (40, 56)])
    assert probe_tiff(path).slices == 3  # as earlier versions numbered it
    assert [int(read_slice(path, i)[0, 0]) for i in range(3)] == [1001, 1003, 1004]

    ws = Workspace.open(tmp_path)
    keys = [e.key for e in ws]
    assert keys == [f"images/cells.tif [{i} of 3]" for i in range(1, 4)]
    assert "cells.tif: page 2 of 4 is 40x30, not 56x40 like the others: not read" \
        in ws.warnings
    ws.save_mask(keys[1], np.full((40, 56), 255, np.uint8), ImageState.CORRECTED)
    header = read_mask_stack_header(tmp_path / "masks/cells.tif")
    assert header.pages == 3 and header.unlabeled == {0, 2}


def test_a_long_stack_tifffile_refuses_is_read_as_a_short_one(tmp_path):
    path = tmp_path / "long.tif"  # 8 pages or more: tifffile says "incompatible keyframe"
    shapes = [(40, 56)] * 10
    shapes[4] = (40, 50)
    _pillow_stack(path, shapes)
    layout = probe_tiff(path)
    assert layout.slices == 9
    assert layout.note == "long.tif: page 5 of 10 is 50x40, not 56x40 like the others: not read"
    assert [int(read_slice(path, i)[0, 0]) for i in (3, 4, 8)] == [1004, 1006, 1010]


def test_a_multi_position_ome_tiff_reads_its_first_position_and_names_the_others(tmp_path):
    (tmp_path / "images").mkdir()
    path = tmp_path / "images/plate.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as writer:
        for position in range(3):
            planes = np.stack([_page(2 * position + z + 1) for z in range(2)])
            writer.write(planes, metadata={"axes": "ZYX"})
    layout = probe_tiff(path)
    assert layout.slices == 2
    assert [int(read_slice(path, i)[0, 0]) for i in range(2)] == [1001, 1002]
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["images/plate.ome.tif [1 of 2]", "images/plate.ome.tif [2 of 2]"]
    assert ("plate.ome.tif: only its first series (position 1 of 3) is read; positions 2-3 are "
            "not") in ws.warnings


def test_an_image_with_a_preview_page_stays_one_image_and_the_preview_is_named(tmp_path):
    (tmp_path / "images").mkdir()
    _pillow_stack(tmp_path / "images/photo.tif", [(40, 56), (10, 14)])
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["images/photo.tif"]  # its mask stays masks/photo.png
    assert ws["images/photo.tif"].mask_path.name == "photo.png"
    assert "photo.tif: page 2 of 2 is 14x10, not 56x40 like the others: not read" in ws.warnings
    assert ws.load_raw("images/photo.tif")[0, 0] == 1001


def test_a_file_of_several_one_page_series_stays_one_image_and_names_the_rest(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    with tifffile.TiffWriter(tmp_path / "images/multi.tif") as writer:  # 3 series of 1 page
        for number, shape in enumerate([(40, 56), (30, 40), (40, 56)], start=1):
            writer.write(_page(number, shape))
    Image.fromarray(np.zeros((40, 56), np.uint8)).save(tmp_path / "masks/multi.png")
    ws = Workspace.open(tmp_path)
    assert [(e.key, e.state) for e in ws] == [("images/multi.tif", ImageState.CORRECTED)]
    assert "multi.tif: only its first series (series 1 of 3) is read; series 2-3 are not" \
        in ws.warnings


def test_a_stack_with_a_thumbnail_page_keeps_its_states_and_mask_pages(tmp_path):
    """Labelled under the first-series numbering (3 slices; file page 4 a thumbnail; file
    page 2 of another size in the middle): reopening keeps every state and mask page."""
    (tmp_path / "images").mkdir()
    path = tmp_path / "images/stk.tif"
    _pillow_stack(path, [(40, 56), (30, 40), (40, 56), (40, 56), (10, 14)])
    ws = Workspace.open(tmp_path)
    keys = [e.key for e in ws]
    assert keys == [f"images/stk.tif [{i} of 3]" for i in range(1, 4)]
    for side, key in enumerate(keys, start=1):
        mask = np.zeros((40, 56), np.uint8)
        mask[:side * 4, :side * 4] = 255  # which slice it was drawn on
        ws.save_mask(key, mask, ImageState.CORRECTED, model_version="v2")
    ws.set_state(keys[0], ImageState.VERIFIED)
    ws.close()

    again = Workspace.open(tmp_path)
    assert [(e.key, e.state) for e in again] == [
        (keys[0], ImageState.VERIFIED), (keys[1], ImageState.CORRECTED),
        (keys[2], ImageState.CORRECTED)]
    assert not any("not in the folder" in w for w in again.warnings)
    assert not any("mask stack has" in w for w in again.warnings)
    assert again[keys[0]].model_version == "v2"
    drawn = [int((again.load_mask(key) > 0).sum()) for key in keys]
    assert drawn == [16, 64, 144]  # each label on the slice it was drawn on
    assert [int(again.load_raw(key)[0, 0]) for key in keys] == [1001, 1003, 1004]
