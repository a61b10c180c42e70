"""How fast shipped model files predict, relative to the classic UNet timed in the same run.

Each model file predicts a 500x375 RGB image through the app's ``Predictor`` (default options:
ONNX Runtime on the CPU where installed, resized to the model's training scale, labels and
probabilities). The baseline is the classic eager fp32 UNet (base 16, depth 4, 3 classes,
``bench/reference_unet.py``) on a 256x256 image under ``torch.no_grad()``. All variants run in
one process, interleaved rep by rep, so other load on the machine hits them alike; the best of
``--reps`` is used for the ratio (model ms / baseline ms: lower is faster).

    python bench/model_speed.py models/pets-trimap.safetensors OLD.safetensors [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from inference import test_image
from machine_info import cpu_name
from reference_unet import ClassicUNet

from unet_desktop.ml.inference.predictor import Predictor


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", type=Path, nargs="+", help="model files (.safetensors)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    classic = ClassicUNet(3, 3, base=16).eval()
    square = torch.from_numpy(test_image(256, 256)).permute(2, 0, 1)[None].float() / 255
    photo = test_image(375, 500)
    runners = {"classic UNet base 16, 256x256": lambda: classic(square)}
    for path in args.models:
        predictor = Predictor.from_file(path, device="cpu")
        runners[f"{path.name}, 500x375 ({predictor.engine})"] = (
            lambda pr=predictor: pr.predict(photo))
    times: dict[str, list[float]] = {name: [] for name in runners}
    with torch.no_grad():
        for rep in range(args.reps + 1):
            for name, run in runners.items():
                start = time.perf_counter()
                run()
                if rep:  # the first rep warms up (ONNX session, allocations)
                    times[name].append((time.perf_counter() - start) * 1000)
    base = min(next(iter(times.values())))
    rows = [{"variant": name, "best_ms": min(t), "median_ms": float(np.median(t)),
             "ratio_to_classic": min(t) / base} for name, t in times.items()]
    result = {"cpu": cpu_name(), "threads": args.threads, "torch": torch.__version__,
              "reps": args.reps, "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"CPU {result['cpu']}, {args.threads} threads, torch {result['torch']}, "
          f"best of {args.reps}")
    print("variant | best ms | median ms | ratio to classic")
    print("--- | --- | --- | ---")
    for r in rows:
        print(f"{r['variant']} | {r['best_ms']:.1f} | {r['median_ms']:.1f} | "
              f"{r['ratio_to_classic']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
