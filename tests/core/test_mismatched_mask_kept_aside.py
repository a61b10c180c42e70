"""A mask file of another size than its image is recorded invalid, whatever reads the image
(Pillow or tifffile) and whoever finds it (the folder check or opening the image), so that the
save which replaces it first keeps the user's file in ``.unet-desktop/replaced/``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.core.editing.history import HistoryStore
from unet_desktop.core.editing.history_archive import HistoryArchive
from unet_desktop.core.folder.open_document import open_document
from unet_desktop.core.folder.workspace import ImageState, Workspace


def _write_image(path: Path, kind: str) -> None:
    rng = np.random.default_rng(0)
    if kind == "float64":
        tifffile.imwrite(path, rng.random((12, 16)))
    elif kind == "float16":
        tifffile.imwrite(path, rng.random((12, 16)).astype(np.float16))
    elif kind == "four-samples":
        tifffile.imwrite(path, rng.integers(0, 255, (12, 16, 4), dtype=np.uint8),
                         photometric="minisblack", planarconfig="contig")
    else:
        Image.fromarray(rng.integers(0, 255, (12, 16), dtype=np.uint8)).save(path)


def _folder_with_half_size_mask(root: Path, kind: str) -> tuple[Path, np.ndarray]:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    name = "img.png" if kind == "png" else "img.tif"
    _write_image(root / "images" / name, kind)
    users = np.zeros((6, 8), np.uint8)
    users[:3] = 255
    Image.fromarray(users).save(root / "masks/img.png")
    return root / "masks/img.png", users


def _kept(root: Path) -> list[Path]:
    return sorted((root / ".unet-desktop" / "replaced").glob("img-*.png"))


@pytest.mark.parametrize("kind", ["float64", "float16", "four-samples", "png"])
def test_the_folder_check_flags_the_mask_of_a_tiff_pillow_cannot_open(tmp_path, kind):
    mask_path, users = _folder_with_half_size_mask(tmp_path, kind)
    ws = Workspace.open(tmp_path, writer=True)
    key = ws.entries[0].key
    found = ws.check_masks()
    assert found == {key: f"{mask_path}: mask is 8x6 but its image is 16x12"}
    ws.save_mask(key, np.zeros((12, 16), np.uint8), ImageState.CORRECTED)
    [kept] = _kept(tmp_path)
    np.testing.assert_array_equal(np.array(Image.open(kept)), users)
    ws.close()


@pytest.mark.parametrize("kind", ["float64", "png"])
def test_opening_the_image_records_the_mismatch_so_the_save_keeps_the_file(tmp_path, kind):
    mask_path, users = _folder_with_half_size_mask(tmp_path, kind)
    ws = Workspace.open(tmp_path, writer=True)
    key = ws.entries[0].key
    reports: list[str] = []
    doc = open_document(ws, key, HistoryStore(), HistoryArchive(tmp_path / "archive"),
                        reports.append)
    assert doc is not None and doc.mask.shape == (12, 16)
    expected = f"{mask_path}: mask is 8x6 but its image is 16x12; starting from an empty mask"
    assert reports == [expected]
    assert key in ws.invalid
    ws.save_mask(key, doc.mask, ImageState.CORRECTED)
    [kept] = _kept(tmp_path)
    np.testing.assert_array_equal(np.array(Image.open(kept)), users)
    assert key not in ws.invalid
    ws.close()
