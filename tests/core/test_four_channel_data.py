"""A 4-channel image that is not RGBA keeps its 4th channel; RGBA files still drop their alpha;
the scale proposal of `train --channels` looks at the channels the model gets; a few hot
pixels over a fixed range do not leave an image out of training."""

import numpy as np
import pytest
import tifffile

from unet_desktop.core.errors import ImageReadError
from unet_desktop.core.folder.task_proposal import propose_for_folder
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.display import render
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.io.stacks import probe_tiff, read_slice, read_tiff_image
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.training.dataset import load_workspace_sample


def _four_channels(h=24, w=32) -> np.ndarray:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 200, (h, w, 4), dtype=np.uint16) * 10
    values[..., 3] = np.linspace(3000, 4000, w, dtype=np.uint16)  # the 4th channel: bright
    return values


def test_a_four_sample_grey_tiff_keeps_its_fourth_channel(tmp_path):
    values = _four_channels()
    path = tmp_path / "four.tif"
    tifffile.imwrite(path, values, photometric="minisblack", planarconfig="contig")
    assert probe_tiff(path).channels == 4
    raw = read_tiff_image(path)
    np.testing.assert_array_equal(raw, values)
    assert "4 channels" in InputRule("data-range").misfit(4)  # a choice is needed, as for 5
    fourth = InputRule("data-range", channels=(3,)).apply(raw, path)
    assert fourth.ndim == 2 and int(fourth.max()) == round(4000 * 255 / 4095)  # the 4th, 12-bit
    shown = render(raw)  # a composite: the 4th channel's tint (yellow) is in it
    no_fourth = render(np.concatenate([raw[..., :3], np.zeros_like(raw[..., :1])], axis=2))
    assert shown.shape == (24, 32, 3) and int(shown.sum()) > int(no_fourth.sum())


def test_rgba_tiffs_still_drop_their_alpha(tmp_path):
    rgba = np.random.default_rng(1).integers(0, 255, (3, 16, 20, 4), dtype=np.uint8)
    one = tmp_path / "rgba.tif"
    tifffile.imwrite(one, rgba[0], photometric="rgb", extrasamples=["unassalpha"])
    assert probe_tiff(one).channels == 3
    np.testing.assert_array_equal(read_tiff_image(one), rgba[0, ..., :3])
    stack = tmp_path / "rgba-stack.tif"  # pages through tifffile: the alpha dropped there too
    tifffile.imwrite(stack, rgba, photometric="rgb", extrasamples=["unassalpha"])
    assert probe_tiff(stack).channels == 3
    np.testing.assert_array_equal(read_slice(stack, 2), rgba[2, ..., :3])
    assert InputRule("data-range").misfit(3) is None


def _lines_and_blobs(h=256, w=256) -> np.ndarray:
    """Channel 1: smooth blobs; channel 2: a grid of thin dark lines on bright."""
    yy, xx = np.mgrid[:h, :w]
    blobs = (120 + 100 * np.sin(yy / 40.0) * np.cos(xx / 50.0)).astype(np.uint16) * 16
    lines = np.full((h, w), 3000, np.uint16)
    lines[::24, :] = 200
    lines[:, ::24] = 200
    return np.stack([blobs, lines], axis=2)


def test_the_scale_proposal_looks_at_the_chosen_channels(tmp_path):
    (tmp_path / "images").mkdir()
    for i in range(2):
        tifffile.imwrite(tmp_path / "images" / f"cells{i}.tif", _lines_and_blobs(),
                         photometric="minisblack", planarconfig="contig")
    ws = Workspace.open(tmp_path, binary_scheme())
    assert propose_for_folder(ws, 1, InputRule("data-range", channels=(1,))).scale == "native"
    assert propose_for_folder(ws, 1, InputRule("data-range", channels=(0,))).scale == "fit"


@pytest.mark.parametrize("hot, left_out", [(3, False), (400, True)])
def test_a_few_hot_pixels_over_the_range_do_not_leave_an_image_out(tmp_path, hot, left_out):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    image = np.full((32, 32), 1000, np.uint16)
    image.flat[:hot] = 4500  # over the 12-bit range the model fixed
    tifffile.imwrite(tmp_path / "images" / "a.tif", image)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    from PIL import Image
    Image.fromarray(mask).save(tmp_path / "masks" / "a.png")
    ws = Workspace.open(tmp_path, binary_scheme())
    rule = InputRule("data-range", bits=12)
    entry = ws.entries[0]
    if left_out:
        with pytest.raises(ImageReadError, match="beyond the 12-bit range"):
            load_workspace_sample(ws, entry, rule=rule)
    else:
        sample = load_workspace_sample(ws, entry, rule=rule)
        assert int(sample.image.max()) == 255  # the hot pixels saturate, the rest as before
