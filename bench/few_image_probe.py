"""Probe the few-image recipe at a fixed step count: what a run gives along the way.

Builds the run's ``TrainConfig`` with ``unet-desktop train``'s own parser (so the few-image
recipe fills in what the command leaves to it), caps it at ``--steps`` optimisation steps (a
shared CPU gives wall-clock budgets no meaning) and scores the weights the run has at each
``--at`` step on the folder's images left out by ``--score-exclude``. ``--set`` changes
``TrainConfig`` fields (``min_lr_ratio=1.0``, ``freeze_batchnorm=False``, ``augment.hue=0.1``...)
to compare variants of the recipe on a development split, never on the images reported as
the result.

    python bench/few_image_probe.py ../shared/data/carvana --init models/pets-trimap.safetensors \\
        --only '02159e548029_0[12].*' --score-exclude '02159e548029_*' \\
        --score-exclude '0[2-9]*' --steps 336 --at 55 110 220 --set min_lr_ratio=1.0
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch
from finetune_curve import score as curve_score

from unet_desktop.commands import train as train_command
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.modelfile import clean_state_dict, load_model_file
from unet_desktop.ml.reports import FinalReport, StepReport
from unet_desktop.ml.training import train_loop
from unet_desktop.ml.training.augment import AugmentOptions
from unet_desktop.ml.training.dataset import training_entries
from unet_desktop.ml.training.finetune_job import run_finetune

ROOT = Path(__file__).resolve().parents[1]


def parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def build_config(args: argparse.Namespace):
    parser = argparse.ArgumentParser()
    train_command.add_parser(parser.add_subparsers())
    argv = ["train", str(args.data), "--out", str(args.out), "--group-by", "prefix",
            "--max-minutes", "600", "--seed", str(args.seed)]
    if args.init:
        argv += ["--init", str(args.init), "--new-classes"]
    for pattern in args.only:
        argv += ["--only", pattern]
    config = train_command._config(parser.parse_args(argv))
    changes, augment = {"max_steps": args.steps}, {}
    for item in args.set:
        key, _, value = item.partition("=")
        if key.startswith("augment."):
            augment[key.removeprefix("augment.")] = parse_value(value)
        else:
            changes[key] = parse_value(value)
    if augment:
        changes["augment"] = dataclasses.replace(config.augment or AugmentOptions(), **augment)
    return dataclasses.replace(config, **changes)


def score(ws: Workspace, entries, path: Path, state: dict | None) -> dict:
    model, meta = load_model_file(path, map_location="cpu")
    if state is not None:
        model.load_state_dict(state)
    scores = curve_score(Predictor(model, meta, "cpu"), ws, entries)
    return {k: round(scores[k], 4) for k in ("dice", "miou", "wrong_pixels")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path)
    p.add_argument("--init", type=Path)
    p.add_argument("--only", action="append", default=[])
    p.add_argument("--score-exclude", action="append", default=[])
    p.add_argument("--steps", type=int, default=336)
    p.add_argument("--at", type=int, nargs="+", default=[])
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("/tmp/few_image_probe.safetensors"))
    args = p.parse_args(argv)
    config = build_config(args)
    snapshots: dict[int, dict] = {}
    at = set(args.at)
    original_step = train_loop.Trainer.step

    def step(self, images, targets):  # keep the weights the run has at the probed steps
        result = original_step(self, images, targets)
        if self.global_step in at:
            snapshots[self.global_step] = clean_state_dict(self.model)
        return result

    train_loop.Trainer.step = step
    ws = Workspace.open(args.data, None)
    started, steps, final = time.monotonic(), 0, None
    for report in run_finetune(ws, config, name_after_version=False):
        if isinstance(report, StepReport):
            steps += 1
            if steps % 25 == 0:
                print(f"step {steps}, {time.monotonic() - started:.0f} s", file=sys.stderr,
                      flush=True)
        elif isinstance(report, FinalReport):
            final = report
    seconds = time.monotonic() - started
    scored = training_entries(ws, True)
    left_out = {e.key for e in training_entries(ws, True, tuple(args.score_exclude))}
    scored = [e for e in scored if e.key not in left_out]
    ws_model = Workspace.open(args.data, load_model_file(final.model_path)[1].scheme)
    rows = {f"step {s}": score(ws_model, scored, final.model_path, snapshots[s])
            for s in sorted(snapshots)}
    rows[f"saved (epoch {final.best_epoch} of {final.epochs_run})"] = score(
        ws_model, scored, final.model_path, None)
    print(json.dumps({"set": args.set, "only": args.only, "steps": steps,
                      "train_seconds": round(seconds), "scored_images": len(scored),
                      "threads": torch.get_num_threads(), **rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
