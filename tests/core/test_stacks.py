"""Multi-page TIFF stacks: slices as images of the folder, page-aligned mask stacks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

from unet_desktop.core.errors import FileError, ImageReadError
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.stacks import (
    probe_tiff,
    read_mask_page,
    read_mask_stack_header,
    read_slice,
    write_mask_stack,
)
from unet_desktop.core.labels import binary_scheme


def _volume(pages: int = 6, height: int = 20, width: int = 24) -> np.ndarray:
    rng = np.random.default_rng(pages)
    return rng.integers(0, 255, (pages, height, width), dtype=np.uint8)


def _labels(pages: int = 6, height: int = 20, width: int = 24) -> np.ndarray:
    rng = np.random.default_rng(100 + pages)
    return (rng.random((pages, height, width)) > 0.5).astype(np.uint8) * 255


def test_probe_counts_slices_and_channels_of_the_common_layouts(tmp_path):
    tifffile.imwrite(tmp_path / "plain.tif", _volume(7))
    tifffile.imwrite(tmp_path / "ij.tif", np.zeros((5, 2, 16, 18), np.uint16), imagej=True,
                     metadata={"axes": "ZCYX"})
    tifffile.imwrite(tmp_path / "ome.tif", np.zeros((2, 4, 16, 18), np.uint16), ome=True,
                     metadata={"axes": "CZYX"})
    tifffile.imwrite(tmp_path / "rgb.tif", np.zeros((3, 16, 18, 3), np.uint8),
                     photometric="rgb")
    found = {name: probe_tiff(tmp_path / name) for name in
             ("plain.tif", "ij.tif", "ome.tif", "rgb.tif")}
    assert {n: (p.slices, p.height, p.width, p.channels) for n, p in found.items()} == {
        "plain.tif": (7, 20, 24, 1), "ij.tif": (5, 16, 18, 2), "ome.tif": (4, 16, 18, 2),
        "rgb.tif": (3, 16, 18, 3)}


def test_read_slice_gathers_the_channels_of_one_slice_in_file_order(tmp_path):
    data = np.arange(4 * 2 * 6 * 5, dtype=np.uint16).reshape(4, 2, 6, 5)  # Z C Y X
    tifffile.imwrite(tmp_path / "ij.tif", data, imagej=True, metadata={"axes": "ZCYX"})
    ome = np.moveaxis(data, 1, 0)  # C Z Y X: the channels outermost
    tifffile.imwrite(tmp_path / "ome.tif", ome, ome=True, metadata={"axes": "CZYX"})
    for name in ("ij.tif", "ome.tif"):
        for z in range(4):
            got = read_slice(tmp_path / name, z)
            assert got.dtype == np.uint16 and got.shape == (6, 5, 2)
            np.testing.assert_array_equal(got, np.moveaxis(data[z], 0, -1))


def test_a_stack_is_one_entry_per_slice_with_its_own_state_and_mask(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    volume, labels = _volume(12), _labels(12)
    tifffile.imwrite(tmp_path / "images/volume.tif", volume)
    tifffile.imwrite(tmp_path / "masks/volume.tif", labels)  # as ISBI's train-labels.tif
    ws = Workspace.open(tmp_path)
    keys = [e.key for e in ws]
    assert keys == [f"images/volume.tif [{i:02d} of 12]" for i in range(1, 13)]
    assert ws[keys[2]].label == "images/volume.tif [3/12]"  # as the folder list shows it
    assert all(e.state is ImageState.CORRECTED for e in ws)
    np.testing.assert_array_equal(ws.load_image(keys[2]), volume[2])
    np.testing.assert_array_equal(ws.load_mask(keys[2]), labels[2])

    ws.save_mask(keys[2], 255 - labels[2], ImageState.VERIFIED)
    again = Workspace.open(tmp_path)
    assert again[keys[2]].state is ImageState.VERIFIED
    assert again[keys[3]].state is ImageState.CORRECTED
    np.testing.assert_array_equal(again.load_mask(keys[2]), 255 - labels[2])
    for i in (0, 1, 3, 11):
        np.testing.assert_array_equal(again.load_mask(keys[i]), labels[i])
    assert tifffile.imread(tmp_path / "masks/volume.tif").shape == (12, 20, 24)


def test_a_new_stack_gets_a_mask_stack_whose_other_pages_stay_unlabeled(tmp_path):
    tifffile.imwrite(tmp_path / "volume.tif", _volume(5))
    ws = Workspace.open(tmp_path)
    key = "volume.tif [2 of 5]"
    assert ws[key].mask_path == tmp_path / "masks/volume.tif"
    ws.save_mask(key, _labels(5)[1], ImageState.CORRECTED)
    again = Workspace.open(tmp_path)
    assert [e.state for e in again] == [ImageState.UNLABELED, ImageState.CORRECTED] + [
        ImageState.UNLABELED] * 3
    header = read_mask_stack_header(tmp_path / "masks/volume.tif")
    assert header.pages == 5 and header.unlabeled == {0, 2, 3, 4}
    assert tifffile.imread(tmp_path / "masks/volume.tif").shape == (5, 20, 24)  # others read it


_WRITER = textwrap.dedent("""
    import sys, numpy as np
    from unet_desktop.core.labels import binary_scheme
    from unet_desktop.core.io.stacks import write_mask_stack
    path, pages, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    version = 0
    while True:
        version += 1
        # page i of version v: its first (v + i) % height rows are foreground
        stack = []
        for i in range(pages):
            page = np.zeros((height, 64), np.uint8)
            page[: (version + i) % height] = 255
            stack.append(page)
        write_mask_stack(path, stack, binary_scheme())
        print(version, flush=True)
