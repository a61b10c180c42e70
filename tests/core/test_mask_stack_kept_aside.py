"""Saving one slice rewrites its stack's whole mask file: when that rewrite would drop a labelled
page (another slice's invalid page, pages beyond the image's slices), the user's file is first
copied to ``.unet-desktop/replaced/``; a rewrite that drops nothing keeps no copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.stacks import rewrite_loses_pages


def _stack_folder(root: Path, slices: int, labels: np.ndarray) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    tifffile.imwrite(root / "images/vol.tif",
                     rng.integers(0, 255, (slices, 16, 20), dtype=np.uint8),
                     photometric="minisblack")
    tifffile.imwrite(root / "masks/vol.tif", labels, photometric="minisblack")
    return root / "masks/vol.tif"


def _labels(pages: int) -> np.ndarray:
    labels = np.zeros((pages, 16, 20), np.uint8)
    for i in range(pages):
        labels[i, : 2 + i] = 255  # a different label on every page
    return labels


def _kept(root: Path) -> list[Path]:
    return sorted((root / ".unet-desktop" / "replaced").glob("vol-*.tif"))


def test_another_slices_invalid_page_is_kept_aside_before_the_rewrite(tmp_path):
    users = _labels(3)
    users[1, 0, 0] = 7  # a stray value on page 2: its slice's mask is invalid
    mask_path = _stack_folder(tmp_path, 3, users)
    ws = Workspace.open(tmp_path, writer=True)
    keys = [e.key for e in ws]
    assert list(ws.check_masks()) == [keys[1]]
    new = np.full((16, 20), 255, np.uint8)
    ws.save_mask(keys[0], new, ImageState.CORRECTED)
    [kept] = _kept(tmp_path)
    np.testing.assert_array_equal(tifffile.imread(kept), users)  # page 2 as the user made it
    rewritten = tifffile.imread(mask_path)
    np.testing.assert_array_equal(rewritten[0], new)
    np.testing.assert_array_equal(rewritten[2], users[2])
    ws.save_mask(keys[2], users[2], ImageState.VERIFIED)  # nothing more to lose: no new copy
    assert _kept(tmp_path) == [kept]
    ws.close()


def test_pages_beyond_the_images_slices_are_kept_aside_before_the_rewrite(tmp_path):
    users = _labels(5)
    mask_path = _stack_folder(tmp_path, 3, users)
    ws = Workspace.open(tmp_path, writer=True)
    key = ws.entries[0].key
    ws.save_mask(key, ws.load_mask(key), ImageState.CORRECTED)
    [kept] = _kept(tmp_path)
    np.testing.assert_array_equal(tifffile.imread(kept), users)  # all 5 pages
    np.testing.assert_array_equal(tifffile.imread(mask_path), users[:3])
    ws.save_mask(key, ws.load_mask(key), ImageState.VERIFIED)
    assert _kept(tmp_path) == [kept]
    ws.close()


def test_a_rewrite_that_drops_no_labelled_page_keeps_no_copy(tmp_path):
    users = _labels(3)
    _stack_folder(tmp_path, 3, users)
    ws = Workspace.open(tmp_path, writer=True)
    for entry in ws:
        ws.save_mask(entry.key, ws.load_mask(entry.key), ImageState.VERIFIED)
    assert _kept(tmp_path) == []
    ws.close()


def test_rewrite_loses_pages_reads_the_header(tmp_path):
    path = tmp_path / "labels.tif"
    assert not rewrite_loses_pages(path, 0, 3, set())  # no file yet
    tifffile.imwrite(path, _labels(4), photometric="minisblack")
    assert not rewrite_loses_pages(path, 0, 4, {1, 2, 3})
    assert rewrite_loses_pages(path, 0, 4, {1, 3})  # page 3 not kept
    assert rewrite_loses_pages(path, 0, 3, {1, 2, 3})  # page 4 beyond the slices
    path.write_bytes(b"II*\x00broken")
    assert rewrite_loses_pages(path, 0, 3, set())
