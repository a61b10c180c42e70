"""Training data: caching, label mapping, the validation split and paired augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.core.errors import MaskError
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import IGNORE_INDEX, binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.ml.training.augment import AugmentOptions, train_transform, val_transform
from unet_desktop.ml.training.dataset import (
    SegmentationDataset,
    channel_stats,
    class_counts,
    iter_workspace_samples,
    make_sample,
    pad_collate,
    prefix_group,
    split_indices,
    to_channels,
    training_entries,
)


def test_to_channels_converts_gray_and_rgb():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert to_channels(gray, 1).shape == (1, 3, 4)
    rgb = to_channels(gray, 3)
    assert rgb.shape == (3, 3, 4) and (rgb[2] == gray).all()
    colour = np.zeros((3, 4, 3), dtype=np.uint8)
    colour[..., 1] = 200
    assert to_channels(colour, 3)[1].min() == 200
    assert to_channels(colour, 1).shape == (1, 3, 4)
    with pytest.raises(ValueError, match="1 or 3"):
        to_channels(gray, 2)


def test_sample_is_shrunk_with_nearest_neighbour_masks():
    image = np.zeros((100, 60, 3), dtype=np.uint8)
    stored = np.full((100, 60), 2, dtype=np.uint8)
    stored[:, 30:] = 1
    stored[50:, :] = 3
    s = make_sample("a.png", image, stored, trimap_scheme(), max_side=40)
    assert tuple(s.image.shape) == (3, 40, 24)
    assert tuple(s.target.shape) == (40, 24)
    assert set(s.target.unique().tolist()) == {0, 1, 2}  # indices of values 1, 2, 3
    ignored = make_sample("a.png", image, stored, trimap_scheme(), border_as_ignore=True)
    assert set(ignored.target.unique().tolist()) == {0, 1, IGNORE_INDEX}


def test_sample_rejects_mismatched_sizes_and_unknown_values():
    with pytest.raises(ValueError, match="mask is 5x4 but the image is 6x4"):
        make_sample("a", np.zeros((4, 6), np.uint8), np.zeros((4, 5), np.uint8), binary_scheme())
    with pytest.raises(ValueError, match=r"values \[7\]"):
        make_sample("a", np.zeros((4, 6), np.uint8), np.full((4, 6), 7, np.uint8), binary_scheme())


def test_ignore_value_maps_to_ignore_index_and_is_not_counted():
    scheme = multiclass_scheme(3, ignore_value=11)
    stored = np.array([[0, 1, 11], [2, 11, 11]], dtype=np.uint8)
    s = make_sample("a", np.zeros((2, 3), np.uint8), stored, scheme)
    assert s.target.tolist() == [[0, 1, IGNORE_INDEX], [2, IGNORE_INDEX, IGNORE_INDEX]]
    assert class_counts([s], 3) == [1, 1, 1]


def test_split_is_deterministic_order_free_and_respects_groups():
    keys = [f"car{c}_{v:02d}.jpg" for c in range(6) for v in range(4)]
    train, val = split_indices(keys, 0.34, seed=3, group_fn=prefix_group)
    assert sorted(train + val) == list(range(len(keys)))
    val_groups = {prefix_group(keys[i]) for i in val}
    assert len(val_groups) == 3  # ceil(0.34 * 6)
    assert not val_groups & {prefix_group(keys[i]) for i in train}
    shuffled = list(reversed(keys))
    _, val2 = split_indices(shuffled, 0.34, seed=3, group_fn=prefix_group)
    assert {shuffled[i] for i in val2} == {keys[i] for i in val}
    by_seed = {tuple(split_indices(keys, 0.34, seed=s, group_fn=prefix_group)[1]) for s in range(8)}
    assert len(by_seed) > 1  # the seed matters
    _, per_image = split_indices(keys, 0.25, seed=3)
    assert len(per_image) == 6
    assert len({prefix_group(keys[i]) for i in per_image}) > 1  # without groups, views scatter


def test_split_holds_nothing_out_when_it_cannot():
    assert split_indices(["a"], 0.5) == ([0], [])
    assert split_indices(["a", "b", "c"], 0.0) == ([0, 1, 2], [])
    assert len(split_indices(["a", "b"], 0.9)[1]) == 1  # never the whole set
    with pytest.raises(ValueError, match="val_fraction"):
        split_indices(["a", "b"], 1.0)


def test_prefix_group():
    assert prefix_group("masks/0cdf5b5d0ce1_01.jpg") == "0cdf5b5d0ce1"
    assert prefix_group("plain.png") == "plain"


def _striped_sample(size: int = 40):
    """Image brightness = 40 + 160 * class, so image and mask alignment can be checked."""
    target = np.zeros((size, size), dtype=np.uint8)
    target[:, size // 2 :] = 255
    image = np.where(target > 0, 200, 40).astype(np.uint8)
    return make_sample("s", image, target, binary_scheme())


def test_train_transform_keeps_image_and_mask_aligned():
    torch.manual_seed(0)
    sample = _striped_sample()
    options = AugmentOptions(max_rotation=30, brightness=0, contrast=0, saturation=0, hue=0)
    transform = train_transform(24, [0.0] * 3, [1.0] * 3, options)
    fills = 0
    for _ in range(10):
        image, target = transform(sample.image, sample.target)
        assert image.shape == (3, 24, 24) and image.dtype == torch.float32
        assert target.shape == (24, 24) and target.dtype == torch.int64
        assert set(target.unique().tolist()) <= {0, 1, IGNORE_INDEX}  # nearest: no new values
        gray = image[0]
        fg, bg = gray[target == 1], gray[target == 0]
        if fg.numel() > 20 and bg.numel() > 20:
            assert fg.median() > 0.6 > bg.median()
        fills += int((target == IGNORE_INDEX).sum())
    assert fills > 0  # rotation fills the mask's new corners with the ignore index


def test_val_transform_is_deterministic_keeps_aspect_and_normalises():
    sample = _striped_sample(30)
    transform = val_transform(16, [0.5] * 3, [0.25] * 3)
    a_img, a_tgt = transform(sample.image, sample.target)
    b_img, b_tgt = transform(sample.image, sample.target)
    assert torch.equal(a_img, b_img) and torch.equal(a_tgt, b_tgt)
    assert a_img[0, 0, 0] == pytest.approx((40 / 255 - 0.5) / 0.25, abs=1e-4)
    assert a_tgt[:, :7].eq(0).all() and a_tgt[:, 9:].eq(1).all()
    wide = make_sample("w", np.zeros((20, 40), np.uint8), np.zeros((20, 40), np.uint8),
                       binary_scheme())
    w_img, w_tgt = transform(wide.image, wide.target)
    assert w_img.shape == (3, 16, 32) and w_tgt.shape == (16, 32)  # shorter side = 16


def test_pad_collate_pads_targets_with_the_ignore_index():
    transform = val_transform(16, [0.0] * 3, [1.0] * 3)
    wide = make_sample("w", np.full((20, 40), 255, np.uint8), np.zeros((20, 40), np.uint8),
                       binary_scheme())
    ds = SegmentationDataset([_striped_sample(30), wide], transform)
    images, targets = pad_collate([ds[0], ds[1]])
    assert images.shape == (2, 3, 16, 32) and targets.shape == (2, 16, 32)
    assert targets[0, :, 16:].eq(IGNORE_INDEX).all() and images[0, :, :, 16:].eq(0).all()
    assert targets[1].eq(0).all() and images[1].eq(1).all()


def test_channel_stats():
    sample = _striped_sample()
    mean, std = channel_stats([sample])
    assert mean[0] == pytest.approx(120 / 255, abs=1e-6)
    assert std[0] == pytest.approx(80 / 255, abs=1e-6)


def _write_pair(root, name, image, mask):
    (root / "images").mkdir(exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    Image.fromarray(image).save(root / "images" / f"{name}.png")
    if mask is not None:
        Image.fromarray(mask).save(root / "masks" / f"{name}.png")


def test_workspace_samples_cache_masks_with_hashes(tmp_path):
    mask = np.zeros((20, 30), dtype=np.uint8)
    mask[5:15, 5:15] = 255
    _write_pair(tmp_path, "a", np.full((20, 30, 3), 90, np.uint8), mask)
    _write_pair(tmp_path, "b", np.full((20, 30, 3), 90, np.uint8), None)
    ws = Workspace.open(tmp_path, binary_scheme())
    entries = training_entries(ws)
    assert [e.key for e in entries] == ["images/a.png"]
    (sample,) = iter_workspace_samples(ws, entries, in_channels=1, max_side=15)
    assert tuple(sample.image.shape) == (1, 10, 15)
    assert len(sample.mask_sha1) == 40
    assert sample.target.max() == 1


def test_workspace_sample_with_wrong_size_names_the_mask(tmp_path):
    _write_pair(tmp_path, "a", np.zeros((20, 30), np.uint8), np.zeros((20, 31), np.uint8))
    ws = Workspace.open(tmp_path, binary_scheme())
    with pytest.raises(MaskError, match=r"a\.png: mask is 31x20 but the image is 30x20"):
        list(iter_workspace_samples(ws, training_entries(ws)))


STILL = AugmentOptions(max_rotation=0, brightness=0, contrast=0, saturation=0, hue=0,
                       hflip=False)  # geometry only: crops and nothing else


def stripes(side: int, period: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Vertical stripes, 2 px wide every ``period`` px: a 3-channel image and its 0/1 mask."""
    on = (np.arange(side) % period < 2).astype(np.uint8)
    mask = np.tile(on, (side, 1))
    image = np.repeat((mask * 200 + 20)[None], 3, axis=0)
    return torch.from_numpy(image), torch.from_numpy(mask)


