"""A batch prediction decodes at most a few big images ahead (three batches of 8000 x 8000
images took gigabytes before the first was predicted); small images keep three batches ahead."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.inference import batch_pipeline
from unet_desktop.ml.inference.batch_progress import BatchJob, BatchProgress, ItemResult
from unet_desktop.ml.inference.prediction_result import Prediction


class _Rule:
    def pick_channels(self, values, path):
        return values

    def beyond_range(self, values):
        return None


class _Predictor:
    def __init__(self, batch_size):
        self.batch_size = batch_size
        self.meta = SimpleNamespace(rule=_Rule())

    def predict_batch(self, images, probs, **outputs):
        return [Prediction(np.zeros(im.shape[:2], np.uint8), None,
                           np.zeros(im.shape[:2], np.float32), 0.0) for im in images]


class _Output:
    def write(self, items):
        return [ItemResult(job.key, job.image_path, "predicted") for job, _ in items]

    def slice_failed(self, job):
        return []

    def close(self):
        pass


def _run(monkeypatch, side, batch_size, images=20):
    lock = threading.Lock()
    decoded, most_ahead = [0], [0]
    consumed = [0]

    def decode(job, rule):
        with lock:
            decoded[0] += 1
            most_ahead[0] = max(most_ahead[0], decoded[0] - consumed[0])
        return np.zeros((side, side), np.uint8), None

    real_predict = _Predictor.predict_batch

    def predict(self, images_, probs, **outputs):
        with lock:
            consumed[0] += len(images_)
        return real_predict(self, images_, probs)

    monkeypatch.setattr(batch_pipeline, "_decode_fitting", decode)
    monkeypatch.setattr(_Predictor, "predict_batch", predict)
    monkeypatch.setattr(batch_pipeline, "LOOK_AHEAD_PIXELS", 4 * 1000 * 1000, raising=False)
    jobs = [BatchJob(f"im{i}", Path(f"im{i}.png")) for i in range(images)]
    reports = list(batch_pipeline.run_pipeline(
        _Predictor(batch_size), _Output(), jobs, BatchProgress(0, images), CancelToken(),
        False, decode_workers=2))
    assert reports[-1].predicted == images
    return most_ahead[0]


@pytest.mark.parametrize("batch_size", [1, 4])
def test_big_images_are_decoded_at_most_a_batch_or_the_pixel_budget_ahead(monkeypatch,
                                                                          batch_size):
    # 2000 x 2000 images against a 4 M pixel budget: one batch ahead, not three
    assert _run(monkeypatch, 2000, batch_size) <= batch_size


def test_small_images_keep_three_batches_ahead():
    assert batch_pipeline.look_ahead(4, 100 * 100) == 12
    assert batch_pipeline.look_ahead(4, 0) == 4
    assert batch_pipeline.look_ahead(4, batch_pipeline.LOOK_AHEAD_PIXELS) == 4
    assert batch_pipeline.look_ahead(1, batch_pipeline.LOOK_AHEAD_PIXELS // 2) == 2


def test_the_writer_gets_labels_and_score_without_the_uncertainty_map(monkeypatch):
    written: list[Prediction] = []

    class Recording(_Output):
        def write(self, items):
            written.extend(pred for _, pred in items)
            return super().write(items)

    def predict(self, images, probs, **outputs):
        return [Prediction(np.full(im.shape[:2], 7, np.uint8), None,
                           np.full(im.shape[:2], 0.25, np.float32), 0.25) for im in images]

    monkeypatch.setattr(batch_pipeline, "_decode_fitting",
                        lambda job, rule: (np.zeros((30, 40), np.uint8), None))
    monkeypatch.setattr(_Predictor, "predict_batch", predict)
    jobs = [BatchJob(f"im{i}", Path(f"im{i}.png")) for i in range(5)]
    list(batch_pipeline.run_pipeline(_Predictor(2), Recording(), jobs, BatchProgress(0, 5),
                                     CancelToken(), False, decode_workers=1))
    assert len(written) == 5
    for pred in written:
        assert (pred.labels == 7).all() and pred.labels.shape == (30, 40) and pred.score == 0.25
        assert pred.uncertainty.size == 0  # not kept for the writer: 4 bytes a pixel
