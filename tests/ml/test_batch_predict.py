"""Batch prediction: folders and workspaces, resume, protection of user masks, cancel, ranks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.core.labels import trimap_scheme
from unet_desktop.core.maskio import read_mask, write_mask
from unet_desktop.core.progress import CancelToken
from unet_desktop.core.workspace import ImageState, Workspace
from unet_desktop.ml.batch_predict import RECORD_NAME, batch_predict
from unet_desktop.ml.predictor import Predictor

torch.set_num_threads(1)


def write_images(folder, count, size=(40, 30)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img_{i:02d}.png")


def run(*args, **kwargs):
    reports = list(batch_predict(*args, **kwargs))
    results = [r for report in reports for r in report.results]
    return reports[-1], {r.image_path.name: r for r in results}


@pytest.fixture
def predictor(tiny_model_file):
    return Predictor.from_file(tiny_model_file, device="cpu", batch_size=2)


@pytest.mark.reliability("images", "batch predict: broken file reported, the rest predicted")
def test_folder_with_a_broken_file(tmp_path, predictor):
    write_images(tmp_path / "in", 5)
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    last, results = run(predictor, tmp_path / "in", tmp_path / "out")
    assert last.finished and not last.cancelled
    assert (last.total, last.predicted, last.failed, last.skipped) == (6, 5, 1, 0)
    assert "broken.jpg" in results["broken.jpg"].reason
    for i in range(5):
        mask = read_mask(tmp_path / "out" / f"img_{i:02d}.png", trimap_scheme())
        assert mask.shape == (30, 40) and set(np.unique(mask)) <= {1, 2, 3}
    record = json.loads((tmp_path / "out" / f"{RECORD_NAME}.json").read_text())["items"]
    assert sorted(record) == [f"img_{i:02d}.png" for i in range(5)]
    assert {v["model_version"] for v in record.values()} == {predictor.meta.version}


@pytest.mark.reliability("concurrency", "batch predict keeps masks it did not write")
def test_resume_overwrite_and_user_masks(tmp_path, predictor):
    write_images(tmp_path / "in", 4)
    out = tmp_path / "out"
    run(predictor, tmp_path / "in", out)
    user_mask = np.full((30, 40), 3, np.uint8)
    (out / "img_01.png").unlink()
    write_mask(out / "img_01.png", user_mask, trimap_scheme())
    record = out / f"{RECORD_NAME}.json"
    items = json.loads(record.read_text())
    del items["items"]["img_01.png"]  # the user's own mask, unknown to the record
    record.write_text(json.dumps(items))

    last, results = run(predictor, tmp_path / "in", out)
    assert (last.predicted, last.skipped) == (0, 4)
    assert "already predicted" in results["img_00.png"].reason
    assert "not written by unet-desktop" in results["img_01.png"].reason
    np.testing.assert_array_equal(read_mask(out / "img_01.png", trimap_scheme()), user_mask)

    last, _ = run(predictor, tmp_path / "in", out, overwrite=True)
    assert last.predicted == 4
    assert not np.array_equal(read_mask(out / "img_01.png", trimap_scheme()), user_mask)


def test_probabilities_are_written_on_request(tmp_path, predictor):
    write_images(tmp_path / "in", 2)
    run(predictor, tmp_path / "in" / "img_01.png", tmp_path / "out", write_probs=True)
    probs = np.load(tmp_path / "out" / "img_01_probs.npy")
    assert probs.dtype == np.float16 and probs.shape == (3, 30, 40)
    np.testing.assert_allclose(probs.astype(np.float32).sum(0), 1.0, atol=5e-3)
    assert not (tmp_path / "out" / "img_00.png").exists()


@pytest.mark.reliability("process", "batch predict cancelled midway, then resumed")
def test_cancel_stops_early_and_keeps_the_record_consistent(tmp_path, predictor):
    write_images(tmp_path / "in", 12)
    cancel = CancelToken()
    reports = []
    for report in batch_predict(predictor, tmp_path / "in", tmp_path / "out", cancel=cancel):
        reports.append(report)
        cancel.cancel()
    last = reports[-1]
    assert last.cancelled and last.finished and 0 < last.predicted < 12
    written = sorted(p.name for p in (tmp_path / "out").glob("img_*.png"))
    record = json.loads((tmp_path / "out" / f"{RECORD_NAME}.json").read_text())["items"]
    assert sorted(record) == written and len(written) == last.predicted

    last, _ = run(predictor, tmp_path / "in", tmp_path / "out")  # resumes
    assert (last.skipped, last.predicted) == (len(written), 12 - len(written))


def test_closing_the_generator_finishes_pending_writes(tmp_path, predictor):
    write_images(tmp_path / "in", 8)
    gen = batch_predict(predictor, tmp_path / "in", tmp_path / "out")
    next(gen)
    gen.close()
    written = sorted(p.name for p in (tmp_path / "out").glob("img_*.png"))
    record = json.loads((tmp_path / "out" / f"{RECORD_NAME}.json").read_text())["items"]
    assert written and sorted(record) == written


def test_ranks_split_the_folder(tmp_path, predictor, monkeypatch):
    write_images(tmp_path / "in", 5)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    _last, results = run(predictor, tmp_path / "in", tmp_path / "out")
    assert sorted(results) == ["img_01.png", "img_03.png"]
    assert (tmp_path / "out" / f"{RECORD_NAME}.rank1.json").is_file()


@pytest.mark.reliability("concurrency", "batch predict never overwrites corrected masks")
def test_workspace_keeps_corrected_masks_and_records_states(tmp_path, predictor):
    root = tmp_path / "ws"
    write_images(root / "images", 4)
    (root / "masks").mkdir()
    corrected = np.full((30, 40), 1, np.uint8)
    write_mask(root / "masks" / "img_02.png", corrected, trimap_scheme())
    ws = Workspace.open(root, trimap_scheme())
    assert ws[2].image_path.name == "img_02.png" and ws[2].state is ImageState.CORRECTED

    last, results = run(predictor, ws)
    assert (last.predicted, last.skipped) == (3, 1)
    assert "kept: marked corrected" in results["img_02.png"].reason
    np.testing.assert_array_equal(read_mask(root / "masks" / "img_02.png", trimap_scheme()),
                                  corrected)

    reopened = Workspace.open(root)
    states = {e.image_path.name: e for e in reopened}
    assert states["img_02.png"].state is ImageState.CORRECTED
    for name in ("img_00.png", "img_01.png", "img_03.png"):
        assert states[name].state is ImageState.PREDICTED
        assert states[name].model_version == predictor.meta.version
        assert 0.0 <= states[name].uncertainty <= 1.0
        assert reopened.load_mask(states[name].key).shape == (30, 40)

    last, _ = run(predictor, reopened)
    assert (last.predicted, last.skipped) == (0, 4)
