"""A simulated annotator for the learning loop: how much correcting each next image needs.

On any workspace folder with masks, in a seeded order, for each image: take the prediction of
the model in use, score it against the mask (Dice; mIoU for multi-class) and count the pixels a
user would change, "correct" it to the mask, mark it corrected, and let the learning loop work
for S seconds of simulated correcting time (``--user-seconds``) before the next image. The loop
is the window's own engine (``unet_desktop.ml.loop.learning_loop``: rounds, merged requests, the
frozen validation set, the promotion gate); nothing is written into DATA.

Time is simulated on one clock: image i is shown and corrected at i*S; a round starts when the
trainer is free and a correction is waiting, takes as long as it really takes here, and its
promoted model predicts the images shown after it ends (so a slow round merges the corrections
made meanwhile into the next one, as in the window). Baselines from the same run and order:

- ``none``: the starting model throughout (no learning);
- ``every10``: one fine-tune after every 10 images (10x the round budget, same gate, the
  Fine-tune dialog's warm-up and cosine schedule), the classic "correct a batch, then train"
  workflow.

Each mode's scratch folder is a task's folder: its versions go through the folder's model owner
(``ml.loop.folder_models``: names, the promotion rule, pruning), as in the window. Per image the JSON
records the disk used by the scratch ``.unet-desktop`` (``sidecar_mb``) and the process's resident
memory (``rss_mb``); ``resources`` sums them up (largest sidecar, RSS after the first 10 images
and at the end).

``--new`` starts from the ImageNet-pretrained encoder (the first image is predicted by its
untrained decoder); otherwise from ``--init`` (default: the app's default model), whose classes
are mapped onto the folder's by name when they differ.

    python bench/hitl_loop.py ../shared/data/carvana --images 10 --json
    python bench/hitl_loop.py ../shared/data/isbi2012 --new --images 12
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from finetune_curve import untrained
from machine_info import cpu_name

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.learning_record import DEFAULT_EVERY_K, images_to_target, record_path
from unet_desktop.core.folder.manifest import MANIFEST_DIR
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.model_header import SCALES
from unet_desktop.core.io.paths import default_model_path
from unet_desktop.ml.device import pick_device
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.loop.folder_models import FolderModels
from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings, RoundPlan
from unet_desktop.ml.models.effnet_unet import DEFAULT_ENCODER
from unet_desktop.ml.models.imagenet_weights import ENCODERS
from unet_desktop.ml.reports import RoundResult
from unet_desktop.ml.training.dataset import seeded_rank, training_entries
from unet_desktop.ml.training.train_config import TrainConfig

MODES = ("learn", "none", "every10")
BATCH_EVERY = 10
ERRORS_AFTER = (2, 5, 10)  # corrected images before the one scored


class Annotator:
    """One simulated session: the folder, the order, the model in use and the loop's clock."""

    def __init__(self, ws: Workspace, order: list[str], args: argparse.Namespace, mode: str,
                 scratch: Path) -> None:
        self.ws, self.order, self.args, self.mode, self.scratch = ws, order, args, mode, scratch
        self.device = pick_device(args.device)
        settings = LoopSettings(round_seconds=args.round_seconds, size=args.size, scale=args.scale,
                                batch_size=args.batch_size, device=args.device, seed=args.seed)
        if mode == "every10":  # a fine-tune as the Fine-tune dialog runs it: warm-up and cosine
            settings = dataclasses.replace(
                settings, round_seconds=args.round_seconds * BATCH_EVERY,
                warmup_steps=None, min_lr_ratio=TrainConfig.min_lr_ratio)
        self.loop = LearningLoop(ws.scheme, record_path(scratch), self._pair, settings)
        self.loop.set_every_k(args.every_k)
        self.in_use: Path | None = None if args.new else args.init
        save_task(scratch, Task(mode, ws.scheme))
        self.models = FolderModels(scratch, scratch / "user-models")
        if self.in_use is not None:
            self.models.use(self.in_use)
        self.predictor = untrained("imagenet", args, ws, self.device) if args.new \
            else Predictor.from_file(args.init, device=self.device, engine="torch")
        self.trainer_free = 0.0  # simulated time the trainer finishes its current round
        self.waiting: list[tuple[float, Path]] = []  # promotions, visible from their end time
        self.rounds: list[dict] = []

    def _pair(self, key: str):
        return self.ws.load_raw(key), self.ws.load_mask(key)  # the rule applies

    def _use_promotions(self, now: float) -> None:
        ready = [p for p in self.waiting if p[0] <= now]
        if ready:
            self.waiting = [p for p in self.waiting if p[0] > now]
            self.in_use = ready[-1][1]
            self.predictor = Predictor.from_file(self.in_use, device=self.device, engine="torch")

    def run(self) -> dict:
        s, per_image = self.args.user_seconds, []
        for i, key in enumerate(self.order):
            now = i * s
            self._use_promotions(now)
            image, mask = self._pair(key)
            labels = self.predictor.predict(image, probs=False).labels
            point = self.loop.score_prediction(key, labels, self.predictor.meta.scheme, mask,
                                               self.predictor.meta.version)
            per_image.append({"image": key, "dice_before": point.dice, "miou_before": point.miou,
                              "score": point.score, "changed_fraction": point.changed_fraction,
                              "model_version": point.model_version,
                              "model": self.in_use.stem if self.in_use else "start"})
            self.loop.note_corrected(key)
            self._train_until(now, now + s, i)
            per_image[-1].update(sidecar_mb=round(folder_mb(self.scratch / MANIFEST_DIR), 2),
                                 rss_mb=round(rss_mb(), 1))
            print(f"{self.mode} {i + 1}/{len(self.order)} {key}: {point.metric} "
                  f"{point.score:.3f}", file=sys.stderr, flush=True)
        return self._summary(per_image)

    def _train_until(self, now: float, next_shown: float, index: int) -> None:
        """Rounds that start before the next image is shown (each from the model in use then)."""
        if self.mode == "none":
            return
        if self.mode == "every10" and (index + 1) % BATCH_EVERY:
            return
        while self.loop.round_requested and self.trainer_free < next_shown:
            begin = max(self.trainer_free, now)
            self._use_promotions(begin)
            run = self.models.plan_run("loop", self.in_use)
            plan = RoundPlan(self.in_use, run.out, run.name)
            started = time.monotonic()
            result = next(r for r in self.loop.run_round(plan) if isinstance(r, RoundResult))
            seconds = time.monotonic() - started
            self.trainer_free = begin + seconds
            if result.model_path is None:
                self.models.discard(run)
            else:
                outcome = self.models.finish_run(
                    run, result.model_path, result.promoted, result.metrics, result.reason,
                    result.validated, len(result.validation_images))
                if outcome.in_use:
                    self.waiting.append((self.trainer_free, result.model_path))
            self.rounds.append({"begin_s": round(begin, 1), "seconds": round(seconds, 1),
                                "train_seconds": round(result.train_seconds, 1),
                                "train_images": len(result.train_images),
                                "validation_images": len(result.validation_images),
                                "promoted": result.promoted, "gate": result.gate,
                                "validated": result.validated,
                                "reason": result.reason, "version": result.version})
            if self.mode == "every10":
                return

    def _summary(self, per_image: list[dict]) -> dict:
        scores = [p["score"] for p in per_image]
        after = [n for n in ERRORS_AFTER if n < len(per_image)]
        binary = self.ws.scheme.kind == "binary"
        return {"per_image": per_image,
                "images_to_target": images_to_target(scores, self.args.target),
                "train_seconds": round(sum(r["seconds"] for r in self.rounds), 1),
                "rounds": self.rounds,
                "promotions": sum(r["promoted"] for r in self.rounds),
                "wrong_pixels_after": {str(n): per_image[n]["changed_fraction"] for n in after},
                # binary: 1 - the Dice of the 255 class is ISBI's measure
                "isbi_pixel_error_after": {str(n): 1.0 - per_image[n]["dice_before"]
                                           for n in after} if binary else None,
                "resources": resources(per_image)}


