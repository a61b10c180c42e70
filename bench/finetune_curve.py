"""Human-in-the-loop curve: how few corrected images the tool needs to adapt to a new subject.

From ``models/pets-trimap.safetensors`` (trimap: pet / background / border), fine-tune onto N
corrected Carvana images (binary: background / car) with ``new_classes`` (every weight kept but
the final classifier, whose background and foreground rows come from the parent's), then score
the car Dice at full resolution on every image of the held-out cars. N = 0 is the parent with
only the name-mapped head: its zero-shot car masks.

- Held-out cars: exactly the carvana-binary starter recipe's split (``split_indices(keys, 0.2,
  seed, prefix_group)``, scripts/train_starter_models.py), so the cars scored are never trained on.
- The N training images: a seeded order that takes one view of each training car in turn
  (views in a seeded order per car), so they spread over cars and views, and the images of a
  smaller N are among those of a larger one.
- Comparable training per N: every N gets the same number of optimisation steps (``--steps``) of
  full batches; fewer images than ``--batch-size`` are repeated (differently augmented) to fill
  one, and the epochs are as many as the steps need (with 2 images an epoch is one step).
  ``--epochs`` fixes the epochs instead; ``--max-minutes`` caps each run. The loop validates on
  the N training images after each epoch (``val_fraction`` 0: all N train) and keeps the best.
- Minutes of training: the wall time of the whole fine-tuning run as the app does it (per-epoch
  validation and checkpoints included), images already decoded; ``--json`` also gives
  ``step_minutes``, the optimisation steps alone (all but the first).

    python bench/finetune_curve.py                                  # N = 0 2 5 10 20 on the CPU
    python bench/finetune_curve.py --counts 0 2 --max-minutes 0.2 --json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from machine_info import cpu_name

from unet_desktop.commands.evaluate import evaluate_workspace
from unet_desktop.core.errors import FileError
from unet_desktop.core.workspace import ImageEntry, Workspace
from unet_desktop.ml.augment import AugmentOptions
from unet_desktop.ml.dataset import (
    SampleSet,
    load_workspace_sample,
    prefix_group,
    seeded_rank,
    split_indices,
    training_entries,
)
from unet_desktop.ml.device import pick_device
from unet_desktop.ml.modelfile import load_model_file, read_meta
from unet_desktop.ml.new_classes import replace_head
from unet_desktop.ml.predictor import Predictor
from unet_desktop.ml.train import FinalReport, StepReport, TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
PARENT = ROOT / "models" / "pets-trimap.safetensors"
DATA = ROOT.parent / "shared" / "data" / "carvana"
VAL_FRACTION = 0.2  # the carvana-binary recipe's


def split_by_car(ws: Workspace, seed: int) -> tuple[list[ImageEntry], list[ImageEntry]]:
    """(training, held-out) entries, held out by car as the carvana-binary recipe does."""
    entries = training_entries(ws, all_masks=True)
    train_idx, val_idx = split_indices([e.key for e in entries], VAL_FRACTION, seed,
                                       prefix_group)
    return [entries[i] for i in train_idx], [entries[i] for i in val_idx]


def spread_order(entries: list[ImageEntry], seed: int) -> list[ImageEntry]:
    """One view of each car in turn (cars and views in seeded orders): a prefix of length N
    spreads over the cars and views, and is contained in every longer prefix."""
    cars: dict[str, list[ImageEntry]] = {}
    for entry in entries:
        cars.setdefault(prefix_group(entry.key), []).append(entry)
    queues = [sorted(views, key=lambda e: seeded_rank(seed, e.key))
              for _, views in sorted(cars.items(), key=lambda item: seeded_rank(seed, item[0]))]
    order = []
    for round_ in range(max(map(len, queues), default=0)):
        order += [views[round_] for views in queues if round_ < len(views)]
    return order


def training_set(ws: Workspace, chosen: list[ImageEntry], batch_size: int, size: int) -> SampleSet:
    """The chosen images decoded (longest side 2 * size, as the app caches them), repeated under
    new keys until they fill one batch."""
    samples = [load_workspace_sample(ws, e, max_side=2 * size) for e in chosen]
    copies = math.ceil(batch_size / len(samples))
    repeated = [s if k == 0 else replace(s, key=f"{s.key}#{k}")
                for k in range(copies) for s in samples]
    return SampleSet(repeated, ws.scheme, f"{ws.root} ({len(samples)} images)")


def zero_shot(parent: Path, ws: Workspace, device: torch.device) -> Predictor:
    """The parent with its head cut down to the workspace's classes by name (N = 0)."""
    model, meta = load_model_file(parent)
    replace_head(model, meta.scheme, ws.scheme)
    arch = {**meta.arch, "num_classes": ws.scheme.num_classes}
    return Predictor(model, replace(meta, arch=arch, scheme=ws.scheme), device)


