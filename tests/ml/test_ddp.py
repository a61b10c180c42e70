"""The same training under torchrun: 2 CPU processes with gloo, against a single process."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import FinalReport
from unet_desktop.ml.training.train import TrainConfig, train

EPOCHS = 8
COMMON = ["--size", "32", "--base", "4", "--depth", "2", "--lr", "1e-2", "--epochs", str(EPOCHS),
          "--patience", "0", "--val-fraction", "0.25", "--device", "cpu", "--workers", "0"]


def _write_workspace(root, n: int = 16, size: int = 40) -> None:
    rng = np.random.default_rng(7)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        cy, cx = rng.integers(10, size - 10, 2)
        fg = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.integers(6, 10) ** 2
        image = rng.normal(60, 20, (size, size, 3)) + fg[..., None] * 110
        Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(root / "images" / f"{i}.png")
        Image.fromarray(np.where(fg, 255, 0).astype(np.uint8)).save(root / "masks" / f"{i}.png")


def _learned(history: list[dict]) -> bool:
    return history[-1]["train_loss"] < history[0]["train_loss"] and history[-1]["miou"] > 0.6


def test_two_gloo_processes_learn_like_one(tmp_path):
    ws_dir = tmp_path / "ws"
    _write_workspace(ws_dir)
    out = tmp_path / "ddp.safetensors"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", "2", "-m", "unet_desktop.cli", "train", str(ws_dir),
               "--out", str(out), "--batch-size", "3", *COMMON]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("saved to") == 1  # only rank 0 reports
    ddp_meta = read_meta(out)
    assert ddp_meta.data_summary["world_size"] == 2
    assert len(ddp_meta.metrics["history"]) == EPOCHS

    torch.set_num_threads(1)
    single = TrainConfig(out=tmp_path / "single.safetensors", arch={"name": "unet", "base": 4,
                         "depth": 2}, size=32, lr=1e-2, epochs=EPOCHS, patience=None,
                         val_fraction=0.25, device="cpu", batch_size=6)
    final = list(train(Workspace.open(ws_dir), single))[-1]
    assert isinstance(final, FinalReport)
    single_meta = read_meta(single.out)
    assert single_meta.data_summary["val_keys"] == ddp_meta.data_summary["val_keys"]
    assert _learned(ddp_meta.metrics["history"]), ddp_meta.metrics["history"]
    assert _learned(single_meta.metrics["history"]), single_meta.metrics["history"]
    assert abs(ddp_meta.metrics["miou"] - single_meta.metrics["miou"]) < 0.15
