"""Smart tools against the brush, with a simulated user on any folder of images with masks.

    python bench/smart_tools.py DATA [--limit N] [--seed S] [--model FILE] [--json]

Per image and per foreground object (bench/smart_user.py says what an object is):

- box: box to mask (core.smart.box_cut.BoxCut) from the object's bounding box (loosened by 2 % of its
  larger side, as drawn by hand), then up to 3 corrective strokes, each on the largest error
  region (a stroke over object marks sure object, over background sure background; its brush
  is the fixed one or, where the region is thinner, as wide as the region). The user
  stops early when the largest error region is under 25 px or 0.1 % of the object.
- box+model (with --model): the same, GrabCut seeded by the model's prediction of the image
  (labels and uncertainty, as the app's prediction layer holds them). Only images the model
  file lists as held out from its training are used, so the model never saw them.
- wand: the magic wand with the best single click and tolerance of a small search (the deepest
  point of the object and 8 random points inside it, tolerances 8..96): an upper bound of what
  one click can do.
- brush: strokes of a fixed brush (3 % of the image's longer side unless --brush), each on the
  largest error region, until the IoU reaches the box tool's final IoU for that object (the
  better of box and box+model; at most --max-strokes, and objects that never get there count
  with that many: ``reached`` is the fraction that did). ``mean_iou_after_box_actions``: the
  brush's IoU after as many strokes as the box tool took actions.

IoU is over the scored pixels: a trimap's border (3) and a multiclass ignore value are left out.
Also times each tool on a generated 2000x1500 image (median of 5 runs, this machine's CPU).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from machine_info import cpu_name
from smart_user import Target, corrective_stroke, iou, objects_of, user_box

from unet_desktop.core.editing.brush import brush_footprint
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.smart.box_cut import BoxCut, prior_from_prediction
from unet_desktop.core.smart.magic_wand import MagicWand
from unet_desktop.core.smart.roi import expand_box

MAX_BOX_STROKES = 3
MIN_ERROR_PX = 25
WAND_TOLERANCES = (8, 16, 24, 32, 48, 64, 96)
WAND_POINTS = 8


def crop_target(target: Target, box) -> Target:
    y0, x0, y1, x1 = box
    return Target(target.value, target.truth[y0:y1, x0:x1], target.valid[y0:y1, x0:x1],
                  target.extent[y0:y1, x0:x1])


def run_box(image, target: Target, prior, diameter: int) -> dict:
    box = user_box(target.extent)
    t = time.perf_counter()
    cut = BoxCut(image, box, prior)
    ms = [1000 * (time.perf_counter() - t)]
    ious = [iou(cut.full_mask(target.truth.shape), target)]
    for _ in range(MAX_BOX_STROKES):
        full = cut.full_mask(target.truth.shape)
        stroke = corrective_stroke(full, target, diameter)
        if stroke is None or stroke.error_area < max(MIN_ERROR_PX, 0.001 * target.truth.sum()):
            break  # nothing left that a person would see
        t = time.perf_counter()
        cut.refine(stroke.points, min(diameter, stroke.width), stroke.foreground)
        ms.append(1000 * (time.perf_counter() - t))
        ious.append(iou(cut.full_mask(target.truth.shape), target))
    return {"first": ious[0], "final": ious[-1], "actions": len(ious), "ms": ms}


def run_wand(wand: MagicWand, target: Target, rng: np.random.Generator) -> dict:
    import cv2

    depth = cv2.distanceTransform(target.truth.view(np.uint8), cv2.DIST_L2, 5)
    deep = np.argwhere(depth >= 0.5 * depth.max())
    seeds = [np.unravel_index(int(np.argmax(depth)), depth.shape)]
    seeds += [tuple(deep[i]) for i in rng.choice(len(deep), min(WAND_POINTS, len(deep)),
                                                 replace=False)]
    best, ms = 0.0, []
    for row, col in seeds:
        for tolerance in WAND_TOLERANCES:
            t = time.perf_counter()
            found = wand.region(col + 0.5, row + 0.5, tolerance)
            ms.append(1000 * (time.perf_counter() - t))
            (y0, x0, y1, x1), inside = found
            pred = np.zeros(target.truth.shape, bool)
            pred[y0:y1, x0:x1] = inside
            best = max(best, iou(pred, target))
    return {"first": best, "final": best, "actions": 1, "ms": ms}


def run_brush(target: Target, diameter: int, goal: float, max_strokes: int,
              compare_at: int) -> dict:
    pred = np.zeros(target.truth.shape, bool)
    ious: list[float] = []
    while len(ious) < max_strokes and (not ious or ious[-1] < goal):
        stroke = corrective_stroke(pred, target, diameter)
        if stroke is None:
            break
        pts = stroke.points
        for a, b in zip(pts, pts[1:] or pts, strict=False):
            found = brush_footprint(pred.shape, a, b, diameter)
            if found is not None:
                (y0, x0, y1, x1), inside = found
                pred[y0:y1, x0:x1][inside] = stroke.foreground
        ious.append(iou(pred, target))
    reached = bool(ious) and ious[-1] >= goal
    at = ious[min(compare_at, len(ious)) - 1] if ious else 0.0
    return {"first": ious[0] if ious else 0.0, "final": ious[-1] if ious else 0.0,
            "actions": len(ious) if reached else max_strokes, "reached": reached,
            "at_box_actions": at}


def summarise(rows: list[dict], images: int) -> dict:
    out = {
        "images": images,
        "objects": len(rows),
        "mean_iou_first": round(statistics.fmean(r["first"] for r in rows), 4),
        "mean_iou_final": round(statistics.fmean(r["final"] for r in rows), 4),
        "mean_actions": round(statistics.fmean(r["actions"] for r in rows), 2),
    }
    ms = [m for r in rows for m in r.get("ms", [])]
    if ms:
        out["median_ms"] = round(statistics.median(ms), 1)
        out["max_ms"] = round(max(ms), 1)
    if "reached" in rows[0]:
        out["reached"] = round(statistics.fmean(r["reached"] for r in rows), 3)
        out["mean_iou_after_box_actions"] = round(
            statistics.fmean(r["at_box_actions"] for r in rows), 4)
    return out


def load_predictor(model: Path, ws: Workspace):
    from unet_desktop.ml.api import load_model

    predictor = load_model(model, device="cpu")
    scheme = predictor.meta.scheme
    if not scheme.same_values(ws.scheme):
        sys.exit(f"{model}: the model predicts {scheme.kind} masks, {ws.root} holds "
                 f"{ws.scheme.kind} masks")
    return predictor


def split_keys(ws: Workspace, model: Path | None, split: str) -> set[str] | None:
    """The images of ``split``: every one, or those the model file lists as held out from its
    training (``held-out``), or the others (``trained``: for tuning, never for reporting)."""
    if split == "all":
        return None
    if model is None:
        sys.exit(f"--split {split} needs --model (the model file lists its held-out images)")
    from unet_desktop.ml.models.modelfile import read_meta

    held_out = set((read_meta(model).data_summary or {}).get("val_keys") or ())
    if not held_out:
        sys.exit(f"{model} lists no held-out images; use --split all")
    return held_out if split == "held-out" else {e.key for e in ws.entries} - held_out


def model_prior(prediction, target: Target, scheme):
    unsure = (3,) if scheme.kind == "trimap" else ()
    return prior_from_prediction(prediction.labels, prediction.uncertainty, (target.value,),
                                 unsure)


def timing_2000x1500(runs: int = 5) -> dict:
    """Median ms of each tool on a generated 2000x1500 image with a 1400x1000 px object."""
    from unet_desktop.core.smart.region_fix import fix_region
    from unet_desktop.core.smart.scissors import snap_segment

    rng = np.random.default_rng(0)
    image = rng.normal((70, 80, 90), 15, (1500, 2000, 3)).clip(0, 255).astype(np.uint8)
    yy, xx = np.mgrid[:1500, :2000]
    obj = ((xx - 1000) / 700) ** 2 + ((yy - 750) / 500) ** 2 <= 1
    image[obj] = rng.normal((210, 150, 60), 15, (int(obj.sum()), 3)).clip(0, 255)
    labels = np.where(obj, 1, 0).astype(np.uint8)
    mask = np.zeros_like(labels)
    wand = MagicWand(image)

    def median_ms(fn) -> float:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append(1000 * (time.perf_counter() - t))
        return round(statistics.median(times), 1)

    cut = BoxCut(image, (230, 280, 1270, 1720))
    return {
        "box": median_ms(lambda: BoxCut(image, (230, 280, 1270, 1720))),
        "box_refine_stroke": median_ms(lambda: cut.refine([(900, 700), (1100, 700)], 40, True)),
        "wand_click": median_ms(lambda: MagicWand(image).region(1000.5, 750.5, 48)),
        "wand_tolerance_change": median_ms(lambda: wand.region(1000.5, 750.5, 48)),
        "scissors_segment_630px": median_ms(
            lambda: snap_segment(image, (1000.0, 250.0), (1600.0, 450.0))),
        "fix_region_click": median_ms(lambda: fix_region(mask, labels, 1000.5, 750.5, 1)),
    }


def sample(ws: Workspace, limit: int | None, seed: int, keys: set[str] | None) -> list[str]:
    """Keys of images with masks (only ``keys`` if given); a seeded sample of ``limit``."""
    found = sorted(e.key for e in ws.entries if e.has_mask and (keys is None or e.key in keys))
    if limit is not None and limit < len(found):
        rng = np.random.default_rng(seed)
        found = sorted(found[i] for i in rng.choice(len(found), limit, replace=False))
    return found


def evaluate(args) -> dict:
    ws = Workspace.open(args.data)
    predictor = load_predictor(args.model, ws) if args.model else None
    split = args.split or ("held-out" if args.model else "all")
    chosen = sample(ws, args.limit, args.seed, split_keys(ws, args.model, split))
    if not chosen:
        sys.exit(f"{args.data}: no images with masks in the {split} split")
    rng = np.random.default_rng(args.seed)
    rows: dict[str, list[dict]] = {"box": [], "box+model": [], "wand": [], "brush": []}
    used = {name: set() for name in rows}
    for n, key in enumerate(chosen, 1):
        image, mask = ws.load_image(key), ws.load_mask(key)
        targets = objects_of(mask, ws.scheme, args.objects)
        prediction = predictor.predict(image, probs=False) if predictor and targets else None
        diameter = args.brush or max(3, round(0.03 * max(mask.shape)))
        wand = MagicWand(image)
        for target in targets:
            box = run_box(image, target, None, diameter)
            results = {"box": box, "wand": run_wand(wand, target, rng)}
            goal = box["final"]
            if prediction is not None:
                results["box+model"] = run_box(image, target, model_prior(
                    prediction, target, ws.scheme), diameter)
                goal = max(goal, results["box+model"]["final"])
            roi = expand_box(user_box(target.extent), diameter, mask.shape)
            results["brush"] = run_brush(crop_target(target, roi), diameter, goal,
                                         args.max_strokes, box["actions"])
            for name, result in results.items():
                rows[name].append(result)
                used[name].add(key)
        print(f"[{n}/{len(chosen)}] {key}: {len(targets)} object(s)", file=sys.stderr, flush=True)
    return {
        "data": str(ws.root),
        "scheme": ws.scheme.kind,
        "images": len(chosen),
        "model": str(args.model) if args.model else None,
        "split": split,
        "brush_px": args.brush or "3% of the longer side",
        "cpu": cpu_name(),
        "tools": {name: summarise(r, len(used[name])) for name, r in rows.items() if r},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="a folder of images with masks")
    parser.add_argument("--limit", type=int, help="a seeded sample of this many images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", type=Path, help="also run box+model with this model file")
    parser.add_argument("--split", choices=("all", "held-out", "trained"),
                        help="which images (default: held-out with --model, else all)")
    parser.add_argument("--objects", choices=("class", "components"), default="class")
    parser.add_argument("--brush", type=int, help="brush diameter in px (default: 3%% of the "
                        "image's longer side)")
    parser.add_argument("--max-strokes", type=int, default=100)
    parser.add_argument("--no-timing", action="store_true", help="skip the 2000x1500 timing")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = evaluate(args)
    if not args.no_timing:
        result["timing_ms_2000x1500"] = timing_2000x1500()
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['data']}: {result['images']} images ({result['scheme']}), "
          f"model {result['model']}, CPU {result['cpu']}")
    print(f"{'tool':10} {'images':>6} {'objects':>7} {'IoU first':>9} {'IoU final':>9} "
          f"{'actions':>7} {'median ms':>9} {'reached':>7}")
    for name, t in result["tools"].items():
        print(f"{name:10} {t['images']:6d} {t['objects']:7d} {t['mean_iou_first']:9.4f} "
              f"{t['mean_iou_final']:9.4f} {t['mean_actions']:7.2f} "
              f"{t.get('median_ms', ''):>9} {t.get('reached', ''):>7}")
    for name, ms in result.get("timing_ms_2000x1500", {}).items():
        print(f"  {name}: {ms} ms")


if __name__ == "__main__":
    main()
