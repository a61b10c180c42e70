"""Training throughput: the project's loop against a plain fp32 loop, same model, same data.

Both loops train a fresh copy of the same UNet (same initial weights) with the same loss
(cross-entropy + Dice), AdamW and the same augmented DataLoader over generated images, and read
the loss every step; the two alternate ``--repeats`` times and the best run of each counts
(robust to a machine busy with other work). The project's loop is ``ml.training.train_loop.Trainer``
(what ``train`` runs): channels_last (GPU and CPU), bf16/fp16 autocast on a GPU, cuDNN autotuning,
gradient clipping. The plain loop is the textbook fp32 step. Images/s are measured after
``--warmup`` steps.

    python bench/training.py                       # table, device picked automatically
    python bench/training.py --device cpu --size 64 --base 8 --steps 10 --json
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import os
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.device import pick_device
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.training.augment import train_transform
from unet_desktop.ml.training.dataset import SegmentationDataset, make_sample
from unet_desktop.ml.training.losses import SegmentationLoss
from unet_desktop.ml.training.train_loop import Trainer

MEAN, STD = [0.5] * 3, [0.25] * 3


def generated_samples(n: int, side: int, seed: int = 0) -> list:
    """``n`` noisy RGB images (``side`` x ``side``) with a few bright discs, binary masks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    samples = []
    for i in range(n):
        fg = np.zeros((side, side), dtype=bool)
        for _ in range(3):
            cy, cx = rng.integers(0, side, 2)
            fg |= (yy - cy) ** 2 + (xx - cx) ** 2 < (side * rng.uniform(0.05, 0.15)) ** 2
        image = (rng.normal(70, 25, (side, side, 3)) + fg[..., None] * 100).clip(0, 255)
        mask = np.where(fg, 255, 0).astype(np.uint8)
        samples.append(make_sample(f"{i}", image.astype(np.uint8), mask, binary_scheme()))
    return samples


def batches(loader: DataLoader, steps: int):
    """``steps`` batches, cycling over the loader as many epochs as needed."""
    return itertools.islice(itertools.chain.from_iterable(itertools.repeat(loader)), steps)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_project(model, loader, device, steps: int, warmup: int) -> float:
    trainer = Trainer(model, binary_scheme(), device, lr=1e-3, total_steps=steps)
    start, counted = 0.0, 0
    for i, report in enumerate(trainer.train_epoch(batches(loader, steps), 1, lambda: False)):
        if i == warmup - 1:  # float(loss) in the report has synchronised the device
            start = time.perf_counter()
        elif i >= warmup:
            counted += loader.batch_size
        del report
    return counted / (time.perf_counter() - start)


def time_plain(model, loader, device, steps: int, warmup: int) -> float:
    model = model.to(device).train()
    loss_fn = SegmentationLoss(2).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    start, counted = 0.0, 0
    for i, (images, targets) in enumerate(batches(loader, steps)):
        images, targets = images.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), targets)
        loss.backward()
        optimizer.step()
        loss.item()
        if i == warmup - 1:
            start = time.perf_counter()
        elif i >= warmup:
            counted += images.shape[0]
    _sync(device)
    return counted / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", type=int, default=256, help="training crop size")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--base", type=int, default=32, help="UNet base width")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs; best kept")
    parser.add_argument("--workers", type=int, help="DataLoader workers (default: 0 on CPU)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.steps <= args.warmup:
        parser.error("--steps must exceed --warmup")

    device = pick_device(args.device)
    workers = args.workers if args.workers is not None else (
        0 if device.type == "cpu" else min(8, os.cpu_count() or 1))
    samples = generated_samples(args.images, 2 * args.size)
    dataset = SegmentationDataset(samples, train_transform(args.size, MEAN, STD))
    loader = DataLoader(dataset, args.batch_size, shuffle=True, drop_last=True,
                        num_workers=workers, pin_memory=device.type == "cuda",
                        persistent_workers=workers > 0)
    torch.manual_seed(0)
    model = build_model(unet_arch(3, 2, depth=4, base=args.base))
    plain_runs, project_runs = [], []
    for _ in range(args.repeats):  # alternate, so a busy machine slows both alike
        plain_runs.append(time_plain(copy.deepcopy(model), loader, device, args.steps,
                                     args.warmup))
        project_runs.append(time_project(copy.deepcopy(model), loader, device, args.steps,
                                         args.warmup))
    plain, project = max(plain_runs), max(project_runs)
    probe = Trainer(copy.deepcopy(model), binary_scheme(), device, lr=1e-3)
    result = {
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "size": args.size, "batch_size": args.batch_size, "base": args.base,
        "steps_timed": args.steps - args.warmup, "repeats": args.repeats, "workers": workers,
        "threads": torch.get_num_threads(),
        "plain_fp32_images_per_s": round(plain, 2),
        "project_images_per_s": round(project, 2),
        "speedup": round(project / plain, 3),
        "project_amp": str(probe.amp_dtype).replace("torch.", "") if probe.amp_dtype else "off",
        "project_channels_last": probe.memory_format == torch.channels_last,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"device {result['gpu'] or result['device']}, UNet base {args.base}, "
          f"{args.size}x{args.size} crops, batch {args.batch_size}, {workers} loader workers")
    print(f"{'loop':<44}{'images/s':>10}")
    print(f"{'plain fp32':<44}{plain:>10.1f}")
    label = f"unet-desktop (amp {result['project_amp']}, channels_last " \
            f"{'on' if result['project_channels_last'] else 'off'})"
    print(f"{label:<44}{project:>10.1f}")
    print(f"{'speed-up':<44}{result['speedup']:>9.2f}x")


if __name__ == "__main__":
    main()