def folder_mb(folder: Path) -> float:
    """Disk used by the files under ``folder`` (MB)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def rss_mb() -> float:
    """This process's resident memory now (MB; Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resources(per_image: list[dict]) -> dict:
    """The largest sidecar, and the RSS after the first 10 images against the end."""
    rss = [p["rss_mb"] for p in per_image if "rss_mb" in p]
    settled = rss[min(9, len(rss) - 1)] if rss else None
    return {"sidecar_mb_max": max((p.get("sidecar_mb", 0) for p in per_image), default=0),
            "rss_mb_after_10": settled, "rss_mb_end": rss[-1] if rss else None,
            "rss_mb_max_after_10": max(rss[10:], default=settled),
            "rss_mb_growth_after_10": round(rss[-1] - settled, 1) if rss else None}


def annotation_order(ws: Workspace, args: argparse.Namespace) -> list[str]:
    keys = sorted((e.key for e in training_entries(ws, all_masks=True)),
                  key=lambda k: seeded_rank(args.seed, k))
    if not keys:
        raise ValueError(f"{ws.root}: no image has a mask to simulate corrections with")
    return keys[: args.images]


def run_bench(args: argparse.Namespace) -> dict:
    ws = Workspace.open(args.data)
    order = annotation_order(ws, args)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="hitl-loop-") as tmp:
        for mode in ("learn", *args.baselines):
            scratch = Path(tmp) / mode
            scratch.mkdir()
            runs[mode] = Annotator(ws, order, args, mode, scratch).run()
    device = pick_device(args.device)
    return {
        **runs["learn"],
        "baselines": {mode: runs[mode] for mode in args.baselines},
        "data": str(ws.root), "scheme": ws.scheme.kind, "images": len(order),
        "start": f"imagenet {args.encoder} (--new)" if args.new else str(args.init),
        "scale": args.scale,
        "user_seconds": args.user_seconds, "round_seconds": args.round_seconds,
        "every_k": args.every_k, "target": args.target, "seed": args.seed,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else str(device),
        "threads": torch.get_num_threads(), "torch": torch.__version__, "cpu": cpu_name(),
    }


