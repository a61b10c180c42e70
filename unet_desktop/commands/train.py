"""``unet-desktop train DATA --out MODEL``: fine-tune a model (or train one) on a folder's masks.

Trains on the corrected/verified masks of the workspace DATA (``--all-masks``: every mask) and
writes the model to MODEL with its parent, data and metrics recorded. With more than 10 images
it holds out a validation split and writes the best model; with 10 or fewer every image trains
(unless ``--val-fraction`` is given) and the latest model is written, reported as not validated.
Ctrl-C stops within one step and keeps the model so far; ``--resume``
continues from the checkpoint beside MODEL. Runs unchanged under
``torchrun --nproc-per-node N -m unet_desktop.cli train ...`` (DDP; rank 0 prints and writes).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
from pathlib import Path

from unet_desktop.cli import fail, int_at_least
from unet_desktop.core.io.model_header import SCALES, TURNS
from unet_desktop.core.labels import STROKES_BELOW

ARCHES = ("effnet-lite0", "effnet-lite1", "effnet-lite2", "unet", "resnet18", "resnet34")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="fine-tune or train a model on a folder's masks",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("data", type=Path, help="workspace folder (images and masks)")
    p.add_argument("--out", type=Path, required=True, metavar="MODEL",
                   help="model file to write (.safetensors); never the --init model")
    p.add_argument("--init", type=Path, metavar="MODEL", help="model to fine-tune "
                   "(default: a new model of --arch, from the ImageNet-pretrained encoder)")
    p.add_argument("--new-classes", action="store_true",
                   help="the masks have other classes than the --init model: replace its final "
                        "classifier (classes with the same name keep their weights)")
    p.add_argument("--scheme", choices=("binary", "trimap", "multiclass"),
                   help="label scheme of the masks (default: the model's, or guessed; with "
                        "--new-classes: guessed from the masks)")
    p.add_argument("--classes", type=int, help="number of classes (multiclass)")
    p.add_argument("--ignore", type=int, metavar="V", help="mask value meaning 'not labelled'")
    p.add_argument("--epochs", type=int, help="passes over the images (default: none; the run "
                   "lasts --max-minutes or until early stopping)")
    p.add_argument("--max-minutes", type=float, metavar="T",
                   help="time budget (default without --epochs: 10)")
    p.add_argument("--max-steps", type=int, metavar="N",
                   help="also stop after N optimisation steps, the learning-rate schedule "
                        "spanning them (comparisons that do not depend on the CPU's speed)")
    p.add_argument("--size", type=int, help="training crop size (default: the model's, or 256)")
    p.add_argument("--scale", choices=SCALES,
                   help="fit: crops of 35-100%% of an image resized to SIZE, predicted resized "
                        "(objects); native: crops at the images' own pixel scale, predicted in "
                        "tiles (thin structures: membranes, vessels). Default: the model's; for a new "
                        "model the folder's task's, or proposed from the images (as New Task)")
    p.add_argument("--turns", choices=tuple(TURNS), default="auto",
                   help="vertical flips and quarter turns in training, for images without an "
                        "'up' (EM, tissue, aerial); auto (default): on at native scale")
    p.add_argument("--input-rule", choices=("data-range", "percentile"), default=None,
                   help="how a new model makes its 8-bit input from 12/16-bit and float images: "
                        "data-range (default: scaled by the range the data uses, a 12-bit "
                        "image by 4095) or percentile (per image, 1st-99th percentile); "
                        "recorded in the model file; a fine-tune (--init) keeps its parent's")
    p.add_argument("--channels", default=None, metavar="LIST",
                   help="which channels of multi-channel images feed a new model, 1-based, one "
                        "or three (e.g. 2 or 1,2,3); images without them are skipped")
    p.add_argument("--batch-size", type=int, help="per process under torchrun (default: 4 with "
                   "at most 10 images, the few-image recipe; else 8)")
    p.add_argument("--val-fraction", type=float, help="share held out for validation "
                   "(default: 0 with at most 10 images, every image trains; else 0.2)")
    p.add_argument("--only", action="append", default=[], metavar="PATTERN",
                   help="train only on images whose file name matches this glob (repeatable), "
                        "e.g. '00087a6bd4dc_0[12].*'")
    p.add_argument("--group-by", choices=("image", "prefix"), default="image",
                   help="validation split unit; 'prefix' = file name before the first '_'")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--arch", choices=ARCHES, default="effnet-lite0",
                   help="architecture of a new model (effnet-*: ImageNet-pretrained "
                        "EfficientNet-Lite encoder; unet: from scratch; resnet*: ImageNet "
                        "weights only if in the torch hub cache)")
    p.add_argument("--base", type=int, default=16, help="UNet base width")
    p.add_argument("--depth", type=int, default=4, help="UNet depth")
    p.add_argument("--in-channels", type=int, choices=(1, 3), default=3)
    p.add_argument("--lr", type=float, help="peak learning rate (default 3e-4 / 1e-3 scratch)")
    p.add_argument("--patience", type=int, default=10, help="early stopping (0 = off); only "
                   "with at least 5 validation images held out")
    p.add_argument("--workers", type=int_at_least(0), help="data loader processes")
    p.add_argument("--amp", choices=("auto", "bf16", "fp16", "off"), default="auto")
    p.add_argument("--class-weights", choices=("auto",), help="inverse-frequency weights")
    p.add_argument("--border-as-ignore", action="store_true", help="trimap border = not labelled")
    p.add_argument("--stroke-fill", choices=("auto", "off"), default="auto",
                   help="sparse masks (strokes): fill unlabeled pixels with a pixel classifier's "
                        "labels before training (auto, the default), or only ignore them (off)")
    p.add_argument("--copy-paste", type=float, default=0.0, metavar="P",
                   help="probability of pasting another training image's objects into each "
                        "training image (augmentation for few images; 0 = off)")
    p.add_argument("--resume", action="store_true", help="continue from MODEL's checkpoint")
    p.add_argument("--freeze-encoder", action="store_true")
    p.add_argument("--all-masks", action="store_true",
                   help="train on every mask, not only corrected/verified ones")
    p.add_argument("--name", default="", help="model name stored in the file")
    p.set_defaults(run=run)


def _fail(message: str) -> int:
    return fail("train", message)


def _scheme(args: argparse.Namespace):
    from unet_desktop.core.labels import LabelScheme, scheme_by_name
    from unet_desktop.ml.models.modelfile import read_meta

    if args.classes is not None and args.scheme != "multiclass":
        raise ValueError("--classes goes with --scheme multiclass" + (
            f" (a {args.scheme} scheme has its own classes)" if args.scheme else
            ": without it the classes come from the masks or the --init model"))
    if args.scheme:
        return scheme_by_name(args.scheme, args.classes, args.ignore)
    if args.init is None or args.new_classes:
        if args.ignore is not None:
            raise ValueError("--ignore needs --scheme when the masks' classes are not the model's")
        return None  # the workspace guesses it from its masks (or its manifest)
    scheme = read_meta(args.init).scheme
    if args.ignore is not None:
        scheme = LabelScheme(scheme.kind, scheme.classes, args.ignore)
    return scheme


def _the_tasks_classes(workspace):
    """The folder's task's scheme when --scheme names the same values and unlabeled value (its
    class names and colours, which the flags cannot spell), else None."""
    task = workspace.task
    if task is None or not task.scheme.same_value_set(workspace.scheme) \
            or task.scheme.ignore_value != workspace.scheme.ignore_value:
        return None
    return task.scheme


def _new_classes_hint(args: argparse.Namespace, model_scheme) -> str:
    """When masks read with the model's scheme failed: a hint if they look like another scheme."""
    from unet_desktop.core.errors import FileError
    from unet_desktop.core.folder.workspace import Workspace

    if args.init is None or args.scheme or args.new_classes:
        return ""
    try:
        guessed = Workspace.open(args.data).scheme
    except (ValueError, FileError):
        return ""
    if guessed.same_values(model_scheme):
        return ""
    return (f" (the masks look {guessed.kind} but {args.init} predicts {model_scheme.kind}: "
            "add --new-classes to fine-tune it onto the masks' classes)")


