"""A multi-page TIFF is one file of many slices: Batch Predict's headline counts files like the
CLI, with the slices apart, and "Opened ..." says how many files and stacks the images come
from (signals review, bug 7)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import tifffile
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.gui.editing.folder_opened import opened_message
from unet_desktop.gui.model.batch_predict_dialog import BatchSummary


def _result(key: str, file: str, status: str = "predicted") -> SimpleNamespace:
    return SimpleNamespace(key=key, image_path=Path(file), status=status, reason="",
                           output=Path("out") / file)


def _progress(results, done, total=6, finished=False, cancelled=False) -> SimpleNamespace:
    return SimpleNamespace(total=total, done=done, elapsed_s=0.1, finished=finished,
                           cancelled=cancelled, results=results)


def test_the_headline_counts_a_stack_as_one_image_and_its_slices_apart():
    summary = BatchSummary()
    summary.add(_progress([_result("a.png", "a.png"), _result("stack.tif [1 of 5]", "stack.tif")],
                          done=2))
    slices = [_result(f"stack.tif [{i} of 5]", "stack.tif") for i in range(2, 6)]
    summary.add(_progress(slices, done=6, finished=True))
    assert summary.unit == "slices"
    assert summary.headline() == ("Finished: 2 written, 0 skipped, 0 failed of 2 images "
                                  "(slices: 6 written, 0 skipped, 0 failed of 6) in 0.1 s")


def test_a_run_of_plain_images_reads_as_before():
    summary = BatchSummary()
    summary.add(_progress([_result("a.png", "a.png"), _result("b.png", "b.png", "skipped")],
                          done=2, total=2, finished=True))
    assert summary.unit == "images"
    assert summary.headline() == "Finished: 1 written, 1 skipped, 0 failed of 2 images in 0.1 s"


def test_a_cancelled_run_with_a_stack_does_not_claim_a_file_total():
    summary = BatchSummary()
    summary.add(_progress([_result("stack.tif [1 of 5]", "stack.tif"),
                           _result("stack.tif [2 of 5]", "stack.tif")],
                          done=2, finished=True, cancelled=True))
    assert summary.headline().startswith("Cancelled: 1 written, 0 skipped, 0 failed images so far")


def test_opened_message_says_files_and_stacks(tmp_path):
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "stack.tif", rng.integers(0, 255, (5, 24, 28), dtype=np.uint8))
    Image.fromarray(rng.integers(0, 255, (24, 28, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    message = opened_message(Workspace.open(tmp_path), [])
    assert "(6 images (2 files, 1 stack), " in message
    (tmp_path / "stack.tif").unlink()
    assert "(1 image, " in opened_message(Workspace.open(tmp_path), [])
