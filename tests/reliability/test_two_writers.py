"""Two processes on one folder (a shared lab drive, a second launch): one writer at a time, a
second opener is read-only and told who holds the folder, a stale lock of a dead process is taken
over, and a batch run in another process never overwrites a correction saved meanwhile."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.ml.conftest import make_model_file
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import trimap_scheme

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def make_folder(root: Path, n: int = 4) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "annotations" / "trimaps").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        image = rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)
        Image.fromarray(image).save(root / "images" / f"img_{i}.png")
    return root


def python(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], env=ENV, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


OPEN_AS_WRITER = """
import json, sys
from unet_desktop.core.folder.workspace import Workspace
ws = Workspace.open(sys.argv[1], writer=True)
holder = ws.lock_holder
print(json.dumps({"read_only": ws.read_only, "holder": holder and holder.to_dict(),
                  "warnings": ws.warnings}))
"""


def test_a_second_process_opens_the_folder_read_only_and_names_the_holder(tmp_path):
    root = make_folder(tmp_path / "pets")
    mine = Workspace.open(root, writer=True)
    assert not mine.read_only and mine.lock_holder is None
    other = python(OPEN_AS_WRITER, str(root))
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    seen = json.loads(out)
    assert seen["read_only"]
    assert seen["holder"]["pid"] == os.getpid()
    assert seen["holder"]["host"] == socket.gethostname()
    assert any(str(os.getpid()) in w for w in seen["warnings"])
    mine.close()
    again = python(OPEN_AS_WRITER, str(root))
    out, err = again.communicate(timeout=120)
    assert not json.loads(out)["read_only"], "the lock is released on close"


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    root = make_folder(tmp_path / "pets")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = root / ".unet-desktop" / "writer.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid,
                                "since": "2026-01-01T00:00:00Z"}))
    ws = Workspace.open(root, writer=True)
    assert not ws.read_only
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    ws.close()


BATCH_AFTER_GO = """
import sys, time
from pathlib import Path
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.predictor import Predictor
root, model, go = sys.argv[1:4]
ws = Workspace.open(root)  # a library user: no writer lock asked for
predictor = Predictor.from_file(model, device="cpu", engine="torch")
print("opened", flush=True)
while not Path(go).exists():
    time.sleep(0.02)
for progress in batch_predict(predictor, ws):
    for r in progress.results:
        print(r.key, r.status, r.reason if hasattr(r, "reason") else "", flush=True)
"""


def test_a_batch_run_in_another_process_never_overwrites_a_correction(tmp_path):
    root = make_folder(tmp_path / "pets")
    model, _ = make_model_file(tmp_path / "tiny.safetensors", trimap_scheme())
    go = tmp_path / "go"
    batch = python(BATCH_AFTER_GO, str(root), str(model), str(go))
    assert batch.stdout.readline().strip() == "opened"
    # this process corrects an image after the other one opened the folder
    ws = Workspace.open(root)
    correction = np.full((32, 40), 2, np.uint8)
    correction[5:20, 5:25] = 1
    ws.save_mask("images/img_1.png", correction, ImageState.CORRECTED)
    ws.save_manifest()
    go.touch()
    out, err = batch.communicate(timeout=300)
    assert batch.returncode == 0, err
    assert np.array_equal(read_mask(ws["images/img_1.png"].mask_path, ws.scheme), correction)
    assert Workspace.open(root)["images/img_1.png"].state is ImageState.CORRECTED
    assert "images/img_0.png predicted" in out  # the others were predicted
