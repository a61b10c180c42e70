"""Tiny models, tiny Oxford-style workspaces and a running worker for the model-in-the-loop tests.

Not a conftest (F owns tests/gui/conftest.py): test modules import the fixtures they use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.core.labels import trimap_scheme
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.gui.model.prediction_service import PredictionService
from unet_desktop.gui.worker import Worker
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

TIMEOUT_MS = 10_000
SIZE = (40, 48)  # height, width of the generated images


def window_on(qtbot, folder: Path, model_path: Path):
    """A new window with ``model_path`` loaded (waited for), on ``folder``."""
    from tests.gui.conftest import open_window

    w = open_window(qtbot, model_path=model_path)
    qtbot.waitUntil(lambda: w.models.active is not None, timeout=TIMEOUT_MS)
    assert w.open_folder(folder)
    return w


def make_model_file(path: Path, seed: int = 0, name: str = "tiny") -> Path:
    """A randomly initialised trimap UNet (depth 2, base 4) saved as a real model file."""
    torch.manual_seed(seed)
    meta = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=trimap_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id() + f"-{seed}", name=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(path, build_model(meta.arch), meta)
    return path


def disc_pair(i: int) -> tuple[np.ndarray, np.ndarray]:
    """A noisy RGB image with a bright disc, and its trimap (1 pet, 2 background, 3 border)."""
    rng = np.random.default_rng(i)
    h, w = SIZE
    yy, xx = np.mgrid[:h, :w]
    cy, cx, r = 12 + i % 15, 14 + (3 * i) % 20, 8
    d2 = (yy - cy) ** 2 + (xx - cx) ** 2
    image = rng.normal(60, 20, (h, w, 3)) + (d2 < r * r)[..., None] * 120
    trimap = np.where(d2 < (r - 1) ** 2, 1, np.where(d2 < (r + 1) ** 2, 3, 2)).astype(np.uint8)
    return image.clip(0, 255).astype(np.uint8), trimap


def make_pets(root: Path, n_images: int = 6, n_labelled: int = 3) -> Path:
    """Oxford layout: ``images/img_NN.png``; the first ``n_labelled`` have trimaps (corrected)."""
    (root / "images").mkdir(parents=True)
    (root / "annotations" / "trimaps").mkdir(parents=True)
    for i in range(n_images):
        image, trimap = disc_pair(i)
        Image.fromarray(image).save(root / "images" / f"img_{i:02d}.png")
        if i < n_labelled:
            Image.fromarray(trimap).save(root / "annotations" / "trimaps" / f"img_{i:02d}.png")
    return root


def image_key(i: int) -> str:
    return f"images/img_{i:02d}.png"


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    return make_model_file(tmp_path / "models" / "tiny.safetensors")


@pytest.fixture
def tiny_pets(tmp_path) -> Path:
    return make_pets(tmp_path / "pets")


@pytest.fixture
def model_worker(qtbot):
    """A running worker (one torch thread); shut down and joined after the test."""
    worker = Worker(torch_threads=1)
    yield worker
    assert worker.shutdown(10.0), "the worker thread did not stop"


@pytest.fixture
def models(qtbot, model_worker, tiny_model) -> ModelController:
    """A controller with the tiny model loaded on the CPU."""
    controller = ModelController(model_worker, device="cpu")
    with qtbot.waitSignal(controller.model_changed, timeout=TIMEOUT_MS):
        controller.load(tiny_model)
    return controller


class OnScreen:
    """Stands in for the editing session: the one owner of which image is on screen."""

    key: str | None = None


@pytest.fixture
def on_screen() -> OnScreen:
    return OnScreen()


@pytest.fixture
def service(models, on_screen) -> PredictionService:
    return PredictionService(models.worker, models, lambda: on_screen.key)