def _arch(args: argparse.Namespace) -> dict | None:
    if args.init is not None:
        return None
    if args.arch.startswith("effnet-"):
        from unet_desktop.ml.models.architecture import pretrained_arch

        if args.in_channels != 3:
            raise ValueError("--arch effnet-* takes 3 channels (gray images are fed as three)")
        return pretrained_arch(None, "efficientnet_" + args.arch.removeprefix("effnet-"))
    if args.arch == "unet":
        return {"name": "unet", "in_channels": args.in_channels, "depth": args.depth,
                "base": args.base}
    return {"name": "resnet_unet", "encoder": args.arch, "in_channels": args.in_channels,
            "encoder_weights": "imagenet"}


def _config(args: argparse.Namespace):
    from unet_desktop.ml.training.augment import AugmentOptions
    from unet_desktop.ml.training.dataset import GROUPERS
    from unet_desktop.ml.training.train import TrainConfig

    if args.max_steps is not None and args.max_steps < 1:
        raise ValueError(f"--max-steps must be at least 1, got {args.max_steps}")
    return TrainConfig(
        out=args.out, init=args.init, new_classes=args.new_classes, arch=_arch(args),
        epochs=args.epochs,
        max_minutes=args.max_minutes, max_steps=args.max_steps, size=args.size,
        scale=args.scale, without_up=TURNS[args.turns],
        batch_size=args.batch_size, lr=args.lr,
        val_fraction=args.val_fraction, seed=args.seed, group_fn=GROUPERS[args.group_by],
        patience=args.patience or None, only=tuple(args.only), freeze_encoder=args.freeze_encoder,
        all_masks=args.all_masks, border_as_ignore=args.border_as_ignore,
        stroke_fill=args.stroke_fill,
        class_weights=args.class_weights, device=args.device, amp=args.amp,
        resume=args.resume, num_workers=args.workers, name=args.name,
        augment=AugmentOptions(copy_paste=args.copy_paste), input_rule=_input_rule(args),
    )


