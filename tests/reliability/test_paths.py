"""Paths: ``unet-desktop predict --out`` writes only inside its output folder, whatever the
image names, and never through a symlink into another folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.ml.conftest import make_model_file
from unet_desktop.cli import main
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import trimap_scheme

torch.set_num_threads(1)

HOSTILE_NAMES = ["with space.png", "ünïcødé 画像.png", "-rf.png", "a..b.png", "back\\slash.png",
                 "semi;colon$(x).png", "unet-desktop-predictions.json.png", "UPPER.PNG",
                 "dup.png", "dup.jpg"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.reliability("paths", "predict --out with hostile image names and symlinks")
def test_predict_writes_only_plain_files_inside_the_output_folder(tmp_path, noise_images,
                                                                  capsys):
    model, _ = make_model_file(tmp_path / "tiny.safetensors", trimap_scheme())
    source = tmp_path / "in"
    noise_images(source, HOSTILE_NAMES, (24, 20))
    outside = tmp_path / "outside"
    noise_images(outside, ["photo.png", "secret.png"], (24, 20), seed=1)
    (source / "linked.png").symlink_to(outside / "photo.png")  # an image living elsewhere
    out = tmp_path / "out"
    out.mkdir()
    (out / "with space.png").symlink_to(outside / "secret.png")  # a trap in the output folder
    before = _snapshot(outside)
    args = ["predict", str(source), "--out", str(out), "--model", str(model), "--device", "cpu"]

    assert main(args) == 0
    assert f"{len(HOSTILE_NAMES)} predicted, 1 skipped" in capsys.readouterr().out
    assert (out / "with space.png").is_symlink()  # not ours: left alone without --overwrite
    assert _snapshot(outside) == before

    assert main([*args, "--overwrite"]) == 0
    assert _snapshot(outside) == before
    kept = out / ".unet-desktop" / "replaced"  # the user's link, kept as it was
    assert [p.readlink() for p in kept.iterdir()] == [outside / "secret.png"]
    written = sorted(p.name for p in out.iterdir() if p.name != ".unet-desktop")
    expected = sorted({f"{Path(n).stem}.png" for n in HOSTILE_NAMES if not n.startswith("dup")}
                      | {"dup_png.png", "dup_jpg.png", "linked.png",
                         "unet-desktop-predictions.json"})
    assert written == expected
    for path in (p for p in out.iterdir() if p.name != ".unet-desktop"):
        assert not path.is_symlink() and path.is_file()
        assert path.resolve().parent == out.resolve()
        assert os.path.commonpath([path.resolve(), out.resolve()]) == str(out.resolve())
        if path.suffix == ".png":
            mask = read_mask(path, trimap_scheme(), shape=(20, 24))
            assert set(np.unique(mask)) <= {1, 2, 3}
