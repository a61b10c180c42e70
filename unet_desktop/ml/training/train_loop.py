"""The optimisation machinery of one run: model on its device, AdamW, schedule, AMP, steps.

:class:`Trainer` follows torchvision's reference layout (``train_one_epoch`` / ``evaluate``)
but yields a :class:`StepReport` per step and asks ``should_stop`` before each one, so a cancel
or a time budget takes effect within one step. Used by :func:`unet_desktop.ml.training.train.train` and
by ``bench/training.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sized

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from unet_desktop.core.labels import IGNORE_INDEX, LabelScheme
from unet_desktop.ml.metrics import confusion_matrix, summarize
from unet_desktop.ml.reports import StepReport, StopReason
from unet_desktop.ml.training.cpu_memory import keep_freed_memory
from unet_desktop.ml.training.distributed import DistInfo, all_reduce_sum
from unet_desktop.ml.training.losses import SegmentationLoss
from unet_desktop.ml.training.train_config import AmpMode
from unet_desktop.ml.training.unlabeled_losses import edge_aware_smoothness

Batch = tuple[torch.Tensor, torch.Tensor]
EVAL_TILE = 1024  # validation images bigger than this squared go through the model in tiles

# Sub-modules that make up the encoder of each architecture (see ml/models/unet.py, ml/models/resnet_unet.py).
ENCODER_PARTS = {"UNet": ("inc", "downs"), "ResNetUNet": ("stem", "layers"),
                 "EffNetUNet": ("encoder",)}


def amp_dtype(mode: AmpMode, device: torch.device) -> torch.dtype | None:
    """Autocast dtype: ``auto`` = bf16 on CUDA if supported, else fp16 on CUDA, else none."""
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        return None
    if mode == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if mode == "bf16" else torch.float16


def lr_factor(step: int, warmup_steps: int, progress: float, min_ratio: float) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``min_ratio`` at progress 1."""
    warm = min(1.0, (step + 1) / max(1, warmup_steps))
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    return warm * (min_ratio + (1.0 - min_ratio) * cosine)


def encoder_modules(model: nn.Module) -> list[nn.Module]:
    parts = ENCODER_PARTS.get(type(model).__name__)
    if parts is None:
        raise ValueError(f"do not know the encoder of a {type(model).__name__}; cannot freeze it")
    return [getattr(model, name) for name in parts]


def freeze(modules: Iterable[nn.Module]) -> None:
    for module in modules:
        for p in module.parameters():
            p.requires_grad_(False)


