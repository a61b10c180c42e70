"""The export form of the decoder (concatenation split into two convolutions) keeps outputs."""

from __future__ import annotations

import pytest
import torch

from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.fuse import fold_batchnorm
from unet_desktop.ml.models.split_concat import SplitUp, split_concat_convs

from .conftest import randomize_batchnorm


@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
@pytest.mark.parametrize("in_channels", [1, 3])
def test_split_decoder_equals_the_folded_unet(upsample, in_channels):
    torch.manual_seed(0)
    model = build_model(unet_arch(in_channels, 3, depth=3, base=8, upsample=upsample)).eval()
    randomize_batchnorm(model)
    folded = fold_batchnorm(model)[0]
    split = split_concat_convs(folded)
    assert all(isinstance(block, SplitUp) for block in split.ups)
    assert not any(isinstance(block, SplitUp) for block in folded.ups)  # the original is kept
    x = torch.randn(2, in_channels, 40, 56)
    with torch.inference_mode():
        expected, got = folded.forward_padded(x), split.forward_padded(x)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_models_it_cannot_split_come_back_unchanged():
    unfolded = build_model(unet_arch(3, 2, depth=2, base=4)).eval()  # BatchNorm still there
    assert split_concat_convs(unfolded) is unfolded
    resnet = build_model({"name": "resnet_unet", "encoder": "resnet18", "in_channels": 3,
                          "num_classes": 2}).eval()
    assert split_concat_convs(resnet) is resnet
