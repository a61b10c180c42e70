"""The training generator on tiny generated data: learning, cancel, resume, versions, budgets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import binary_scheme
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.architecture import unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, load_model_file, read_meta
from unet_desktop.ml.reports import EpochReport, FinalReport, StepReport
from unet_desktop.ml.training.checkpoint import checkpoint_path, load_checkpoint
from unet_desktop.ml.training.dataset import SampleSet, make_sample
from unet_desktop.ml.training.train import TrainConfig, train
from unet_desktop.ml.training.train_loop import encoder_modules, lr_factor

ARCH = unet_arch(base=4, depth=2)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def disc_pair(rng: np.random.Generator, size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A noisy RGB image with one bright disc and its binary mask (0/255)."""
    yy, xx = np.mgrid[:size, :size]
    cy, cx = rng.integers(10, size - 10, 2)
    r = rng.integers(5, 10)
    fg = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
    image = rng.normal(60, 20, (size, size, 3)) + fg[..., None] * 110
    return image.clip(0, 255).astype(np.uint8), np.where(fg, 255, 0).astype(np.uint8)


def disc_samples(n: int = 12, seed: int = 0) -> SampleSet:
    rng = np.random.default_rng(seed)
    samples = [make_sample(f"img{i:02d}.png", *disc_pair(rng), binary_scheme()) for i in range(n)]
    return SampleSet(samples, binary_scheme(), "generated")


def config(tmp_path, name: str = "model.safetensors", **kw) -> TrainConfig:
    options = {"arch": ARCH, "epochs": 2, "size": 32, "batch_size": 4, "lr": 1e-2,
               "patience": None, "device": "cpu"}
    return TrainConfig(out=tmp_path / name, **{**options, **kw})


def run(data, cfg, cancel=None) -> tuple[list, FinalReport]:
    reports = list(train(data, cfg, cancel))
    assert isinstance(reports[-1], FinalReport)
    assert sum(isinstance(r, FinalReport) for r in reports) == 1
    return reports, reports[-1]


def test_one_epoch_reduces_the_loss_and_saves_a_described_model(tmp_path):
    cfg = config(tmp_path, epochs=1, batch_size=2, val_fraction=0.25)
    reports, final = run(disc_samples(16), cfg)
    losses = [r.loss for r in reports if isinstance(r, StepReport)]
    assert len(losses) == 6  # 12 training images, batches of 2
    assert np.mean(losses[-2:]) < losses[0]
    assert all(r.images_per_s > 0 and r.lr > 0 for r in reports if isinstance(r, StepReport))
    (epoch,) = [r for r in reports if isinstance(r, EpochReport)]
    assert epoch.improved and set(epoch.val["iou"]) == {"background", "foreground"}
    assert final.model_path == cfg.out and final.stopped == "completed"
    assert final.better_than_parent is None and final.parent_metrics is None
    meta = read_meta(cfg.out)
    assert meta.train_size == 32 and meta.parent_version is None
    assert meta.data_summary["val_images"] == 4 and len(meta.data_summary["val_keys"]) == 4
    assert meta.metrics["miou"] == final.metrics["miou"]
    assert not checkpoint_path(cfg.out).exists()  # removed after a completed run


@pytest.mark.reliability("process", "training cancelled: best model kept")
def test_cancel_stops_within_one_step_and_keeps_the_best_model(tmp_path):
    cancel = CancelToken()
    cfg = config(tmp_path, epochs=3, batch_size=2)
    seen = []
    for report in train(disc_samples(), cfg, cancel):
        seen.append(report)
        if isinstance(report, StepReport) and report.epoch == 2:
            cancel.cancel()
    after_cancel = seen[seen.index(next(r for r in seen if getattr(r, "epoch", 0) == 2)) + 1:]
    assert [type(r) for r in after_cancel] == [FinalReport]
    final = after_cancel[0]
    assert final.stopped == "cancelled" and final.epochs_run == 1 and final.best_epoch == 1
    assert final.model_path == cfg.out and read_meta(cfg.out).metrics["epoch"] == 1
    assert checkpoint_path(cfg.out).exists()  # kept so the run can be resumed


