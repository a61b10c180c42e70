"""A simulated user who labels with strokes: how well a new model learns from them.

The first N images of DATA (by name) are scribbled with issue 30's protocol (``scribble_user``);
the other images are scored against their masks (read as the user's truth). Round 0 trains a new
model (the ImageNet encoder) on the first strokes; each later round adds corrective strokes where
the current model is wrong on the scribbled images and trains on from it. Training is the app's
own (``ml.training.finetune_job.run_finetune`` on sparse masks: the few-image recipe and, by default, the
pixel-classifier fill of unlabeled pixels, ``ml.training.stroke_fill``). The same strokes feed two
baselines in the same run: the random forest on filter features (``ml.strokes.pixel_classifier``) and
"all one class" (the class most of the scribbled images' true pixels have).

    python bench/scribble_loop.py ../shared/data/isbi2012 --train 2 --rounds 5 --json

``--rotate K`` starts the list at its K-th image and wraps around: the same folder split
another way (the two scribbled slices decide much of the score: docs/quality.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine_info import cpu_name
from scribble_user import STROKES, corrective_strokes, first_strokes_of, keys_by_name

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.model_header import SCALES, TURNS
from unet_desktop.core.labels import IGNORE_INDEX, LabelScheme
from unet_desktop.ml.error_places import ErrorPlaces
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.reports import FinalReport, StepReport
from unet_desktop.ml.strokes.pixel_classifier import PixelClassifier
from unet_desktop.ml.training.dataset import SampleSet, make_sample
from unet_desktop.ml.training.finetune_job import run_finetune
from unet_desktop.ml.training.train_config import TrainConfig, cache_side

UNLABELED = 128  # stored value of unpainted pixels when the folder's scheme has none


def sparse_scheme(scheme: LabelScheme) -> LabelScheme:
    if scheme.ignore_value is not None:
        return scheme
    free = next(v for v in (UNLABELED, *range(256)) if v not in scheme.stored_values)
    return LabelScheme(scheme.kind, scheme.classes, free)


def score(predicted: list[np.ndarray], truths: list[np.ndarray], scheme: LabelScheme) -> dict:
    """Wrong pixels (ignored truth left out), split into those within 1 px of a true outline and
    those inside regions (``ml.error_places``), and, binary, ISBI's pixel error (1 - foreground
    Dice), pooled over the images."""
    tp = fp = fn = 0
    places = ErrorPlaces()  # counts the scored (not ignored) and the wrong pixels
    for p, t in zip(predicted, truths, strict=True):
        places.add(p, t)
        tp += int(((p == 1) & (t == 1)).sum())
        fp += int(((p == 1) & (t == 0)).sum())
        fn += int(((p != 1) & (t == 1)).sum())
    isbi = 1 - 2 * tp / max(1, 2 * tp + fp + fn) if scheme.kind == "binary" else None
    split = places.fractions()
    wrong = split["wrong_on_outlines"] + split["wrong_inside"]
    return {"wrong_pixels": round(wrong, 4),
            "wrong_on_outlines": round(split["wrong_on_outlines"], 4),
            "wrong_inside": round(split["wrong_inside"], 4),
            "isbi_pixel_error": None if isbi is None else round(isbi, 4)}


class Session:
    """The images, their truths, the strokes so far and the models of one run."""

    def __init__(self, args: argparse.Namespace, scratch: Path) -> None:
        self.args, self.scratch = args, scratch
        ws = Workspace.open(args.data)
        keys = keys_by_name(ws, args.rotate)
        if len(keys) <= args.train:
            raise ValueError(f"{ws.root}: {len(keys)} images with masks; --train {args.train} "
                             "leaves none to score")
        self.scheme = sparse_scheme(ws.scheme)
        self.train_keys = keys[: args.train]
        self.score_keys = keys[args.train:][: args.scored or None]
        # the images a user moves on to, one per round and never scored (--new-per-round)
        self.unseen_keys = keys[args.train + len(self.score_keys):]
        needed = args.new_per_round * args.rounds
        if needed > len(self.unseen_keys):
            raise ValueError(f"{ws.root}: --new-per-round {args.new_per_round} for {args.rounds} "
                             f"rounds needs {needed} images beyond the scribbled and scored ones, "
                             f"there are {len(self.unseen_keys)} (lower --scored)")
        self.images = {k: ws.load_image(k)
                       for k in self.train_keys + self.score_keys + self.unseen_keys[:needed]}
        self.truth = {k: ws.scheme.to_index(ws.load_mask(k)) for k in self.images}
        drawn = first_strokes_of([self.truth[k] for k in self.train_keys],
                                 self.scheme.num_classes, args.seed, args.strokes)
        self.strokes, self.labels = 0, {}
        for k, (labels, strokes) in zip(self.train_keys, drawn, strict=True):
            self.labels[k] = labels
            self.strokes += strokes
            if args.dense:  # the reference: the same images fully labelled
                self.labels[k] = self.truth[k].copy()
        self.model: Path | None = None
        self.predictor: Predictor | None = None  # the latest round's model, loaded once

    def labelled_fraction(self) -> float:
        painted = sum(int((v != IGNORE_INDEX).sum()) for v in self.labels.values())
        return round(painted / sum(v.size for v in self.labels.values()), 4)

    def train_round(self, number: int, seconds: float, steps: int | None) -> tuple[float, int]:
        args = self.args
        size = args.size or 256
        samples = [make_sample(k, self.images[k], self.scheme.to_stored(self.labels[k]),
                               self.scheme, max_side=cache_side(size, args.scale))
                   for k in self.train_keys]
        out = self.scratch / f"round{number}.safetensors"
        config = TrainConfig(out=out, init=self.model, new_classes=True,
                             max_minutes=seconds / 60, size=args.size, scale=args.scale,
                             val_fraction=0.0, seed=args.seed + number, patience=None,
                             device=args.device, num_workers=0, validate=False,
                             stroke_fill=args.stroke_fill, max_steps=steps,
                             fill_stages=args.fill_stages,
                             fill_min_confidence=args.fill_min_confidence,
                             fill_image_shares=args.fill_shares == "image",
                             smoothness_weight=args.smoothness,
                             without_up=TURNS[args.turns],
                             fill_from_parent=args.fill_parent == "on",
                             name=f"scribble round {number}")
        started, final, done = time.monotonic(), None, 0
        data = SampleSet(samples, self.scheme, f"scribbles ({len(samples)} images)")
        for report in run_finetune(data, config, name_after_version=False):
            if isinstance(report, FinalReport):
                final = report
            done += isinstance(report, StepReport)
        if final is None or final.model_path is None:
            raise RuntimeError(f"round {number} produced no model")
        seconds = time.monotonic() - started
        self.model = final.model_path
        self.predictor = Predictor.from_file(self.model, device=args.device, engine="torch")
        return seconds, done

    def unet_predictions(self, keys: list[str]) -> list[np.ndarray]:
        return [self.scheme.to_index(self.predictor.predict(self.images[k], probs=False).labels)
                for k in keys]

    def correct(self, predicted: list[np.ndarray]) -> None:
        for k, p in zip(self.train_keys, predicted, strict=True):
            self.strokes += corrective_strokes(self.truth[k], p, self.labels[k])

    def move_on(self) -> None:
        """The user opens the next ``--new-per-round`` images and paints corrective strokes
        where the current model is wrong on them: those strokes are all their labels."""
        fresh = self.unseen_keys[: self.args.new_per_round]
        self.unseen_keys = self.unseen_keys[len(fresh):]
        for k, p in zip(fresh, self.unet_predictions(fresh), strict=True):
            self.labels[k] = np.full(p.shape, IGNORE_INDEX, np.uint8)
            self.strokes += corrective_strokes(self.truth[k], p, self.labels[k])
            if self.args.dense:  # the reference: the new image fully labelled too
                self.labels[k] = self.truth[k].copy()
            self.train_keys.append(k)

    def forest(self) -> dict:
        started = time.monotonic()
        forest = PixelClassifier.fit([self.images[k] for k in self.train_keys],
                                     [self.labels[k] for k in self.train_keys],
                                     seed=self.args.seed)
        seconds = time.monotonic() - started
        n = self.scheme.num_classes
        predicted = [forest.predict(self.images[k], n) for k in self.score_keys]
        return {"train_seconds": round(seconds, 1), **score(
            predicted, [self.truth[k] for k in self.score_keys], self.scheme)}

    def one_class(self) -> dict:
        counts = np.bincount(np.concatenate([self.truth[k].ravel() for k in self.train_keys]),
                             minlength=256)[: self.scheme.num_classes]
        c = int(counts.argmax())
        predicted = [np.full_like(self.truth[k], c) for k in self.score_keys]
        return {"class": self.scheme.names[c],
                **score(predicted, [self.truth[k] for k in self.score_keys], self.scheme)}


def run_bench(args: argparse.Namespace) -> dict:
    rounds, forest_rounds, steps = [], [], []
    with tempfile.TemporaryDirectory(prefix="scribble-loop-") as tmp:
        s = Session(args, Path(tmp))
        truths = [s.truth[k] for k in s.score_keys]
        for number in range(args.rounds + 1):
            if number:
                s.correct(s.unet_predictions(s.train_keys))
                s.move_on()
            seconds = args.first_seconds if number == 0 else args.round_seconds
            step_budget = args.first_steps if number == 0 else args.round_steps
            common = {"round": number, "labelled_fraction": s.labelled_fraction(),
                      "strokes": s.strokes, "images": len(s.train_keys)}
            train_seconds, done = s.train_round(number, seconds, step_budget)
            steps.append(done)
            rounds.append({**common, "train_seconds": round(train_seconds, 1),
                           **score(s.unet_predictions(s.score_keys), truths, s.scheme)})
            forest_rounds.append({**common, **s.forest()})
            print(f"round {number}: {rounds[-1]} | forest {forest_rounds[-1]}",
                  file=sys.stderr, flush=True)
        one_class = s.one_class()
    return {"rounds": rounds,
            "baselines": {"random_forest": forest_rounds, "one_class": one_class},
            "data": str(Path(args.data).resolve()), "scheme": s.scheme.kind,
            "train_images": s.train_keys, "scored_images": len(s.score_keys),
            "rotate": args.rotate, "first_strokes_per_class": args.strokes,
            "steps": steps, "dense": args.dense, "new_per_round": args.new_per_round,
            "scale": args.scale, "first_seconds": args.first_seconds,
            "round_seconds": args.round_seconds, "stroke_fill": args.stroke_fill,
            "fill_stages": args.fill_stages, "fill_min_confidence": args.fill_min_confidence,
            "fill_shares": args.fill_shares,
            "smoothness_weight": args.smoothness, "turns": args.turns,
            "fill_parent": args.fill_parent, "size": args.size or 256,
            "seed": args.seed, "device": args.device, "threads": torch.get_num_threads(),
            "torch": torch.__version__, "cpu": cpu_name()}


def print_table(result: dict) -> None:
    print(f"{result['data']}: {len(result['train_images'])} scribbled (from image "
          f"{result['rotate']} by name, {result['first_strokes_per_class']} strokes per class), "
          f"{result['scored_images']} scored, scale "
          f"{result['scale']}, CPU {result['cpu']}")
    print("round | labelled | strokes | train s | steps | UNet wrong (on outlines + inside) | "
          "forest wrong")
    for r, f, n in zip(result["rounds"], result["baselines"]["random_forest"], result["steps"],
                       strict=True):
        print(f"{r['round']} | {r['labelled_fraction']:.3f} | {r['strokes']} | "
              f"{r['train_seconds']:.0f} | {n} | {r['wrong_pixels']:.4f} "
              f"({r['wrong_on_outlines']:.4f} + {r['wrong_inside']:.4f}) | "
              f"{f['wrong_pixels']:.4f}")
    one = result["baselines"]["one_class"]
    print(f"all '{one['class']}': {one['wrong_pixels']:.4f} wrong")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="folder with full masks (never written)")
    p.add_argument("--train", type=int, required=True, help="images (first by name) scribbled")
    p.add_argument("--rounds", type=int, default=0, help="corrective rounds after round 0")
    p.add_argument("--round-seconds", type=float, default=60.0,
                   help="training budget of each corrective round")
    p.add_argument("--first-seconds", type=float, default=180.0,
                   help="training budget of round 0 (a new model on the first strokes)")
    p.add_argument("--first-steps", type=int,
                   help="also end round 0 after this many steps (a CPU-independent budget)")
    p.add_argument("--round-steps", type=int, help="the same for the corrective rounds")
    p.add_argument("--dense", action="store_true",
                   help="reference: train on the full masks of the scribbled images (and of "
                        "those --new-per-round moves on to) instead")
    p.add_argument("--scored", type=int, help="score only the first K other images")
    p.add_argument("--rotate", type=int, default=0,
                   help="start the images (by name) at the K-th and wrap around: another "
                        "split of the same folder (as scribble_folder.py's --rotate)")
    p.add_argument("--strokes", type=int, default=STROKES,
                   help="first strokes per image and class (the protocol's: %(default)s)")
    p.add_argument("--new-per-round", type=int, default=0, metavar="K",
                   help="each corrective round the user also moves on to K new images (after "
                        "the scored ones) and corrects the model's prediction there with "
                        "corrective strokes, their only labels")
    p.add_argument("--scale", choices=SCALES, default="native")
    p.add_argument("--size", type=int, help="training crop size (default 256)")
    p.add_argument("--stroke-fill", choices=("auto", "off"), default="auto",
                   help="fill unlabeled pixels with the pixel classifier's labels (auto)")
    p.add_argument("--fill-stages", type=int, default=TrainConfig.fill_stages,
                   help="forests of the fill (auto-context stages; 1: one forest)")
    p.add_argument("--fill-min-confidence", type=float, default=TrainConfig.fill_min_confidence,
                   help="fill only where the forest is this sure (others stay unlabeled)")
    p.add_argument("--fill-shares", choices=("image", "balanced"), default="image",
                   help="the fill's probabilities adjusted to the classes' shares in the "
                        "images (the app's default) or the balanced forest's own")
    p.add_argument("--smoothness", type=float, default=TrainConfig.smoothness_weight,
                   help="weight of the edge-aware smoothness loss on unlabeled pixels")
    p.add_argument("--fill-parent", choices=("on", "off"), default="on",
                   help="corrective rounds: the fill averages the previous round's prediction "
                        "with the forest's (on, the app's default) or takes the forest's alone")
    p.add_argument("--turns", choices=tuple(TURNS), default="auto",
                   help="vertical flips and quarter turns in training (auto: at native scale)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.train < 1 or args.rounds < 0 or args.round_seconds <= 0 or args.first_seconds <= 0 \
            or args.strokes < 1:
        p.error("--train and --strokes must be >= 1, --rounds >= 0 and the budgets > 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        result = run_bench(args)
    except (ValueError, FileError, OSError) as exc:
        print(f"scribble_loop: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else "", end="")
    if not args.json:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
