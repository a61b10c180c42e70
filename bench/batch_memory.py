"""Peak memory of a batch prediction (``unet-desktop predict``'s pipeline) of several big images,
against one image predicted the same way in the same run.

Each run is a fresh process (peak RSS is per process, VmHWM reset after the set-up): the shipped
default model (``pets-trimap``, resize mode, batch size 4 as the CLI's default) predicts a folder
of ``--images`` synthetic ``side x side`` RGB PNGs into an output folder, with and without
probabilities written (``<stem>_probs.npy``). The baseline is the same folder with one image. A
pipeline that lets each image's outputs go once written needs about the same above the one-image
run whatever the number of images; one that keeps the batch's outputs together grows with it::

    python bench/batch_memory.py --sides 4000 [--images 4] [--json]

Measured 2026-12-08 (AMD EPYC, 2 shared cores), MB above the process for 4 images, before the
batch handed each big image's outputs to the writer alone -> after: 4000 x 4000 without
probabilities 914 -> 711, with them 1680 -> 582; 8000 x 8000 without 2635 -> 2609, with
5546 -> 2147. Without probabilities the outputs are uint8 labels; what is left there is the
decoded inputs (the batch and one batch decoded ahead: 8 x 192 MB at 8000 x 8000 RGB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from machine_info import cpu_name

_CHILD = r"""
import json, sys, tempfile
from pathlib import Path
import cv2, numpy as np, torch
torch.set_num_threads(1)
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.predictor import Predictor

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

side, images, probs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
folder = Path(tempfile.mkdtemp(prefix="batch-memory-"))
predictor = Predictor.from_file(None, device="cpu", batch_size=4)
predictor.predict(np.zeros((300, 300, 3), np.uint8))  # warm up
for k in range(images):
    image = np.zeros((side, side, 3), np.uint8)
    cv2.circle(image, (side // 2, side // 2), side // (3 + k), (200, 180, 160), -1)
    cv2.imwrite(str(folder / f"im{k}.png"), image)
open("/proc/self/clear_refs", "w").write("5")  # the peak from here on
before = status("VmRSS:")
for last in batch_predict(predictor, folder, folder / "out", write_probs=probs,
                          decode_workers=1):
    pass
print(json.dumps({"above_bytes": status("VmHWM:") - before, "predicted": last.predicted,
                  "classes": predictor.num_classes}))
"""


def measure(side: int, images: int, probs: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(side), str(images), str(int(probs))],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(side: int, images: int, probs: bool) -> dict:
    one, many = measure(side, 1, probs), measure(side, images, probs)
    outputs = side * side * (1 + (2 * one["classes"] if probs else 0))  # labels, float16 probs
    return {"side": side, "images": images, "probs": probs, "one_image_bytes": one["above_bytes"],
            "batch_bytes": many["above_bytes"], "ratio": many["above_bytes"] / one["above_bytes"],
            "one_image_outputs_bytes": outputs, "all_predicted": many["predicted"] == images}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sides", type=int, nargs="+", default=[4000])
    p.add_argument("--images", type=int, default=4)
    p.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = p.parse_args(argv)
    rows = [row(side, args.images, probs) for side in args.sides for probs in (False, True)]
    print(f"CPU: {cpu_name()}; model: the shipped default (resize mode, batch size 4), "
          "one thread; MB above the process before the run (peak RSS)")
    print(f"{'image':>11} {'probs':>5} {'outputs MB':>10} {'1 image MB':>10} "
          f"{args.images:>2} images MB {'x 1 image':>9}")
    for r in rows:
        print(f"{r['side']:>5}x{r['side']:<5} {'yes' if r['probs'] else 'no':>5} "
              f"{r['one_image_outputs_bytes'] / 2**20:>10.0f} {r['one_image_bytes'] / 2**20:>10.0f} "
              f"{r['batch_bytes'] / 2**20:>12.0f} {r['ratio']:>9.2f}"
              + ("" if r["all_predicted"] else "  (not every image predicted!)"))
    if args.json:
        print(json.dumps({"cpu": cpu_name(), "rows": rows}, indent=1))
    return 0 if all(r["all_predicted"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
