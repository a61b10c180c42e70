"""Out-of-memory recovery with fake predictors and trainers that raise the error N times."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference.oom import (
    OutOfMemory,
    ResilientPredictor,
    is_out_of_memory,
    predictor_on_cpu,
    train_with_oom_fallback,
)
from unet_desktop.ml.inference.predictor import Prediction, Predictor
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta


def cuda_oom() -> Exception:
    return torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


class FakePredictor:
    """Raises out-of-memory until its batch is small enough / it is on the CPU."""

    def __init__(self, fails: int, device: str = "cuda:0", mode: str = "resize",
                 batch_size: int = 4, error=cuda_oom) -> None:
        self.fails, self.device, self.mode = fails, device, mode
        self.batch_size, self.tile_size, self.tile_overlap = batch_size, 512, 64
        self.error = error
        self.calls: list[tuple[str, int, int]] = []  # (device, batch size, tile size) per call
        self.meta = "meta"

    @property
    def tiled(self) -> bool:
        return self.mode == "tile"

    def predict_batch(self, images, *, probs=True):
        self.calls.append((self.device, self.batch_size, self.tile_size))
        if self.fails > 0:
            self.fails -= 1
            raise self.error()
        return [Prediction(np.zeros((2, 2), np.uint8), None, np.zeros((2, 2), np.float32), 0.0)
                for _ in images]

    def predict(self, image, *, probs=True):
        return self.predict_batch([image], probs=probs)[0]


def on_cpu(fake: FakePredictor) -> FakePredictor:
    moved = FakePredictor(fake.fails, "cpu", fake.mode, fake.batch_size, fake.error)
    moved.tile_size, moved.calls = fake.tile_size, fake.calls
    return moved


@pytest.mark.parametrize("error", [
    cuda_oom(),
    RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"),
    RuntimeError("[enforce fail at alloc_cpu.cpp:114] DefaultCPUAllocator: can't allocate memory"),
])
def test_out_of_memory_errors_are_recognised(error):
    assert is_out_of_memory(error)


def test_other_errors_are_not_out_of_memory():
    assert not is_out_of_memory(RuntimeError("size mismatch"))
    assert not is_out_of_memory(ValueError("out of memory"))  # not what torch raises


@pytest.mark.reliability("resources", "GPU out of memory: batch halved")
def test_batch_is_halved_until_it_fits_and_each_step_is_announced():
    messages: list[str] = []
    fake = FakePredictor(fails=2, batch_size=4)
    resilient = ResilientPredictor(fake, messages.append, to_cpu=on_cpu)
    out = resilient.predict_batch([np.zeros((4, 4), np.uint8)] * 3)
    assert len(out) == 3
    assert [c[1] for c in fake.calls] == [4, 2, 1]
    assert resilient.batch_size == 1 and resilient.inner is fake
    assert messages == ["Out of memory on cuda:0: retrying with batch size 4 -> 2",
                        "Out of memory on cuda:0: retrying with batch size 2 -> 1"]


@pytest.mark.reliability("resources", "GPU out of memory: tiles shrink, then the CPU")
def test_tiles_shrink_after_the_batch_then_the_cpu_takes_over():
    messages: list[str] = []
    fake = FakePredictor(fails=4, batch_size=2, mode="tile")
    resilient = ResilientPredictor(fake, messages.append, to_cpu=on_cpu)
    assert resilient.predict(np.zeros((4, 4), np.uint8)).labels.shape == (2, 2)
    # 2 -> 1 batch, 512 -> 256 -> 128 tiles, then the CPU
    assert fake.calls[:4] == [("cuda:0", 2, 512), ("cuda:0", 1, 512), ("cuda:0", 1, 256),
                              ("cuda:0", 1, 128)]
    assert resilient.inner.device == "cpu"
    assert "predicting on the CPU" in messages[3]
    assert fake.calls[4] == ("cpu", 1, 128) and len(messages) == 4


@pytest.mark.reliability("resources", "out of memory on the CPU at batch 1")
def test_out_of_memory_on_cpu_at_batch_one_gives_a_clear_error():
    fake = FakePredictor(fails=10, device="cpu", batch_size=1)
    resilient = ResilientPredictor(fake, lambda m: None, to_cpu=on_cpu)
    with pytest.raises(OutOfMemory, match="CPU with batch size 1"):
        resilient.predict(np.zeros((4, 4), np.uint8))


def test_other_errors_pass_through_untouched():
    fake = FakePredictor(fails=1, error=lambda: ValueError("bad image"))
    with pytest.raises(ValueError, match="bad image"):
        ResilientPredictor(fake, to_cpu=on_cpu).predict(np.zeros((4, 4), np.uint8))
    assert len(fake.calls) == 1


def test_attributes_come_from_the_wrapped_predictor():
    fake = FakePredictor(fails=0)
    assert ResilientPredictor(fake).meta == "meta"


def test_cpu_fallback_of_a_real_predictor_gives_the_same_output():
    torch.manual_seed(0)
    scheme = trimap_scheme()
    arch = unet_arch(3, 3, depth=2, base=4)
    meta = ModelMeta(arch, scheme, {"mean": [0.5] * 3, "std": [0.25] * 3}, 32, "v1")
    predictor = Predictor(build_model(arch), meta, "cpu")
    image = np.random.default_rng(0).integers(0, 255, (40, 36, 3), dtype=np.uint8)
    before = predictor.predict(image)
    after = predictor_on_cpu(predictor).predict(image)
    np.testing.assert_array_equal(after.labels, before.labels)
    np.testing.assert_allclose(after.probs, before.probs, atol=1e-5)


@dataclass
class FakeConfig:
    batch_size: int = 4
    device: str = "cuda"
    resume: bool = False
    seen: list = field(default_factory=list)


@pytest.mark.reliability("resources", "out of memory while training")
def test_training_resumes_with_a_smaller_batch_then_on_cpu():
    fails = {"left": 3}

    def fake_train(data, config, cancel):
        config.seen.append((config.batch_size, config.device, config.resume))
        yield "step"
        if fails["left"]:
            fails["left"] -= 1
            raise cuda_oom()
        yield "final"

    messages: list[str] = []
    config = FakeConfig()  # replace() hands every retry the same ``seen`` list
    reports = list(train_with_oom_fallback(fake_train, None, config, None, messages.append))
    assert config.seen == [(4, "cuda", False), (2, "cuda", True), (1, "cuda", True),
                           (1, "cpu", True)]
    assert reports == ["step", "step", "step", "step", "final"]
    assert len(messages) == 3
    assert "batch size 2" in messages[0] and "batch size 1" in messages[1]
    assert "on the CPU" in messages[2]


def test_training_gives_up_on_the_cpu_at_batch_one():
    def always_oom(data, config, cancel):
        raise cuda_oom()
        yield  # pragma: no cover - makes this a generator

    with pytest.raises(OutOfMemory):
        list(train_with_oom_fallback(always_oom, None, FakeConfig(1, "cpu"), None, lambda m: None))
