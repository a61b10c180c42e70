"""The data-range rule on a camera that does not fill its range: one model, two ways of scaling.

A gray folder with full masks is rewritten as a 12-bit camera stores it when its signal reaches
about ``--peak`` of 4095 and the exposure varies a little from image to image (gain drawn from
1 +- ``--spread``, seeded): ``images/<stem>.tif`` uint16, masks copied. A new model is trained on
the first ``--train`` images (by name; every mask, nothing held out, ``--steps`` steps) and the
other images are predicted by it twice in the same run:

- ``fixed``: the model's own rule, the range fixed from its training images (the default now);
- ``own peak``: each image scaled by the smallest of 8/10/12/14/16 bits that holds its own
  brightest pixel (model files from before the range was fixed): an image whose peak falls
  below 1024 is scaled by 1023, 4x brighter than its neighbours.

    python bench/data_range.py ../shared/data/isbi2012 --train 2 --steps 352 --json

Prints a table (wrong pixels per image and their mean, over all scored images and over those
whose own range differs from the model's) and, with ``--json``, the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.input_rule import data_bits, data_range_uint8
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import FinalReport
from unet_desktop.ml.training.train import TrainConfig, train


def camera_copy(data: Path, out: Path, peak: float, spread: float, seed: int) -> list[dict]:
    """``out/images/<stem>.tif`` (uint16) and ``out/masks`` from ``data``'s gray images."""
    (out / "images").mkdir(parents=True)
    shutil.copytree(data / "masks", out / "masks")
    rng = np.random.default_rng(seed)
    rows = []
    for path in sorted((data / "images").iterdir()):
        gray = np.asarray(Image.open(path).convert("L"), np.float64)
        gain = float(rng.uniform(1 - spread, 1 + spread))
        stored = np.rint(gray * (peak / 255) * gain).astype(np.uint16)
        tifffile.imwrite(out / "images" / f"{path.stem}.tif", stored)
        rows.append({"image": path.stem, "gain": round(gain, 3), "peak": int(stored.max()),
                     "own_bits": data_bits(stored)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="folder of gray images/ and masks/ (never written)")
    p.add_argument("--train", type=int, default=2, help="images (first by name) trained on")
    p.add_argument("--steps", type=int, default=352, help="training steps (352: 3 CPU minutes)")
    p.add_argument("--peak", type=float, default=1100.0,
                   help="the stored value of the brightest 8-bit level at gain 1")
    p.add_argument("--spread", type=float, default=0.1, help="gain 1 +- this, per image")
    p.add_argument("--scale", default="native", help="the new model's scale (fit, native)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "camera"
        rows = camera_copy(args.data, folder, args.peak, args.spread, args.seed)
        trained, scored = rows[:args.train], rows[args.train:]
        ws = Workspace.open(folder, scheme=binary_scheme())
        cfg = TrainConfig(out=Path(tmp) / "model.safetensors", all_masks=True, val_fraction=0.0,
                          only=tuple(f"{r['image']}.*" for r in trained), max_steps=args.steps,
                          max_minutes=600.0, scale=args.scale, device="cpu", seed=args.seed)
        started = time.perf_counter()
        *_, final = train(ws, cfg)
        if not isinstance(final, FinalReport):
            print(f"training did not finish: {final}", file=sys.stderr)
            return 1
        rule = read_meta(cfg.out).rule
        predictor = Predictor.from_file(cfg.out, device="cpu")
        for row in scored:
            key = f"images/{row['image']}.tif"
            raw, truth = ws.load_raw(key), ws.load_mask(key)
            for name, bits in (("fixed", rule.bits), ("own_peak", None)):
                labels = predictor.predict(data_range_uint8(raw, bits), probs=False).labels
                row[name] = round(float((labels != truth).mean()), 4)
    differ = [r for r in scored if r["own_bits"] != rule.bits]
    summary = {name: {"all": round(float(np.mean([r[name] for r in scored])), 4),
                      "range_differs": round(float(np.mean([r[name] for r in differ])), 4)
                      if differ else None} for name in ("fixed", "own_peak")}
    result = {"data": str(args.data), "trained_on": [r["image"] for r in trained],
              "scored": len(scored), "range_differs": len(differ), "model_bits": rule.bits,
              "peak": args.peak, "spread": args.spread, "steps": args.steps,
              "train_seconds": round(time.perf_counter() - started, 1), "summary": summary,
              "images": scored}
    print(f"model trained on {', '.join(result['trained_on'])}: range fixed at "
          f"{rule.bits} bits ({result['train_seconds']} s)")
    print(f"{'image':<12} {'gain':>6} {'peak':>6} {'own bits':>8} {'fixed':>7} {'own peak':>9}")
    for r in scored:
        print(f"{r['image']:<12} {r['gain']:>6.3f} {r['peak']:>6d} {r['own_bits']:>8d} "
              f"{r['fixed']:>7.4f} {r['own_peak']:>9.4f}")
    print(f"mean wrong pixels, {len(scored)} scored: fixed {summary['fixed']['all']:.4f}, "
          f"own peak {summary['own_peak']['all']:.4f}")
    if differ:
        print(f"  the {len(differ)} whose own range differs from the model's: fixed "
              f"{summary['fixed']['range_differs']:.4f}, own peak "
              f"{summary['own_peak']['range_differs']:.4f}")
    if args.json:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
