"""A folder's own label stack: its scheme is guessed from a spread of its labelled pages, not
from its first page alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from unet_desktop.core.folder.layouts import scan_folder
from unet_desktop.core.folder.scheme_choice import MASKS_SAMPLED, choose_scheme
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io import stacks
from unet_desktop.core.labels import multiclass_scheme


def _stack_folder(root: Path, labels: np.ndarray) -> None:
    """``images/vol.tif`` with as many slices as ``labels`` has pages, ``masks/vol.tif`` =
    ``labels`` (the user's own label stack)."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    image = np.random.default_rng(0).integers(0, 255, labels.shape, dtype=np.uint8)
    tifffile.imwrite(root / "images/vol.tif", image, photometric="minisblack")
    tifffile.imwrite(root / "masks/vol.tif", labels, photometric="minisblack")


def test_classes_missing_from_the_first_page_are_counted(tmp_path):
    labels = np.zeros((4, 16, 20), np.uint8)  # 0 background, 1 nucleus, 2 cytoplasm, 3 membrane
    labels[:, :5] = 1  # slice 1 holds only 0 and 1
    labels[1:, 5:10] = 2
    labels[1:, 10:12] = 3
    _stack_folder(tmp_path, labels)
    ws = Workspace.open(tmp_path)
    assert ws.scheme == multiclass_scheme(4)
    assert ws.check_masks() == {}
    assert len(ws.labelled()) == 4


def test_a_long_stack_is_sampled_with_its_last_page(tmp_path, monkeypatch):
    labels = np.zeros((5 * MASKS_SAMPLED, 8, 8), np.uint8)
    labels[:, :2] = 1
    labels[-1, 4:] = 4  # a class only the last slice shows
    _stack_folder(tmp_path, labels)
    read = []
    read_mask_page = stacks.read_mask_page
    monkeypatch.setattr(stacks, "read_mask_page",
                        lambda path, i, *a: read.append(i) or read_mask_page(path, i, *a))
    assert choose_scheme(None, None, scan_folder(tmp_path), []) == multiclass_scheme(5)
    assert len(read) == MASKS_SAMPLED and read[0] == 0 and read[-1] == len(labels) - 1