def print_table(result: dict) -> None:
    print(f"{result['data']} ({result['scheme']}), start {result['start']}, "
          f"{result['user_seconds']:g} s per image ({result['round_seconds']:g} s rounds), "
          f"{result['device']}, {result['threads']} threads, CPU {result['cpu']}")
    modes = {"learn": result, **result["baselines"]}
    head = ["n", "image", *(f"{m} score" for m in modes), "learn changed", "learn model"]
    print(" | ".join(head))
    print(" | ".join("-" * len(h) for h in head))
    for i, p in enumerate(result["per_image"]):
        cells = [str(i + 1), p["image"],
                 *(f"{run['per_image'][i]['score']:.3f}" for run in modes.values()),
                 f"{p['changed_fraction']:.4f}", p["model"]]
        print(" | ".join(c.rjust(len(h)) for c, h in zip(cells, head)))
    for mode, run in modes.items():
        print(f"{mode}: images to target {result['target']:g}: {run['images_to_target']}, "
              f"{len(run['rounds'])} round(s), {run['promotions']} promoted, "
              f"{run['train_seconds']:.0f} s training; wrong pixels after n images: "
              f"{rounded(run['wrong_pixels_after'])}"
              + (f", ISBI pixel error: {rounded(run['isbi_pixel_error_after'])}"
                 if run["isbi_pixel_error_after"] is not None else ""))


def rounded(by_n: dict) -> dict:
    return {n: round(v, 4) for n, v in by_n.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="workspace folder with masks (never written)")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--init", type=Path, help="model to start from (default: the app's)")
    start.add_argument("--new", action="store_true", help="start from the ImageNet encoder")
    p.add_argument("--images", type=int, default=10, help="images to correct, in seeded order")
    p.add_argument("--user-seconds", type=float, default=30.0,
                   help="simulated correcting time per image (the loop trains meanwhile)")
    p.add_argument("--round-seconds", type=float,
                   help="training budget of a round (default: 0.75 x --user-seconds, leaving "
                        "time for loading and the gate)")
    p.add_argument("--baselines", nargs="*", choices=MODES[1:], default=list(MODES[1:]),
                   help="baselines run on the same order (default: none every10)")
    p.add_argument("--every-k", type=int, default=DEFAULT_EVERY_K,
                   help="every k-th corrected image joins the validation set")
    p.add_argument("--target", type=float, default=0.95, help="score the average should reach")
    p.add_argument("--size", type=int, help="training crop size (default: the model's, or 256)")
    p.add_argument("--scale", choices=SCALES,
                   help="training scale (default: the model's; fit for --new)")
    p.add_argument("--encoder", choices=ENCODERS, default=DEFAULT_ENCODER,
                   help="--new's EfficientNet-Lite encoder")
    p.add_argument("--batch-size", type=int, default=LoopSettings.batch_size)
    p.add_argument("--device", default="cpu", help="cpu, auto, cuda, cuda:N or mps")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0, help="order of the images, training")
    p.add_argument("--json", action="store_true")
    p.set_defaults(tile=False, tta=False)  # what finetune_curve.untrained reads: the model's own
    args = p.parse_args(argv)
    if args.images < 1 or args.user_seconds <= 0:
        p.error("--images must be >= 1 and --user-seconds > 0")
    args.round_seconds = args.round_seconds or 0.75 * args.user_seconds
    if not args.new:
        args.init = args.init or default_model_path()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        result = run_bench(args)
    except (ValueError, FileError, OSError) as exc:
        print(f"hitl_loop: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
