"""What ``unet-desktop train`` and ``predict`` print says what happened: why a run stopped,
how many image files were predicted, and why a file was skipped."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.e2e.test_train_cli import TINY, binary_workspace
from tests.gui.conftest_model import make_model_file
from unet_desktop.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_run_ended_by_max_steps_says_so(tmp_path, capsys):
    """--max-steps is its own stop reason, not the time budget."""
    ws = binary_workspace(tmp_path / "ws", n=4)
    model = tmp_path / "m.safetensors"
    assert main(["train", str(ws), "--out", str(model), "--max-steps", "2", *TINY]) == 0
    err = capsys.readouterr().err
    assert "training for up to 10 minutes or 2 steps" in err
    assert "stopped: step limit (--max-steps) reached" in err
    assert "time budget" not in err


@pytest.fixture
def stack_and_png(tmp_path):
    """A folder of two image files: a 5-page TIFF stack and a PNG."""
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    tifffile.imwrite(folder / "stack.tif", rng.integers(0, 255, (5, 24, 28), dtype=np.uint8))
    Image.fromarray(rng.integers(0, 255, (24, 28, 3), dtype=np.uint8)).save(folder / "a.png")
    return folder


def predict(folder, out, model, *extra) -> int:
    return main(["predict", str(folder), "--out", str(out), "--model", str(model),
                 "--device", "cpu", *extra])


def test_predict_counts_image_files_not_slices(tmp_path, stack_and_png, capsys):
    """A stack is one image (one mask stack written), predicted slice by slice."""
    model = make_model_file(tmp_path / "tiny.safetensors")
    out = tmp_path / "out"
    assert predict(stack_and_png, out, model) == 0
    summary = capsys.readouterr().out
    assert "2 predicted, 0 skipped, 0 failed of 2 images (slices: 6 predicted, " \
        "0 skipped, 0 failed)" in summary
    assert sorted(p.name for p in out.glob("*.*") if p.suffix != ".json") == \
        ["a.png", "stack.tif"]
    assert predict(stack_and_png, out, model) == 0  # up to date
    assert "0 predicted, 2 skipped, 0 failed of 2 images" in capsys.readouterr().out


def test_predict_says_why_it_kept_a_mask_it_did_not_write(tmp_path, stack_and_png, capsys):
    """A mask file not written by unet-desktop is kept, with the reason; when nothing was
    predicted or up to date, the exit status says so (the command's help)."""
    model = make_model_file(tmp_path / "tiny.safetensors")
    out = tmp_path / "out"
    out.mkdir()
    Image.fromarray(np.zeros((24, 28), np.uint8)).save(out / "a.png")  # the user's own mask
    assert predict(stack_and_png, out, model) == 0  # the stack was predicted
    captured = capsys.readouterr()
    assert "1 predicted, 1 skipped" in captured.out
    assert "warning: skipped a.png:" in captured.err
    assert "exists and was not written by unet-desktop" in captured.err
    (stack_and_png / "stack.tif").unlink()
    assert predict(stack_and_png, out, model) == 2  # nothing predicted, nothing up to date
    captured = capsys.readouterr()
    assert "0 predicted, 1 skipped, 0 failed of 1 image " in captured.out
    assert "not written by unet-desktop" in captured.err
    assert "no image could be predicted (existing masks kept" in captured.err


def test_evaluate_names_a_pair_it_cannot_score_and_scores_the_rest(tmp_path, capsys):
    """One mask of another size than its image: evaluate scored nothing (it stopped at it);
    now it names the file and why, and scores and counts the others."""
    ws = binary_workspace(tmp_path / "ws", n=4)
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(ws / "masks" / "disc_2.png")
    model = tmp_path / "m.safetensors"
    assert main(["train", str(ws), "--out", str(model), "--max-steps", "1", *TINY]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(ws), "--model", str(model), "--device", "cpu",
                 "--all-masks"]) == 0
    out, err = capsys.readouterr()
    assert "not scored images/disc_2.png" in err and "mask is 12x10" in err
    assert " on 3 images of " in out


def test_train_names_an_image_file_the_folder_scan_could_not_use(tmp_path, capsys):
    """A truncated TIFF among the images: the scan leaves it out; train said nothing of it."""
    ws = binary_workspace(tmp_path / "ws", n=4)
    (ws / "images" / "broken.tif").write_bytes(b"II*\x00\x08\x00\x00\x00")
    (ws / "images" / "notes.txt").write_text("not an image: never named")
    model = tmp_path / "m.safetensors"
    assert main(["train", str(ws), "--out", str(model), "--max-steps", "1", *TINY]) == 0
    err = capsys.readouterr().err
    assert "skipped broken.tif:" in err and "notes.txt" not in err
