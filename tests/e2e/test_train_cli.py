"""`unet-desktop train` and `evaluate` end to end: generated workspaces and the real ISBI slices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.labels import binary_to_trimap
from unet_desktop.ml.models.modelfile import read_meta

TINY = ["--arch", "unet", "--size", "32", "--base", "4", "--depth", "2", "--batch-size", "4",
        "--lr", "1e-2", "--device", "cpu", "--workers", "0"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _discs(n: int, size: int = 40, seed: int = 3):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        cy, cx = rng.integers(10, size - 10, 2)
        fg = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.integers(6, 10) ** 2
        image = (rng.normal(60, 20, (size, size, 3)) + fg[..., None] * 110).clip(0, 255)
        yield i, image.astype(np.uint8), fg


def binary_workspace(root, n: int = 10):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, image, fg in _discs(n):
        Image.fromarray(image).save(root / "images" / f"disc_{i}.png")
        mask = np.where(fg, 255, 0).astype(np.uint8)
        Image.fromarray(mask).save(root / "masks" / f"disc_{i}.png")
    return root


def oxford_workspace(root, n: int = 8):
    """Oxford-IIIT Pet layout: images/*.jpg + annotations/trimaps/*.png (1 pet, 2 bg, 3 border)."""
    (root / "images").mkdir(parents=True)
    (root / "annotations" / "trimaps").mkdir(parents=True)
    for i, image, fg in _discs(n, seed=5):
        Image.fromarray(image).save(root / "images" / f"Cat_{i}.jpg", quality=95)
        trimap = binary_to_trimap(fg.astype(np.uint8) * 255, band=1)
        Image.fromarray(trimap).save(root / "annotations" / "trimaps" / f"Cat_{i}.png")
    return root


def test_train_then_fine_tune_then_evaluate(tmp_path, capsys):
    ws = binary_workspace(tmp_path / "ws")
    first = tmp_path / "first.safetensors"
    assert main(["train", str(ws), "--out", str(first), "--epochs", "3", *TINY]) == 0
    out = capsys.readouterr().out
    assert f"saved to {first}" in out and "foreground" in out and "mIoU" in out

    second = tmp_path / "second.safetensors"
    args = ["train", str(ws), "--out", str(second), "--init", str(first), "--epochs", "2",
            "--device", "cpu", "--workers", "0", "--batch-size", "4", "--val-fraction", "0.2"]
    assert main(args) == 0
    captured = capsys.readouterr()
    # the parent trained on all 10 images (nothing held out): its figures compare nothing
    assert "(parent " not in captured.out and "not compared with the parent" in captured.err
    meta = read_meta(second)
    assert meta.parent_version == read_meta(first).version
    assert meta.train_size == 32 and meta.data_summary["images"] == 10

    assert main(["evaluate", str(ws), "--model", str(second), "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 10 and result["version"] == meta.version
    assert 0.0 <= result["miou"] <= 1.0 and set(result["iou"]) == {"background", "foreground"}
    assert result["pixels"] == 10 * 40 * 40

    assert main(["evaluate", str(ws), "--model", str(second), "--val-only", "--device",
                 "cpu"]) == 0
    table = capsys.readouterr().out
    assert f"on {len(meta.data_summary['val_keys'])} images" in table and "pixel accuracy" in table


def test_trimap_training_reports_pet_iou(tmp_path, capsys):
    ws = oxford_workspace(tmp_path / "pets")
    model = tmp_path / "pets.safetensors"
    args = ["train", str(ws), "--out", str(model), "--epochs", "2", "--border-as-ignore",
            "--group-by", "prefix", "--val-fraction", "0.3", "--copy-paste", "0.5", *TINY]
    assert main(args) == 0
    assert "pet IoU" in capsys.readouterr().out
    meta = read_meta(model)
    assert meta.scheme.kind == "trimap" and meta.data_summary["border_as_ignore"]
    assert meta.data_summary["copy_paste"] == 0.5
    # --group-by prefix puts every "Cat_*" image in one group: nothing can be held out.
    assert meta.data_summary["val_on_train"]

    assert main(["evaluate", str(ws), "--model", str(model), "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pet_iou"] is not None and 0.0 <= result["pet_iou"] <= 1.0


def test_a_trimap_model_fine_tunes_onto_binary_masks_with_new_classes(tmp_path, capsys):
    pets = tmp_path / "pets.safetensors"
    assert main(["train", str(oxford_workspace(tmp_path / "pets")), "--out", str(pets),
                 "--epochs", "1", *TINY]) == 0
    cars = binary_workspace(tmp_path / "cars", n=6)
    child = tmp_path / "cars.safetensors"
    base = ["train", str(cars), "--out", str(child), "--init", str(pets), "--epochs", "1",
            "--size", "32", "--batch-size", "4", "--device", "cpu", "--workers", "0"]
    capsys.readouterr()
    assert main(base) == 2  # the masks read with the model's trimap scheme do not fit
    err = capsys.readouterr().err
    assert "masks look binary" in err and "--new-classes" in err and not child.exists()
    assert main([*base, "--scheme", "binary"]) == 2
    err = capsys.readouterr().err
    assert str(pets) in err and "trimap (1 foreground" in err and "--new-classes" in err

    assert main([*base, "--new-classes"]) == 0  # the scheme comes from the masks
    meta = read_meta(child)
    assert meta.scheme.kind == "binary" and meta.parent_version == read_meta(pets).version
    assert meta.data_summary["new_classes"]["carried_over"] == {
        "background": "background", "foreground": "foreground"}


def test_bad_requests_fail_with_a_message(tmp_path, capsys):
    ws = binary_workspace(tmp_path / "ws", n=3)
    model = tmp_path / "m.safetensors"
    assert main(["train", str(ws), "--out", str(model), "--init", str(model)]) == 2
    assert "never overwrites the model in use" in capsys.readouterr().err
    assert main(["train", str(ws), "--out", str(model), "--copy-paste", "1.5", *TINY]) == 2
    assert "copy-paste probability must be in [0, 1], got 1.5" in capsys.readouterr().err

    missing = tmp_path / "missing.safetensors"
    assert main(["evaluate", str(ws), "--model", str(missing)]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err

    assert main(["train", str(tmp_path / "nowhere"), "--out", str(model), *TINY]) == 2
    assert "nowhere" in capsys.readouterr().err

    empty = tmp_path / "empty"
    (empty / "images").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(empty / "images" / "a.png")
    assert main(["train", str(empty), "--out", str(model), *TINY]) == 2
    assert "no corrected or verified masks to train on" in capsys.readouterr().err


def test_train_and_evaluate_on_real_isbi_slices(shared_data, tmp_path, capsys):
    """The U-Net paper's EM slices (512x512 gray PNGs), read-only, trained for a few steps."""
    data = shared_data / "isbi2012"
    model = tmp_path / "isbi.safetensors"
    args = ["train", str(data), "--out", str(model), "--epochs", "1", "--arch", "unet",
            "--in-channels", "1", "--size", "64", "--base", "4", "--depth", "2", "--batch-size", "8", "--device", "cpu",
            "--workers", "0"]
    assert main(args) == 0
    assert f"saved to {model}" in capsys.readouterr().out
    meta = read_meta(model)
    assert meta.in_channels == 1 and meta.data_summary["images"] == 20
    assert meta.data_summary["val_images"] == 4
    assert main(["evaluate", str(data), "--model", str(model), "--val-only", "--json",
                 "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 4 and result["pixels"] == 4 * 512 * 512


def test_evaluate_with_flip_tta_scores_the_flip_averaged_predictions(tmp_path, capsys):
    from unet_desktop.commands.evaluate import evaluate_workspace
    from unet_desktop.core.folder.workspace import Workspace
    from unet_desktop.ml.inference.predictor import Predictor
    from unet_desktop.ml.models.modelfile import load_model_file
    from unet_desktop.ml.training.dataset import training_entries

    ws_root = oxford_workspace(tmp_path / "pets")
    model = tmp_path / "pets.safetensors"
    assert main(["train", str(ws_root), "--out", str(model), "--epochs", "12", *TINY]) == 0
    capsys.readouterr()
    scores = {}
    for tta in (False, True):
        flag = ["--tta"] if tta else []
        assert main(["evaluate", str(ws_root), "--model", str(model), "--json", "--device", "cpu",
                     *flag]) == 0
        scores[tta] = json.loads(capsys.readouterr().out)
        assert scores[tta]["tta"] is tta
    net, meta = load_model_file(model)
    ws = Workspace.open(ws_root, meta.scheme)
    entries = training_entries(ws, all_masks=False)
    expected = evaluate_workspace(Predictor(net, meta, "cpu", tta=True), ws, entries)
    assert scores[True]["pixel_accuracy"] == pytest.approx(expected["pixel_accuracy"])
    # a briefly trained network is not flip-invariant: averaging changes some labels
    assert scores[True]["pixel_accuracy"] != scores[False]["pixel_accuracy"]
    assert main(["evaluate", str(ws_root), "--model", str(model), "--tta", "--device",
                 "cpu"]) == 0
    assert "flip TTA" in capsys.readouterr().out
    # --places: the wrong pixels split into outline and inside, adding up to all of them
    assert main(["evaluate", str(ws_root), "--model", str(model), "--places", "--json",
                 "--device", "cpu"]) == 0
    places = json.loads(capsys.readouterr().out)["wrong_places"]
    assert places["wrong_on_outlines"] + places["wrong_inside"] == pytest.approx(
        1 - scores[False]["pixel_accuracy"])
    assert main(["evaluate", str(ws_root), "--model", str(model), "--places", "--device",
                 "cpu"]) == 0
    assert "inside regions" in capsys.readouterr().out


def test_train_on_sparse_binary_masks_ignores_the_unlabeled_value_and_skips_an_invalid_mask(
        tmp_path, capsys):
    ws = binary_workspace(tmp_path / "sparse", n=6)
    unlabeled = 7
    for i in range(5):  # scribbles: a few labelled pixels per mask, the rest unlabeled
        path = ws / "masks" / f"disc_{i}.png"
        full = np.array(Image.open(path))
        sparse = np.full_like(full, unlabeled)
        sparse[::6, ::6] = full[::6, ::6]
        Image.fromarray(sparse).save(path)
    Image.fromarray(np.full((40, 40), 3, np.uint8)).save(ws / "masks" / "disc_5.png")
    out = tmp_path / "sparse.safetensors"
    code = main(["train", str(ws), "--out", str(out), "--scheme", "binary", "--ignore",
                 str(unlabeled), "--epochs", "2", "--val-fraction", "0.2", *TINY])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "skipped images/disc_5.png" in captured.err and "[3]" in captured.err
    meta = read_meta(out)
    assert meta.scheme.kind == "binary" and meta.scheme.ignore_value == unlabeled
    assert meta.data_summary["images"] == 5  # the invalid one left out
    assert meta.data_summary["stroke_fill"] is True  # sparse: filled by the pixel classifier
    # validated on a held-out mask of strokes (7 x 7 of its 40 x 40 pixels painted): said so
    assert "the figures above count only the strokes: 3.1% of the pixels" in captured.err
    # the model's predictions are fully labelled masks that the folder's scheme reads back
    pred_dir = tmp_path / "pred"
    assert main(["predict", str(ws / "images"), "--model", str(out), "--out", str(pred_dir),
                 "--device", "cpu"]) == 0
    written = np.array(Image.open(pred_dir / "disc_0.png"))
    assert set(np.unique(written)) <= {0, 255}


def test_train_runs_the_windows_fine_tune_job_but_writes_where_out_says(
        tmp_path, capsys, monkeypatch):
    """The CLI goes through ``ml.training.finetune_job.run_finetune`` (the window's run): out of memory
    resumes with a smaller batch; unlike the window it never renames the --out file."""
    from unet_desktop.ml.training import train as train_module

    real_train, batch_sizes = train_module.train, []

    def out_of_memory_once(data, config, cancel=None):
        batch_sizes.append(config.batch_size)
        if len(batch_sizes) == 1:
            raise RuntimeError("CPU out of memory (simulated)")
        yield from real_train(data, config, cancel)

    monkeypatch.setattr(train_module, "train", out_of_memory_once)
    ws = binary_workspace(tmp_path / "ws", n=6)
    out = tmp_path / "cells-20260101-120000.safetensors"  # looks like a name the window stamps
    assert main(["train", str(ws), "--out", str(out), "--epochs", "1", *TINY]) == 0
    captured = capsys.readouterr()
    assert batch_sizes == [4, 2]
    assert "warning: Out of memory while training on cpu: resuming with batch size 2" \
        in captured.err
    assert out.is_file() and f"saved to {out}" in captured.out
    assert [p.name for p in tmp_path.glob("*.safetensors")] == [out.name]


def test_the_train_command_takes_the_scale(tmp_path, capsys):
    ws = binary_workspace(tmp_path / "ws", n=6)
    out = tmp_path / "native.safetensors"
    assert main(["train", str(ws), "--out", str(out), "--epochs", "1", "--scale", "native",
                 *TINY]) == 0
    assert read_meta(out).scale == "native"
    assert read_meta(out).data_summary["turned"] is True  # thin structures have no "up"
    upright = tmp_path / "upright.safetensors"
    assert main(["train", str(ws), "--out", str(upright), "--epochs", "1", "--scale", "native",
                 "--turns", "off", *TINY]) == 0
    assert read_meta(upright).data_summary["turned"] is False
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert "scale:         native (predicts in native-resolution tiles)" in capsys.readouterr().out
    assert main(["evaluate", str(ws), "--model", str(out)]) == 0  # resize asked, tiles used
    assert "tile (native-scale model) mode" in capsys.readouterr().out
    assert main(["evaluate", str(ws), "--model", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "tile"
    with pytest.raises(SystemExit):
        main(["train", str(ws), "--out", str(out), "--scale", "huge", *TINY])
    assert "--scale" in capsys.readouterr().err


def test_only_trains_on_the_chosen_images_and_exclude_scores_the_others(tmp_path, capsys):
    """Two views of one 'car' (--only), scored on the others (evaluate --exclude); with so few
    images nothing is held out and the file says so (the few-image recipe)."""
    ws = binary_workspace(tmp_path / "ws")
    model = tmp_path / "two.safetensors"
    assert main(["train", str(ws), "--out", str(model), "--epochs", "1",
                 "--only", "disc_[01].*", *TINY]) == 0
    assert "not validated: no image was held out" in capsys.readouterr().err
    summary = read_meta(model).data_summary
    assert sorted(Path(k).name for k in summary["mask_sha1"]) == ["disc_0.png", "disc_1.png"]
    assert summary["val_on_train"] and summary["schedule"]["min_lr_ratio"] == 0.01
    capsys.readouterr()
    assert main(["evaluate", str(ws), "--model", str(model), "--exclude", "disc_[01].*",
                 "--json", "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == 8
    assert main(["train", str(ws), "--out", str(tmp_path / "none.safetensors"),
                 "--only", "nothing*", *TINY]) == 2
    assert "matching nothing*" in capsys.readouterr().err


def test_a_new_model_without_scale_takes_the_scale_new_task_proposes(tmp_path, capsys):
    """Thin structures (here vessel-like lines) -> native, said on stderr; objects -> fit."""
    from tests.core.test_task_proposal import vessel_image

    ws = tmp_path / "vessels"
    (ws / "images").mkdir(parents=True)
    (ws / "masks").mkdir()
    for i in range(3):
        image = vessel_image(i, size=128)
        Image.fromarray(image).save(ws / "images" / f"v{i}.png")
        Image.fromarray(np.where(image < 120, 0, 255).astype(np.uint8)).save(
            ws / "masks" / f"v{i}.png")
    out = tmp_path / "vessels.safetensors"
    assert main(["train", str(ws), "--out", str(out), "--epochs", "1", *TINY]) == 0
    assert read_meta(out).scale == "native"
    assert "no --scale: native. The images show thin structures" in capsys.readouterr().err
    objects = tmp_path / "discs.safetensors"
    assert main(["train", str(binary_workspace(tmp_path / "discs", n=4)), "--out", str(objects),
                 "--epochs", "1", *TINY]) == 0
    assert read_meta(objects).scale == "fit"
    assert "no --scale: fit." in capsys.readouterr().err