""")


def test_a_mask_stack_killed_mid_write_keeps_every_page_of_one_version(tmp_path):
    pages, height = 30, 97
    tifffile.imwrite(tmp_path / "volume.tif", _volume(pages, height, 64))
    (tmp_path / "masks").mkdir()
    path = tmp_path / "masks/volume.tif"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    seen = set()
    for delay in (0.35, 0.6, 0.9):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(pages),
                                 str(height)], stdout=subprocess.PIPE, env=env, text=True)
        first = proc.stdout.readline()  # at least one stack written
        assert first.strip().isdigit()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        header = read_mask_stack_header(path)
        assert header.pages == pages and not header.unlabeled
        versions = set()
        for i in range(pages):
            page = read_mask_page(path, i, binary_scheme())
            rows = int((page[:, 0] == 255).sum())
            assert (page == 255).sum() == rows * 64  # whole rows: a page is never torn
            versions.add((rows - i) % height)
        assert len(versions) == 1, f"pages of several versions mixed: {versions}"
        seen |= versions
    assert len(seen) > 1  # the kills hit different writes
    ws = Workspace.open(tmp_path)  # the workspace reads the survivor as 30 labelled slices
    assert len(ws) == 30 and all(e.state is ImageState.CORRECTED for e in ws)


def _patched(path: Path, **tags) -> Path:
    with tifffile.TiffFile(path, mode="r+b") as tif:
        for name, value in tags.items():
            tif.pages[0].tags[name].overwrite(value)
    return path


@pytest.mark.reliability("images", "hostile TIFF stacks")
def test_hostile_tiffs_are_refused_naming_the_file(tmp_path):
    bomb = tmp_path / "bomb.tif"  # deflate: a few bytes that declare 200000 x 200000 pixels
    tifffile.imwrite(bomb, np.zeros((16, 16), np.uint8), compression="zlib")
    _patched(bomb, ImageWidth=200000, ImageLength=200000)
    ome = tmp_path / "missing.ome.tif"  # OME-XML promises 30 planes, the file has 3
    tifffile.imwrite(ome, np.zeros((3, 16, 16), np.uint8), ome=True, metadata={"axes": "ZYX"})
    with tifffile.TiffFile(ome, mode="r+b") as tif:
        tag = tif.pages[0].tags["ImageDescription"]
        tag.overwrite(tag.value.replace('SizeZ="3"', 'SizeZ="30"'))
    corrupt = tmp_path / "corrupt.tif"  # a compressed stream cut in the middle
    tifffile.imwrite(corrupt, _volume(3, 64, 64), compression="zlib",
                     photometric="minisblack")
    data = bytearray(corrupt.read_bytes())
    with tifffile.TiffFile(corrupt) as tif:
        offset = tif.pages[1].dataoffsets[0]
    data[offset + 4: offset + 40] = b"\xff" * 36
    corrupt.write_bytes(bytes(data))

    with pytest.raises(ImageReadError, match="bomb.tif: image too large"):
        probe_tiff(bomb)
    with pytest.raises(ImageReadError, match="missing.ome.tif: the header declares 30 pages"):
        probe_tiff(ome)
    with pytest.raises(ImageReadError, match="corrupt.tif: cannot decode slice 2"):
        read_slice(corrupt, 1)
    ws = Workspace.open(tmp_path)  # the folder still opens; the refused files say why
    skipped = {p.name: reason for p, reason in ws.skipped}
    assert "image too large" in skipped["bomb.tif"]
    assert "declares 30 pages" in skipped["missing.ome.tif"]
    assert [e.key for e in ws] == ["corrupt.tif [1 of 3]", "corrupt.tif [2 of 3]", "corrupt.tif [3 of 3]"]
    with pytest.raises(FileError, match="corrupt.tif"):
        ws.load_image("corrupt.tif [2 of 3]")


def test_write_mask_stack_refuses_values_outside_the_scheme(tmp_path):
    bad = np.full((4, 4), 7, np.uint8)
    with pytest.raises(FileError, match="refusing to write values"):
        write_mask_stack(tmp_path / "m.tif", [bad, None], binary_scheme())
    assert not (tmp_path / "m.tif").exists()
