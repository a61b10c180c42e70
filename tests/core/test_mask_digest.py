"""One rule for the digest of a mask as stored now (``core.folder.mask_digest``), used by the
fine-tune's verdict and the learning loop to tell a mask edited since a run read it: it is the
digest that run recorded (``ml.training.dataset.load_workspace_sample``), for a mask file (its
bytes) and for a slice of a mask stack (its own values, not the whole file's)."""

from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from unet_desktop.core.folder.mask_digest import stored_mask_digest
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.ml.training.dataset import load_workspace_sample

SLICE, PLAIN = "volume.tif [2 of 3]", "plain.png"


def test_the_digest_is_the_one_a_run_records_for_a_file_and_a_slice(tmp_path):
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "volume.tif", rng.integers(0, 255, (3, 24, 28), dtype=np.uint8),
                     photometric="minisblack")
    Image.fromarray(rng.integers(0, 255, (24, 28), dtype=np.uint8)).save(tmp_path / PLAIN)
    ws = Workspace.open(tmp_path)
    mask = np.zeros((24, 28), np.uint8)
    mask[:5] = 255
    for key in (SLICE, PLAIN):
        ws.save_mask(key, mask, ImageState.CORRECTED)
    ws = Workspace.open(tmp_path)

    for key in (SLICE, PLAIN):
        recorded = load_workspace_sample(ws, ws[key], in_channels=1).mask_sha1
        assert stored_mask_digest(ws, key) == recorded, key
    assert stored_mask_digest(ws, SLICE) != stored_mask_digest(ws, PLAIN)  # values, not file
