"""What scripts and other programs rely on stays where it was when the package was laid out
by feature (issue 28): ``unet_desktop.load_model``, the command line, model and mask files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import unet_desktop
from unet_desktop.core.io.maskio import read_mask, write_mask
from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.core.io.paths import default_model_path
from unet_desktop.core.labels import trimap_scheme

SUBCOMMANDS = ("gui", "train", "predict", "evaluate", "export", "info")


def test_load_model_predicts_with_the_shipped_model():
    model = unet_desktop.load_model()
    image = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    prediction = model.predict(image)
    assert prediction.labels.shape == (96, 128)
    assert set(np.unique(prediction.labels)) <= {c.value for c in trimap_scheme().classes}
    assert prediction.uncertainty.shape == (96, 128)


def test_the_command_line_keeps_its_module_and_subcommands():
    out = subprocess.run([sys.executable, "-m", "unet_desktop.cli", "--help"],
                         check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for name in SUBCOMMANDS:
        assert name in out.stdout


def test_the_shipped_model_file_is_read_without_torch():
    meta = model_metadata(default_model_path())
    assert meta["scheme"]["kind"] == "trimap"


def test_a_mask_file_keeps_its_stored_values(tmp_path):
    scheme = trimap_scheme()
    mask = np.array([[1, 2, 3], [3, 2, 1]], dtype=np.uint8)
    path = tmp_path / "m.png"
    write_mask(path, mask, scheme)
    assert np.array_equal(read_mask(path, scheme), mask)
