"""A new model trained on int16 images some of which go below 0 (offset-subtracted camera
data) fixed its bits from the other images only (12 bits), then left half its own training
images out as 'beyond the 12-bit range' with the advice that a model trained anew takes its
range. Now the range a new model fixes holds every one of its training images: bits from the
largest value of every integer image, and integers below 0 give a span from their lowest value."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.io.input_rule import InputRule, fixed_range
from unet_desktop.ml.models.modelfile import read_meta

NEW = InputRule("data-range")


def _camera(offset: bool, bright: int, seed: int) -> np.ndarray:
    """Background noise around 0 (below 0 unless clipped), a bright square object."""
    image = np.random.default_rng(seed).normal(0, 20, (48, 48))
    image[12:36, 12:36] += bright
    return (image if offset else np.clip(image, 0, None)).astype(np.int16)


def _training_images() -> list[np.ndarray]:
    return [_camera(False, 3000, 0), _camera(False, 3000, 1),
            _camera(True, 15000, 2), _camera(True, 15000, 3)]


def test_no_training_image_is_beyond_the_range_fixed_from_them():
    images = _training_images()
    rule = fixed_range(NEW, images)
    assert rule.bits is None and rule.span is not None
    assert rule.span[0] == min(int(im.min()) for im in images) < 0
    assert rule.span[1] == (1 << 14) - 1  # the top of the bits that hold 15000
    for image in images:
        assert rule.beyond_range(image) is None
        fed = rule.apply(image).astype(int)
        assert fed[12:36, 12:36].min() > fed[:8, :8].max()  # the object above the noise


def test_integers_at_or_above_0_keep_their_bits_from_every_image():
    wide = np.array([[0, 20000]], np.int16)
    assert fixed_range(NEW, [np.array([[0, 3000]], np.uint16), wide]) == \
        InputRule("data-range", bits=16)


def test_negative_integers_beside_floats_share_one_span_holding_both():
    floats = np.array([[0.5, 300.0]], np.float32)
    rule = fixed_range(NEW, [floats, np.array([[-7, 900]], np.int16), np.full((2, 2), 9, np.uint8)])
    assert rule == InputRule("data-range", span=(-7.0, 1023.0))
    assert rule.beyond_range(floats) is None and rule.beyond_range(np.array([[-7, 900]], np.int16)) \
        is None


@pytest.mark.usefixtures("one_torch_thread")
def test_train_keeps_every_image_with_negative_pixels(tmp_path, capsys):
    root = tmp_path / "ws"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = np.zeros((48, 48), np.uint8)
    mask[12:36, 12:36] = 255
    for i, image in enumerate(_training_images()):
        tifffile.imwrite(root / f"images/im{i}.tif", image)
        Image.fromarray(mask).save(root / f"masks/im{i}.png")
    out = tmp_path / "new.safetensors"
    assert main(["train", str(root), "--out", str(out), "--max-steps", "1", "--size", "48",
                 "--arch", "unet", "--base", "4", "--depth", "2", "--batch-size", "2",
                 "--val-fraction", "0", "--workers", "0", "--input-rule", "data-range"]) == 0
    err = capsys.readouterr().err
    assert "skipped" not in err and "beyond" not in err, err
    rule = read_meta(out).rule
    assert rule.span is not None and rule.span[0] < 0 and rule.bits is None
