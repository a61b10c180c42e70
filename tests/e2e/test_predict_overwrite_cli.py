"""``unet-desktop predict --overwrite`` means what the window's box means: without it, the
masks another model version wrote are kept (said once, exit 2 when nothing was predicted); with
it they are replaced, and a mask corrected by hand only after a copy is kept in
``OUT/.unet-desktop/replaced/``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.io.maskio import write_mask
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

torch.set_num_threads(1)


def _model(path, seed):
    torch.manual_seed(seed)
    meta = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=trimap_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=f"{new_version_id()}-{seed}", name=path.stem)
    save_model(path, build_model(meta.arch), meta)
    return path


@pytest.fixture
def v1(tmp_path):
    return _model(tmp_path / "v1.safetensors", 0)


@pytest.fixture
def v2(tmp_path):
    return _model(tmp_path / "v2.safetensors", 1)


def _images(folder, count):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(
            folder / f"photo_{i}.png")


def _predict(*args):
    return main(["predict", *map(str, args), "--device", "cpu"])


def test_overwrite_help_and_run_agree_with_the_window(v1, v2, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    flat = " ".join(capsys.readouterr().out.split())
    assert "another model version" in flat and ".unet-desktop/replaced/" in flat

    _images(tmp_path / "in", 2)
    out = tmp_path / "out"
    assert _predict(tmp_path / "in", "--out", out, "--model", v1) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.glob("photo_*.png")}

    code = _predict(tmp_path / "in", "--out", out, "--model", v2)
    captured = capsys.readouterr()
    assert code == 2  # nothing predicted: the earlier model's masks are kept
    assert "0 predicted, 2 skipped" in captured.out
    assert "2 images kept the masks another model version predicted (--overwrite" in captured.err
    assert {p.name: p.read_bytes() for p in out.glob("photo_*.png")} == before

    correction = np.full((32, 48), 1, np.uint8)
    correction[4:12, 4:20] = 3
    write_mask(out / "photo_1.png", correction, trimap_scheme())  # corrected by hand
    hand = (out / "photo_1.png").read_bytes()
    code = _predict(tmp_path / "in", "--out", out, "--model", v2, "--overwrite")
    captured = capsys.readouterr()
    assert code == 0
    assert "2 predicted, 0 skipped" in captured.out
    kept = list((out / ".unet-desktop" / "replaced").iterdir())
    assert [p.read_bytes() for p in kept] == [hand]
    assert "photo_1.png: predicted, but the mask it replaced" in captured.err
    assert kept[0].name in captured.err
