"""Fine-tune a model on a workspace's labelled images (or train one from scratch) as a generator.

    for report in train(workspace, TrainConfig(out=..., init=...), cancel):
        ...  # PrepareReport, SplitReport, StepReport, EpochReport, then one FinalReport

A labelled pair whose mask (or image) cannot be used (values outside the scheme, another size)
is left out and reported once as a ``SkippedPair`` naming the file and the reason; the run
trains on the others.

What a run guarantees: the model it starts from is never overwritten; the validation split is
held out deterministically and the parent is evaluated on it first, so the final report says
whether the new model is better (a parent with other classes, ``new_classes``, through the
class-name mapping: see ``_Run.run``); the best model so far is in ``config.out`` after every
epoch that improved (so a cancel keeps it); a checkpoint beside it lets ``resume=True``
continue after a crash or a cancel. Under torchrun every process runs this generator; only
rank 0 writes files.

This module owns the run: its epochs, the best model and checkpoints, the final verdict. The
model it starts from is ``ml.training.train_start``; the samples, their split and loaders
``ml.training.train_data``; one epoch's steps ``ml.training.train_loop``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator

import torch
from torch import nn

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.folder.learning_record import MIN_VALIDATION_IMAGES
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.device import pick_device
from unet_desktop.ml.models.architecture import build_model
from unet_desktop.ml.models.modelfile import ModelMeta, clean_state_dict, new_version_id, save_model
from unet_desktop.ml.models.new_classes import ClassTransfer
from unet_desktop.ml.reports import (
    EpochReport,
    FinalReport,
    PrepareReport,
    Report,
    SkippedPair,
    SplitReport,
)
from unet_desktop.ml.training import distributed as ddp
from unet_desktop.ml.training.checkpoint import (
    TrainingState,
    capture_rng,
    checkpoint_path,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from unet_desktop.ml.training.dataset import SampleSet, class_counts
from unet_desktop.ml.training.few_image_recipe import resolve
from unet_desktop.ml.training.learnt_images import (
    LEARNT_IMAGES,
    image_ids,
    learnt_images,
    parent_learnt_any,
)
from unet_desktop.ml.training.losses import class_weights_from_counts
from unet_desktop.ml.training.parent_fill import parent_knows_the_classes, parent_probabilities
from unet_desktop.ml.training.stroke_fill import labelled_fraction
from unet_desktop.ml.training.train_config import (
    FINE_TUNE_LR,
    FROM_SCRATCH_LR,
    TrainConfig,
)
from unet_desktop.ml.training.train_data import (
    augment_options,
    load_samples,
    make_loaders,
    normalization,
    repeats,
    split_samples,
)
from unet_desktop.ml.training.train_loop import Trainer
from unet_desktop.ml.training.train_start import starting_model

log = logging.getLogger(__name__)

__all__ = ["TrainConfig", "train"]  # the reports it yields: unet_desktop.ml.reports

NOT_VALIDATED = {"loss": None, "miou": None, "mdice": None}  # an epoch of validate=False


def train(
    data: Workspace | SampleSet, config: TrainConfig, cancel: CancelToken | None = None
) -> Iterator[Report]:
    """Run one training; see the module docstring. Bad input raises ``ValueError``/``FileError``."""
    device = pick_device(config.device)
    info = ddp.init_distributed(device)
    try:
        yield from _Run(data, config, cancel or CancelToken(), device, info).run()
    finally:
        ddp.shutdown(info)


def _fingerprint(**parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class _Run:
    """State of one training run; :meth:`run` is the report generator."""

    def __init__(self, data: Workspace | SampleSet, config: TrainConfig, cancel: CancelToken,
                 device: torch.device, info: ddp.DistInfo) -> None:
        self.data, self.config, self.cancel = data, config, cancel
        self.device, self.dist = device, info
        self.ckpt_path = checkpoint_path(config.out)
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_metrics: dict | None = None
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0
        self.history: list[dict] = []
        self.parent_metrics: dict | None = None
        self.transfer: ClassTransfer | None = None  # set when the parent's classes are replaced
        self.kept_norm_statistics = False  # the start's BatchNorm statistics kept (the recipe)
        self.fill_second_opinion = 0  # images whose sparse fill averaged in the parent's prediction
        self.parent_saw = False  # the parent (or an ancestor) trained on a held-out image
        self.checkpoint_failed = False  # the resume checkpoint could not be written (said once)

    # --- setup ---------------------------------------------------------------------------------
    def _initial_model(self) -> nn.Module:
        start = starting_model(self.data, self.config)
        self.parent, self.arch, self.scheme = start.parent, start.arch, start.scheme
        self.input_rule, self.size, self.scale = start.input_rule, start.size, start.scale
        self.transfer = start.transfer
        return start.model

    def _load_samples(self) -> Iterator[PrepareReport | SkippedPair]:
        self.samples, self.source = yield from load_samples(
            self.data, self.config, int(self.arch["in_channels"]), self.input_rule, self.size,
            self.scale, self.cancel)

    def _prepare_data(self) -> None:
        """The split (after the few-image recipe), the normalisation and the loaders."""
        self.config = cfg = resolve(self.config, len(self.samples))  # the few-image recipe
        split = split_samples(self.samples, cfg, self.scheme.num_classes, self._parent_opinion)
        self.train_samples, self.val_samples = split.train_samples, split.val_samples
        self.val_on_train, self.stroke_filled = split.val_on_train, split.stroke_filled
        self.fill_second_opinion = split.fill_second_opinion
        self.early_stopping = split.early_stopping
        self.held_back = split.held_back
        self.image_ids = image_ids(self.data, self.samples)  # ml.training.learnt_images
        self.parent_saw = self._parent_trained_on_val()
        # share of the validation masks' pixels labelled: below 0.5 the figures are on strokes
        self.val_labelled = labelled_fraction(self.val_samples)
        self.normalization = normalization(self.parent, self.arch, self.train_samples)
        loaders = make_loaders(split, cfg, self.normalization, self.size, self.scale,
                               self.scheme, self.device, self.dist)
        self.sampler, self.train_loader, self.val_loader = loaders.sampler, loaders.train, \
            loaders.val

    def _parent_opinion(self, samples: list) -> list | None:
        """The parent's prediction of the samples for the sparse fill, when it knows the
        task's classes (``ml.training.parent_fill``)."""
        if not (self.config.fill_from_parent
                and parent_knows_the_classes(self.config.init, self.transfer)):
            return None
        return parent_probabilities(self.config.init, self.transfer, self.scheme, samples,
                                    self.device)

    def _trainer(self, model: nn.Module) -> Trainer:
        cfg = self.config
        weights = cfg.class_weights
        if weights == "auto":
            counts = class_counts(self.train_samples, self.scheme.num_classes)
            weights = class_weights_from_counts(counts).tolist()
        # a fine-tune keeps its parent's statistics; a new model estimates its own (its
        # encoder's are ImageNet's: on gray EM slices keeping them was worse, issue 31)
        kept = [model] if cfg.freeze_batchnorm and self.parent is not None else []
        self.kept_norm_statistics = bool(kept)
        return Trainer(
            model, self.scheme, self.device,
            lr=cfg.lr or (FINE_TUNE_LR if self.parent else FROM_SCRATCH_LR),
            weight_decay=cfg.weight_decay, class_weights=weights, dice_weight=cfg.dice_weight,
            grad_clip=cfg.grad_clip, amp=cfg.amp, channels_last=cfg.channels_last,
            freeze_encoder=cfg.freeze_encoder,
            total_steps=cfg.epoch_limit * len(self.train_loader),
            warmup_steps=cfg.fixed_warmup_steps,
            warmup_fraction=cfg.warmup_fraction, min_lr_ratio=cfg.min_lr_ratio,
            budget_s=cfg.max_minutes * 60 if cfg.max_minutes else None, dist_info=self.dist,
            max_steps=cfg.max_steps, smoothness_weight=cfg.smoothness_weight,
            keep_norm_statistics=kept,
        )

    def _data_summary(self) -> dict:
        cfg = self.config
        return {
            "source": self.source,
            "images": len(self.samples),
            "train_images": len(self.train_samples),
            "held_back": self.held_back,  # the folder's validation images, too few: unused
            "val_images": self._val_images(),
            "val_on_train": self.val_on_train,
            "val_labelled": round(self.val_labelled, 4),
            "val_keys": sorted(s.key for s in self.val_samples) if not self.val_on_train else [],
            "train_keys": sorted(s.key for s in self.train_samples),
            # judged on at least MIN_VALIDATION_IMAGES images it did not train on
            "validated": not self.val_on_train and len(self.val_samples) >= MIN_VALIDATION_IMAGES,
            "split_seed": cfg.seed,
            "val_fraction": cfg.val_fraction,
            "early_stopping": bool(cfg.patience) and self.early_stopping,
            "schedule": {"batch_size": cfg.batch_size, "warmup_steps": cfg.fixed_warmup_steps,
                         "min_lr_ratio": cfg.min_lr_ratio,
                         "kept_norm_statistics": self.kept_norm_statistics},
            "grouped_split": cfg.group_fn is not None,
            "border_as_ignore": cfg.border_as_ignore,
            "all_masks": cfg.all_masks,
            "stroke_fill": self.stroke_filled,  # unlabeled pixels filled (ml.training.stroke_fill)
            "fill_second_opinion": self.fill_second_opinion,  # the parent's (parent_fill)
            "copy_paste": cfg.augment.copy_paste,
            "turned": augment_options(cfg, self.scale).turns,  # quarter turns and vertical flips
            "repeats_per_epoch": repeats(cfg, len(self.train_samples)),
            "world_size": self.dist.world_size,
            "mask_sha1": {s.key: s.mask_sha1 for s in self.samples if s.mask_sha1},
            LEARNT_IMAGES: learnt_images(
                self.parent.data_summary if self.parent else None,
                (self.image_ids[s.key] for s in self.train_samples)),
            **({"new_classes": self.transfer.to_dict()} if self.transfer else {}),
        }

    # --- versions and checkpoints --------------------------------------------------------------
    def _meta(self) -> ModelMeta:
        cfg = self.config
        metrics = {**(self.best_metrics or {}), "epoch": self.best_epoch, "history": self.history}
        if self.parent_metrics is not None:
            metrics["parent"] = {k: self.parent_metrics.get(k) for k in ("miou", "mdice", "loss")}
            if self.parent_saw:  # its figures are on images it learnt from: no comparison
                metrics["parent"]["trained_on_these_images"] = True
        return ModelMeta(
            arch=self.arch, scheme=self.scheme, normalization=self.normalization,
            train_size=self.size, scale=self.scale, version=self.version,
            input_rule=self.input_rule.to_dict(),
            parent_version=self.parent.version if self.parent else None,
            name=cfg.name or (self.parent.name if self.parent else ""),
            description=cfg.description, data_summary=self._data_summary(), metrics=metrics,
        )

    def _save_best(self) -> None:
        if self.dist.is_main and self.best_state is not None:
            self.config.out.parent.mkdir(parents=True, exist_ok=True)
            with torch.random.fork_rng(devices=[]):  # saving leaves the run's random stream be
                model = build_model(self.arch, pretrained=False)
            model.load_state_dict(self.best_state)
            save_model(self.config.out, model, self._meta())

    def _checkpoint_info(self) -> dict:
        return {"fingerprint": self.fingerprint, "version": self.version,
                "best_score": self.best_score, "best_epoch": self.best_epoch,
                "best_metrics": self.best_metrics, "bad_epochs": self.bad_epochs,
                "history": self.history, "parent_metrics": self.parent_metrics}

    def _save_checkpoint(self, trainer: Trainer, epoch: int) -> None:
        """The state to ``--resume`` from; a failed write (a full disk) costs only the resume:
        the run goes on, said once, and no older checkpoint is left to resume from."""
        if not self.dist.is_main or self.checkpoint_failed:
            return
        try:
            self._write_checkpoint(trainer, epoch)
        except ModelFileError as exc:
            self.checkpoint_failed = True
            self.ckpt_path.unlink(missing_ok=True)
            log.warning("%s; training goes on, but an interrupted run cannot be resumed", exc)

    def _write_checkpoint(self, trainer: Trainer, epoch: int) -> None:
        save_checkpoint(self.ckpt_path, TrainingState(
            epoch=epoch, global_step=trainer.global_step, elapsed_s=trainer.elapsed(),
            model=clean_state_dict(trainer.model), optimizer=trainer.optimizer.state_dict(),
            best_model=self.best_state, scaler=trainer.scaler_state(),
            rng=capture_rng(self.device), info=self._checkpoint_info()))

    def _resume(self, trainer: Trainer) -> int:
        """Restore from the checkpoint if asked and present; returns the epochs already done."""
        if not (self.config.resume and self.ckpt_path.is_file()):
            return 0
        state = load_checkpoint(self.ckpt_path)
        if state.info.get("fingerprint") != self.fingerprint:
            raise ValueError(f"{self.ckpt_path}: this checkpoint is from a run with another model, "
                             "data split or training size; delete it or train without resume")
        trainer.model.load_state_dict(state.model)
        trainer.optimizer.load_state_dict(state.optimizer)
        if state.scaler:
            trainer.scaler.load_state_dict(state.scaler)
        trainer.global_step, trainer.elapsed_before = state.global_step, state.elapsed_s
        if self.dist.is_main:
            restore_rng(state.rng, self.device)
        else:
            torch.manual_seed(self.config.seed + 7919 * self.dist.rank + state.epoch)
        info = state.info
        self.version = info["version"]
        self.best_state, self.best_score = state.best_model, info.get("best_score")
        self.best_epoch, self.best_metrics = info.get("best_epoch"), info.get("best_metrics")
        self.bad_epochs, self.history = info.get("bad_epochs", 0), info.get("history", [])
        self.parent_metrics = info.get("parent_metrics")
        self._save_best()
        return state.epoch

    # --- the run -------------------------------------------------------------------------------
    def run(self) -> Iterator[Report]:
        cfg = self.config
        model = self._initial_model()
        yield from self._load_samples()
        if self.cancel.cancelled:
            yield FinalReport(None, {}, None, None, "cancelled")
            return
        self._prepare_data()
        yield SplitReport(len(self.train_samples), self._val_images(), self.held_back)
        self.version = new_version_id()
        self.fingerprint = _fingerprint(
            arch=self.arch, scheme=self.scheme.to_dict(), size=self.size,
            val=sorted(s.key for s in self.val_samples), n=len(self.samples),
            parent=self.parent.version if self.parent else None)
        torch.manual_seed(cfg.seed + 7919 * self.dist.rank)  # augmentation differs per process
        trainer = self._trainer(model)
        done = self._resume(trainer)
        # With new classes the parent is compared through the name mapping (its body with the
        # carried-over head rows, i.e. its zero-shot prediction), and only when every class was
        # carried over: a freshly initialised row would score noise, not the parent.
        comparable = self.transfer is None or self.transfer.complete
        if cfg.validate and self.parent is not None and self.parent_metrics is None \
                and comparable:
            self.parent_metrics = trainer.evaluate(self.val_loader, lambda: self.cancel.cancelled)
        yield from self._epochs(trainer, done)

    def _epochs(self, trainer: Trainer, done: int) -> Iterator[Report]:
        cfg, dist_info, device = self.config, self.dist, self.device
        stopped, epoch_times, epoch = "completed", [], done

        def should_stop() -> bool:
            stop = self.cancel.cancelled or trainer.over_budget()
            return ddp.any_process(stop, dist_info, device)

        for epoch in range(done + 1, cfg.epoch_limit + 1):
            started = time.monotonic()
            self.sampler.set_epoch(epoch)
            yield from trainer.train_epoch(self.train_loader, epoch, should_stop)
            if ddp.any_process(self.cancel.cancelled, dist_info, device):
                stopped = "cancelled"
                break
            val = trainer.evaluate(self.val_loader, lambda: self.cancel.cancelled) \
                if cfg.validate else dict(NOT_VALIDATED)
            if ddp.any_process(self.cancel.cancelled, dist_info, device):
                stopped = "cancelled"  # a partial validation must not pick the best model
                break
            improved = self._record_epoch(trainer, epoch, val)
            self._save_checkpoint(trainer, epoch)
            ddp.barrier(dist_info)
            epoch_times.append(time.monotonic() - started)
            yield EpochReport(epoch, cfg.epochs, trainer.epoch_loss, val, improved,
                              self._time_left(trainer, epoch, epoch_times))
            if trainer.interrupted or ddp.any_process(trainer.over_budget(), dist_info, device):
                # steps are counted alike in every process; a clock may run out in another one
                stopped = trainer.limit_reached() or "time_budget"
                break
            # Validation on the training images themselves measures the fit, not
            # generalisation, and a handful of held-out images says nothing either: neither
            # stops a run early (ml.training.few_image_recipe).
            early = cfg.patience is not None and self.early_stopping
            if early and self.bad_epochs >= cfg.patience:
                stopped = "early_stopping"
                break
        self._save_best()  # again, so the file's history covers every epoch run
        if stopped != "cancelled" and dist_info.is_main:
            self.ckpt_path.unlink(missing_ok=True)
        yield self._final(stopped, epoch if stopped != "cancelled" else epoch - 1)

    def _record_epoch(self, trainer: Trainer, epoch: int, val: dict) -> bool:
        score = val["miou"] if val["miou"] is not None else -(val["loss"] or 0.0)
        # Without validation, or validated on the training images (a fit, which cannot tell a
        # better model from a more overfitted one), the latest model is kept.
        improved = not self.config.validate or self.val_on_train or self.best_score is None \
            or score > self.best_score + 1e-9
        self.history.append({"epoch": epoch, "train_loss": trainer.epoch_loss,
                             "val_loss": val["loss"], "miou": val["miou"]})
        if improved:
            self.best_score, self.best_epoch, self.best_metrics = score, epoch, val
            self.best_state = clean_state_dict(trainer.model)
            self.bad_epochs = 0
            self._save_best()
        else:
            self.bad_epochs += 1
        return improved

    def _time_left(self, trainer: Trainer, epoch: int, epoch_times: list[float]) -> float | None:
        """The mean epoch's time for the epochs left, or the steps left, whichever ends first;
        within the time budget."""
        if not epoch_times:
            return None
        epochs_left: float = self.config.epoch_limit - epoch
        steps_left = trainer.steps_left()
        if steps_left is not None:
            epochs_left = min(epochs_left, steps_left / max(1, len(self.train_loader)))
        left = sum(epoch_times) / len(epoch_times) * epochs_left
        if trainer.budget_s is not None:
            left = min(left, max(0.0, trainer.budget_s - trainer.elapsed()))
        return left

    def _val_images(self) -> int:
        """Held-out images validated on; 0 when the figures are on the training images."""
        return 0 if self.val_on_train else len(self.val_samples)

    def _parent_trained_on_val(self) -> bool:
        """Whether the parent, or an ancestor, trained on any of this run's held-out images
        (by their content, not their names: ``ml.training.learnt_images``)."""
        if self.parent is None or self.val_on_train:
            return False
        return parent_learnt_any(self.parent.data_summary, self.val_samples, self.image_ids)

    def _final(self, stopped: str, epochs_run: int) -> FinalReport:
        better = None
        val_images = self._val_images()
        parent_saw = self.parent_saw
        if self.parent_metrics is not None and self.best_metrics is not None and val_images \
                and not parent_saw:
            parent, new = self.parent_metrics.get("miou"), self.best_metrics.get("miou")
            if parent is not None and new is not None:
                better = new > parent
        saved = self.best_state is not None
        return FinalReport(
            model_path=self.config.out if saved else None,
            metrics=self.best_metrics or {}, parent_metrics=self.parent_metrics,
            better_than_parent=better, stopped=stopped, epochs_run=max(0, epochs_run),
            best_epoch=self.best_epoch, val_images=val_images, parent_trained_on_val=parent_saw,
            val_labelled=self.val_labelled, held_back=self.held_back)

