"""A folder whose task's channels fit none of its images: the notes say the images were skipped
for their channels (not 'no images found', not 'not in the folder'), and the labelled slice's
state and mask come back once the task's channels fit."""

from __future__ import annotations

import numpy as np
import tifffile

from unet_desktop.core.folder.folder_open import channel_misfits
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import binary_scheme

SLICE = "hs.tif [2 of 3]"


def test_images_left_out_by_the_tasks_channels_are_said_so_and_kept(tmp_path):
    data = np.random.default_rng(0).integers(0, 4000, (3, 2, 24, 32), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "hs.tif", data, imagej=True, metadata={"axes": "ZCYX"})
    mask = np.zeros((24, 32), np.uint8)
    mask[4:12, 6:20] = 255
    Workspace.open(tmp_path).save_mask(SLICE, mask, ImageState.CORRECTED)

    save_task(tmp_path, Task("nuclei", binary_scheme(), input_rule={"kind": "data-range"}))
    ws = Workspace.open(tmp_path, writer=True)
    assert len(ws) == 0
    assert [p.name for p, _ in channel_misfits(ws.skipped)] == ["hs.tif"]
    assert not any("no images found" in w or "not in the folder" in w for w in ws.warnings)
    assert any(w.startswith("no image is listed: the task's channels fit none of the 1 image "
                            "file(s)") and "(hs.tif: the image has 2 channels" in w
               for w in ws.warnings)
    assert any(w.startswith(f"1 labelled image(s) are not listed because the task's channels "
                            f"do not fit them ({SLICE}); their masks and states are kept")
               for w in ws.warnings)
    ws.save_manifest()  # the record of the left-out slice is written again, not dropped
    ws.close()

    save_task(tmp_path, Task("nuclei", binary_scheme(),
                             input_rule={"kind": "data-range", "channels": [1]}))
    ws = Workspace.open(tmp_path)
    assert len(ws) == 3 and not ws.skipped
    assert ws[SLICE].state is ImageState.CORRECTED
    np.testing.assert_array_equal(ws.load_mask(SLICE), mask)