def fine_tune(args: argparse.Namespace, ws: Workspace, chosen: list[ImageEntry], out: Path,
              size: int) -> dict:
    data = training_set(ws, chosen, args.batch_size, size)
    batch = min(args.batch_size, len(data.samples))
    steps_per_epoch = max(1, len(data.samples) // batch)
    epochs = args.epochs or math.ceil(args.steps / steps_per_epoch)
    config = TrainConfig(
        out=out, init=args.parent, new_classes=True, epochs=epochs, max_minutes=args.max_minutes,
        size=size, batch_size=batch, lr=args.lr, val_fraction=0.0, seed=args.seed,
        patience=None, device=args.device, num_workers=0,
        augment=AugmentOptions(copy_paste=args.copy_paste))
    steps, step_s, final, started, last = 0, 0.0, None, time.monotonic(), None
    for report in train(data, config):
        now = time.monotonic()
        if isinstance(report, StepReport):
            steps += 1
            step_s += now - last if last is not None else 0.0  # not the first: setup before it
        elif isinstance(report, FinalReport):
            final = report
        last = now
    minutes = (now - started) / 60
    if final is None or final.model_path is None:
        raise RuntimeError(f"N={len(chosen)}: training saved no model ({final})")
    return {"epochs": final.epochs_run, "steps": steps, "minutes": minutes,
            "step_minutes": step_s / 60, "stopped": final.stopped, "batch_size": batch}


def score(predictor: Predictor, ws: Workspace, held_out: list[ImageEntry]) -> dict:
    metrics = evaluate_workspace(predictor, ws, held_out)
    car = ws.scheme.names[1]  # binary: index 1 is the foreground
    return {"car_dice": metrics["dice"][car], "miou": metrics["miou"]}


def run_curve(args: argparse.Namespace) -> dict:
    device = pick_device(args.device)
    ws = Workspace.open(args.data)
    if ws.scheme.kind != "binary":
        raise ValueError(f"{ws.root}: expected binary car masks, the folder is {ws.scheme.kind}")
    train_entries, held_out = split_by_car(ws, args.seed)
    order = spread_order(train_entries, args.seed)
    if max(args.counts) > len(order):
        raise ValueError(f"{ws.root}: only {len(order)} training images, asked for "
                         f"{max(args.counts)}")
    size = args.size or read_meta(args.parent).train_size
    rows = []
    with tempfile.TemporaryDirectory(prefix="finetune-curve-") as tmp:
        for n in args.counts:
            print(f"N={n}...", file=sys.stderr, flush=True)
            if n == 0:
                row = {"epochs": 0, "steps": 0, "minutes": 0.0, "step_minutes": 0.0,
                       "stopped": "-", "batch_size": 0}
                predictor = zero_shot(args.parent, ws, device)
            else:
                out = Path(tmp) / f"n{n}.safetensors"
                row = fine_tune(args, ws, order[:n], out, size)
                predictor = Predictor.from_file(out, device=device)
            rows.append({"images": n, **row, **score(predictor, ws, held_out),
                         "train_keys": [e.key for e in order[:n]]})
    return {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else str(device),
        "threads": torch.get_num_threads(), "torch": torch.__version__, "cpu": cpu_name(),
        "parent": str(args.parent), "data": str(ws.root), "seed": args.seed, "size": size,
        "steps_rule": None if args.epochs else args.steps, "max_minutes": args.max_minutes,
        "held_out_images": len(held_out),
        "held_out_cars": sorted({prefix_group(e.key) for e in held_out}),
        "rows": rows,
    }


def print_table(result: dict) -> None:
    print(f"device {result['device']}, {result['threads']} threads, torch {result['torch']}, "
          f"CPU {result['cpu']}")
    rule = (f"{result['steps_rule']} steps per N" if result["steps_rule"] else "fixed epochs")
    print(f"parent {Path(result['parent']).name}, {result['size']} px crops, {rule}, "
          f"scored on {result['held_out_images']} images of held-out cars "
          f"{', '.join(result['held_out_cars'])} at full resolution")
    head = ("N images", "epochs", "steps", "minutes of training", "val car Dice", "val mIoU")
    print(" | ".join(head))
    print(" | ".join("-" * len(h) for h in head))
    capped = False
    for r in result["rows"]:
        mark = "*" if r["stopped"] == "time_budget" else ""
        capped |= bool(mark)
        cells = (r["images"], r["epochs"], f"{r['steps']}{mark}", f"{r['minutes']:.2f}",
                 f"{r['car_dice']:.3f}", f"{r['miou']:.3f}")
        print(" | ".join(str(c).rjust(len(h)) for c, h in zip(cells, head)))
    if capped:
        print(f"* stopped by the time cap ({result['max_minutes']:g} min) before its steps")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--counts", type=int, nargs="+", default=[0, 2, 5, 10, 20],
                   help="numbers of corrected training images (0 = zero-shot parent)")
    p.add_argument("--steps", type=int, default=100,
                   help="optimisation steps per N (the epochs follow from them)")
    p.add_argument("--epochs", type=int, help="fixed epochs per N instead of --steps")
    p.add_argument("--max-minutes", type=float, default=5.0, help="time cap per fine-tuning")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, help="peak learning rate (default: fine-tuning's 3e-4)")
    p.add_argument("--size", type=int, help="training crop size (default: the parent's)")
    p.add_argument("--device", default="cpu", help="cpu, auto, cuda, cuda:N or mps")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0, help="split, choice of images, training")
    p.add_argument("--copy-paste", type=float, default=0.0, metavar="P",
                   help="copy-paste augmentation probability (ml/copy_paste.py; 0 = off)")
    p.add_argument("--parent", type=Path, default=PARENT)
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if any(n < 0 for n in args.counts) or args.steps < 1 or (args.epochs or 1) < 1:
        p.error("--counts must be >= 0, --steps and --epochs >= 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        result = run_curve(args)
    except (ValueError, FileError, OSError) as exc:
        print(f"finetune_curve: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
