"""bench/scribble_loop.py and its simulated user (bench/scribble_user.py) on generated data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))  # it imports machine_info
import scribble_folder
import scribble_loop
from scribble_user import DISK, corrective_strokes, first_strokes

from unet_desktop.core.labels import IGNORE_INDEX


def disc_folder(root: Path, n: int) -> Path:
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


KEYS = {"round", "labelled_fraction", "strokes", "images", "train_seconds", "wrong_pixels",
        "wrong_on_outlines", "wrong_inside", "isbi_pixel_error"}


def test_first_strokes_stay_inside_each_class_eroded_region():
    truth = np.zeros((80, 80), np.uint8)
    truth[:, 40:] = 1
    labels, drawn = first_strokes(truth, 2, np.random.default_rng(0), strokes=20)
    assert drawn == 40
    eroded = [cv2.erode((truth == c).astype(np.uint8), np.ones((3, 3), np.uint8)) for c in (0, 1)]
    for c in (0, 1):
        assert (labels == c).any()
        assert eroded[c][labels == c].all()  # clipped to the class's region eroded by 1 px
    assert (labels[:, 39:41] == IGNORE_INDEX).all()  # never on the boundary
    assert 0 < (labels != IGNORE_INDEX).mean() < 0.6


def test_corrective_disks_go_inside_the_largest_wrong_regions():
    truth = np.zeros((60, 60), np.uint8)
    truth[10:30, 10:30] = 1  # missed entirely: the largest wrong region
    truth[45:48, 45:48] = 1  # a small miss
    labels = np.full(truth.shape, IGNORE_INDEX, np.uint8)
    painted = corrective_strokes(truth, np.zeros_like(truth), labels, regions=1)
    assert painted == 1
    ys, xs = np.nonzero(labels == 1)
    assert len(ys) and (labels != IGNORE_INDEX).sum() == len(ys)
    assert abs(ys.mean() - 19.5) <= 1 and abs(xs.mean() - 19.5) <= 1  # its innermost point
    assert len(ys) <= np.pi * (DISK + 1) ** 2
    assert (labels[45:48, 45:48] == IGNORE_INDEX).all()


def bench_json(capsys, data: Path, *argv: str) -> dict:
    """The bench's JSON for a run on ``data`` at 32 px crops; the run must succeed."""
    assert scribble_loop.main([str(data), "--train", "2", "--size", "32", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_rounds_and_baselines_on_a_generated_folder(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs", n=5)
    result = bench_json(capsys, data, "--rounds", "1", "--first-seconds", "2",
                        "--round-seconds", "1")
    rounds, forest = result["rounds"], result["baselines"]["random_forest"]
    assert [r["round"] for r in rounds] == [0, 1] and [f["round"] for f in forest] == [0, 1]
    assert all(set(r) == KEYS for r in rounds + forest)
    assert result["train_images"] == ["images/d0.png", "images/d1.png"]
    assert result["scored_images"] == 3
    assert rounds[1]["strokes"] >= rounds[0]["strokes"] > 0
    assert rounds[1]["labelled_fraction"] >= rounds[0]["labelled_fraction"] > 0
    # all one class: the class most of the scribbled images' pixels have (background), scored
    masks = [np.asarray(Image.open(data / "masks" / f"d{i}.png")) for i in (2, 3, 4)]
    one = result["baselines"]["one_class"]
    assert one["class"] == "background"
    assert abs(one["wrong_pixels"] - np.mean([(m > 0).mean() for m in masks])) < 1e-3
    assert one["isbi_pixel_error"] == 1.0  # no foreground pixel found
    assert all(0 <= r["wrong_pixels"] <= 1 for r in rounds + forest)
    for r in [*rounds, *forest, one]:  # the split of the wrong pixels adds up to all of them
        assert abs(r["wrong_on_outlines"] + r["wrong_inside"] - r["wrong_pixels"]) <= 2e-4


def test_nothing_left_to_score_is_an_error(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs", n=2)
    assert scribble_loop.main([str(data), "--train", "2"]) == 2
    assert "leaves none to score" in capsys.readouterr().err


def test_moving_on_adds_the_next_image_with_only_its_corrective_strokes(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs", n=6)
    result = bench_json(capsys, data, "--scored", "2", "--rounds", "2", "--new-per-round", "1",
                        "--first-seconds", "2", "--round-seconds", "1")
    assert [r["images"] for r in result["rounds"]] == [2, 3, 4]
    assert result["train_images"][2:] == ["images/d4.png", "images/d5.png"]  # never the scored
    assert result["scored_images"] == 2
    strokes = [r["strokes"] for r in result["rounds"]]
    assert strokes[0] < strokes[1] < strokes[2]  # corrections on the old and the new images
    # a new image is labelled by its disks only: far less than the first strokes' share
    assert result["rounds"][2]["labelled_fraction"] < result["rounds"][0]["labelled_fraction"]


def test_dense_moving_on_labels_every_new_image_fully(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs", n=5)
    result = bench_json(capsys, data, "--scored", "2", "--rounds", "1", "--new-per-round", "1",
                        "--dense", "--first-seconds", "1", "--round-seconds", "1")
    assert [r["images"] for r in result["rounds"]] == [2, 3]
    assert [r["labelled_fraction"] for r in result["rounds"]] == [1.0, 1.0]


def test_moving_on_past_the_folder_is_an_error(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs", n=5)
    assert scribble_loop.main([str(data), "--train", "2", "--scored", "2", "--rounds", "2",
                               "--new-per-round", "1"]) == 2
    assert "needs 2 images beyond the scribbled and scored ones, there are 1" \
        in capsys.readouterr().err


def test_rotate_scribbles_other_images_and_wraps_around(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs", n=5)
    result = bench_json(capsys, data, "--rotate", "4", "--first-seconds", "1",
                        "--first-steps", "2")
    assert result["train_images"] == ["images/d4.png", "images/d0.png"]  # wrapped around
    assert result["scored_images"] == 3 and result["rotate"] == 4
    assert scribble_loop.main([str(data), "--train", "2", "--rotate", "5"]) == 2
    assert "--rotate 5 with 5 images" in capsys.readouterr().err


def test_strokes_sets_the_first_strokes_per_image_and_class(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs", n=4)
    few = bench_json(capsys, data, "--strokes", "10", "--first-seconds", "1",
                     "--first-steps", "2")
    assert few["first_strokes_per_class"] == 10
    assert few["rounds"][0]["strokes"] == 10 * 2 * 2  # per class, per scribbled image
    default = bench_json(capsys, data, "--first-seconds", "1", "--first-steps", "2")
    assert default["first_strokes_per_class"] == 200
    assert few["rounds"][0]["labelled_fraction"] < default["rounds"][0]["labelled_fraction"]
    with pytest.raises(SystemExit):
        scribble_loop.main([str(data), "--strokes", "0"])
    with pytest.raises(SystemExit):
        scribble_folder.main([str(data), "--strokes", "0", "--out", str(tmp_path / "s")])


def test_a_folder_without_masks_is_named_as_such(tmp_path, capsys):
    data = disc_folder(tmp_path / "discs", n=3)
    for mask in (data / "masks").iterdir():
        mask.unlink()
    assert scribble_loop.main([str(data), "--train", "2", "--rotate", "1"]) == 2
    err = capsys.readouterr().err
    assert "no image has a mask" in err and str(data.name) in err


def test_scribble_folder_writes_the_rotated_images_strokes(tmp_path):
    data = disc_folder(tmp_path / "discs", n=5)
    out = tmp_path / "strokes"
    assert scribble_folder.main([str(data), "--train", "2", "--rotate", "4",
                                 "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "masks").iterdir()) == ["d0.png", "d4.png"]
    assert sorted(p.name for p in (out / "images").iterdir()) == ["d0.png", "d4.png"]
    for name in ("d0.png", "d4.png"):
        stored = np.asarray(Image.open(out / "masks" / name))
        truth = np.asarray(Image.open(data / "masks" / name))
        painted = stored != 128
        assert set(np.unique(stored)) <= {0, 128, 255}
        assert painted.any() and not painted.all()  # 200 strokes a class cover most of 64 px
        assert (stored[painted] == truth[painted]).all()  # strokes carry the true class
