"""Inference benchmark: the project's Predictor against a classic eager fp32 UNet.

Both run the same weights (a depth-4 UNet, ``--base`` wide, 3 classes) on the same inputs:

- latency per image at each ``--sizes``, full path from a uint8 array to labels +
  probabilities (the reference: normalise, ``model(x)`` under ``torch.no_grad()``, softmax,
  argmax). All variants run in one process, interleaved rep by rep, so that load from other
  processes hits them alike; the best of ``--reps`` is used for ratios, the median is shown;
- peak memory (``VmHWM`` from /proc, and ``torch.cuda.max_memory_allocated``) of each variant
  in its own subprocess;
- batch throughput (``--batch`` images of the first size per call);
- output equality: max |probability difference| and label agreement;
- ``project`` is the default ``Predictor`` (on the CPU: ONNX Runtime where installed),
  ``project-torch`` the same with the PyTorch engine;
- ``--ablation``: which speed-up helps (BN folding, channels_last, torch.compile, the split
  decoder concatenations of the ONNX graph);
- the full ``batch_predict`` pipeline (decode + predict + write) over ``--n`` PNG files
  against model-only time on the same images already decoded;
- ``--tiled``: peak RSS of tiled prediction of a ``--tiled-shape`` image.

Usage: ``python bench/inference.py [--device cpu|cuda] [--n 1000] [--tiled] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


# --- helpers used by the workers ---------------------------------------------------------------
def peak_rss_mb() -> float:
    """Peak resident set size of this process (VmHWM), in MiB; Linux only."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def test_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return cv2.GaussianBlur(image, (0, 0), 3)


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


class ReferenceRunner:
    """The classic predict.py: normalise, model(x) in no_grad, softmax, argmax."""

    def __init__(self, model_path: str, device):
        import torch

        sys.path.insert(0, str(HERE))
        from reference_unet import ClassicUNet, load_project_weights

        from unet_desktop.ml.models.modelfile import load_model_file

        project, meta = load_model_file(model_path)
        self.model = ClassicUNet(3, meta.num_classes, base=meta.arch["base"])
        load_project_weights(self.model, project.state_dict())
        self.model = self.model.eval().to(device)
        self.device = device
        self.mean = torch.tensor(meta.normalization["mean"]).view(1, 3, 1, 1).to(device)
        self.std = torch.tensor(meta.normalization["std"]).view(1, 3, 1, 1).to(device)

    def predict_batch(self, images: list[np.ndarray]):
        import torch

        # A contiguous NCHW float tensor, as torchvision's ToTensor() makes it (a bare permute
        # would leave channels-last strides, which PyTorch would silently carry through).
        x = torch.from_numpy(np.stack(images)).to(self.device).permute(0, 3, 1, 2)
        x = (x.float().contiguous() / 255.0 - self.mean) / self.std
        with torch.no_grad():
            probs = self.model(x).softmax(1)
            labels = probs.argmax(1)
        return labels.cpu().numpy(), probs.cpu().numpy()


def make_project(model_path: str, device, size: int, split_concat: bool = True, **options):
    """The project's Predictor; ``split_concat=False`` exports the ONNX graph with the decoder's
    concatenations kept (the ablation of :mod:`unet_desktop.ml.models.split_concat`)."""
    from unittest import mock

    from unet_desktop.ml.inference.predictor import Predictor
    from unet_desktop.ml.models.modelfile import load_model_file

    model, meta = load_model_file(model_path)
    meta.train_size = size  # run at native size: no resize in "resize" mode
    if split_concat:
        return Predictor(model, meta, device, **options)
    with mock.patch("unet_desktop.ml.inference.onnx_engine.split_concat_convs", lambda m: m), \
            mock.patch("unet_desktop.ml.inference.onnx_engine.EXPORT_FORM", 1):
        return Predictor(model, meta, device, **options)


