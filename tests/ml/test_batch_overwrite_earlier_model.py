"""Batch predict's ``overwrite`` does what the window's box says ("Overwrite masks predicted
before, by an earlier model or this one"): without it the masks an earlier model predicted are
kept, in a workspace and in an output folder; with it they are predicted again, and a mask in
an output folder changed by hand or not written by unet-desktop is replaced only after a copy
is kept in ``<out>/.unet-desktop/replaced/``."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from tests.ml.test_batch_predict import run, write_images
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask, write_mask
from unet_desktop.core.io.stacks import write_mask_stack
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference.predictor import Predictor

torch.set_num_threads(1)
OTHER_MODEL = "predicted by another model version"  # the skip reason's words


@pytest.fixture
def v1_v2(model_file_factory):
    """Two models of the same classes, as before and after a fine-tune (versions differ)."""
    first, _ = model_file_factory(trimap_scheme(), seed=0, name="v1.safetensors")
    second, _ = model_file_factory(trimap_scheme(), seed=1, name="v2.safetensors")
    v1, v2 = (Predictor.from_file(p, device="cpu", batch_size=2) for p in (first, second))
    assert v1.meta.version != v2.meta.version
    return v1, v2


def _replaced(out):
    folder = out / ".unet-desktop" / "replaced"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_workspace_keeps_an_earlier_models_masks_unless_overwrite(tmp_path, v1_v2):
    v1, v2 = v1_v2
    root = tmp_path / "ws"
    write_images(root / "images", 3)
    ws = Workspace.open(root, trimap_scheme(), writer=True)
    run(v1, ws, overwrite=False)
    before = {e.key: e.mask_path.read_bytes() for e in ws}
    write_images(root / "images", 4)  # a new image since: it has no mask
    ws.close()
    ws = Workspace.open(root, trimap_scheme(), writer=True)

    last, results = run(v2, ws)
    assert (last.predicted, last.skipped) == (1, 3)
    assert results["img_03.png"].status == "predicted"
    for name in ("img_00.png", "img_01.png", "img_02.png"):
        assert OTHER_MODEL in results[name].reason and v1.meta.version in results[name].reason
    assert {k: ws[k].mask_path.read_bytes() for k in before} == before
    assert {ws[k].model_version for k in before} == {v1.meta.version}

    last, _ = run(v2, ws, overwrite=True)
    assert last.predicted == 4
    assert {e.model_version for e in ws} == {v2.meta.version}
    ws.close()


def test_workspace_overwrite_never_touches_a_corrected_mask(tmp_path, v1_v2):
    v1, v2 = v1_v2
    root = tmp_path / "ws"
    write_images(root / "images", 2)
    (root / "masks").mkdir()
    corrected = np.full((30, 40), 1, np.uint8)
    write_mask(root / "masks" / "img_01.png", corrected, trimap_scheme())
    ws = Workspace.open(root, trimap_scheme(), writer=True)
    run(v1, ws)
    last, results = run(v2, ws, overwrite=True)
    assert (last.predicted, last.skipped) == (1, 1)
    assert results["img_01.png"].reason == "kept: marked corrected"
    assert ws["images/img_01.png"].state is ImageState.CORRECTED
    np.testing.assert_array_equal(read_mask(root / "masks" / "img_01.png", trimap_scheme()),
                                  corrected)
    ws.close()


def test_output_folder_keeps_an_earlier_models_masks_unless_overwrite(tmp_path, v1_v2):
    v1, v2 = v1_v2
    write_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    run(v1, tmp_path / "in", out)
    before = {p.name: p.read_bytes() for p in out.glob("img_*.png")}

    last, results = run(v2, tmp_path / "in", out)
    assert (last.predicted, last.skipped) == (0, 2)
    assert all(OTHER_MODEL in r.reason for r in results.values())
    assert {p.name: p.read_bytes() for p in out.glob("img_*.png")} == before

    last, results = run(v2, tmp_path / "in", out, overwrite=True)
    assert last.predicted == 2 and not any(r.reason for r in results.values())
    assert _replaced(out) == []  # the app's own masks: nothing to keep


def test_overwrite_keeps_a_copy_of_a_hand_corrected_mask(tmp_path, v1_v2):
    v1, _ = v1_v2
    write_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    run(v1, tmp_path / "in", out)
    correction = np.full((30, 40), 1, np.uint8)
    correction[5:15, 5:25] = 3
    write_mask(out / "img_01.png", correction, trimap_scheme())  # edited in another program
    hand = (out / "img_01.png").read_bytes()

    last, results = run(v1, tmp_path / "in", out, overwrite=True)  # same model version
    assert last.predicted == 2
    assert (out / "img_01.png").read_bytes() != hand
    kept = _replaced(out)
    assert len(kept) == 1 and kept[0].read_bytes() == hand
    assert kept[0].name.startswith("img_01-") and kept[0].suffix == ".png"
    note = results["img_01.png"].reason
    assert str(kept[0]) in note and "changed after unet-desktop wrote it" in note
    assert results["img_00.png"].reason == ""


def test_overwrite_keeps_a_copy_of_a_mask_it_did_not_write(tmp_path, v1_v2):
    v1, _ = v1_v2
    write_images(tmp_path / "in", 1)
    out = tmp_path / "out"
    out.mkdir()
    users = np.full((30, 40), 2, np.uint8)
    write_mask(out / "img_00.png", users, trimap_scheme())
    mine = (out / "img_00.png").read_bytes()

    last, results = run(v1, tmp_path / "in", out)
    assert last.skipped == 1 and "not written by unet-desktop" in results["img_00.png"].reason
    last, results = run(v1, tmp_path / "in", out, overwrite=True)
    assert last.predicted == 1
    kept = _replaced(out)
    assert [p.read_bytes() for p in kept] == [mine]
    assert str(kept[0]) in results["img_00.png"].reason


def test_overwrite_keeps_a_copy_of_a_corrected_mask_stack(tmp_path, v1_v2):
    v1, v2 = v1_v2
    volume = np.random.default_rng(0).integers(0, 255, (3, 30, 40, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "vol.tif", volume, photometric="rgb")
    out = tmp_path / "out"
    run(v1, tmp_path / "vol.tif", out)
    stack = tifffile.imread(out / "vol.tif")
    corrected = np.full((30, 40), 1, np.uint8)
    corrected[5:15, 5:25] = 3
    assert not np.array_equal(stack[1], corrected)
    stack[1] = corrected  # a page corrected in Fiji
    write_mask_stack(out / "vol.tif", list(stack), trimap_scheme())
    edited = (out / "vol.tif").read_bytes()

    last, results = run(v2, tmp_path / "vol.tif", out, overwrite=True)
    assert last.predicted == 3
    assert not np.array_equal(tifffile.imread(out / "vol.tif")[1], corrected)
    kept = _replaced(out)
    assert [p.read_bytes() for p in kept] == [edited]
    assert sum(str(kept[0]) in r.reason for r in results.values()) == 1
