"""The few-image recipe's training: kept BatchNorm statistics, a schedule that spans a step
budget, the latest model kept when nothing was held out."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.training.train_loop import Trainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARCH = unet_arch(base=4, depth=2)


def trainer(keep_statistics: bool = False, **options) -> Trainer:
    torch.manual_seed(0)
    model = build_model(ARCH)
    return Trainer(model, binary_scheme(), torch.device("cpu"), lr=1e-2, channels_last=False,
                   keep_norm_statistics=[model] if keep_statistics else (), **options)


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(4, 3, 32, 32, generator=generator) * 3 + 2  # far from the stats
    return images, (images[:, 0] > 2).long()


def norms(t: Trainer) -> list[nn.BatchNorm2d]:
    return [m for m in t.model.modules() if isinstance(m, nn.BatchNorm2d)]


def test_kept_batchnorm_statistics_do_not_move_but_their_scale_trains():
    kept, moving = trainer(keep_statistics=True), trainer()
    before = [(m.running_mean.clone(), m.weight.detach().clone()) for m in norms(kept)]
    for t in (kept, moving):
        t.train_mode()
        for _ in range(3):
            t.step(*batch())
    assert all(torch.equal(m.running_mean, mean) for m, (mean, _) in zip(norms(kept), before))
    assert any(not torch.equal(m.weight, weight) for m, (_, weight) in zip(norms(kept), before))
    assert any(not torch.equal(m.running_mean, mean)
               for m, (mean, _) in zip(norms(moving), before))


def test_a_step_budget_is_the_schedules_length():
    t = trainer(total_steps=100_000, max_steps=100, min_lr_ratio=0.01, warmup_steps=2)
    t.global_step = 50
    assert t.progress() == pytest.approx(0.5)
    t.global_step = 100
    assert t._set_lr() == pytest.approx(1e-2 * 0.01)


def test_with_a_step_budget_the_clock_does_not_move_the_rate(monkeypatch):
    """A time limit beside a step budget ends the run but never sets its rates: two runs of
    the same steps are the same run on any CPU (issue 31: the paths' figures were compared so)."""
    from unet_desktop.ml.training import train_loop

    now = [1000.0]
    monkeypatch.setattr(train_loop.time, "monotonic", lambda: now[0])
    t = trainer(total_steps=100_000, max_steps=100, min_lr_ratio=0.01, warmup_steps=2,
                budget_s=600.0)
    t.global_step = 50
    rate = t._set_lr()
    now[0] += 450.0  # three quarters of the time limit later, the same step
    assert t._set_lr() == rate and t.progress() == pytest.approx(0.5)
    timed = trainer(total_steps=100_000, min_lr_ratio=0.01, warmup_steps=2, budget_s=600.0)
    now[0] += 300.0  # half its time limit: its schedule follows the clock
    assert timed.progress() == pytest.approx(0.5)


def test_a_run_validated_on_its_training_images_keeps_its_latest_model(tmp_path, monkeypatch):
    """A fit on the training images cannot tell a better model from a more overfitted one:
    even when that fit falls epoch after epoch, the last epoch's model is the one saved."""
    from tests.ml.test_train import config, disc_samples, run

    fits = iter([0.9, 0.6, 0.3])

    def falling_fit(self, loader, cancelled):
        return {"miou": next(fits), "mdice": None, "loss": 1.0}

    monkeypatch.setattr(Trainer, "evaluate", falling_fit)
    _, final = run(disc_samples(4), config(tmp_path, epochs=3, val_fraction=0.0))
    assert final.val_images == 0 and final.best_epoch == 3
    assert final.metrics["miou"] == 0.3


def test_few_images_keep_the_starts_batchnorm_statistics_a_new_model_has_none(tmp_path):
    """A fine-tune of few images keeps its parent's BatchNorm statistics (the recipe's default);
    a model from scratch has none worth keeping and estimates its own."""
    from tests.ml.test_train import config, disc_samples, run
    from unet_desktop.ml.models.modelfile import load_model_file
    from unet_desktop.ml.training.few_image_recipe import resolve

    _, parent = run(disc_samples(4), config(tmp_path, "parent.safetensors", epochs=1))
    assert resolve(config(tmp_path), 4).freeze_batchnorm is True
    _, child = run(disc_samples(4, seed=1), config(tmp_path, "child.safetensors", epochs=1,
                                                   init=parent.model_path))
    means = {path: {k: v for k, v in load_model_file(path)[0].state_dict().items()
                    if k.endswith("running_mean")} for path in (parent.model_path,
                                                                child.model_path)}
    assert all(torch.equal(means[child.model_path][k], v)
               for k, v in means[parent.model_path].items())
    assert read_recipe(child.model_path)["kept_norm_statistics"] is True
    assert read_recipe(parent.model_path)["kept_norm_statistics"] is False  # from scratch
    fresh = build_model(ARCH).state_dict()
    assert any(not torch.equal(fresh[k], v) for k, v in means[parent.model_path].items())


def read_recipe(path) -> dict:
    from unet_desktop.ml.models.modelfile import read_meta

    return read_meta(path).data_summary["schedule"]


def test_validating_between_epochs_leaves_the_training_stream_unchanged(tmp_path):
    """The dialog and ``train`` validate each epoch, a loop round does not (its gate judges):
    from the same seed they must train the same model, so their figures can be compared
    (issue 31). Validation draws nothing from the random stream of augmentation and shuffling."""
    from tests.ml.test_train import config, disc_samples, run
    from unet_desktop.ml.models.modelfile import load_model_file

    _, parent = run(disc_samples(4), config(tmp_path, "parent.safetensors", epochs=1))
    models = {}
    for validate in (True, False):
        _, final = run(disc_samples(4, seed=1),
                       config(tmp_path, f"v{validate}.safetensors", epochs=3, arch=None,
                              init=parent.model_path, val_fraction=0.0, validate=validate))
        models[validate] = load_model_file(final.model_path)[0].state_dict()
    assert all(torch.equal(models[True][k], v) for k, v in models[False].items())
