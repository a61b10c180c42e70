"""Every image plane of a TIFF is a slice numbered as in the file: a page of another size (a
multi-page TIFF without shape metadata) and the other series of a multi-position OME-TIFF are
no longer dropped, and what cannot be shown is named."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.core.errors import ImageReadError
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


def test_a_page_of_another_size_keeps_the_slices_after_it_on_their_file_pages(tmp_path):
    (tmp_path / "images").mkdir()
    path = tmp_path / "images/cells.tif"
    _pillow_stack(path, [(40, 56), (30, 40), (40, 56), (40, 56)])
    assert probe_tiff(path).slices == 4
    for index in (0, 2, 3):
        assert read_slice(path, index)[0, 0] == 1000 + index + 1
    with pytest.raises(ImageReadError, match=r"cells\.tif: slice 2 cannot be shown: page 2 of "
                                             r"4 is 40x30 of uint16, page 1 56x40"):
        read_slice(path, 1)

    ws = Workspace.open(tmp_path)
    keys = [e.key for e in ws]
    assert keys == [f"images/cells.tif [{i} of 4]" for i in range(1, 5)]
    assert any("cells.tif" in w and "slice 2: page 2 of 4 is 40x30" in w for w in ws.warnings)
    ws.save_mask(keys[2], np.full((40, 56), 255, np.uint8), ImageState.CORRECTED)
    header = read_mask_stack_header(tmp_path / "masks/cells.tif")
    assert header.pages == 4 and header.unlabeled == {0, 1, 3}  # page 3 of the image's 4


def test_an_odd_page_in_a_long_stack_is_named_not_a_refused_file(tmp_path):
    path = tmp_path / "long.tif"  # 8 pages or more: tifffile takes it for a uniform stack
    shapes = [(40, 56)] * 10
    shapes[4] = (40, 50)
    _pillow_stack(path, shapes)
    assert probe_tiff(path).slices == 10
    assert [int(read_slice(path, i)[0, 0]) for i in (3, 5, 9)] == [1004, 1006, 1010]
    with pytest.raises(ImageReadError, match="slice 5 cannot be shown: page 5 of 10 is 50x40"):
        read_slice(path, 4)


def test_every_position_of_a_multi_position_ome_tiff_is_listed_in_file_order(tmp_path):
    path = tmp_path / "plate.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as writer:
        for position in range(3):
            planes = np.stack([_page(2 * position + z + 1) for z in range(2)])
            writer.write(planes, metadata={"axes": "ZYX"})
    layout = probe_tiff(path)
    assert (layout.slices, layout.note) == (6, "")
    assert [int(read_slice(path, i)[0, 0]) for i in range(6)] == [1001, 1002, 1003, 1004,
                                                                  1005, 1006]


def test_a_position_of_another_size_is_listed_and_named(tmp_path):
    path = tmp_path / "plate.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as writer:
        writer.write(np.stack([_page(1), _page(2)]), metadata={"axes": "ZYX"})
        writer.write(np.stack([_page(3, (30, 40))]), metadata={"axes": "ZYX"})
        writer.write(np.stack([_page(4)]), metadata={"axes": "ZYX"})
    layout = probe_tiff(path)
    assert layout.slices == 4
    assert "slice 3: series 2 of 3 holds 40x30 of uint16, the first series 56x40" in layout.note
    assert int(read_slice(path, 3)[0, 0]) == 1004
    with pytest.raises(ImageReadError, match="slice 3 cannot be shown: series 2 of 3"):
        read_slice(path, 2)


def test_an_image_with_a_preview_page_stays_one_image_and_the_preview_is_named(tmp_path):
    (tmp_path / "images").mkdir()
    _pillow_stack(tmp_path / "images/photo.tif", [(40, 56), (10, 14)])
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["images/photo.tif"]  # its mask stays masks/photo.png
    assert ws["images/photo.tif"].mask_path.name == "photo.png"
    assert any("photo.tif: only its first image is read" in w and "page 2 of 2 is 14x10" in w
               for w in ws.warnings)
    assert ws.load_raw("images/photo.tif")[0, 0] == 1001


def test_a_file_read_as_one_image_before_stays_one_and_names_its_other_series(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    with tifffile.TiffWriter(tmp_path / "images/multi.tif") as writer:  # 3 series of 1 page
        for number, shape in enumerate([(40, 56), (30, 40), (40, 56)], start=1):
            writer.write(_page(number, shape))
    Image.fromarray(np.zeros((40, 56), np.uint8)).save(tmp_path / "masks/multi.png")
    ws = Workspace.open(tmp_path)
    assert [(e.key, e.state) for e in ws] == [("images/multi.tif", ImageState.CORRECTED)]
    assert any(w.startswith("multi.tif: only its first image is read; not read: series 2 of "
                            "3 holds 40x30 of uint16, the first series 56x40") and
               "series 3 of 3 holds 56x40 of uint16" in w for w in ws.warnings)