def worker(spec: dict) -> dict:
    import torch

    torch.set_num_threads(spec["threads"])
    from unet_desktop.ml.device import pick_device

    device = pick_device(spec["device"])
    kind, out = spec["kind"], {}
    if kind == "latency":
        out |= latency(spec, device)
    elif kind == "memory":
        runner = make_runner(spec, spec["variant"], spec["options"], device)
        runner.predict_batch([test_image(spec["size"], spec["size"])])
        runner.predict_batch([test_image(spec["size"], spec["size"], s)
                              for s in range(spec["batch"])])
    elif kind == "peak":
        out["conv_peak_gmac_s"] = conv_peak(spec["threads"], spec["reps"])
    elif kind == "pipeline":
        out |= pipeline(spec, device)
    elif kind == "tiled":
        height, width = spec["shape"]
        runner = make_project(spec["model"], device, 256, mode="tile", batch_size=2,
                              tile_size=512, tile_overlap=64)
        image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
        before = peak_rss_mb()
        start = time.perf_counter()
        pred = runner.predict(image, probs=spec["probs"])
        out |= {"seconds": time.perf_counter() - start, "rss_before_mb": before,
                "labels_shape": list(pred.labels.shape)}
    out["peak_rss_mb"] = peak_rss_mb()
    if device.type == "cuda":
        out["cuda_max_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def make_runner(spec: dict, variant: str, options: dict, device):
    if variant == "reference":
        return ReferenceRunner(spec["model"], device)
    return make_project(spec["model"], device, spec["size"], batch_size=spec["batch"], **options)


def latency(spec: dict, device) -> dict:
    """All variants in one process, interleaved rep by rep, so that load from other processes
    on a shared machine hits each of them alike."""
    size, batch = spec["size"], spec["batch"]
    image = test_image(size, size)
    images = [test_image(size, size, seed) for seed in range(batch)]
    runners = {name: make_runner(spec, name.split("-")[0], options, device)
               for name, options in spec["variants"]}
    results: dict[str, dict] = {}
    for name, runner in runners.items():
        result = runner.predict_batch([image])
        probs = result[1][0] if name == "reference" else result[0].probs
        np.save(Path(spec["tmp"]) / f"{name}-{size}.npy", probs)
        runner.predict_batch([image])  # warm-up
        results[name] = {"one": [], "cpu": [], "many": []}
    for rep in range(spec["reps"]):
        for name, runner in runners.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            runner.predict_batch([image])
            sync(device)
            results[name]["one"].append(time.perf_counter() - start)
            results[name]["cpu"].append(time.process_time() - cpu_start)
            if spec["throughput"] and rep < max(2, spec["reps"] // 2):
                start = time.perf_counter()
                runner.predict_batch(images)
                sync(device)
                results[name]["many"].append(time.perf_counter() - start)
    out = {}
    for name, times in results.items():
        out[name] = {"latency_s": min(times["one"]),
                     "latency_median_s": statistics.median(times["one"]),
                     "cpu_s": min(times["cpu"])}
        if times["many"]:
            out[name]["throughput_ips"] = batch / min(times["many"])
    return {"variants": out, "gmac_per_image": network_macs(spec["model"], size) / 1e9}


def network_macs(model_path: str, size: int) -> float:
    """Multiply-adds of one forward pass of the model at ``size`` x ``size``."""
    import torch

    from unet_desktop.ml.models.modelfile import load_model_file

    model, _ = load_model_file(model_path)
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            total += output.numel() * module.in_channels // module.groups \
                * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, torch.nn.ConvTranspose2d):
            total += inputs[0].numel() * module.out_channels \
                * module.kernel_size[0] * module.kernel_size[1]

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.inference_mode():
        model.eval()(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    return float(total)


def conv_peak(threads: int, reps: int) -> float | None:
    """GMAC/s of one large 3x3 convolution (256 -> 256 channels, 64 x 64) in ONNX Runtime: about
    the most this CPU's fp32 units deliver to a convolution (the roofline of the table)."""
    try:
        import onnxruntime as ort
        import torch
    except ImportError:
        return None
    import io

    conv = torch.nn.Conv2d(256, 256, 3, padding=1).eval()
    x = torch.randn(1, 256, 64, 64)
    buffer = io.BytesIO()
    torch.onnx.export(conv, (x,), buffer, dynamo=False, input_names=["x"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    session.run(None, feed)
    best = float("inf")
    for _ in range(max(5, reps)):
        start = time.perf_counter()
        session.run(None, feed)
        best = min(best, time.perf_counter() - start)
    return 256 * 256 * 9 * 64 * 64 / best / 1e9


def pipeline(spec: dict, device) -> dict:
    from unet_desktop.core.io.imageio import read_image
    from unet_desktop.ml.inference.batch_predict import batch_predict

    folder = Path(spec["folder"])
    runner = make_project(spec["model"], device, spec["size"], batch_size=spec["batch"])
    files = sorted(folder.glob("*.png"))
    images = [read_image(p) for p in files]
    def model_only(chunk: list[np.ndarray]) -> float:
        start = time.perf_counter()
        for i in range(0, len(chunk), spec["batch"]):
            runner.predict_batch(chunk[i:i + spec["batch"]], probs=False)
        sync(device)
        return time.perf_counter() - start

    def full_pipeline(chunk: list[Path]) -> tuple[float, int]:
        start = time.perf_counter()
        for progress in batch_predict(runner, chunk, Path(spec["out"]), overwrite=True):
            pass
        return time.perf_counter() - start, progress.predicted

    model_only(images[: 2 * spec["batch"]])  # warm up
    # Interleave the two measurements chunk by chunk so that load from other processes on a
    # shared machine hits both alike.
    model_s = pipeline_s = predicted = 0
    step = max(spec["batch"], 50)
    for i in range(0, len(files), step):
        model_s += model_only(images[i:i + step])
        seconds, written = full_pipeline(files[i:i + step])
        pipeline_s += seconds
        predicted += written
    return {"images": len(files), "predicted": predicted,
            "model_only_s_per_image": model_s / len(files),
            "pipeline_s_per_image": pipeline_s / len(files),
            "pipeline_vs_model_only": model_s / pipeline_s}


def run_worker(spec: dict) -> dict:
    cmd = [sys.executable, __file__, "--worker", json.dumps(spec)]
    # user files (the ONNX Runtime cache) go to the run's temporary folder
    env = os.environ | {"UNET_DESKTOP_HOME": str(Path(spec["model"]).parent / "home")}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec['kind']} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- orchestration -----------------------------------------------------------------------------
def make_model_file(path: Path, base: int) -> None:
    """A depth-4 UNet with random weights, non-trivial BatchNorm statistics and a head scaled
    so that the predictions are confident (a fair test of output equality)."""
    import torch

    from unet_desktop.core.labels import trimap_scheme
    from unet_desktop.ml.models.architecture import build_model, unet_arch
    from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

    torch.manual_seed(0)
    model = build_model(unet_arch(3, 3, depth=4, base=base)).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():
        feats = []
        hook = model.head.register_forward_hook(lambda m, a, o: feats.append(a[0]))
        model(torch.randn(1, 3, 128, 128))
        hook.remove()
        f = feats[0][0].flatten(1)
        weight = model.head.weight[:, :, 0, 0]
        weight *= 4.0 / (weight @ f).std(1, keepdim=True)
        model.head.weight.copy_(weight[:, :, None, None])
        model.head.bias.copy_(-(weight @ f).mean(1))
    meta = ModelMeta(arch=unet_arch(3, 3, depth=4, base=base), scheme=trimap_scheme(),
                     normalization={"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                     train_size=256, version=new_version_id(), name=f"bench-unet-{base}")
    save_model(path, model, meta)


def compare(tmp: Path, a: str, b: str) -> dict:
    pa, pb = np.load(tmp / f"{a}.npy"), np.load(tmp / f"{b}.npy")
    return {"max_abs_prob_diff": float(np.abs(pa - pb).max()),
            "label_agreement": float((pa.argmax(0) == pb.argmax(0)).mean())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--base", type=int, default=32)
    p.add_argument("--sizes", type=int, nargs="*", default=[256, 512],
                   help="latency sizes (none: skip the latency runs)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--n", type=int, default=1000, help="images in the pipeline run (0: skip)")
    p.add_argument("--ablation", action="store_true")
    p.add_argument("--compile", action="store_true", help="also try torch.compile")
    p.add_argument("--tiled", action="store_true", help="measure tiled-prediction memory")
    p.add_argument("--tiled-shape", type=int, nargs=2, default=[6000, 8000], metavar=("H", "W"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    with tempfile.TemporaryDirectory(prefix="unet-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model = tmp / "model.safetensors"
        make_model_file(model, args.base)
        common = {"model": str(model), "device": args.device, "threads": args.threads,
                  "batch": args.batch, "reps": args.reps}
        report = {"device": args.device, "threads": args.threads, "base": args.base,
                  "torch": _torch_version(), "load_before": os.getloadavg()[0], "cases": []}
        variants = [("reference", {}), ("project", {}), ("project-torch", {"engine": "torch"})]
        if args.ablation:  # switches off one PyTorch speed-up at a time
            torch_engine = {"engine": "torch"}
            variants += [("project-inference-mode-only", torch_engine | {"fuse_bn": False,
                                                                         "channels_last": False}),
                         ("project-no-fold", torch_engine | {"fuse_bn": False}),
                         ("project-no-channels-last", torch_engine | {"channels_last": False}),
                         ("project-bf16", {"amp": True}),
                         ("project-concat", {"split_concat": False})]
        if args.compile:
            variants.append(("project-compile", {"compile": True}))
        for size in args.sizes:
            spec = common | {"kind": "latency", "size": size, "variants": variants,
                             "tmp": str(tmp), "throughput": size == args.sizes[0]}
            latency_run = run_worker(spec)
            timings = latency_run["variants"]
            for name, options in variants:
                memory = run_worker(common | {"kind": "memory", "variant": name.split("-")[0],
                                              "options": options, "size": size})
                result = timings[name] | {"variant": name, "size": size,
                                          "peak_rss_mb": memory["peak_rss_mb"],
                                          "gmac_per_image": latency_run["gmac_per_image"]}
                if "cuda_max_mb" in memory:
                    result["cuda_max_mb"] = memory["cuda_max_mb"]
                if name != "reference":
                    result |= compare(tmp, f"reference-{size}", f"{name}-{size}")
                report["cases"].append(result)
                _log(f"{name:<28} {size}px  {result['latency_s'] * 1000:8.1f} ms/image")
        if args.sizes and args.device == "cpu":
            report["conv_peak_gmac_s"] = run_worker(common | {"kind": "peak"})["conv_peak_gmac_s"]
        if args.n:
            folder = tmp / "images"
            folder.mkdir()
            size = args.sizes[0] if args.sizes else 256
            _write_images(folder, args.n, size)
            spec = common | {"kind": "pipeline", "size": size, "folder": str(folder),
                             "out": str(tmp / "masks")}
            report["pipeline"] = run_worker(spec)
            _log(f"pipeline: {report['pipeline']}")
        if args.tiled:
            spec = common | {"kind": "tiled", "shape": args.tiled_shape, "probs": True}
            report["tiled"] = run_worker(spec) | {"shape": args.tiled_shape}
            _log(f"tiled: {report['tiled']}")
        report["load_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0


def _torch_version() -> str:
    import torch

    return torch.__version__


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _write_images(folder: Path, count: int, size: int) -> None:
    from PIL import Image

    for i in range(count):
        Image.fromarray(test_image(size, size, seed=i)).save(folder / f"img_{i:05d}.png")


def format_report(report: dict) -> str:
    header = (f"device {report['device']}, {report['threads']} threads, UNet depth 4 base "
              f"{report['base']}, torch {report['torch']}, load average "
              f"{report['load_before']:.1f} -> {report['load_after']:.1f}")
    lines = [header, "",
             ("| variant | size | ms/image (best) | median | speed-up | CPU ms/image "
              "| CPU speed-up | GMAC/s | images/s (batch) | peak RSS MiB | max abs dprob "
              "| label agreement |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    ref = {c["size"]: c for c in report["cases"] if c["variant"] == "reference"}
    for c in report["cases"]:
        base = ref[c["size"]]
        tput = f"{c['throughput_ips']:.2f}" if "throughput_ips" in c else ""
        if "throughput_ips" in c and c["variant"] != "reference":
            tput += f" ({c['throughput_ips'] / base['throughput_ips']:.2f}x)"
        lines.append(
            f"| {c['variant']} | {c['size']} | {c['latency_s'] * 1000:.1f} "
            f"| {c['latency_median_s'] * 1000:.1f} "
            f"| {base['latency_s'] / c['latency_s']:.2f}x | {c['cpu_s'] * 1000:.1f} "
            f"| {base['cpu_s'] / c['cpu_s']:.2f}x | {c['gmac_per_image'] / c['latency_s']:.0f} "
            f"| {tput} | {c['peak_rss_mb']:.0f} "
            f"| {c.get('max_abs_prob_diff', 0):.1e} | {c.get('label_agreement', 1):.5f} |")
    if report.get("conv_peak_gmac_s"):
        peak = report["conv_peak_gmac_s"]
        lines += ["", (f"roofline: one 256->256 3x3 convolution at 64x64 in ONNX Runtime runs at "
                       f"{peak:.0f} GMAC/s on {report['threads']} thread(s); "
                       + ", ".join(f"{c['variant']} {c['size']} px at "
                                   f"{c['gmac_per_image'] / c['latency_s'] / peak * 100:.0f}%"
                                   for c in report["cases"]
                                   if c["variant"] in ("reference", "project")))]
    if "pipeline" in report:
        pl = report["pipeline"]
        lines += ["", (f"pipeline over {pl['images']} images ({pl['predicted']} written): "
                       f"{pl['pipeline_s_per_image'] * 1000:.1f} ms/image vs model-only "
                       f"{pl['model_only_s_per_image'] * 1000:.1f} ms/image = "
                       f"{pl['pipeline_vs_model_only'] * 100:.0f}% of model-only throughput")]
    if "tiled" in report:
        t = report["tiled"]
        lines += ["", (f"tiled {t['shape'][1]}x{t['shape'][0]}: peak RSS "
                       f"{t['peak_rss_mb']:.0f} MiB (before predicting {t['rss_before_mb']:.0f} "
                       f"MiB), {t['seconds']:.0f} s")]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