def test_cancel_before_any_validation_writes_nothing(tmp_path):
    cancel = CancelToken()
    cancel.cancel()
    cfg = config(tmp_path)
    _, final = run(disc_samples(4), cfg, cancel)
    assert final.model_path is None and final.stopped == "cancelled"
    assert not cfg.out.exists()


def _weights(path) -> dict[str, torch.Tensor]:
    model, _ = load_model_file(path)
    return model.state_dict()


@pytest.mark.reliability("process", "training interrupted, then resumed")
def test_resume_continues_where_the_crash_left_off(tmp_path):
    data = disc_samples(8)
    _, straight = run(data, config(tmp_path, "straight.safetensors", epochs=3))

    cfg = config(tmp_path, "crashed.safetensors", epochs=3)
    reports = train(data, cfg)
    for report in reports:
        if isinstance(report, EpochReport):
            reports.close()  # the process dies after epoch 1's checkpoint
    ckpt = checkpoint_path(cfg.out)
    assert load_checkpoint(ckpt).epoch == 1

    resumed, final = run(data, config(tmp_path, "crashed.safetensors", epochs=3, resume=True))
    epochs = [r.epoch for r in resumed if isinstance(r, EpochReport)]
    assert epochs == [2, 3]
    assert final.epochs_run == 3 and not ckpt.exists()
    a, b = _weights(straight.model_path), _weights(cfg.out)
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)
    history = read_meta(cfg.out).metrics["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]


@pytest.mark.reliability("models", "resume from a checkpoint of another run")
def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    cfg = config(tmp_path, epochs=2)
    reports = train(disc_samples(8), cfg)
    for report in reports:
        if isinstance(report, EpochReport):
            reports.close()
    other = config(tmp_path, epochs=2, size=48, resume=True)
    with pytest.raises(ValueError, match="another model, data split or training size"):
        run(disc_samples(8), other)


def _workspace(root, n: int = 8) -> Workspace:
    rng = np.random.default_rng(1)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        image, mask = disc_pair(rng)
        Image.fromarray(image).save(root / "images" / f"im{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"im{i}.png")
    return Workspace.open(root)


def test_fine_tune_records_parent_and_compares_on_the_same_split(tmp_path):
    ws = _workspace(tmp_path / "ws")
    _, parent = run(ws, config(tmp_path, "parent.safetensors", epochs=1, val_fraction=0.25))
    parent_meta = read_meta(parent.model_path)
    with pytest.raises(ValueError, match="never overwrites the model in use"):
        config(tmp_path, "parent.safetensors", init=parent.model_path, arch=None)

    cfg = config(tmp_path, "child.safetensors", init=parent.model_path, arch=None, epochs=2,
                 val_fraction=0.25)
    _, final = run(ws, cfg)
    assert final.parent_metrics is not None and final.val_images == 2
    assert not final.parent_trained_on_val  # the same seeded split: the parent held them out
    assert final.parent_metrics["miou"] == pytest.approx(parent.metrics["miou"], abs=1e-6)
    assert final.better_than_parent == (final.metrics["miou"] > final.parent_metrics["miou"])
    meta = read_meta(cfg.out)
    assert meta.parent_version == parent_meta.version != meta.version
    assert meta.normalization == parent_meta.normalization
    summary = meta.data_summary
    assert summary["images"] == 8 and len(summary["mask_sha1"]) == 8
    assert summary["source"] == str(ws.root)


def test_freeze_encoder_trains_only_the_decoder(tmp_path):
    _, parent = run(disc_samples(6), config(tmp_path, "parent.safetensors", epochs=1))
    cfg = config(tmp_path, "child.safetensors", init=parent.model_path, arch=None,
                 freeze_encoder=True, epochs=1)
    run(disc_samples(6), cfg)
    before, _ = load_model_file(parent.model_path)
    after, _ = load_model_file(cfg.out)
    encoder_names = {n for m in encoder_modules(before) for n, _ in m.named_parameters()}
    assert encoder_names
    old, new = before.state_dict(), after.state_dict()
    changed = {k for k in old if not torch.equal(old[k], new[k])}
    assert not any(k.startswith(("inc.", "downs.")) for k in changed)
    assert any(k.startswith(("ups.", "head.")) for k in changed)


def test_time_budget_stops_early_but_still_validates_and_saves(tmp_path):
    cfg = config(tmp_path, epochs=50, max_minutes=1e-5)
    reports, final = run(disc_samples(8), cfg)
    assert final.stopped == "time_budget" and final.model_path == cfg.out
    assert sum(isinstance(r, EpochReport) for r in reports) == 1


def test_early_stopping_after_patience(tmp_path):
    cfg = config(tmp_path, epochs=30, lr=1e-9, patience=2, val_fraction=0.2)
    _, final = run(disc_samples(25), cfg)  # the model cannot improve at this learning rate
    assert final.val_images == 5  # the fewest that may stop a run (ml.training.few_image_recipe)
    assert final.stopped == "early_stopping"
    assert final.epochs_run == 3 and final.best_epoch == 1


def test_schedule_warms_up_then_decays():
    assert lr_factor(0, 10, 0.0, 0.01) == pytest.approx(0.1)
    cosine = 0.5 * (1 + np.cos(0.1 * np.pi))
    assert lr_factor(9, 10, 0.1, 0.01) == pytest.approx(0.01 + 0.99 * cosine)
    assert lr_factor(100, 10, 1.0, 0.01) == pytest.approx(0.01)


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_and_channels_last_steps_run(amp):
    """The GPU settings, exercised on the CPU: autocast, the fp16 gradient scaler, NHWC."""
    from unet_desktop.ml.models.architecture import build_model
    from unet_desktop.ml.training.train_loop import Trainer

    torch.manual_seed(0)
    trainer = Trainer(build_model(ARCH), binary_scheme(), torch.device("cpu"), lr=1e-3,
                      amp=amp, channels_last=True)
    assert trainer.scaler.is_enabled() == (amp == "fp16")
    images = torch.randn(2, 3, 32, 32)
    targets = torch.randint(0, 2, (2, 32, 32))
    before = [p.detach().clone() for p in trainer.params]
    loss, lr = trainer.step(images, targets)
    assert torch.isfinite(loss) and lr > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.params))
    metrics = trainer.evaluate([(images, targets)], lambda: False)
    assert metrics["pixels"] == 2 * 32 * 32


