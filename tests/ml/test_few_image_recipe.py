"""The few-image recipe: what it fills in, and early stopping never ending a run on a validation
set too small to mean anything."""

from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.models.architecture import unet_arch
from unet_desktop.ml.reports import FinalReport
from unet_desktop.ml.training.dataset import SampleSet, make_sample
from unet_desktop.ml.training.few_image_recipe import (
    FEW_IMAGE_SCHEDULE,
    FEW_IMAGES,
    STANDARD_SCHEDULE,
    resolve,
)
from unet_desktop.ml.training.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def samples(n: int) -> SampleSet:
    rng = np.random.default_rng(0)
    made = []
    for i in range(n):
        image = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)  # nothing to learn: the
        mask = np.where(rng.random((32, 32)) > 0.5, 255, 0).astype(np.uint8)  # score wobbles
        made.append(make_sample(f"img{i:02d}.png", image, mask, binary_scheme()))
    return SampleSet(made, binary_scheme(), "generated")


def test_few_images_get_the_loops_schedule_and_nothing_held_out(tmp_path):
    few = resolve(TrainConfig(out=tmp_path / "m.safetensors"), 2)
    assert (few.batch_size, few.warmup_steps, few.min_lr_ratio, few.val_fraction) == (
        FEW_IMAGE_SCHEDULE.batch_size, FEW_IMAGE_SCHEDULE.warmup_steps,
        FEW_IMAGE_SCHEDULE.min_lr_ratio, 0.0)
    many = resolve(TrainConfig(out=tmp_path / "m.safetensors"), FEW_IMAGES + 1)
    assert (many.batch_size, many.min_lr_ratio, many.val_fraction) == (
        STANDARD_SCHEDULE.batch_size, STANDARD_SCHEDULE.min_lr_ratio, 0.2)
    given = resolve(TrainConfig(out=tmp_path / "m.safetensors", batch_size=2, val_fraction=0.5,
                                min_lr_ratio=0.1), 2)
    assert (given.batch_size, given.val_fraction, given.min_lr_ratio) == (2, 0.5, 0.1)
    assert given.warmup_steps is None  # the user's schedule, not the recipe's warm-up


def test_one_validation_image_never_stops_a_run_early(tmp_path):
    """Patience 1 on noise would stop after two epochs if one held-out image could decide."""
    config = TrainConfig(out=tmp_path / "m.safetensors", arch=unet_arch(base=4, depth=2),
                         epochs=6, size=32, lr=1e-2, patience=1, val_fraction=0.2,
                         device="cpu")
    final = list(train(samples(5), config))[-1]
    assert isinstance(final, FinalReport) and final.val_images == 1
    assert final.stopped == "completed" and final.epochs_run == 6


def test_enough_validation_images_may_stop_a_run_early(tmp_path):
    config = TrainConfig(out=tmp_path / "m.safetensors", arch=unet_arch(base=4, depth=2),
                         epochs=30, size=32, lr=3e-2, patience=1, val_fraction=0.4,
                         device="cpu")
    final = list(train(samples(14), config))[-1]
    assert final.val_images >= 5
    assert final.stopped == "early_stopping" and final.epochs_run < 30
