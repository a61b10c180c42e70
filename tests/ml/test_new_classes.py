"""Fine-tuning onto another label scheme: the head is rebuilt, rows carried over by class name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.ml.models.architecture import build_model
from unet_desktop.ml.models.modelfile import load_model_file, read_meta
from unet_desktop.ml.models.new_classes import class_mapping, replace_head
from unet_desktop.ml.reports import FinalReport
from unet_desktop.ml.training.dataset import SampleSet, make_sample
from unet_desktop.ml.training.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def disc_samples(scheme, n: int = 8, seed: int = 0) -> SampleSet:
    """Noisy images with a bright disc; masks in ``scheme`` (disc = its foreground class)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:40, :40]
    fg_value, bg_value = {"binary": (255, 0), "multiclass": (1, 0)}[scheme.kind]
    samples = []
    for i in range(n):
        cy, cx = rng.integers(12, 28, 2)
        fg = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.integers(6, 10) ** 2
        image = (rng.normal(60, 20, (40, 40, 3)) + fg[..., None] * 110).clip(0, 255)
        mask = np.where(fg, fg_value, bg_value).astype(np.uint8)
        samples.append(make_sample(f"img{i:02d}.png", image.astype(np.uint8), mask, scheme))
    return SampleSet(samples, scheme, "generated")


def fine_tune(tmp_path, init, data, **kw) -> FinalReport:
    config = TrainConfig(out=tmp_path / "child.safetensors", init=init, epochs=1, size=32,
                         batch_size=4, patience=None, device="cpu", val_fraction=0.25, **kw)
    reports = list(train(data, config))
    assert isinstance(reports[-1], FinalReport)
    return reports[-1]


def test_trimap_model_fine_tunes_onto_binary_masks(tmp_path, model_file_factory):
    parent_path, parent_meta = model_file_factory(trimap_scheme(), name="parent.safetensors")
    final = fine_tune(tmp_path, parent_path, disc_samples(binary_scheme()), new_classes=True)
    assert final.stopped == "completed" and final.model_path is not None
    model, meta = load_model_file(final.model_path)
    assert meta.scheme == binary_scheme() and meta.arch["num_classes"] == 2
    assert meta.parent_version == parent_meta.version
    assert model.head.out_channels == 2
    transfer = meta.data_summary["new_classes"]
    assert transfer["carried_over"] == {"background": "background", "foreground": "foreground"}
    assert transfer["fresh"] == [] and transfer["parent_scheme"]["kind"] == "trimap"
    # every class came from the parent: it is compared through the mapping (its zero-shot)
    assert final.parent_metrics is not None and final.better_than_parent is not None
    assert set(final.parent_metrics["iou"]) == {"background", "foreground"}


def test_without_the_option_the_error_names_file_schemes_and_option(tmp_path,
                                                                    model_file_factory):
    parent_path, _ = model_file_factory(trimap_scheme(), name="parent.safetensors")
    with pytest.raises(ValueError) as caught:
        fine_tune(tmp_path, parent_path, disc_samples(binary_scheme()))
    message = str(caught.value)
    assert str(parent_path) in message and "--new-classes" in message
    assert "trimap (1 foreground, 2 background, 3 border)" in message
    assert "binary (0 background, 255 foreground)" in message
    assert not (tmp_path / "child.safetensors").exists()


@pytest.mark.parametrize("arch", [
    {"name": "unet", "in_channels": 3, "num_classes": 3, "depth": 2, "base": 4},
    {"name": "resnet_unet", "encoder": "resnet18", "in_channels": 3, "num_classes": 3,
     "encoder_weights": None},
])
def test_carried_rows_equal_the_parents_for_matching_names(arch):
    torch.manual_seed(0)
    model = build_model(arch)
    old_weight, old_bias = model.head.weight.clone(), model.head.bias.clone()
    body = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("head.")}
    new = multiclass_scheme(["Background", "cat", "FOREGROUND"])
    transfer = replace_head(model, trimap_scheme(), new)
    assert transfer.carried == {"Background": "background", "FOREGROUND": "foreground"}
    assert transfer.fresh == ["cat"] and not transfer.complete
    assert model.head.out_channels == 3 and model.num_classes == 3
    for new_index, parent_index in ((0, 1), (2, 0)):  # trimap: foreground 0, background 1
        assert torch.equal(model.head.weight[new_index], old_weight[parent_index])
        assert model.head.bias[new_index] == old_bias[parent_index]
    assert not torch.equal(model.head.weight[1], old_weight[2])  # "cat" starts fresh
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in body.items())  # the rest is untouched
    assert model.eval()(torch.zeros(1, 3, 64, 64)).shape == (1, 3, 64, 64)


def test_a_fresh_class_skips_the_parent_comparison_without_crashing(tmp_path,
                                                                    model_file_factory):
    parent_path, _ = model_file_factory(trimap_scheme(), name="parent.safetensors")
    data = disc_samples(multiclass_scheme(["background", "disc"]))
    final = fine_tune(tmp_path, parent_path, data, new_classes=True)
    assert final.parent_metrics is None and final.better_than_parent is None
    meta = read_meta(final.model_path)
    assert meta.data_summary["new_classes"]["fresh"] == ["disc"]
    assert meta.scheme.names == ["background", "disc"]


def test_the_option_changes_nothing_when_the_classes_already_match(tmp_path,
                                                                   model_file_factory):
    parent_path, parent_meta = model_file_factory(binary_scheme(), name="parent.safetensors")
    final = fine_tune(tmp_path, parent_path, disc_samples(binary_scheme()), new_classes=True)
    meta = read_meta(final.model_path)
    assert "new_classes" not in meta.data_summary
    assert meta.parent_version == parent_meta.version and final.parent_metrics is not None


def test_class_names_match_case_insensitively_and_only_by_name():
    mapping = class_mapping(trimap_scheme(), binary_scheme())
    assert mapping == {0: 1, 1: 0}  # binary background <- trimap background, and foreground
    assert class_mapping(trimap_scheme(), multiclass_scheme(["Sky", "Road"])) == {}
