"""choose_scheme guesses a folder's scheme from the values of several masks, not the first one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from unet_desktop.core.folder.layouts import scan_folder
from unet_desktop.core.folder.scheme_choice import MASKS_SAMPLED, choose_scheme
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io import maskio
from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme

DENSE = np.array([[0, 255], [255, 0]], np.uint8)
STROKES = np.array([[0, 128], [128, 255]], np.uint8)  # sparse: 128 is unlabeled


def pair(root: Path, stem: str, mask: np.ndarray | None) -> None:
    """An image ``images/<stem>.png`` and, unless ``mask`` is None, its mask."""
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros(mask.shape if mask is not None else (2, 2), np.uint8)).save(
        root / "images" / f"{stem}.png")
    if mask is not None:
        Image.fromarray(mask).save(root / "masks" / f"{stem}.png")


def guessed(root: Path, warnings: list[str] | None = None):
    return choose_scheme(None, None, scan_folder(root), warnings if warnings is not None else [])


def test_dense_mask_first_then_sparse_strokes_is_sparse_binary(tmp_path):
    pair(tmp_path, "a_dense", DENSE)  # sorts first, as in the reviewer's folder
    for i in range(3):
        pair(tmp_path, f"p{i}", STROKES)
    assert guessed(tmp_path) == binary_scheme(ignore_value=128)
    assert Workspace.open(tmp_path).scheme == binary_scheme(ignore_value=128)


def test_classes_missing_from_the_first_mask_are_counted(tmp_path):
    pair(tmp_path, "a", np.array([[0, 1], [1, 0]], np.uint8))  # read as 0/255 on its own
    pair(tmp_path, "b", np.array([[0, 2], [3, 0]], np.uint8))
    assert guessed(tmp_path) == multiclass_scheme(4)


def test_trimap_whose_first_mask_holds_one_value(tmp_path):
    pair(tmp_path, "a", np.ones((2, 2), np.uint8))
    pair(tmp_path, "b", np.array([[1, 2], [3, 1]], np.uint8))
    assert guessed(tmp_path) == trimap_scheme()


def test_dense_binary_folder_stays_plain_binary(tmp_path):
    pair(tmp_path, "a", DENSE)
    pair(tmp_path, "b", np.array([[0, 1], [1, 1]], np.uint8))  # 0/1 from another tool
    pair(tmp_path, "c", None)
    assert guessed(tmp_path) == binary_scheme()


def test_unreadable_masks_are_passed_over_and_all_unreadable_warns(tmp_path):
    pair(tmp_path, "a", DENSE)
    pair(tmp_path, "b", STROKES)
    (tmp_path / "masks" / "a.png").write_bytes(b"not a png")
    assert guessed(tmp_path) == binary_scheme(ignore_value=128)
    (tmp_path / "masks" / "b.png").write_bytes(b"not a png")
    warnings: list[str] = []
    assert guessed(tmp_path, warnings) == binary_scheme()
    assert warnings and "could not guess the label scheme" in warnings[0]


def test_big_folder_reads_a_bounded_sample_spread_to_the_last_mask(tmp_path, monkeypatch):
    count = MASKS_SAMPLED * 4
    for i in range(count):
        pair(tmp_path, f"m{i:03d}", STROKES if i == count - 1 else DENSE)
    read: list[Path] = []
    original = maskio.read_mask  # scheme_choice imports it lazily, so patch it at the source

    def counting_read(path, *args, **kwargs):
        read.append(Path(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(maskio, "read_mask", counting_read)
    assert guessed(tmp_path) == binary_scheme(ignore_value=128)
    assert len(read) == MASKS_SAMPLED == len(set(read))
    assert read[0].stem == "m000" and read[-1].stem == f"m{count - 1:03d}"
    assert read == sorted(read)  # deterministic order: the folder's
