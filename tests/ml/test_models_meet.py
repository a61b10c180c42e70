"""Where training, the loop and the folder's classes meet, without Qt: one "do these classes
match" rule (train keeps the task's names and unlabeled value), an unvalidated round says so, a
bad validation image costs one image not the loop, and the loop's sample cache is bounded."""

from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.folder.learning_record import record_path
from unet_desktop.core.folder.task import classes_mismatch
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings, RoundPlan
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import FinalReport, RoundResult, SkippedPair
from unet_desktop.ml.training.dataset import SampleSet, make_sample
from unet_desktop.ml.training.train import train as run_training
from unet_desktop.ml.training.train_config import TrainConfig

FAST = LoopSettings(epochs=1, size=32, batch_size=4, device="cpu")


def disc_pair(i: int, scheme=None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(i)
    yy, xx = np.mgrid[:40, :48]
    d2 = (yy - 12 - i % 15) ** 2 + (xx - 14 - (3 * i) % 20) ** 2
    image = (rng.normal(60, 20, (40, 48, 3)) + (d2 < 64)[..., None] * 120).clip(0, 255)
    trimap = np.where(d2 < 49, 1, np.where(d2 < 81, 3, 2)).astype(np.uint8)
    return image.astype(np.uint8), trimap


def key(i: int) -> str:
    return f"img_{i:02d}.png"


def final_of(reports) -> FinalReport:
    return next(r for r in reports if isinstance(r, FinalReport))


def binary_pairs(n: int, unlabeled: int | None = None) -> list:
    pairs = []
    for i in range(n):
        image, trimap = disc_pair(i)
        mask = np.where(trimap == 1, 255, 0).astype(np.uint8)
        if unlabeled is not None:
            mask[:, :8] = unlabeled  # nobody painted the left edge
        pairs.append((image, mask))
    return pairs


def test_a_task_started_from_a_model_of_other_names_saves_models_the_window_accepts(
        tmp_path, model_file_factory):
    """carvana-binary (background/foreground) fine-tuned for a task 'outside/cell'."""
    parent, _ = model_file_factory(binary_scheme())
    task_scheme = binary_scheme(("outside", "cell"))
    samples = [make_sample(key(i), im, m, task_scheme)
               for i, (im, m) in enumerate(binary_pairs(3))]
    config = TrainConfig(out=tmp_path / "cells-v1.safetensors", init=parent, new_classes=True,
                         epochs=1, size=32, batch_size=2, device="cpu", val_fraction=0.0)
    final_of(run_training(SampleSet(samples, task_scheme, "cells"), config))
    child = read_meta(tmp_path / "cells-v1.safetensors").scheme
    assert classes_mismatch(child, task_scheme) is None
    assert child.names == ["outside", "cell"]


def test_a_sparse_task_started_from_a_dense_model_keeps_its_unlabeled_value(
        tmp_path, model_file_factory):
    parent, _ = model_file_factory(binary_scheme())
    sparse = binary_scheme(ignore_value=128)
    samples = [make_sample(key(i), im, m, sparse)
               for i, (im, m) in enumerate(binary_pairs(3, unlabeled=128))]
    config = TrainConfig(out=tmp_path / "sparse-v1.safetensors", init=parent, new_classes=True,
                         epochs=1, size=32, batch_size=2, device="cpu", val_fraction=0.0)
    final_of(run_training(SampleSet(samples, sparse, "sparse"), config))
    child = read_meta(tmp_path / "sparse-v1.safetensors").scheme
    assert child.ignore_value == 128  # evaluate / train --init on the folder read its masks


def test_a_round_with_fewer_than_two_validation_images_is_recorded_unvalidated(
        tmp_path, tiny_model_file):
    pairs = {key(i): disc_pair(i) for i in range(5)}
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), pairs.__getitem__, FAST)
    for i in range(5):  # k = 5: one validation image
        loop.note_corrected(key(i))
    result = [r for r in loop.run_round(RoundPlan(tiny_model_file, tmp_path / "v1.safetensors"))
              if isinstance(r, RoundResult)][-1]
    assert result.gate == "unvalidated" and result.validated is False
    assert "not validated" in result.reason
    assert "parent_train_loss" not in result.metrics  # no figure from its own training images


def test_a_bad_validation_image_is_skipped_and_named_and_the_round_is_recorded(
        tmp_path, tiny_model_file):
    pairs = {key(i): disc_pair(i) for i in range(4)}
    image, mask = pairs[key(1)]
    pairs[key(1)] = (image, mask[:20])  # its mask is another size than the image
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), pairs.__getitem__, FAST)
    loop.set_every_k(2)  # images 1 and 3 validate
    for i in range(4):
        loop.note_corrected(key(i))
    reports = list(loop.run_round(RoundPlan(tiny_model_file, tmp_path / "v1.safetensors")))
    result = reports[-1]
    assert isinstance(result, RoundResult) and result.model_path.is_file()
    assert any(isinstance(r, SkippedPair) and r.key == key(1) for r in reports)
    # the next round works as well (the loop is not stopped for good)
    loop.request_round()
    again = list(loop.run_round(RoundPlan(tiny_model_file, tmp_path / "v2.safetensors")))
    assert isinstance(again[-1], RoundResult) and again[-1].model_path is not None


def test_the_loops_sample_cache_stays_within_its_budget(tmp_path, tiny_model_file):
    pairs = {key(i): disc_pair(i) for i in range(12)}
    budget = 40 * 48 * 4 * 5  # about five images' samples
    settings = LoopSettings(epochs=1, size=32, batch_size=4, device="cpu",
                            cache_bytes=budget)
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), pairs.__getitem__, settings)
    for i in range(12):
        loop.note_corrected(key(i))
    list(loop.run_round(RoundPlan(tiny_model_file, tmp_path / "v1.safetensors")))
    assert 0 < loop.cached_bytes() <= budget


@pytest.mark.parametrize("renamed", [("outside", "cell"), ("Background", "FOREGROUND")])
def test_one_rule_says_whether_classes_match(renamed):
    task = binary_scheme(renamed)
    model = binary_scheme()
    same = renamed[0].casefold() == "background"
    assert (classes_mismatch(model, task) is None) == same
    assert model.same_classes(task) == same  # the train / batch / loop rule is the same one


def test_a_model_whose_classes_were_renamed_is_fine_tuned_not_replaced(
        tmp_path, model_file_factory):
    """The task renamed 'foreground' to 'cell': the next round starts from the task's model,
    keeps what it learnt, is judged against it, and carries the new names."""
    import torch

    from unet_desktop.ml.models.modelfile import load_model_file

    parent, _ = model_file_factory(binary_scheme())
    renamed = binary_scheme(("background", "cell"))
    pairs = {key(i): p for i, p in enumerate(binary_pairs(4))}
    loop = LearningLoop(renamed, record_path(tmp_path), pairs.__getitem__,
                        LoopSettings(epochs=1, size=32, batch_size=4, device="cpu", lr=1e-12))
    loop.set_every_k(2)
    for i in range(4):
        loop.note_corrected(key(i))
    result = list(loop.run_round(RoundPlan(parent, tmp_path / "cells-v2.safetensors",
                                           renamed=True)))[-1]
    assert result.gate == "validation"  # judged against its parent, not a "first model"
    child, meta = load_model_file(result.model_path)
    assert meta.scheme.names == ["background", "cell"]
    before, _ = load_model_file(parent)
    assert torch.allclose(child.head.weight, before.head.weight, atol=1e-4)  # carried over
