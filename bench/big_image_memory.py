"""Peak memory of predicting one big image, against the image itself measured in the same run.

Each size runs in a fresh process (peak RSS is per process): the shipped default model
(``pets-trimap``, resize mode: the whole image through one forward pass at the training scale,
the logits brought back to the image's size) predicts one random ``side x side`` RGB image. The
baseline is the image's own bytes; the table prints the memory the prediction needed above what
the process held before it, and its ratio to the baseline::

    python bench/big_image_memory.py --sides 2000 4000 8000 [--json]

Before the strip upsampling (2026-12-07) an 8000x8000 image needed 2.38 GiB above its input
(13x its 183 MB); the strips bring it to about 0.56 GiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from machine_info import cpu_name

_CHILD = r"""
import json, resource, sys
import numpy as np, torch
torch.set_num_threads(1)
from unet_desktop.ml.inference.predictor import Predictor

def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096

side = int(sys.argv[1])
predictor = Predictor.from_file(None)
predictor.predict(np.zeros((300, 300, 3), np.uint8), probs=False)  # warm up
image = np.random.default_rng(0).integers(0, 255, (side, side, 3), np.uint8)
before = rss()
prediction = predictor.predict(image, probs=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"side": side, "image_bytes": image.nbytes, "above_bytes": peak - before,
                  "labels_shape": list(prediction.labels.shape)}))
"""


def measure(side: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(side)], capture_output=True,
                         text=True, check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["ratio"] = row["above_bytes"] / row["image_bytes"]
    row["shape_ok"] = row["labels_shape"] == [side, side]
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sides", type=int, nargs="+", default=[2000, 4000, 8000])
    p.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = p.parse_args(argv)
    rows = [measure(side) for side in args.sides]
    print(f"CPU: {cpu_name()}; model: the shipped default (resize mode), one thread")
    print(f"{'image':>12} {'image MB':>9} {'above MB':>9} {'x image':>8}")
    for row in rows:
        print(f"{row['side']:>5}x{row['side']:<6} {row['image_bytes'] / 2**20:>9.0f} "
              f"{row['above_bytes'] / 2**20:>9.0f} {row['ratio']:>8.2f}"
              + ("" if row["shape_ok"] else "  (mask of the wrong size!)"))
    if args.json:
        print(json.dumps({"cpu": cpu_name(), "rows": rows}, indent=1))
    return 0 if all(row["shape_ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
