"""A batch run cancelled part-way through a stack, resumed by another model version (after a
fine-tune) without Overwrite: the slices the stack lacks are predicted (only images without a
mask are), the pages the earlier model wrote are kept; in an output folder and in a workspace."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.stacks import read_mask_stack_header
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.inference.batch_folder import OTHER_MODEL
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.predictor import Predictor

torch.set_num_threads(1)


@pytest.fixture
def v1_v2(model_file_factory):
    """Two models of the same classes, as before and after a fine-tune (versions differ)."""
    first, _ = model_file_factory(trimap_scheme(), seed=0, name="v1.safetensors")
    second, _ = model_file_factory(trimap_scheme(), seed=1, name="v2.safetensors")
    v1, v2 = (Predictor.from_file(p, device="cpu", batch_size=1) for p in (first, second))
    assert v1.meta.version != v2.meta.version
    return v1, v2


def _volume(pages: int) -> np.ndarray:
    volume = np.random.default_rng(0).integers(0, 40, (pages, 24, 28), dtype=np.uint8)
    for k in range(pages):
        volume[k, 2 * k: 2 * k + 4] = 230
    return volume


def _run(predictor, source, out=None, cancel_after=None):
    """Run ``batch_predict``; cancel it once ``cancel_after`` slices are predicted. The last
    progress and every slice's result."""
    cancel = CancelToken()
    results = []
    for last in batch_predict(predictor, source, out, cancel=cancel, decode_workers=1):
        results += last.results
        if cancel_after and sum(r.status == "predicted" for r in results) >= cancel_after:
            cancel.cancel()
    return last, results


def test_output_folder_predicts_the_slices_a_cancelled_run_left(tmp_path, v1_v2):
    v1, v2 = v1_v2
    tifffile.imwrite(tmp_path / "vol.tif", _volume(6))
    out = tmp_path / "out"
    first, _ = _run(v1, tmp_path / "vol.tif", out, cancel_after=3)
    assert first.cancelled
    unlabeled = read_mask_stack_header(out / "vol.tif").unlabeled
    assert unlabeled and len(unlabeled) < 6
    before = tifffile.imread(out / "vol.tif")

    last, results = _run(v2, tmp_path / "vol.tif", out)
    assert (last.predicted, last.skipped) == (len(unlabeled), 6 - len(unlabeled))
    predicted = {int(r.key.split("[")[1].split()[0]) - 1 for r in results
                 if r.status == "predicted"}
    assert predicted == unlabeled
    kept = [r for r in results if r.status == "skipped"]
    assert all(OTHER_MODEL in r.reason and v1.meta.version in r.reason for r in kept)
    assert not read_mask_stack_header(out / "vol.tif").unlabeled
    masks = tifffile.imread(out / "vol.tif")
    labelled = [i for i in range(6) if i not in unlabeled]
    np.testing.assert_array_equal(masks[labelled], before[labelled])  # v1's pages kept


def test_workspace_predicts_the_slices_a_cancelled_run_left(tmp_path, v1_v2):
    v1, v2 = v1_v2
    root = tmp_path / "ws"
    (root / "images").mkdir(parents=True)
    tifffile.imwrite(root / "images" / "vol.tif", _volume(6))
    ws = Workspace.open(root, trimap_scheme(), writer=True)
    first, _ = _run(v1, ws, cancel_after=3)
    assert first.cancelled
    left = {e.key for e in ws if e.model_version is None}
    assert left and len(left) < 6

    last, results = _run(v2, ws)
    assert {r.key for r in results if r.status == "predicted"} == left
    assert last.skipped == 6 - len(left)
    assert {e.key for e in ws if e.model_version == v2.meta.version} == left
    ws.close()