def _new_model_scale(config, workspace, printer: ProgressPrinter):
    """A new model without --scale: the folder's task's scale, else what a new task proposes
    from the images (thin structures: native), said on stderr."""
    from unet_desktop.core.folder.task_proposal import propose_for_folder
    from unet_desktop.core.io.input_rule import InputRule

    if workspace.task is not None:
        scale, why = workspace.task.scale, f"the scale of the folder's task {workspace.task.name!r}"
    else:
        rule = InputRule.from_dict(config.input_rule) if config.input_rule else None
        found = propose_for_folder(workspace, 1, rule)
        scale, why = found.scale, found.why
    printer.note(f"no --scale: {scale}. {why}")
    return dataclasses.replace(config, scale=scale)


def _refuse_a_kept_model_as_out(out: Path) -> None:
    """--out never replaces a file the app keeps: a task's version (a task records it, rolls
    back to it, may prune it) or a shipped starter model (ValueError naming it)."""
    from unet_desktop.core.io.paths import models_dir, user_models_dir
    from unet_desktop.ml.loop.folder_models import is_a_task_version

    if is_a_task_version(out, user_models_dir()):
        raise ValueError(f"--out {out} is a version of a task (its task records it and may roll "
                         "back to it): choose a file outside the task's models folder")
    if out.resolve().parent == models_dir().resolve():
        raise ValueError(f"--out {out} is in the shipped models folder {models_dir()}: choose "
                         "another folder")


def _input_rule(args: argparse.Namespace) -> dict | None:
    """The new model's input rule from --input-rule and --channels (ValueError if invalid)."""
    from unet_desktop.core.io.input_rule import DEFAULT_NEW, InputRule

    if args.input_rule is None and args.channels is None:
        return None
    if args.init is not None:
        from unet_desktop.ml.models.modelfile import read_meta

        given = "--input-rule" if args.input_rule is not None else "--channels"
        raise ValueError(f"{given} sets a new model's input; a fine-tune sees its images as "
                         f"{args.init.name} does ({read_meta(args.init).rule.describe()}): "
                         f"leave out {given}, or train a new model without --init")
    channels = None
    if args.channels is not None:
        try:
            channels = tuple(int(c) - 1 for c in args.channels.split(","))
        except ValueError:
            raise ValueError(f"--channels lists channel numbers such as 1,2,3, got "
                             f"{args.channels!r}") from None
        if any(c < 0 for c in channels):
            raise ValueError(f"--channels counts from 1 (the first channel is 1), got "
                             f"{args.channels!r}")
    return InputRule(args.input_rule or DEFAULT_NEW, channels=channels).to_dict()


