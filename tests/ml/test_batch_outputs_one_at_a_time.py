"""A batch prediction kept every image's full-size outputs of a batch at once (four 8000 x 8000
images with probabilities: 4 x 768 MB of float32, an uncertainty map each that no output writes,
and more batches in the writer's queue). Now the predictor makes no uncertainty map for the
writer and makes the probabilities in float16 as they are saved; big images go to the predictor
one at a time, each handed to the writer before the next, so at most two images' probabilities
(the one being written, the one being predicted) are alive at once. What is written is the same."""

from __future__ import annotations

import collections
import json
import threading
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference import batch_pipeline
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.predictor import Predictor

torch.set_num_threads(1)


@pytest.fixture
def predictor(model_file_factory):
    path, _ = model_file_factory(trimap_scheme())
    return Predictor.from_file(path, device="cpu", batch_size=4)


def _folder(tmp_path: Path, count: int = 4, side: int = 120) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for k in range(count):
        image = np.random.default_rng(k).integers(0, 60, (side, side + 10, 3), np.uint8)
        cv2.circle(image, (side // 2, side // 2), side // (3 + k), (200, 180, 160), -1)
        cv2.imwrite(str(folder / f"im{k}.png"), image)
    return folder


def test_big_images_keep_at_most_two_images_probabilities_alive(tmp_path, predictor,
                                                                 monkeypatch):
    # every image counts as big: one per predictor call, the writer's backlog one call's
    monkeypatch.setattr(batch_pipeline, "CALL_OUTPUT_BYTES", 0, raising=False)
    monkeypatch.setattr(batch_pipeline, "WRITER_BACKLOG_BYTES", 0, raising=False)
    lock = threading.Lock()
    alive, most = [0], [0]
    calls: list[int] = []
    predict_batch = predictor.predict_batch

    def gone():
        with lock:
            alive[0] -= 1

    def recording(images, **options):
        preds = predict_batch(images, **options)
        calls.append(len(images))
        with lock:
            for pred in preds:
                weakref.finalize(pred.probs, gone)
                alive[0] += 1
            most[0] = max(most[0], alive[0])
        return preds

    monkeypatch.setattr(predictor, "predict_batch", recording)
    last = list(batch_predict(predictor, _folder(tmp_path), tmp_path / "out", write_probs=True,
                              decode_workers=1))[-1]
    assert last.predicted == 4
    assert most[0] <= 2, f"{most[0]} images' probabilities alive at once"
    assert calls == [1, 1, 1, 1]  # a batch of four, each image predicted and written alone


def test_the_files_written_are_those_of_a_prediction_one_by_one(tmp_path, predictor):
    folder = _folder(tmp_path)
    last = list(batch_predict(predictor, folder, tmp_path / "out", write_probs=True,
                              decode_workers=1))[-1]
    assert last.predicted == 4
    record = json.loads((tmp_path / "out" / "unet-desktop-predictions.json").read_text())
    for k in range(4):
        image = cv2.cvtColor(cv2.imread(str(folder / f"im{k}.png")), cv2.COLOR_BGR2RGB)
        alone = predictor.predict(image)
        mask = cv2.imread(str(tmp_path / "out" / f"im{k}.png"), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(mask, alone.labels)
        probs = np.load(tmp_path / "out" / f"im{k}_probs.npy")
        assert probs.dtype == np.float16
        np.testing.assert_array_equal(probs, alone.probs.astype(np.float16))
        assert record["items"][f"im{k}.png"]["uncertainty"] == pytest.approx(alone.score,
                                                                              abs=1e-6)


@pytest.mark.parametrize("mode", ["resize", "tile"])
def test_the_writers_outputs_are_the_full_ones_lighter(predictor, mode):
    predictor.mode, predictor.tile_size = mode, 64
    images = [np.random.default_rng(k).integers(0, 256, (90, 70 + 20 * k, 3), np.uint8)
              for k in range(3)]
    full = predictor.predict_batch(images)
    light = predictor.predict_batch(images, uncertainty=False, probs_dtype=np.float16)
    for whole, lean in zip(full, light):
        np.testing.assert_array_equal(lean.labels, whole.labels)
        assert lean.uncertainty.size == 0  # not made: only its mean, the score
        assert lean.score == whole.score == pytest.approx(float(whole.uncertainty.mean()),
                                                          abs=1e-6)
        assert lean.probs.dtype == np.float16
        np.testing.assert_array_equal(lean.probs, whole.probs.astype(np.float16))


def test_small_images_share_a_call_and_a_big_one_goes_alone():
    def decoded(side):
        return ("job", (np.zeros((side, side), np.uint8), None))

    def size(values):
        return batch_pipeline._output_bytes(values, 3, write_probs=True)

    budget = batch_pipeline.CALL_OUTPUT_BYTES
    batch = collections.deque(decoded(side) for side in (500, 500, 500, 4000, 500))
    calls = []
    while batch:
        calls.append(len(batch_pipeline._next_call(batch, budget, size)))
    assert calls == [3, 1, 1]