def test_copy_paste_reaches_the_training_images_only(tmp_path, monkeypatch):
    from unet_desktop.ml.training import train_data
    from unet_desktop.ml.training.augment import AugmentOptions

    calls = []

    class CountingPaste(train_data.CopyPaste):
        def __call__(self, image, target):
            calls.append(image.shape)
            return super().__call__(image, target)

    monkeypatch.setattr(train_data, "CopyPaste", CountingPaste)
    cfg = config(tmp_path, epochs=1, val_fraction=0.25,
                 augment=AugmentOptions(copy_paste=1.0))
    run(disc_samples(16), cfg)
    assert len(calls) == 12  # one per training image, none for the 4 validation images
    assert read_meta(cfg.out).data_summary["copy_paste"] == 1.0
    with pytest.raises(ValueError, match="copy-paste probability"):
        config(tmp_path, augment=AugmentOptions(copy_paste=-0.1))


def test_without_validation_every_epoch_is_kept_and_nothing_is_evaluated(tmp_path, monkeypatch):
    from unet_desktop.ml.training.train_loop import Trainer

    def no_evaluation(*args, **kwargs):
        raise AssertionError("validate=False must not evaluate")

    monkeypatch.setattr(Trainer, "evaluate", no_evaluation)
    cfg = config(tmp_path, epochs=3, val_fraction=0.25, validate=False)
    reports, final = run(disc_samples(8), cfg)
    epochs = [r for r in reports if isinstance(r, EpochReport)]
    assert [e.improved for e in epochs] == [True, True, True]
    assert final.best_epoch == 3 and final.metrics["miou"] is None
    assert final.parent_metrics is None and final.model_path.is_file()


