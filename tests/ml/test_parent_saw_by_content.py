"""Whether the parent trained on a run's held-out images is decided by the images' content, down
the lineage: not by their names (signals review, bug 1)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.ml.test_train import config, disc_pair
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.training.dataset import SampleSet, make_sample
from unet_desktop.ml.training.learnt_images import parent_learnt_any
from unet_desktop.ml.training.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _folder(root, seed: int, prefix: str = "im", n: int = 8) -> Workspace:
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        image, mask = disc_pair(rng)
        Image.fromarray(image).save(root / "images" / f"{prefix}{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"{prefix}{i}.png")
    return Workspace.open(root)


def _train(ws, tmp_path, name, init=None, val_fraction=0.0):
    options = {"init": init, "arch": None} if init else {}
    cfg = config(tmp_path, name, epochs=1, max_steps=1, val_fraction=val_fraction, **options)
    return list(train(ws, cfg))[-1]


def test_a_parent_trained_on_other_pictures_of_the_same_names_is_compared(tmp_path):
    a, b = _folder(tmp_path / "A", 1), _folder(tmp_path / "B", 2)  # im0..im7 in both
    parent = _train(b, tmp_path, "b.safetensors")
    child = _train(a, tmp_path, "a.safetensors", parent.model_path, 0.25)
    assert child.val_images == 2 and child.parent_metrics is not None
    assert not child.parent_trained_on_val
    assert child.better_than_parent is not None
    assert "trained_on_these_images" not in read_meta(child.model_path).metrics["parent"]


def test_a_grandparent_that_trained_on_the_held_out_images_counts(tmp_path):
    a, c = _folder(tmp_path / "A", 1), _folder(tmp_path / "C", 3, prefix="other")
    grandparent = _train(a, tmp_path, "a1.safetensors")  # every image of A
    parent = _train(c, tmp_path, "c2.safetensors", grandparent.model_path)
    assert len(read_meta(parent.model_path).data_summary["learnt_images"]) == 2 * 16  # pixels, file
    child = _train(a, tmp_path, "a3.safetensors", parent.model_path, 0.25)
    assert child.parent_trained_on_val and child.better_than_parent is None
    saved = read_meta(child.model_path).metrics["parent"]  # the model card says so
    assert saved["trained_on_these_images"] is True


def test_a_parent_trained_on_samples_in_memory_counts(tmp_path):
    """A learning-loop round trains on samples in memory (no files): their pixels identify them."""
    a = _folder(tmp_path / "A", 1)
    samples = [make_sample(e.key, np.asarray(Image.open(e.image_path)),
                           np.asarray(Image.open(e.mask_path)), binary_scheme())
               for e in a.entries]
    parent = _train(SampleSet(samples, binary_scheme(), "loop"), tmp_path, "loop.safetensors")
    child = _train(a, tmp_path, "child.safetensors", parent.model_path, 0.25)
    assert child.parent_trained_on_val and child.better_than_parent is None


def test_a_parent_saved_before_the_list_is_judged_by_its_masks_content():
    scheme = binary_scheme()
    image, mask = disc_pair(np.random.default_rng(0))
    held_out = [make_sample("im0.png", image, mask, scheme, mask_sha1="a" * 40)]
    ids = {"im0.png": {"0" * 16}}
    trained_elsewhere = {"mask_sha1": {"im0.png": "b" * 40}, "val_keys": []}
    assert not parent_learnt_any(trained_elsewhere, held_out, ids)  # same name, other mask
    renamed = {"mask_sha1": {"x.png": "a" * 40, "im0.png": "c" * 40}, "val_keys": ["im0.png"]}
    assert parent_learnt_any(renamed, held_out, ids)
    held_out_by_it = {"mask_sha1": {"im0.png": "a" * 40}, "val_keys": ["im0.png"]}
    assert not parent_learnt_any(held_out_by_it, held_out, ids)
