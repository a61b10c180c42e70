"""Names the file system allows (up to 255 bytes) can be written: the temporary file of an
atomic write was named after its destination plus 14 bytes, so a mask name over about 241 bytes
could not be saved, and a mask kept aside in replaced/ added 16 more."""

from __future__ import annotations

import os
import time

import numpy as np
from PIL import Image

from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io import atomic
from unet_desktop.core.io.atomic import atomic_write_bytes, remove_stale_temp_files


def test_a_255_byte_name_is_written_atomically(tmp_path):
    path = tmp_path / ("n" * 251 + ".bin")
    seen = []
    atomic.atomic_write(path, lambda f: seen.append(os.listdir(tmp_path)) or f.write(b"data"))
    assert path.read_bytes() == b"data"
    [[temp]] = seen
    assert temp.startswith(".unet-") and temp.endswith(".tmp") and len(temp) == 18


def test_stale_temp_files_of_both_namings_are_removed(tmp_path):
    atomic_write_bytes(tmp_path / "keep.bin", b"x")
    new, old = tmp_path / ".unet-ab12_xyz.tmp", tmp_path / ".m.png.ab12_xyz.tmp"
    hour_ago = time.time() - 7200
    for path in (new, old):
        path.write_bytes(b"")
        os.utime(path, (hour_ago, hour_ago))
    assert sorted(remove_stale_temp_files(tmp_path)) == sorted([new, old])
    assert (tmp_path / "keep.bin").exists()


def test_masks_of_long_and_multibyte_names_save_and_are_kept_aside(tmp_path):
    stems = ["L" * 250, "細" * 83]  # a 254-byte and a 253-byte image name
    for stem in stems:
        Image.fromarray(np.zeros((6, 6), np.uint8)).save(tmp_path / f"{stem}.png")
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(tmp_path / "masks" / f"{stems[0]}.png")
    ws = Workspace.open(tmp_path, writer=True)
    ws.check_masks()
    assert f"{stems[0]}.png" in ws.invalid  # wrong size: kept aside before the save
    mask = np.zeros((6, 6), np.uint8)
    mask[1:3, 1:3] = 255
    for stem in stems:
        ws.save_mask(f"{stem}.png", mask, ImageState.CORRECTED)
    ws.close()
    again = Workspace.open(tmp_path)
    for stem in stems:
        np.testing.assert_array_equal(again.load_mask(f"{stem}.png"), mask)
    [kept] = (tmp_path / ".unet-desktop" / "replaced").iterdir()
    assert kept.name.startswith("L" * 100) and len(os.fsencode(kept.name)) <= 255
    with Image.open(kept) as copy:
        assert copy.size == (2, 2)