def stripe_period(target: torch.Tensor) -> float:
    """Pixels per stripe along the middle row of a transformed mask (ignored pixels dropped)."""
    row = target[target.shape[0] // 2]
    row = row[row != IGNORE_INDEX].numpy()
    starts = np.count_nonzero((row[1:] == 1) & (row[:-1] == 0))
    return len(row) / max(starts, 1)


def test_native_crops_keep_the_pixel_scale_and_fit_crops_shrink_it():
    image, mask = stripes(256, period=8)
    torch.manual_seed(0)
    native = train_transform(64, [0.5] * 3, [0.25] * 3, STILL, native=True)
    fit = train_transform(64, [0.5] * 3, [0.25] * 3, STILL)
    native_periods = [stripe_period(native(image, mask)[1]) for _ in range(20)]
    fit_periods = [stripe_period(fit(image, mask)[1]) for _ in range(20)]
    assert all(6.5 <= p <= 9.5 for p in native_periods), native_periods  # 8 px, +-10 % jitter
    assert max(fit_periods) < 5, fit_periods  # 35-100 % of 256 px squeezed into 64 px


def test_native_crops_pad_small_images_with_ignored_pixels():
    image, mask = stripes(40, period=8)
    torch.manual_seed(1)
    out_image, target = train_transform(64, [0.5] * 3, [0.25] * 3, STILL, native=True)(image,
                                                                                       mask)
    assert out_image.shape == (3, 64, 64) and target.shape == (64, 64)
    labelled = (target != IGNORE_INDEX).sum().item()
    assert 0.9 ** 2 * 40 * 40 <= labelled <= 1.1 ** 2 * 40 * 40


def test_native_validation_keeps_the_image_size():
    image, mask = stripes(100, period=8)
    assert val_transform(32, [0.5] * 3, [0.25] * 3, native=True)(image, mask)[1].shape == (100,
                                                                                           100)
    assert val_transform(32, [0.5] * 3, [0.25] * 3)(image, mask)[1].shape == (32, 32)


def test_only_chooses_a_stacks_slices_by_its_file_name(tmp_path):
    """--only / --exclude 'vol.tif' or '*.tif': every slice of the stack (its slices' keys are
    'images/vol.tif [k of n]': the stack was never matched by its file)."""
    import tifffile

    from unet_desktop.ml.training.dataset import training_entries

    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    tifffile.imwrite(tmp_path / "images" / "vol.tif", np.zeros((5, 16, 16), np.uint8))
    tifffile.imwrite(tmp_path / "masks" / "vol.tif", np.zeros((5, 16, 16), np.uint8))
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "images" / "a.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "masks" / "a.png")
    ws = Workspace.open(tmp_path, binary_scheme())
    for pattern in ("vol.tif", "*.tif", "images/vol.tif"):
        chosen = training_entries(ws, all_masks=True, only=[pattern])
        assert len(chosen) == 5 and all(e.image_path.name == "vol.tif" for e in chosen)
    assert [e.key for e in training_entries(ws, all_masks=True, only=["a.png"])] == \
        ["images/a.png"]
