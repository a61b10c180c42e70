"""Batch prediction: folders and workspaces, resume, protection of user masks, cancel, ranks."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask, write_mask
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.batch_progress import BEING_EDITED
from unet_desktop.ml.inference.prediction_record import RECORD_NAME
from unet_desktop.ml.inference.predictor import Predictor

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


@pytest.mark.reliability("concurrency", "batch predict skips images being edited, also when "
                                        "editing starts during the run")
def test_protected_images_are_skipped_when_asked_right_before_each_write(tmp_path, predictor):
    root = tmp_path / "ws"
    write_images(root / "images", 6)
    ws = Workspace.open(root, trimap_scheme())
    first_mask = root / "masks" / "img_00.png"
    asked: list[tuple[str, bool]] = []  # (key, asked on the calling thread)

    def protect(key: str) -> bool:
        asked.append((key, threading.current_thread() is threading.main_thread()))
        # img_01 is on screen from the start; img_04 is opened once the run has written a mask
        return key == "images/img_01.png" or (key == "images/img_04.png" and first_mask.exists())

    last, results = run(predictor, ws, protect=protect)
    assert (last.predicted, last.skipped) == (4, 2)
    for name in ("img_01.png", "img_04.png"):
        assert results[name].status == "skipped" and results[name].reason == BEING_EDITED
        assert not (root / "masks" / name).exists()
        assert ws[f"images/{name}"].state is ImageState.UNLABELED
    assert sorted(k for k, _ in asked) == [e.key for e in ws]  # once each, before its write
    assert not any(on_main for _, on_main in asked)  # on the writer thread

    last, results = run(predictor, ws)  # no longer protected: the next run predicts them
    assert last.predicted == 2 and results["img_04.png"].status == "predicted"


def test_protect_applies_to_folder_mode_too(tmp_path, predictor):
    write_images(tmp_path / "in", 3)
    last, results = run(predictor, tmp_path / "in", tmp_path / "out",
                        protect=lambda key: key == "img_02.png")
    assert (last.predicted, last.skipped) == (2, 1)
    assert results["img_02.png"].reason == BEING_EDITED
    assert not (tmp_path / "out" / "img_02.png").exists()
    record = json.loads((tmp_path / "out" / f"{RECORD_NAME}.json").read_text())["items"]
    assert sorted(record) == ["img_00.png", "img_01.png"]


def test_folder_record_ignores_journal_entries_whose_mask_was_not_written(tmp_path, predictor):
    write_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    user_mask = np.full((30, 40), 3, np.uint8)
    write_mask(out / "img_00.png", user_mask, trimap_scheme())  # the user's, unknown to us
    journal = out / f"{RECORD_NAME}.journal"
    stat = (out / "img_00.png").stat()
    entry = {"image": "img_00.png", "model_version": predictor.meta.version, "uncertainty": 0.1}
    journal.write_text(  # a run killed before it replaced the user's mask (it had overwrite)
        json.dumps({"name": "img_00.png", "before": [stat.st_ino, stat.st_mtime_ns,
                                                     stat.st_size], **entry}) + "\n")
    last, results = run(predictor, tmp_path / "in", out)
    assert "not written by unet-desktop" in results["img_00.png"].reason
    np.testing.assert_array_equal(read_mask(out / "img_00.png", trimap_scheme()), user_mask)
    assert last.predicted == 1
