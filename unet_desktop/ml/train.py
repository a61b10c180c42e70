"""Fine-tune a model on a workspace's labelled images (or train one from scratch) as a generator.

    for report in train(workspace, TrainConfig(out=..., init=...), cancel):
        ...  # PrepareReport, StepReport, EpochReport, then one FinalReport

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
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from unet_desktop.core.errors import FileError, MaskError
from unet_desktop.core.input_rule import DEFAULT_NEW, InputRule
from unet_desktop.core.labels import LabelScheme
from unet_desktop.core.progress import CancelToken
from unet_desktop.core.workspace import Workspace
from unet_desktop.ml import distributed as ddp
from unet_desktop.ml.augment import train_transform, val_transform
from unet_desktop.ml.checkpoint import (
    TrainingState,
    capture_rng,
    checkpoint_path,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from unet_desktop.ml.copy_paste import CopyPaste, background_index
from unet_desktop.ml.dataset import (
    SampleSet,
    SegmentationDataset,
    SkippedPair,
    channel_stats,
    class_counts,
    iter_workspace_samples,
    pad_collate,
    split_indices,
    training_entries,
)
from unet_desktop.ml.device import pick_device
from unet_desktop.ml.few_image_recipe import early_stopping_allowed, resolve
from unet_desktop.ml.losses import class_weights_from_counts
from unet_desktop.ml.modelfile import (
    ModelMeta,
    clean_state_dict,
    load_model_file,
    new_version_id,
    save_model,
)
from unet_desktop.ml.models import build_model, pretrained_arch
from unet_desktop.ml.new_classes import ClassTransfer, replace_head
from unet_desktop.ml.stroke_fill import fill_strokes, is_sparse
from unet_desktop.ml.train_config import (
    DEFAULT_SIZE,
    FINE_TUNE_LR,
    FROM_SCRATCH_LR,
    MIN_EPOCH_SAMPLES,
    MIN_VALIDATION_IMAGES,
    EpochReport,
    FinalReport,
    PrepareReport,
    Report,
    StepReport,
    TrainConfig,
    cache_side,
)
from unet_desktop.ml.train_loop import Trainer

__all__ = ["EpochReport", "FinalReport", "PrepareReport", "SkippedPair", "StepReport",
           "TrainConfig", "train"]

IMAGENET_NORMALIZATION = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
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


def _describe(scheme: LabelScheme) -> str:
    classes = ", ".join(f"{c.value} {c.name}" for c in scheme.classes)
    return f"{scheme.kind} ({classes})"


def _check_same_classes(model_scheme: LabelScheme, data_scheme: LabelScheme, path: Path) -> None:
    if not model_scheme.same_classes(data_scheme):
        raise ValueError(
            f"{path}: the model predicts {_describe(model_scheme)} but the training masks are "
            f"{_describe(data_scheme)}; to replace the model's classes by the masks' (keeping "
            "every other weight), fine-tune with new classes (--new-classes)"
        )


def _fingerprint(**parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class _Run:
    """State of one training run; :meth:`run` is the report generator."""

    def __init__(self, data: Workspace | SampleSet, config: TrainConfig, cancel: CancelToken,
                 device: torch.device, info: ddp.DistInfo) -> None:
        self.data, self.config, self.cancel = data, config, cancel
        self.device, self.dist = device, info
        self.data_scheme = data.scheme
        self.ckpt_path = checkpoint_path(config.out)
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_metrics: dict | None = None
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0
        self.history: list[dict] = []
        self.parent_metrics: dict | None = None
        self.transfer: ClassTransfer | None = None  # set when the parent's classes are replaced

    # --- setup ---------------------------------------------------------------------------------
    def _initial_model(self) -> nn.Module:
        cfg = self.config
        if cfg.init is not None:
            model, meta = load_model_file(cfg.init)
            self.parent, self.arch, self.scheme = meta, meta.arch, meta.scheme
            self.input_rule = meta.rule  # a fine-tuned model sees its images as its parent did
            self.size = cfg.size or meta.train_size
            self.scale = cfg.scale or meta.scale
            same_values = meta.scheme.same_values(self.data_scheme)
            if same_values and self._names_unknown():
                self.data_scheme = meta.scheme  # a folder without a task: its names are guesses
            if same_values and cfg.renamed_classes:  # the task's own classes, renamed since
                self.scheme = self.data_scheme
            if cfg.new_classes and not self.scheme.same_classes(self.data_scheme):
                torch.manual_seed(cfg.seed)  # the same fresh head rows on every process
                self.transfer = replace_head(model, meta.scheme, self.data_scheme)
                self.arch = {**meta.arch, "num_classes": self.data_scheme.num_classes}
                self.scheme = self.data_scheme
            _check_same_classes(self.scheme, self.data_scheme, cfg.init)
            # the same classes (or renamed): the child carries the folder's scheme (its colours and its
            # unlabeled value, so the folder's sparse masks read with the child's scheme)
            self.scheme = self.data_scheme
            return model
        arch = dict(cfg.arch or pretrained_arch(self.data_scheme.num_classes))
        arch.setdefault("in_channels", 3)
        arch.setdefault("num_classes", self.data_scheme.num_classes)
        if arch["num_classes"] != self.data_scheme.num_classes:
            raise ValueError(f"the architecture has {arch['num_classes']} outputs but the masks "
                             f"have {self.data_scheme.num_classes} classes")
        self.parent, self.arch, self.scheme = None, arch, self.data_scheme
        self.input_rule = InputRule.from_dict(cfg.input_rule or {"kind": DEFAULT_NEW})
        self.size = cfg.size or DEFAULT_SIZE
        self.scale = cfg.scale or "fit"
        torch.manual_seed(cfg.seed)  # the same initial weights on every process
        return build_model(arch)

    def _names_unknown(self) -> bool:
        """The masks' class names are guessed (a folder without a task), not the user's."""
        return isinstance(self.data, Workspace) and self.data.task is None

    def _load_samples(self) -> Iterator[PrepareReport | SkippedPair]:
        cfg, channels = self.config, int(self.arch["in_channels"])
        if isinstance(self.data, SampleSet):
            self.samples, self.source = list(self.data.samples), self.data.source
            bad = [s.key for s in self.samples if s.image.shape[0] != channels]
            if bad:
                raise ValueError(f"samples {bad[:3]} do not have {channels} channels")
            return
        ws = self.data
        entries = training_entries(ws, cfg.all_masks, cfg.only)
        if not entries:
            what = "masks" if cfg.all_masks else "corrected or verified masks"
            if cfg.only:
                what += f" matching {', '.join(cfg.only)}"
            raise ValueError(f"{ws.root}: no {what} to train on")
        self.source, self.samples = str(ws.root), []
        loader = iter_workspace_samples(ws, entries, in_channels=channels, skip_invalid=True,
                                        rule=self.input_rule,
                                        border_as_ignore=cfg.border_as_ignore,
                                        max_side=cfg.cache_side or cache_side(self.size,
                                                                              self.scale))
        skipped: list[SkippedPair] = []
        for sample in loader:
            if isinstance(sample, SkippedPair):  # reported, never fatal: train on the rest
                skipped.append(sample)
                yield sample
            else:
                self.samples.append(sample)
            yield PrepareReport(len(self.samples) + len(skipped), len(entries))
            if self.cancel.cancelled:
                return
        if not self.samples:  # nothing to learn from: the first problem is the error
            first = skipped[0]
            error = MaskError if first.path != str(ws[first.key].image_path) else FileError
            raise error(first.path, f"{first.reason} (and none of the other "
                                    f"{len(entries) - 1} labelled images can be used)")

    def _split(self) -> None:
        self.config = cfg = resolve(self.config, len(self.samples))  # the few-image recipe
        keys = [s.key for s in self.samples]
        if len(set(keys)) != len(keys):
            raise ValueError("sample keys must be unique")
        if cfg.holdout is not None:  # the folder's frozen validation set: never trained on
            held = set(cfg.holdout)
            train_idx = [i for i, k in enumerate(keys) if k not in held]
            val_idx = [i for i, k in enumerate(keys) if k in held]
            if not train_idx:
                raise ValueError("every labelled image is in the folder's validation set; "
                                 "correct a few more images to train on")
            if len(val_idx) < MIN_VALIDATION_IMAGES:
                val_idx = []  # too few to judge: not validated (and said so)
        else:
            train_idx, val_idx = split_indices(keys, cfg.val_fraction, cfg.seed, cfg.group_fn)
        self.train_samples = [self.samples[i] for i in train_idx]
        self.val_on_train = not val_idx
        self.val_samples = [self.samples[i] for i in val_idx] or self.train_samples
        self.stroke_filled = cfg.stroke_fill == "auto" and is_sparse(self.train_samples)
        if self.stroke_filled:  # validation (on the training images) keeps the strokes alone
            self.train_samples = fill_strokes(
                self.train_samples, self.scheme.num_classes, cfg.seed, cfg.fill_stages,
                cfg.fill_min_confidence)
        self.early_stopping = early_stopping_allowed(len(val_idx))

    def _normalization(self) -> dict:
        if self.parent is not None:
            return self.parent.normalization
        if self.arch["name"] in ("resnet_unet", "effnet_unet") and self.arch["in_channels"] == 3:
            return IMAGENET_NORMALIZATION
        mean, std = channel_stats(self.train_samples)
        return {"mean": [round(m, 4) for m in mean], "std": [round(s, 4) for s in std]}

    def _loaders(self) -> None:
        cfg, norm = self.config, self.normalization
        native = self.scale == "native"
        workers = cfg.num_workers
        if workers is None:
            workers = 0 if self.device.type == "cpu" else min(4, os.cpu_count() or 1)
        common = {"num_workers": workers, "pin_memory": self.device.type == "cuda",
                  "persistent_workers": workers > 0}
        paste = None
        if cfg.augment.copy_paste > 0:
            paste = CopyPaste(self.train_samples, background_index(self.scheme),
                              cfg.augment.copy_paste)
        train_ds = SegmentationDataset(
            self.train_samples,
            train_transform(self.size, norm["mean"], norm["std"], cfg.augment, native),
            paste, repeats=self._repeats())
        self.sampler = DistributedSampler(train_ds, self.dist.world_size, self.dist.rank,
                                          shuffle=True, seed=cfg.seed)
        drop_last = len(self.sampler) > cfg.batch_size
        self.train_loader = DataLoader(train_ds, cfg.batch_size, sampler=self.sampler,
                                       drop_last=drop_last, **common)
        val_part = ddp.shard(list(range(len(self.val_samples))), self.dist)
        val_ds = SegmentationDataset([self.val_samples[i] for i in val_part],
                                     val_transform(self.size, norm["mean"], norm["std"], native))
        # whole images at their own size: one at a time (a batch would pad all to the largest)
        self.val_loader = DataLoader(val_ds, 1 if native else cfg.batch_size, shuffle=False,
                                     collate_fn=pad_collate, **common)

    def _repeats(self) -> int:
        """How often each training image is drawn per epoch: 1 with a given epoch count, else
        enough that an epoch has MIN_EPOCH_SAMPLES crops (each drawn differently augmented)."""
        if not self.config.time_governed:
            return 1
        return max(1, -(-MIN_EPOCH_SAMPLES // len(self.train_samples)))

    def _trainer(self, model: nn.Module) -> Trainer:
        cfg = self.config
        weights = cfg.class_weights
        if weights == "auto":
            counts = class_counts(self.train_samples, self.scheme.num_classes)
            weights = class_weights_from_counts(counts).tolist()
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
        )

    def _data_summary(self) -> dict:
        cfg = self.config
        return {
            "source": self.source,
            "images": len(self.samples),
            "train_images": len(self.train_samples),
            "val_images": 0 if self.val_on_train else len(self.val_samples),
            "val_on_train": self.val_on_train,
            "val_keys": sorted(s.key for s in self.val_samples) if not self.val_on_train else [],
            "train_keys": sorted(s.key for s in self.train_samples),
            # judged on at least MIN_VALIDATION_IMAGES images it did not train on
            "validated": not self.val_on_train and len(self.val_samples) >= MIN_VALIDATION_IMAGES,
            "split_seed": cfg.seed,
            "val_fraction": cfg.val_fraction,
            "early_stopping": bool(cfg.patience) and self.early_stopping,
            "schedule": {"batch_size": cfg.batch_size, "warmup_steps": cfg.fixed_warmup_steps,
                         "min_lr_ratio": cfg.min_lr_ratio},
            "grouped_split": cfg.group_fn is not None,
            "border_as_ignore": cfg.border_as_ignore,
            "all_masks": cfg.all_masks,
            "stroke_fill": self.stroke_filled,  # unlabeled pixels filled (ml.stroke_fill)
            "copy_paste": cfg.augment.copy_paste,
            "repeats_per_epoch": self._repeats(),
            "world_size": self.dist.world_size,
            "mask_sha1": {s.key: s.mask_sha1 for s in self.samples if s.mask_sha1},
            **({"new_classes": self.transfer.to_dict()} if self.transfer else {}),
        }

    # --- versions and checkpoints --------------------------------------------------------------
    def _meta(self) -> ModelMeta:
        cfg = self.config
        metrics = {**(self.best_metrics or {}), "epoch": self.best_epoch, "history": self.history}
        if self.parent_metrics is not None:
            metrics["parent"] = {k: self.parent_metrics.get(k) for k in ("miou", "mdice", "loss")}
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
            model = build_model(self.arch, pretrained=False)
            model.load_state_dict(self.best_state)
            save_model(self.config.out, model, self._meta())

    def _checkpoint_info(self) -> dict:
        return {"fingerprint": self.fingerprint, "version": self.version,
                "best_score": self.best_score, "best_epoch": self.best_epoch,
                "best_metrics": self.best_metrics, "bad_epochs": self.bad_epochs,
                "history": self.history, "parent_metrics": self.parent_metrics}

    def _save_checkpoint(self, trainer: Trainer, epoch: int) -> None:
        if not self.dist.is_main:
            return
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
        self._split()
        self.normalization = self._normalization()
        self._loaders()
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
                stopped = "time_budget"
                break
            # Validation on the training images themselves measures the fit, not
            # generalisation, and a handful of held-out images says nothing either: neither
            # stops a run early (ml.few_image_recipe).
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
        improved = not self.config.validate or self.best_score is None \
            or score > self.best_score + 1e-9  # without validation the latest is kept
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
        if not epoch_times:
            return None
        left = sum(epoch_times) / len(epoch_times) * (self.config.epoch_limit - epoch)
        if trainer.budget_s is not None:
            left = min(left, max(0.0, trainer.budget_s - trainer.elapsed()))
        return left

    def _parent_trained_on_val(self) -> bool:
        """Whether the parent's own training images include any of this run's held-out ones."""
        if self.parent is None or self.val_on_train:
            return False
        summary = self.parent.data_summary or {}
        learnt = set(summary.get("mask_sha1") or {}) - set(summary.get("val_keys") or [])
        return bool(learnt & {s.key for s in self.val_samples})

    def _final(self, stopped: str, epochs_run: int) -> FinalReport:
        better = None
        val_images = 0 if self.val_on_train else len(self.val_samples)
        parent_saw = self._parent_trained_on_val()
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
            best_epoch=self.best_epoch, val_images=val_images, parent_trained_on_val=parent_saw)

