"""A slice of a multi-page TIFF, painted and saved, then undone back to no mask and saved: it is
unlabeled again (not a correction, not trained on), its page of the mask stack is listed
unlabeled, and the stack's other slices keep their masks."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.gui.conftest import open_window
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.stacks import read_mask_stack_header


def paint(session, rows: slice) -> np.ndarray:
    mask = session.document.mask.copy()
    mask[rows] = 255
    session.apply(delta_from_masks(session.document.mask, mask, "paint"))
    assert session.save("save")
    return mask


def test_a_slice_undone_to_no_mask_is_unlabeled_and_its_stack_keeps_the_others(qtbot,
                                                                               tmp_path):
    folder = tmp_path / "v"
    folder.mkdir()
    rng = np.random.default_rng(0)
    tifffile.imwrite(folder / "volume.tif", rng.integers(0, 255, (3, 32, 40), np.uint8),
                     photometric="minisblack")
    win = open_window(qtbot)
    assert win.open_folder(folder)
    s = win.session
    first, second = s.workspace[0].key, s.workspace[1].key
    s.open_image(first)
    kept = paint(s, slice(2, 6))
    s.open_image(second)
    paint(s, slice(20, 24))
    assert s.workspace[second].state is ImageState.CORRECTED
    while win.actions.undo.isEnabled():
        s.undo()
    assert s.save("save")
    ws = s.workspace
    assert ws[second].state is ImageState.UNLABELED
    assert [e.key for e in ws.labelled()] == [first]
    header = read_mask_stack_header(ws[second].mask_path)
    assert header.unlabeled == {1, 2}
    win.close()

    again = Workspace.open(folder)  # as the files hold it
    assert [e.state for e in again] == [ImageState.CORRECTED, ImageState.UNLABELED,
                                        ImageState.UNLABELED]
    np.testing.assert_array_equal(again.load_mask(first), kept)
