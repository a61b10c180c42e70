"""Validation of a big (native-scale) image goes through the model in tiles (a 4096 x 4096
image in one forward pass took 4 GB); an image up to the tile size is evaluated whole, as
before."""

from __future__ import annotations

import torch

from unet_desktop.core.labels import IGNORE_INDEX, binary_scheme
from unet_desktop.ml.metrics import confusion_matrix, summarize
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.training import train_loop
from unet_desktop.ml.training.train_loop import Trainer


def _trainer() -> Trainer:
    torch.manual_seed(0)
    return Trainer(build_model(unet_arch(base=4, depth=2)), binary_scheme(), torch.device("cpu"),
                   lr=1e-3, channels_last=False)


def _sample(height, width, seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(1, 3, height, width, generator=generator)
    targets = (images[:, 0] > 0).long()
    targets[:, :5, :7] = IGNORE_INDEX
    return images, targets


def _forward_sizes(trainer):
    sizes: list[tuple[int, int]] = []
    trainer.model.register_forward_pre_hook(lambda m, args: sizes.append(tuple(args[0].shape[-2:])))
    return sizes


def test_an_image_up_to_the_tile_is_evaluated_whole_as_before():
    trainer = _trainer()
    images, targets = _sample(40, 56)
    sizes = _forward_sizes(trainer)
    metrics = trainer.evaluate([(images, targets)], lambda: False)
    assert sizes == [(40, 56)]
    with torch.inference_mode():
        logits = trainer.model.eval()(images)
        want = summarize(confusion_matrix(logits.argmax(1), targets, 2), binary_scheme())
        loss = float(trainer.loss_fn(logits, targets))
    assert metrics["loss"] == loss
    assert {k: v for k, v in metrics.items() if k != "loss"} == want


def test_a_big_image_is_evaluated_in_tiles(monkeypatch):
    monkeypatch.setattr(train_loop, "EVAL_TILE", 32, raising=False)
    trainer = _trainer()
    images, targets = _sample(70, 100)
    sizes = _forward_sizes(trainer)
    metrics = trainer.evaluate([(images, targets)], lambda: False)
    assert sizes and all(h <= 32 and w <= 32 for h, w in sizes), sizes
    assert len(sizes) == 3 * 4  # every tile holds labelled pixels
    want = torch.zeros(2, 2, dtype=torch.int64)
    with torch.inference_mode():
        for top in range(0, 70, 32):
            for left in range(0, 100, 32):
                tile = (..., slice(top, top + 32), slice(left, left + 32))
                want += confusion_matrix(trainer.model(images[tile]).argmax(1), targets[tile], 2)
    assert int(want.sum()) == int((targets != IGNORE_INDEX).sum())
    assert {k: v for k, v in metrics.items() if k != "loss"} == summarize(want, binary_scheme())
    assert metrics["loss"] is not None and metrics["loss"] > 0