class Trainer:
    """Owns the model on its device (DDP-wrapped under torchrun), loss, optimizer and clock."""

    def __init__(
        self,
        model: nn.Module,
        scheme: LabelScheme,
        device: torch.device,
        *,
        lr: float,
        weight_decay: float = 1e-4,
        class_weights: list[float] | None = None,
        dice_weight: float = 1.0,
        grad_clip: float | None = 1.0,
        amp: AmpMode = "auto",
        channels_last: bool | None = None,
        freeze_encoder: bool = False,
        total_steps: int = 1,
        warmup_steps: int | None = None,
        warmup_fraction: float = 0.05,
        min_lr_ratio: float = 0.01,
        budget_s: float | None = None,
        dist_info: DistInfo | None = None,
        max_steps: int | None = None,
        keep_norm_statistics: Iterable[nn.Module] = (),
        smoothness_weight: float = 0.0,
    ) -> None:
        self.scheme = scheme
        self.device = device
        if device.type == "cpu":
            keep_freed_memory()  # activations re-used, not page-faulted in every step
        self.dist = dist_info or DistInfo()
        self.amp_dtype = amp_dtype(amp, device)
        # channels-last: faster on GPUs and, for real image sizes, on CPUs with oneDNN too
        # (1.35x for a base-24 UNet at 192 px here, bench/training.py); not on Apple MPS.
        use_cl = device.type in ("cuda", "cpu") if channels_last is None else channels_last
        self.memory_format = torch.channels_last if use_cl else torch.contiguous_format
        self.frozen = encoder_modules(model) if freeze_encoder else []
        freeze(self.frozen)
        if self.dist.is_distributed and device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.model = model.to(device, memory_format=self.memory_format)
        if self.dist.is_distributed:
            ids = [device.index] if device.type == "cuda" else None
            self.net: nn.Module = DistributedDataParallel(self.model, device_ids=ids)
        else:
            self.net = self.model
        self.loss_fn = SegmentationLoss(scheme.num_classes, class_weights,
                                        dice_weight=dice_weight).to(device)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        if not self.params:
            raise ValueError("nothing to train: every parameter is frozen")
        self.optimizer = torch.optim.AdamW(self.params, lr=lr, weight_decay=weight_decay)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp_dtype == torch.float16)
        self.base_lr = lr
        self.grad_clip = grad_clip
        self.total_steps = max(1, total_steps)
        if warmup_steps is None:
            warmup_steps = min(500, round(warmup_fraction * self.total_steps))
        self.warmup_steps = max(1, warmup_steps)
        self.min_lr_ratio = min_lr_ratio
        self.budget_s = budget_s
        self.smoothness_weight = smoothness_weight  # ml.training.unlabeled_losses, on unlabeled pixels
        self.max_steps = max_steps  # a step budget as well (benches: CPU-independent probes)
        self.global_step = 0
        # the BatchNorm layers in these modules normalise with their running statistics in
        # training too and never update them (a few images' crops: ml.training.few_image_recipe)
        self.frozen_norms = [m for part in keep_norm_statistics for m in part.modules()
                             if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        self.elapsed_before = 0.0  # seconds spent in earlier (resumed) sessions
        self._clock = time.monotonic()

    # --- clock and schedule --------------------------------------------------------------------
    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self._clock

    def limit_reached(self) -> StopReason | None:
        """Which budget the run has used up: its steps, its time, or neither (None)."""
        if self.max_steps is not None and self.global_step >= self.max_steps:
            return "step_limit"
        if self.budget_s is not None and self.elapsed() >= self.budget_s:
            return "time_budget"
        return None

    def over_budget(self) -> bool:
        return self.limit_reached() is not None

    def steps_left(self) -> int | None:
        """Steps before the step budget; None without one."""
        return None if self.max_steps is None else max(0, self.max_steps - self.global_step)

    def progress(self) -> float:
        """How far the run is through its steps, its step budget or its time budget. A step
        budget, when given, alone sets the schedule (the time limit still ends the run): the
        same steps then get the same rates on any CPU, and a run is repeatable."""
        steps = min(self.total_steps, self.max_steps or self.total_steps)
        by_steps = self.global_step / max(1, steps)
        if self.max_steps is not None:
            return by_steps
        by_time = self.elapsed() / self.budget_s if self.budget_s else 0.0
        return max(by_steps, by_time)

    def _set_lr(self) -> float:
        lr = self.base_lr * lr_factor(self.global_step, self.warmup_steps, self.progress(),
                                      self.min_lr_ratio)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=self.amp_dtype,
                              enabled=self.amp_dtype is not None)

    def _to_device(self, images: torch.Tensor, targets: torch.Tensor) -> Batch:
        images = images.to(self.device, non_blocking=True).contiguous(
            memory_format=self.memory_format)
        return images, targets.to(self.device, non_blocking=True)

    # --- training ------------------------------------------------------------------------------
    def train_mode(self) -> None:
        self.net.train()
        for module in self.frozen + self.frozen_norms:  # BatchNorm keeps its running statistics
            module.eval()

    def step(self, images: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, float]:
        """One optimisation step; returns (detached loss, learning rate used)."""
        lr = self._set_lr()
        images, targets = self._to_device(images, targets)
        with self._autocast():
            logits = self.net(images)
        loss = self.loss_fn(logits, targets)
        if self.smoothness_weight:
            loss = loss + self.smoothness_weight * edge_aware_smoothness(logits, targets, images)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.global_step += 1
        return loss.detach(), lr

    def train_epoch(
        self, loader: Iterable[Batch], epoch: int, should_stop: Callable[[], bool]
    ) -> Iterator[StepReport]:
        """Train over ``loader``; sets :attr:`epoch_loss` and :attr:`interrupted` at the end."""
        self.train_mode()
        # Fixed crop size: let cuDNN pick the fastest kernels (not in evaluate: sizes vary there).
        torch.backends.cudnn.benchmark = self.device.type == "cuda"
        self.interrupted = False
        totals = torch.zeros(2, dtype=torch.float64, device=self.device)  # loss sum, images
        start = time.monotonic()
        images_seen = 0
        steps = len(loader) if isinstance(loader, Sized) else None
        for images, targets in loader:
            if should_stop():
                self.interrupted = True
                break
            loss, lr = self.step(images, targets)
            n = images.shape[0]
            totals += torch.stack([loss.double() * n, loss.new_tensor(n, dtype=torch.float64)])
            images_seen += n * self.dist.world_size
            rate = images_seen / max(time.monotonic() - start, 1e-9)
            yield StepReport(epoch, self.global_step, float(loss), lr, rate, steps)
        all_reduce_sum(totals, self.dist)
        self.epoch_loss = float(totals[0] / totals[1]) if totals[1] > 0 else math.nan

    # --- validation ----------------------------------------------------------------------------
    @torch.inference_mode()
    def evaluate(self, loader: Iterable[Batch], cancelled: Callable[[], bool]) -> dict:
        """Metrics over ``loader`` (this process's shard), summed over all processes.

        ``cancelled`` is checked locally per batch (no collective inside the loop, so processes
        with different shard sizes stay in step); the result then covers fewer images.
        """
        self.model.eval()
        torch.backends.cudnn.benchmark = False
        c = self.scheme.num_classes
        cm = torch.zeros(c * c, dtype=torch.int64, device=self.device)
        totals = torch.zeros(2, dtype=torch.float64, device=self.device)
        for images, targets in loader:
            if cancelled():
                break
            images, targets = self._to_device(images, targets)
            loss, counts = self._evaluate_batch(images, targets)
            totals += torch.stack([loss.double() * images.shape[0],
                                   loss.new_tensor(images.shape[0], dtype=torch.float64)])
            cm += counts.reshape(-1)
        all_reduce_sum(cm, self.dist)
        all_reduce_sum(totals, self.dist)
        metrics = summarize(cm.reshape(c, c), self.scheme)
        metrics["loss"] = float(totals[0] / totals[1]) if totals[1] > 0 else None
        return metrics

    def _evaluate_batch(self, images: torch.Tensor,
                        targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(loss, confusion matrix) of one validation batch. A batch of more than
        :data:`EVAL_TILE` squared pixels (a native-scale image: 4096 x 4096 took 4 GB in one
        forward pass) goes through the model in tiles without overlap, a multiple of the
        model's padding size; its loss is then the mean of the tiles' losses weighted by their
        labelled pixels."""
        c = self.scheme.num_classes
        height, width = images.shape[-2:]
        if height * width <= EVAL_TILE * EVAL_TILE:
            with self._autocast():
                logits = self.model(images)
            return self.loss_fn(logits, targets), confusion_matrix(logits.argmax(1), targets, c)
        multiple = int(getattr(self.model, "size_multiple", 1))
        tile = max(multiple, EVAL_TILE // multiple * multiple)
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        labelled = torch.zeros((), dtype=torch.float64, device=self.device)
        counts = torch.zeros((c, c), dtype=torch.int64, device=self.device)
        for top in range(0, height, tile):
            for left in range(0, width, tile):
                part = targets[..., top:top + tile, left:left + tile]
                known = (part != IGNORE_INDEX).sum()
                if not bool(known):
                    continue
                with self._autocast():
                    logits = self.model(images[..., top:top + tile, left:left + tile])
                loss_sum += self.loss_fn(logits, part).double() * known
                labelled += known
                counts += confusion_matrix(logits.argmax(1), part, c)
        return (loss_sum / labelled.clamp_min(1)).float(), counts

    # --- state for checkpoints -----------------------------------------------------------------
    def scaler_state(self) -> dict:
        return {k: float(v) if isinstance(v, torch.Tensor) else v
                for k, v in self.scaler.state_dict().items()}