class ProgressPrinter:
    """tqdm bar per epoch, one line per epoch, a metrics table at the end (rank 0 only)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar = None
        self.bar_key: object = None
        self.exit_code = 0
        self.validated = True  # images were held out (a SplitReport says before the first epoch)

    def note(self, message: str) -> None:
        if self.enabled:
            from tqdm import tqdm

            tqdm.write(message, file=sys.stderr)

    def warn(self, message: str) -> None:
        self.note(f"warning: {message}")

    def _bar(self, key: object, total: int | None, desc: str):
        from tqdm import tqdm

        if self.bar_key != key:
            self.close()
            self.bar = tqdm(total=total, desc=desc, unit="step", leave=False,
                            disable=not self.enabled, file=sys.stderr, dynamic_ncols=True)
            self.bar_key = key
        return self.bar

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.bar_key = None, None

    def show(self, report) -> None:
        from unet_desktop.ml.reports import (
            EpochReport,
            FinalReport,
            PrepareReport,
            SkippedPair,
            SplitReport,
            StepReport,
        )

        if isinstance(report, SkippedPair):
            self.warn(f"skipped {report.key}: {report.message}")
        elif isinstance(report, SplitReport):
            self.validated = report.val_images > 0
        elif isinstance(report, PrepareReport):
            bar = self._bar("prepare", report.total, "loading images")
            bar.update(report.done - bar.n)
        elif isinstance(report, StepReport):
            bar = self._bar(("epoch", report.epoch), report.steps_in_epoch,
                            f"epoch {report.epoch}")
            bar.update(1)
            bar.set_postfix(loss=f"{report.loss:.4f}", lr=f"{report.lr:.2e}",
                            img_s=f"{report.images_per_s:.1f}", refresh=False)
        elif isinstance(report, EpochReport):
            self.close()
            self.note(_epoch_line(report, self.validated))
        elif isinstance(report, FinalReport):
            self.close()
            self._final(report)

    def _final(self, report) -> None:
        from unet_desktop.ml.metrics import format_table

        reasons = {"early_stopping": "stopped early: validation stopped improving",
                   "time_budget": "stopped: time budget used up",
                   "step_limit": "stopped: step limit (--max-steps) reached",
                   "cancelled": "cancelled (continue with --resume)"}
        if report.stopped in reasons:
            self.note(reasons[report.stopped])
        if report.stopped == "cancelled":
            self.exit_code = 130
        if report.model_path is None:
            self.note("no model written: training stopped before the first validation")
            return
        if self.enabled:
            which = "best model" if report.val_images else "latest model"  # nothing judged
            print(f"{which} (epoch {report.best_epoch}) saved to {report.model_path}")
            compared = None if report.parent_trained_on_val else report.parent_metrics
            print(format_table(report.metrics, compared))
        if report.parent_trained_on_val and report.parent_metrics is not None:
            self.note("not compared with the parent: it, or a model it was fine-tuned from, "
                      "trained on some of these validation images")
        if not report.val_images:
            self.note("not validated: no image was held out, so the figures above are on the "
                      "training images (use --val-fraction with more images to validate)")
        if report.val_labelled < STROKES_BELOW:
            self.note(f"the figures above count only the strokes: {report.val_labelled:.1%} of "
                      "the pixels of the masks they were measured on are labelled")
        if report.better_than_parent is False:
            new, old = report.metrics["miou"], report.parent_metrics["miou"]
            verdict = "worse than" if new < old else "no better than"
            self.note(f"warning: the new model validates {verdict} its parent on the same "
                      f"images (mIoU {new:.4f} vs {old:.4f}); consider keeping the parent")


def _epoch_line(report, validated: bool) -> str:
    """One epoch's figures; without held-out images they are on the training images, and the
    line says so."""
    val = report.val
    parts = [f"epoch {report.epoch}" + (f"/{report.epochs}" if report.epochs else ""), f"train loss {report.train_loss:.4f}"]
    if val.get("loss") is not None:
        parts.append(f"val loss {val['loss']:.4f}" if validated
                     else f"on the training images: loss {val['loss']:.4f}")
    for label, key in (("mIoU", "miou"), ("pet IoU", "pet_iou")):
        if val.get(key) is not None:
            parts.append(f"{label} {val[key]:.3f}")
    if report.time_left_s is not None:
        left = report.time_left_s
        parts.append(f"~{left:.0f} s left" if left < 90 else f"~{left / 60:.1f} min left")
    return "  ".join(parts) + ("  * best" if report.improved else "")


def run(args: argparse.Namespace) -> int:
    from unet_desktop.core.errors import FileError, MaskError
    from unet_desktop.core.folder.workspace import Workspace
    from unet_desktop.core.labels import class_mismatch
    from unet_desktop.core.progress import CancelToken
    from unet_desktop.ml.training.few_image_recipe import early_stopping_rule
    from unet_desktop.ml.training.finetune_job import run_finetune

    try:
        _refuse_a_kept_model_as_out(args.out)
        config = _config(args)
        workspace = Workspace.open(args.data, _scheme(args))
        tasks_classes = _the_tasks_classes(workspace) if args.scheme else None
        if tasks_classes is not None:
            workspace = Workspace.open(args.data, tasks_classes)
    except (ValueError, FileError) as exc:
        return _fail(str(exc))
    printer = ProgressPrinter(enabled=int(os.environ.get("RANK", "0") or 0) == 0)
    misfit = class_mismatch(workspace.scheme, workspace.task.scheme) \
        if args.scheme and workspace.task is not None else None
    if misfit:
        printer.warn(f"--scheme {args.scheme} does not fit the folder's task "
                     f"{workspace.task.name!r}: {misfit}")
    for warning in workspace.warnings:
        printer.warn(warning)
    for path, why in workspace.skipped:  # images the scan could not use (other files: silent)
        if not why.startswith("not an image"):
            printer.warn(f"skipped {path.name}: {why}")
    if config.scale is None and config.init is None:
        config = _new_model_scale(config, workspace, printer)
    if config.time_governed:
        until = (f", or until {config.patience} epochs without a better validation score "
                 f"({early_stopping_rule()})" if config.patience else "")
        steps = f" or {config.max_steps} steps" if config.max_steps else ""
        printer.note(f"no --epochs: training for up to {config.max_minutes:g} minutes{steps}"
                     f"{until}")
    cancel = CancelToken()

    def on_interrupt(signum, frame):  # first Ctrl-C: stop cleanly; a second one: hard stop
        cancel.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    said = _TrainingWarnings(printer)
    logging.getLogger("unet_desktop.ml.training").addHandler(said)
    try:
        for report in run_finetune(workspace, config, cancel, printer.warn,
                                   name_after_version=False):  # the file is --out
            printer.show(report)
    except MaskError as exc:  # e.g. binary masks read with a trimap model's scheme
        return _fail(str(exc) + _new_classes_hint(args, workspace.scheme))
    except (ValueError, FileError) as exc:
        return _fail(str(exc))
    finally:
        logging.getLogger("unet_desktop.ml.training").removeHandler(said)
        printer.close()
        signal.signal(signal.SIGINT, previous)
    return printer.exit_code


class _TrainingWarnings(logging.Handler):
    """Training's logged warnings (e.g. a resume checkpoint that did not fit on the disk) on
    stderr too: the log file alone is not where a terminal user looks."""

    def __init__(self, printer: ProgressPrinter) -> None:
        super().__init__(logging.WARNING)
        self.printer = printer

    def emit(self, record: logging.LogRecord) -> None:
        self.printer.warn(record.getMessage())
