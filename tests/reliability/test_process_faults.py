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
from PIL import Image

from tests.ml.conftest import make_model_file
from unet_desktop.cli import main
from unet_desktop.core.folder.manifest import ImageState, journal_path, load_manifest, manifest_path
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.maskio import read_mask, write_mask
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.prediction_record import RECORD_NAME
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.training.checkpoint import checkpoint_path

REPO = Path(__file__).resolve().parents[2]
N_IMAGES = 40
SIZE = (64, 48)  # width, height

_SLOW_PREDICT = """
import sys, time
from unet_desktop.ml.inference import batch_pipeline
decode = batch_pipeline._decode
def slow_decode(job):
    time.sleep(0.05)
    return decode(job)
batch_pipeline._decode = slow_decode
from unet_desktop.cli import main
sys.exit(main(sys.argv[1:]))
"""

# a workspace-mode run (the window's Batch Predict over the open folder): 8 masks per batch, so
# 8 mask writes per manifest update, each write slowed down so that the kill lands between them
_SLOW_WORKSPACE_PREDICT = """
import sys, time
import torch
from unet_desktop.core.io import maskio
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.predictor import Predictor
write = maskio.write_mask
def slow_write(*args, **kwargs):
    time.sleep(0.05)
    return write(*args, **kwargs)
maskio.write_mask = slow_write
torch.set_num_threads(1)
predictor = Predictor.from_file(sys.argv[2], device="cpu", batch_size=8)
for _ in batch_predict(predictor, Workspace.open(sys.argv[1])):
    pass
"""

_SLOW_TRAIN = """
import sys, time
from unet_desktop.ml.training import train_loop
epoch = train_loop.Trainer.train_epoch
def slow_epoch(self, *args, **kwargs):
    time.sleep(0.15)
    yield from epoch(self, *args, **kwargs)
train_loop.Trainer.train_epoch = slow_epoch
from unet_desktop.cli import main
sys.exit(main(sys.argv[1:]))
"""


pytestmark = pytest.mark.usefixtures("one_torch_thread")


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
    assert f"{N_IMAGES - done} predicted, {done} skipped, 0 failed of {N_IMAGES}" in summary
    assert [p.name for p in _masks(out)] == names
    for path in _masks(out):
        read_mask(path, trimap_scheme(), shape=(SIZE[1], SIZE[0]))
    # every mask is known as the model's own, so that a newer model may replace it later
    items = json.loads((out / f"{RECORD_NAME}.json").read_text("utf-8"))["items"]
    assert sorted(items) == names
    assert {item["model_version"] for item in items.values()} == {read_meta(model).version}


@pytest.mark.reliability("process", "SIGKILL during a workspace batch predict of 40 images "
                                    "(masks ahead of the manifest); reopen, rerun")
def test_workspace_batch_killed_midway_reopens_its_masks_as_predicted(tmp_path, noise_images):
    model, _ = make_model_file(tmp_path / "tiny.safetensors", trimap_scheme())
    version = read_meta(model).version
    root = tmp_path / "pets"  # Oxford layout; the first three images have the user's trimaps
    names = [f"img_{i:02d}.png" for i in range(N_IMAGES)]
    noise_images(root / "images", names, SIZE)
    trimaps = root / "annotations" / "trimaps"
    trimaps.mkdir(parents=True)
    user = {}
    for name in names[:3]:
        write_mask(trimaps / name, np.full((SIZE[1], SIZE[0]), 1, np.uint8), trimap_scheme())
        user[name] = _sha1(trimaps / name)

    def batch_written() -> list[str]:
        return [p.name for p in _masks(trimaps) if p.name not in user]

    process = _start(_SLOW_WORKSPACE_PREDICT, [str(root), str(model)], tmp_path / "home")
    _kill_when(process, lambda: len(batch_written()) >= 5, "the fifth mask")
    written = batch_written()
    assert 5 <= len(written) < N_IMAGES - 3, "the kill came after the run had finished"
    manifest = load_manifest(manifest_path(root))
    recorded = {k for k, r in manifest.records.items()
                if r.state is ImageState.PREDICTED} if manifest is not None else set()
    assert {f"images/{n}" for n in written} - recorded, \
        "the kill landed after a manifest update: this run does not test the journal"
    assert journal_path(root).is_file()

    ws = Workspace.open(root)
    for name in written:
        entry = ws[f"images/{name}"]
        assert (entry.state, entry.model_version) == (ImageState.PREDICTED, version), name
        read_mask(entry.mask_path, trimap_scheme(), shape=(SIZE[1], SIZE[0]))  # whole
    assert {e.key for e in ws.labelled()} == {f"images/{n}" for n in user}  # none of ours
    assert not journal_path(root).exists()  # folded into the manifest by opening

    reports = list(batch_predict(Predictor.from_file(model, device="cpu", batch_size=8), ws))
    last = reports[-1]
    assert last.finished and not last.cancelled and last.failed == 0
    assert (last.predicted, last.skipped) == (N_IMAGES - 3 - len(written), 3 + len(written))
    done = Workspace.open(root)
    assert done.counts()[ImageState.PREDICTED] == N_IMAGES - 3
    assert {e.model_version for e in done.labelled([ImageState.PREDICTED])} == {version}
    assert {n: _sha1(trimaps / n) for n in user} == user
    assert done.warnings == []


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
