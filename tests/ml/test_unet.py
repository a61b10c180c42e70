"""UNet / ResNet-UNet shapes, configuration errors, encoder weights and BatchNorm folding."""

from __future__ import annotations

import pytest
import torch
from torchvision.models import resnet18
from torchvision.models.resnet import BasicBlock

from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.fuse import fold_batchnorm
from unet_desktop.ml.models.resnet_unet import IMAGENET_FILES, ResNetUNet

torch.set_num_threads(1)


@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize(("height", "width"), [(32, 32), (33, 47), (1, 5), (17, 64)])
def test_unet_keeps_any_input_size(upsample, in_channels, height, width):
    model = build_model(unet_arch(in_channels, 3, depth=3, base=4, upsample=upsample)).eval()
    with torch.inference_mode():
        out = model(torch.randn(2, in_channels, height, width))
    assert out.shape == (2, 3, height, width)
    assert torch.isfinite(out).all()


def test_unet_width_and_depth_follow_the_configuration():
    model = build_model(unet_arch(3, 2, depth=3, base=8))
    assert model.size_multiple == 8
    assert len(model.downs) == 3 and len(model.ups) == 3
    assert model.downs[-1][1][0].out_channels == 8 * 2**3  # bottleneck width


def test_wrong_input_channels_explain_expected_and_actual_shape():
    model = build_model(unet_arch(1, 2, depth=2, base=4))
    with pytest.raises(ValueError, match=r"\(batch, 1, height, width\).*\(1, 3, 16, 16\)"):
        model(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match=r"got \(16, 16\)"):
        model(torch.randn(16, 16))


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        ({"name": "vgg"}, "unknown architecture"),
        (unet_arch(3, 2) | {"colour": 1}, "unknown keys"),
        (unet_arch(3, 2, depth=0), "depth"),
        (unet_arch(3, 2, upsample="cubic"), "upsample"),
        ({"name": "resnet_unet", "encoder": "resnet9", "in_channels": 3, "num_classes": 2},
         "encoder"),
        ({"name": "unet", "num_classes": 2}, "in_channels"),
        ({"name": "resnet_unet", "encoder": "resnet18", "in_channels": 3, "num_classes": 2,
          "width": 4}, "width must be 8..128"),
        ({"name": "resnet_unet", "encoder": "resnet18", "in_channels": 3, "num_classes": 2,
          "width": 32, "encoder_weights": "/some/resnet18.pth"}, "width-64"),
    ],
)
def test_bad_architectures_are_rejected_with_a_reason(arch, message):
    with pytest.raises(ValueError, match=message):
        build_model(arch)


@pytest.mark.parametrize("in_channels", [1, 3])
def test_resnet_unet_any_size(in_channels):
    model = build_model({"name": "resnet_unet", "encoder": "resnet18",
                         "in_channels": in_channels, "num_classes": 4}).eval()
    with torch.inference_mode():
        out = model(torch.randn(1, in_channels, 45, 70))
    assert out.shape == (1, 4, 45, 70)


@pytest.mark.parametrize(("encoder", "blocks"), [("resnet18", 8), ("resnet34", 16)])
def test_slim_resnet_unet_has_the_same_blocks_at_a_quarter_of_the_weights(encoder, blocks):
    arch = {"name": "resnet_unet", "encoder": encoder, "in_channels": 1, "num_classes": 3}
    full, slim = build_model(arch), build_model(arch | {"width": 32})
    count = sum(isinstance(m, BasicBlock) for m in slim.modules())
    assert count == blocks == sum(isinstance(m, BasicBlock) for m in full.modules())
    n_full = sum(p.numel() for p in full.parameters())
    n_slim = sum(p.numel() for p in slim.parameters())
    assert 0.2 < n_slim / n_full < 0.3
    assert [layer[0].conv1.out_channels for layer in slim.layers] == [32, 64, 128, 256]
    with torch.inference_mode():
        assert slim.eval()(torch.randn(1, 1, 45, 70)).shape == (1, 3, 45, 70)


def test_resnet_encoder_weights_from_a_file(tmp_path):
    reference = resnet18(weights=None)
    path = tmp_path / "encoder.pth"
    torch.save(reference.state_dict(), path)
    gray = ResNetUNet("resnet18", in_channels=1, num_classes=2, encoder_weights=path)
    rgb = ResNetUNet("resnet18", in_channels=3, num_classes=2, encoder_weights=path)
    torch.testing.assert_close(rgb.layers[3][1].conv2.weight, reference.layer4[1].conv2.weight)
    torch.testing.assert_close(rgb.stem[0].weight, reference.conv1.weight)
    torch.testing.assert_close(gray.stem[0].weight, reference.conv1.weight.sum(1, keepdim=True))


def test_imagenet_weights_are_optional_and_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    arch = {"name": "resnet_unet", "encoder": "resnet18", "in_channels": 3, "num_classes": 2,
            "encoder_weights": "imagenet"}
    build_model(arch)  # empty cache: random init, no network access
    cached = resnet18(weights=None)
    (tmp_path / "checkpoints").mkdir()
    torch.save(cached.state_dict(), tmp_path / "checkpoints" / IMAGENET_FILES["resnet18"])
    model = build_model(arch)
    torch.testing.assert_close(model.stem[0].weight, cached.conv1.weight)
    untouched = build_model(arch, pretrained=False)
    assert not torch.equal(untouched.stem[0].weight, cached.conv1.weight)


@pytest.mark.parametrize(
    "arch",
    [unet_arch(3, 3, depth=2, base=4), unet_arch(1, 2, depth=3, base=4, upsample="bilinear"),
     {"name": "resnet_unet", "encoder": "resnet18", "in_channels": 3, "num_classes": 2},
     {"name": "resnet_unet", "encoder": "resnet18", "in_channels": 3, "num_classes": 2,
      "width": 16}],
)
def test_batchnorm_folding_keeps_outputs(arch, randomize_bn):
    model = build_model(arch).eval()
    randomize_bn(model, seed=1)
    fused, folded = fold_batchnorm(model)
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert folded == n_bn > 0
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    x = torch.randn(2, arch["in_channels"], 40, 36)
    with torch.inference_mode():
        expected, got = model(x), fused(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # original intact
