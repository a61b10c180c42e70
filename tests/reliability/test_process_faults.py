"""Process faults: ``unet-desktop predict`` and ``unet-desktop train`` killed with SIGKILL midway.

The commands run in a subprocess through the real CLI entry point. A few milliseconds of sleep
per image (predict) or per epoch (train) are added in that subprocess so that the kill lands in
the middle of the run on any machine; nothing else is changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.ml.conftest import make_model_file
from unet_desktop.cli import main
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.core.maskio import read_mask
from unet_desktop.ml.batch_predict import RECORD_NAME
from unet_desktop.ml.checkpoint import checkpoint_path
from unet_desktop.ml.modelfile import read_meta

REPO = Path(__file__).resolve().parents[2]
N_IMAGES = 40
SIZE = (64, 48)  # width, height

_SLOW_PREDICT = """
import sys, time
from unet_desktop.ml import batch_predict
decode = batch_predict._decode
def slow_decode(job):
    time.sleep(0.05)
    return decode(job)
batch_predict._decode = slow_decode
from unet_desktop.cli import main
sys.exit(main(sys.argv[1:]))
"""

_SLOW_TRAIN = """
import sys, time
from unet_desktop.ml import train_loop
epoch = train_loop.Trainer.train_epoch
def slow_epoch(self, *args, **kwargs):
    time.sleep(0.15)
    yield from epoch(self, *args, **kwargs)
train_loop.Trainer.train_epoch = slow_epoch
from unet_desktop.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _start(script: str, args: list[str], home: Path) -> subprocess.Popen:
    env = dict(os.environ, UNET_DESKTOP_HOME=str(home), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when(process: subprocess.Popen, ready: Callable[[], bool], what: str,
               timeout_s: float = 120.0) -> None:
    """SIGKILL ``process`` as soon as ``ready()``; fails if it ended or stalled before that."""
    deadline = time.monotonic() + timeout_s
    try:
        while not ready():
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"the process ended before {what} (exit {process.returncode}):\n"
                            f"{out}\n{err}")
            assert time.monotonic() < deadline, f"no {what} within {timeout_s:.0f} s"
            time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _masks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.png") if not p.name.startswith("."))


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.mark.reliability("process", "SIGKILL during `unet-desktop predict` of 40 images; rerun")
def test_batch_predict_killed_midway_leaves_whole_masks_and_resumes(tmp_path, noise_images,
                                                                    capsys):
    model, _ = make_model_file(tmp_path / "tiny.safetensors", trimap_scheme())
    names = [f"img_{i:02d}.png" for i in range(N_IMAGES)]
    noise_images(tmp_path / "in", names, SIZE)
    out = tmp_path / "out"
    args = ["predict", str(tmp_path / "in"), "--out", str(out), "--model", str(model),
            "--device", "cpu", "--batch-size", "1"]

    process = _start(_SLOW_PREDICT, args, tmp_path / "home")
    _kill_when(process, lambda: out.is_dir() and len(_masks(out)) >= 5, "the fifth mask")
    finished = _masks(out)
    assert 5 <= len(finished) < N_IMAGES, "the kill came after the run had finished"
    for path in finished:  # each mask is whole: old or new, never a torn file
        mask = read_mask(path, trimap_scheme(), shape=(SIZE[1], SIZE[0]))
        assert set(np.unique(mask)) <= {1, 2, 3}

    assert main(args) == 0  # the rerun resumes
    summary = capsys.readouterr().out
    done = len(finished)
    assert f"{N_IMAGES - done} predicted, {done} skipped, 0 unreadable of {N_IMAGES}" in summary
    assert [p.name for p in _masks(out)] == names
    for path in _masks(out):
        read_mask(path, trimap_scheme(), shape=(SIZE[1], SIZE[0]))
    # every mask is known as the model's own, so that a newer model may replace it later
    items = json.loads((out / f"{RECORD_NAME}.json").read_text("utf-8"))["items"]
    assert sorted(items) == names
    assert {item["model_version"] for item in items.values()} == {read_meta(model).version}


def _binary_workspace(root: Path, n: int = 8, size: int = 40) -> Path:
    """images/ + masks/ (generic layout): discs on noise, their masks counted as corrected."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        cy, cx = rng.integers(10, size - 10, 2)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < 64
        image = (rng.normal(60, 20, (size, size, 3)) + disc[..., None] * 110).clip(0, 255)
        Image.fromarray(image.astype(np.uint8)).save(root / "images" / f"disc_{i}.png")
        Image.fromarray(np.where(disc, 255, 0).astype(np.uint8)).save(
            root / "masks" / f"disc_{i}.png")
    return root


@pytest.mark.reliability("process", "SIGKILL during `unet-desktop train` after the first "
                                    "checkpoint; --resume")
def test_training_killed_after_a_checkpoint_resumes_and_never_touches_the_init_model(
        tmp_path, capsys):
    epochs = 12
    init, _ = make_model_file(tmp_path / "init.safetensors", binary_scheme())
    init_sha1 = _sha1(init)
    ws = _binary_workspace(tmp_path / "ws")
    out = tmp_path / "tuned.safetensors"
    args = ["train", str(ws), "--out", str(out), "--init", str(init), "--epochs", str(epochs),
            "--patience", "0", "--size", "32", "--batch-size", "4", "--device", "cpu",
            "--workers", "0"]

    process = _start(_SLOW_TRAIN, args, tmp_path / "home")
    _kill_when(process, checkpoint_path(out).is_file, "checkpoint")
    assert checkpoint_path(out).is_file() and _sha1(init) == init_sha1

    assert main([*args, "--resume"]) == 0
    err = capsys.readouterr().err
    first_epoch = next(int(line.split()[1].split("/")[0]) for line in err.splitlines()
                       if line.startswith("epoch ") and f"/{epochs}" in line.split()[1])
    assert first_epoch >= 2, "the resumed run started over instead of continuing"
    meta = read_meta(out)
    assert [h["epoch"] for h in meta.metrics["history"]] == list(range(1, epochs + 1))
    assert meta.parent_version == read_meta(init).version
    assert not checkpoint_path(out).exists()  # a finished run removes its checkpoint
    assert _sha1(init) == init_sha1