def test_a_native_run_is_recorded_and_its_fine_tunes_inherit_the_scale(tmp_path):
    _, final = run(disc_samples(8), config(tmp_path, "native.safetensors", scale="native"))
    assert read_meta(final.model_path).scale == "native"
    child = config(tmp_path, "child.safetensors", arch=None, init=final.model_path, epochs=1)
    assert read_meta(run(disc_samples(8), child)[1].model_path).scale == "native"
    back = config(tmp_path, "fit.safetensors", arch=None, init=final.model_path, epochs=1,
                  scale="fit")
    assert read_meta(run(disc_samples(8), back)[1].model_path).scale == "fit"
    _, plain = run(disc_samples(8), config(tmp_path, "plain.safetensors", epochs=1))
    assert read_meta(plain.model_path).scale == "fit"


def test_a_native_scale_model_predicts_in_tiles_in_resize_mode(tmp_path):
    _, final = run(disc_samples(8), config(tmp_path, scale="native"))
    model, meta = load_model_file(final.model_path)
    image = np.random.default_rng(0).integers(0, 256, (90, 70, 3), dtype=np.uint8)
    resized = Predictor(model, meta, "cpu", "resize", tile_size=32, tile_overlap=8,
                        engine="torch")
    tiled = Predictor(model, meta, "cpu", "tile", tile_size=32, tile_overlap=8, engine="torch")
    assert resized.tiled
    np.testing.assert_allclose(resized.predict(image).probs, tiled.predict(image).probs,
                               atol=1e-6)
    fit = Predictor(model, dataclasses.replace(meta, scale="fit"), "cpu", "resize",
                    tile_size=32, tile_overlap=8, engine="torch")
    assert not fit.tiled
    assert np.abs(fit.predict(image).probs - tiled.predict(image).probs).max() > 1e-3


def test_files_without_a_scale_read_as_fit_and_unknown_scales_are_refused(tmp_path):
    _, final = run(disc_samples(8), config(tmp_path, epochs=1))
    d = read_meta(final.model_path).to_dict()
    del d["scale"]
    assert ModelMeta.from_dict(d).scale == "fit"
    with pytest.raises(ValueError, match="scale"):
        ModelMeta.from_dict({**d, "scale": "huge"})
    with pytest.raises(ValueError, match="scale"):
        TrainConfig(out=tmp_path / "m.safetensors", scale="huge")


def test_a_step_budget_ends_a_time_governed_run_after_that_many_steps(tmp_path):
    cfg = config(tmp_path, epochs=None, max_minutes=10, max_steps=3, val_fraction=0.25)
    reports, final = run(disc_samples(8), cfg)
    assert sum(isinstance(r, StepReport) for r in reports) == 3
    assert final.stopped == "step_limit" and final.model_path.is_file()  # not the time budget


def test_the_time_left_counts_the_steps_left(tmp_path):
    """50 epochs of 3 steps but a 6-step budget: the run ends after two epochs, and the
    second one says nothing is left (not 48 epochs' worth)."""
    cfg = config(tmp_path, epochs=50, max_steps=6, batch_size=2, val_fraction=0.25)
    reports, final = run(disc_samples(8), cfg)
    steps = [r for r in reports if isinstance(r, StepReport)]
    assert steps[0].steps_in_epoch == 3 and len(steps) == 6
    first, second = [r for r in reports if isinstance(r, EpochReport)]
    assert first.time_left_s is not None and second.time_left_s == 0.0
    assert final.stopped == "step_limit"


def test_a_holdout_too_small_to_judge_is_left_out_and_reported(tmp_path):
    """The folder's validation set of one image: not trained on, not validated on, and the
    final report says it was held back (the dock's verdict names it)."""
    cfg = config(tmp_path, epochs=1, holdout=("img03.png",))
    _, final = run(disc_samples(6), cfg)
    assert (final.val_images, final.held_back) == (0, 1)
    summary = read_meta(cfg.out).data_summary
    assert summary["train_images"] == 5 and "img03.png" not in summary["train_keys"]
    cfg = config(tmp_path, "two.safetensors", epochs=1, holdout=("img03.png", "img04.png"))
    _, final = run(disc_samples(6), cfg)
    assert (final.val_images, final.held_back) == (2, 0)
