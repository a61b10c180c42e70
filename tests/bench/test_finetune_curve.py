"""bench/finetune_curve.py and bench/hitl_loop.py on a generated folder: the options reach
training and scoring."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))  # it imports machine_info
import finetune_curve
import hitl_loop


def disc_folder(root: Path, n: int = 4) -> Path:
    """images/ + masks/ (0/255) of one bright disc each."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    yy, xx = np.mgrid[:64, :64]
    for i in range(n):
        cy, cx = rng.integers(20, 44, 2)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < 12 ** 2
        image = (rng.normal(60, 20, (64, 64, 3)) + disc[..., None] * 120).clip(0, 255)
        Image.fromarray(image.astype(np.uint8)).save(root / "images" / f"d{i}.png")
        Image.fromarray(np.where(disc, 255, 0).astype(np.uint8)).save(root / "masks" / f"d{i}.png")
    return root


def test_probe_options_train_tile_and_score_the_training_images(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs")
    code = finetune_curve.main([
        str(data), "--starts", "imagenet", "--counts", "2", "--max-minutes", "0.05",
        "--size", "32", "--batch-size", "2", "--val-fraction", "0.5", "--crop-scale", "0.5", "0.9",
        "--vflip", "--rotation", "0", "--tile", "--score-training", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["prediction"] == "tile"
    assert result["augment"]["min_scale"] == 0.5 and result["augment"]["max_scale"] == 0.9
    assert result["augment"]["vflip"] is True and result["augment"]["max_rotation"] == 0
    row = result["rows"][0]
    assert row["images"] == 2 and row["steps"] > 0
    for key in ("wrong_pixels", "isbi_pixel_error", "train_wrong_pixels",
                "train_isbi_pixel_error"):
        assert 0.0 <= row[key] <= 1.0, key
    # binary discs: the ISBI figure is 1 - the F-score (Dice) of the 255 class the Dice reports
    assert row["isbi_pixel_error"] == pytest.approx(1.0 - row["dice"])
    assert set(row["train_keys"]).isdisjoint(result["held_out_keys"])


def test_a_crop_scale_out_of_order_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        finetune_curve.main([str(tmp_path), "--crop-scale", "0.5", "0.2"])


def test_native_scale_reaches_the_curve_and_the_loop_from_the_imagenet_encoder(tmp_path,
                                                                               capsys):
    data = disc_folder(tmp_path / "discs", n=6)
    assert finetune_curve.main([
        str(data), "--starts", "imagenet", "--counts", "0", "2", "--max-minutes", "0.05",
        "--size", "32", "--batch-size", "2", "--val-fraction", "0.5", "--scale", "native",
        "--tta", "--json"]) == 0
    curve = json.loads(capsys.readouterr().out)
    assert curve["scale"] == "native" and curve["tta"] is True and [r["images"] for r in curve["rows"]] == [0, 2]
    assert hitl_loop.main([
        str(data), "--new", "--images", "3", "--user-seconds", "2", "--round-seconds", "1",
        "--baselines", "--size", "32", "--scale", "native", "--json"]) == 0
    loop = json.loads(capsys.readouterr().out)
    assert loop["scale"] == "native" and loop["start"].startswith("imagenet efficientnet_lite0")
    assert len(loop["rounds"]) >= 1 and loop["images"] == 3


def test_the_dialog_the_train_command_and_the_loop_train_few_images_by_one_recipe(tmp_path,
                                                                                  capsys):
    """Each path builds its own TrainConfig (the dialog's defaults, the CLI's parser, a loop
    round) and all three record the few-image recipe: batch 4, 2 warm-up steps, a decay to 1 %
    over the budget (a new model: BatchNorm statistics estimated, not kept)."""
    data = disc_folder(tmp_path / "discs", n=4)
    assert finetune_curve.main([
        str(data), "--starts", "imagenet", "--counts", "2", "--max-minutes", "0.25",
        "--val-fraction", "0.5", "--paths", "dialog", "cli", "loop", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["path"] for r in rows] == ["dialog", "cli", "loop"]
    for row in rows:
        assert row["schedule"] == {"batch_size": 4, "warmup_steps": 2, "min_lr_ratio": 0.01,
                                   "kept_norm_statistics": False}, row
        assert row["val_images"] == 0 and not row["early_stopping"]
        assert row["steps"] > 0 and 0.0 <= row["dice"] <= 1.0
