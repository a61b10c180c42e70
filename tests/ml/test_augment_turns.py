"""Quarter turns and vertical flips for images without an "up" (augment.without_up): the mask
turns with the image, every orientation comes up, and a native-scale model's run uses them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unet_desktop.ml.training.augment import AugmentOptions, train_transform, without_up
from unet_desktop.ml.training.train_config import TrainConfig
from unet_desktop.ml.training.train_data import augment_options

STILL = AugmentOptions(max_rotation=0, brightness=0, contrast=0, saturation=0, hue=0,
                       hflip=False, min_scale=1.0)  # geometry only: whole image, no flips


def corner_image(side: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """A gray image whose bright block sits in the top-left corner, and the block's mask."""
    mask = np.zeros((side, side), np.uint8)
    mask[: side // 4, : side // 2] = 1  # wider than tall: a turn shows
    return torch.from_numpy((mask * 200 + 20)[None]), torch.from_numpy(mask)


def test_turned_and_flipped_masks_stay_on_their_pixels_and_every_orientation_comes_up():
    image, mask = corner_image()
    transform = train_transform(32, [0.5], [0.25], without_up(STILL))
    torch.manual_seed(0)
    seen = set()
    for _ in range(64):
        out, target = transform(image, mask)
        assert torch.equal(target, (out[0] > 0).long())  # the mask follows the image exactly
        assert int(target.sum()) == int(mask.sum())  # quarter turns are exact: nothing lost
        seen.add(target.numpy().tobytes())
    assert len(seen) == 8  # 4 turns x vertical flip: all 8 orientations of a rectangle block


def test_without_turns_the_block_stays_upright():
    image, mask = corner_image()
    transform = train_transform(32, [0.5], [0.25], STILL)
    torch.manual_seed(0)
    assert all(torch.equal(transform(image, mask)[1], mask.long()) for _ in range(16))


@pytest.mark.parametrize(("scale", "asked", "turned"), [
    ("native", None, True), ("fit", None, False), ("native", False, False), ("fit", True, True)])
def test_a_native_scale_run_turns_its_images_unless_told_otherwise(tmp_path, scale, asked,
                                                                     turned):
    config = TrainConfig(out=tmp_path / "m.safetensors", without_up=asked)
    options = augment_options(config, scale)
    assert options.turns is turned and options.vflip is turned
    assert options.copy_paste == config.augment.copy_paste  # the rest kept
