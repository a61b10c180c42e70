"""A slice of a multi-page TIFF whose edits are all undone back to no mask: its page of the mask
stack is listed unlabeled again (the image is unlabeled, no longer a training image), the other
slices keep their masks; the last labelled slice takes the stack file away, as an image's file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.stacks import read_mask_stack_header


def _stack_folder(root: Path, slices: int = 3) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    tifffile.imwrite(root / "images/vol.tif", rng.integers(0, 255, (slices, 16, 20), np.uint8),
                     photometric="minisblack")
    return root / "masks/vol.tif"


def _label(i: int) -> np.ndarray:
    mask = np.zeros((16, 20), np.uint8)
    mask[: 2 + i] = 255
    return mask


def test_a_slice_undone_to_no_mask_is_unlabeled_and_the_others_keep_their_masks(tmp_path):
    mask_path = _stack_folder(tmp_path)
    ws = Workspace.open(tmp_path, writer=True)
    keys = [e.key for e in ws]
    for i in (0, 1):
        ws.save_mask(keys[i], _label(i), ImageState.CORRECTED)
    assert ws.remove_mask(keys[1]) is None  # its own save: no copy kept
    assert ws[keys[1]].state is ImageState.UNLABELED
    assert [e.key for e in ws.labelled()] == [keys[0]]
    assert read_mask_stack_header(mask_path).unlabeled == {1, 2}
    ws.close()

    again = Workspace.open(tmp_path, writer=True)  # as the files hold it
    assert [e.state for e in again] == [ImageState.CORRECTED, ImageState.UNLABELED,
                                        ImageState.UNLABELED]
    np.testing.assert_array_equal(again.load_mask(keys[0]), _label(0))
    assert again.load_mask(keys[1]) is None
    again.close()


def test_the_last_labelled_slice_undone_takes_the_stack_file_aside(tmp_path):
    mask_path = _stack_folder(tmp_path)
    ws = Workspace.open(tmp_path, writer=True)
    key = ws[0].key
    ws.save_mask(key, _label(0), ImageState.CORRECTED)
    kept = ws.remove_mask(key)
    assert not mask_path.exists() and kept is not None and kept.is_file()
    assert ws[key].state is ImageState.UNLABELED and not ws.labelled()
    ws.close()


def test_a_stack_another_program_rewrote_is_copied_aside_before_a_page_is_cleared(tmp_path):
    mask_path = _stack_folder(tmp_path)
    ws = Workspace.open(tmp_path, writer=True)
    keys = [e.key for e in ws]
    for i in (0, 1):
        ws.save_mask(keys[i], _label(i), ImageState.CORRECTED)
    theirs = np.stack([_label(2), _label(2), _label(2)])
    tifffile.imwrite(mask_path, theirs, photometric="minisblack")  # every page labelled
    kept = ws.remove_mask(keys[1])
    np.testing.assert_array_equal(tifffile.imread(kept), theirs)
    assert read_mask_stack_header(mask_path).unlabeled == {1, 2}
    ws.close()
