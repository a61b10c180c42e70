"""Which way of training the EfficientNet-Lite U-Net is fastest on this CPU.

PyTorch runs depthwise convolutions of NCHW (contiguous) tensors on the CPU through its slow
reference path (``aten::_slow_conv2d_forward``/``_backward`` in a profile); in channels-last
memory format they go to oneDNN. Each variant times full training steps (forward, cross-entropy,
backward, AdamW) on the same random batch; the variants alternate rep by rep, so other load on
the machine hits them alike, and the best step time of each counts:

- ``nchw``: the plain fp32 loop with contiguous tensors (the baseline);
- ``channels_last``: what ``ml.training.train_loop.Trainer`` does on the CPU;
- ``channels_last, stem + 2 stages frozen``: the encoder's highest-resolution layers frozen
  (no weight gradients there; the backward pass still runs through them for the skips).

``--profile`` also prints, per variant, the three operators with the most self CPU time in one
step (where the slow path shows up: ``_slow_conv2d_*`` on some builds).

    python bench/cpu_training_paths.py [--size 256] [--batch-size 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch
from machine_info import cpu_name
from torch import nn

from unet_desktop.ml.models.architecture import build_model, pretrained_arch


def make_model(channels_last: bool, frozen_stages: int) -> nn.Module:
    torch.manual_seed(0)
    arch = {**pretrained_arch(3), "encoder_weights": None}
    model = build_model(arch, pretrained=False).train()
    encoder = model.encoder
    for module in [encoder.conv_stem, encoder.bn1, *encoder.blocks[:frozen_stages]]:
        for p in module.parameters():
            p.requires_grad_(False)
    if frozen_stages:
        encoder.conv_stem.eval()
    return model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def step_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


def top_operators(step, count: int = 3) -> str:
    """The operators with the most self CPU time in one step, with their shares."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1
    return ", ".join(f"{e.key} {e.self_cpu_time_total / total:.0%}" for e in events[:count])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--reps", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    x = torch.randn(args.batch_size, 3, args.size, args.size)
    y = torch.randint(0, 3, (args.batch_size, args.size, args.size))
    variants = {"nchw": (False, 0), "channels_last": (True, 0),
                "channels_last, stem + 2 stages frozen": (True, 2)}
    steps = {}
    for name, (cl, frozen) in variants.items():
        inputs = x.contiguous(memory_format=torch.channels_last) if cl else x
        steps[name] = step_fn(make_model(cl, frozen), inputs, y)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for rep in range(args.reps + 1):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if rep:
                times[name].append(time.perf_counter() - start)
    base = min(times["nchw"])
    rows = [{"variant": name, "best_s": min(t),
             "images_per_s": args.batch_size / min(t), "speedup": base / min(t)}
            for name, t in times.items()]
    if args.profile:
        for row, (name, step) in zip(rows, steps.items()):
            row["top_operators"] = top_operators(step)
    result = {"cpu": cpu_name(), "threads": args.threads, "torch": torch.__version__,
              "size": args.size, "batch_size": args.batch_size, "reps": args.reps,
              "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"CPU {result['cpu']}, {args.threads} threads, torch {result['torch']}; one training "
          f"step of {args.batch_size} images at {args.size} px, best of {args.reps}")
    print("variant | s per step | images/s | speed-up" + (" | top operators (self CPU)"
                                                         if args.profile else ""))
    print("--- | --- | --- | ---" + (" | ---" if args.profile else ""))
    for r in rows:
        share = f" | {r['top_operators']}" if args.profile else ""
        print(f"{r['variant']} | {r['best_s']:.2f} | {r['images_per_s']:.1f} | "
              f"{r['speedup']:.2f}x{share}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
