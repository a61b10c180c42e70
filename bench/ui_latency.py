"""How the model-in-the-loop machinery feels: prediction latency and UI event-loop gaps.

Runs the real PredictionService / worker / BatchPredictDialog job / TrainingDock offscreen on a
temporary Oxford-style copy of ../shared/data/pets, and measures

- time from ``request(key)`` to the prediction painted in a pyqtgraph ImageItem, cold (nothing
  cached) and prefetched (the user dwelt on the previous image while its neighbours were
  predicted), p50/p95;
- the gaps of the UI event loop (a 5 ms QTimer probe) while idle, while predicting, during a
  batch prediction of ``--batch`` images (with interactive requests every 0.5 s, whose latency is
  reported too), during a fine-tuning run and during a round of the learning loop (Learn as I
  Correct: ``ml.loop.learning_loop``, ``--round-seconds`` of training, then its gate), again with
  interactive requests.

    python bench/ui_latency.py [--model M.safetensors] [--device cpu] [--json]

Without ``--model`` it uses the shipped default model; if that is missing it builds a randomly
initialised model of the default architecture (UNet depth 4, base 16, 256 px) and says so.
Targets on a 2-core CPU: cold p50 <= 150 ms, prefetched p50 <= 30 ms, event-loop gap p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEventLoop, QObject, QTimer, qInstallMessageHandler

from unet_desktop.core.folder.learning_record import record_path
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.paths import default_model_path
from unet_desktop.gui import main_thread_gc
from unet_desktop.gui.app import create_application
from unet_desktop.gui.model.batch_predict_dialog import BatchSettings, batch_job
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.gui.model.prediction_service import PredictionService, neighbours_of
from unet_desktop.gui.training.training_dock import TrainingDock
from unet_desktop.gui.worker import Priority, Worker, default_torch_threads
from unet_desktop.ml.loop.learning_loop import (
    DEFAULT_ROUND_SECONDS,
    LearningLoop,
    LoopSettings,
    RoundPlan,
)

REPO = Path(__file__).resolve().parents[1]
PETS = REPO.parent / "shared" / "data" / "pets"
PROBE_MS = 5
TARGETS = {"cold_p50_ms": 150.0, "prefetched_p50_ms": 30.0, "gap_p99_ms": 50.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=None, help="model file (default: shipped one)")
    p.add_argument("--data", type=Path, default=PETS, help="Oxford-layout folder to copy from")
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda[:N] or mps")
    p.add_argument("--n", type=int, default=20, help="images per latency measurement")
    p.add_argument("--batch", type=int, default=200, help="images in the batch prediction")
    p.add_argument("--train-images", type=int, default=16, help="corrected images to train on")
    p.add_argument("--train-minutes", type=float, default=1.0, help="fine-tune time limit")
    p.add_argument("--round-seconds", type=float, default=DEFAULT_ROUND_SECONDS,
                   help="training budget of the learning-loop round")
    p.add_argument("--threads", type=int, default=default_torch_threads(),
                   help="torch threads of the worker (default: all cores but one)")
    p.add_argument("--strokes", type=int, default=0,
                   help="only measure stroke -> prediction from the strokes, over N strokes on "
                        "a 512 x 512 ISBI slice in a sparse task (bench/stroke_latency.py)")
    p.add_argument("--prefill", type=int, default=0,
                   help="strokes painted before the measured ones, without pauses (--strokes)")
    p.add_argument("--stroke-pause", type=float, default=2.0,
                   help="seconds the simulated user pauses after each stroke (--strokes)")
    p.add_argument("--settle", type=float, default=0.0,
                   help="seconds to wait after the earlier strokes before measuring, so that "
                        "the window's start-up work ends first (--strokes)")
    p.add_argument("--trace", action="store_true",
                   help="sample the UI thread's stack in each event-loop stall (--strokes; "
                        "bench/ui_stall_trace.py)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p.parse_args(argv)


def stats(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"n": 0}
    a = np.asarray(values_ms)
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)),
            "p95": float(np.percentile(a, 95)), "p99": float(np.percentile(a, 99)),
            "max": float(a.max())}


class LoopProbe(QObject):
    """Ticks every 5 ms on the UI thread; the intervals between ticks are the loop's gaps."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.intervals: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.intervals.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self.intervals = []
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.intervals


def wait_until(predicate, timeout_s: float) -> bool:
    """Run the event loop (not a busy loop: the worker needs the CPU) until ``predicate()``."""
    if predicate():
        return True
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(1)
    check.timeout.connect(lambda: predicate() and loop.quit())
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    check.start()
    deadline.start(int(timeout_s * 1000))
    loop.exec()
    check.stop()
    return predicate()


def dwell(seconds: float) -> None:
    wait_until(lambda: False, seconds)


def make_workspace(source: Path, root: Path, n_images: int, n_labelled: int) -> Workspace:
    """Copy the first ``n_images`` readable pets (and ``n_labelled`` trimaps) into ``root``."""
    (root / "images").mkdir(parents=True)
    (root / "annotations" / "trimaps").mkdir(parents=True)
    images = sorted(p for p in (source / "images").glob("*.jpg"))
    copied = 0
    for path in images:
        trimap = source / "annotations" / "trimaps" / f"{path.stem}.png"
        if not trimap.is_file():
            continue
        shutil.copy(path, root / "images" / path.name)
        if copied < n_labelled:
            shutil.copy(trimap, root / "annotations" / "trimaps" / trimap.name)
        copied += 1
        if copied == n_images:
            break
    return Workspace.open(root)


def default_model(args: argparse.Namespace, folder: Path) -> tuple[Path, bool]:
    """The model file to use and whether it is a random-init stand-in."""
    path = args.model or default_model_path()
    if path.is_file():
        return path, False
    import torch

    from unet_desktop.core.labels import trimap_scheme
    from unet_desktop.ml.models.architecture import build_model, unet_arch
    from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

    torch.manual_seed(0)
    meta = ModelMeta(unet_arch(3, 3, depth=4, base=16), trimap_scheme(),
                     {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}, 256,
                     new_version_id(), name="random-init")
    stand_in = folder / "random-init.safetensors"
    save_model(stand_in, build_model(meta.arch), meta)
    return stand_in, True


class Viewer:
    """What "shown" means: the labels coloured and painted into an ImageItem. Plays the
    window's editing session: the one owner of which image is on screen (``key``)."""

    def __init__(self, app) -> None:
        self.app, self.scheme, self.key = app, None, None
        self.widget = pg.PlotWidget()
        self.item = pg.ImageItem()
        self.widget.addItem(self.item)
        self.widget.resize(800, 600)
        self.widget.show()

    def show(self, prediction) -> None:
        self.item.setImage(self.scheme.colorize(prediction.labels), autoLevels=False)
        self.app.processEvents()


def measure_requests(service, viewer, keys, *, prefetch: bool, dwell_s: float) -> list[float]:
    """Latency (ms) from request to painted, for each key in order."""
    latencies = []
    shown: dict[str, object] = {}
    service.prediction_ready.connect(
        lambda key, version, p: shown.__setitem__(key, p) if service.is_current(key, version)
        else None)
    for key in keys:
        shown.clear()
        viewer.key = key
        start = time.perf_counter()
        service.request(key, neighbours_of(keys, key, 2) if prefetch else ())
        if not wait_until(lambda k=key: k in shown, 60):
            raise RuntimeError(f"no prediction for {key} within 60 s")
        viewer.show(shown[key])
        latencies.append((time.perf_counter() - start) * 1000)
        if prefetch:  # the user looks at the image while the neighbours are predicted
            wait_until(lambda: not service.pending_keys(), dwell_s)
        else:
            dwell(dwell_s)
    service.prediction_ready.disconnect()
    return latencies


def _quiet_offscreen(mode, context, message: str) -> None:
    """The offscreen platform warns on every dock/dialog shown; keep the other messages."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def run(args: argparse.Namespace) -> dict:
    qInstallMessageHandler(_quiet_offscreen)
    app = create_application()
    tmp = Path(tempfile.mkdtemp(prefix="ui-latency-"))
    try:
        return _run(app, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(app, args: argparse.Namespace, tmp: Path) -> dict:
    n_images = max(args.batch, 3 * args.n + 3)
    ws = make_workspace(args.data, tmp / "pets", n_images, args.train_images)
    keys = [e.key for e in ws.entries]
    model_path, random_init = default_model(args, tmp)
    probe = LoopProbe()
    worker = Worker(torch_threads=args.threads)
    models = ModelController(worker, device=args.device)
    viewer = Viewer(app)
    service = PredictionService(worker, models, lambda: viewer.key)
    service.set_workspace(ws)
    load = models.load(model_path)
    if not wait_until(lambda: load.finished, 120) or models.active is None:
        raise RuntimeError(f"cannot load {model_path}: {load.error}")
    main_thread_gc.install(app).freeze_survivors()  # as the window does after its first model
    viewer.scheme = models.active.meta.scheme
    result: dict = {"model": str(model_path), "random_init": random_init,
                    "device": str(models.active.predictor.device), "torch_threads": args.threads,
                    "images": len(keys), "gaps_ms": {}}

    probe.start()
    dwell(1.0)
    result["gaps_ms"]["idle"] = stats(probe.stop())

    measure_requests(service, viewer, keys[-2:], prefetch=False, dwell_s=0.05)  # warm-up
    probe.start()
    cold = measure_requests(service, viewer, keys[: args.n], prefetch=False, dwell_s=0.1)
    result["gaps_ms"]["predictions"] = stats(probe.stop())
    result["cold_ms"] = stats(cold)
    walk = keys[args.n: 2 * args.n + 1]
    warm = measure_requests(service, viewer, walk, prefetch=True, dwell_s=2.0)
    result["prefetched_ms"] = stats(warm[1:])  # the first image of the walk is cold

    service.cache.clear()
    out = tmp / "batch-out"
    job = worker.submit(batch_job(BatchSettings(ws.root, output=out), models, ws),
                        Priority.BACKGROUND, name="batch predict")
    probe.start()
    started = time.perf_counter()
    during = requests_while(job, service, viewer, keys[2 * args.n + 1:])
    seconds = time.perf_counter() - started
    result["gaps_ms"]["batch_predict"] = stats(probe.stop())
    if job.state != "done":
        raise RuntimeError(f"batch prediction {job.state}: {job.error}")
    written = len(list(out.glob("*.png")))
    result["batch"] = {"images": written, "seconds": seconds, "images_per_s": written / seconds}
    result["during_batch_ms"] = stats(during)

    dock = TrainingDock(worker)
    dock.resize(400, 500)
    dock.show()
    from unet_desktop.gui.training.finetune_plan import FinetuneSettings, train_config

    config = train_config(FinetuneSettings(epochs=1000, max_minutes=args.train_minutes,
                                           size=models.active.meta.train_size),
                          models.active, tmp / "trained.safetensors", args.device,
                          batch_size=4, patience=None)
    probe.start()
    started = time.perf_counter()
    dock.start(ws, config)
    wait_until(lambda: not dock.running, 60 * args.train_minutes + 120)
    result["gaps_ms"]["fine_tune"] = stats(probe.stop())
    final = dock.final
    result["fine_tune"] = {"seconds": time.perf_counter() - started, "steps": len(dock._steps),
                           "epochs": final.epochs_run if final else 0,
                           "stopped": final.stopped if final else dock.result_label.text()}
    service.cache.clear()
    measure_learning_round(args, ws, worker, service, viewer, probe, model_path, tmp, result)
    worker.shutdown(30)
    return result


def requests_while(job, service, viewer, keys: list[str]) -> list[float]:
    """Latencies of cold requests for ``keys``, one every 0.5 s, while ``job`` runs."""
    keys, during = list(keys), []
    while not job.finished:
        if keys:
            during += measure_requests(service, viewer, [keys.pop(0)], prefetch=False,
                                       dwell_s=0.5)
        else:
            wait_until(lambda: job.finished, 0.5)
    return during


def measure_learning_round(args, ws, worker, service, viewer, probe, model_path, tmp,
                           result: dict) -> None:
    """One round of the learning loop on the worker over the corrected images, with an
    interactive request every 0.5 s meanwhile."""
    (tmp / "loop").mkdir(exist_ok=True)  # the loop's record goes into its .unet-desktop
    loop = LearningLoop(ws.scheme, record_path(tmp / "loop"),
                        lambda key: (ws.load_image(key), ws.load_mask(key)),
                        LoopSettings(round_seconds=args.round_seconds, batch_size=4,
                                     device=args.device))
    loop.note_corrected_all([e.key for e in ws.labelled()])
    plan = RoundPlan(model_path, tmp / "round.safetensors", "round")
    reports: list = []
    job = worker.submit(lambda token: loop.run_round(plan, token), Priority.BACKGROUND,
                        name="learning round", on_progress=reports.append)
    corrected = set(loop.record.corrected)
    keys = [e.key for e in ws.entries if e.key not in corrected]
    probe.start()
    started = time.perf_counter()
    during = requests_while(job, service, viewer, keys)
    result["gaps_ms"]["learning_round"] = stats(probe.stop())
    result["during_round_ms"] = stats(during)
    final = reports[-1] if reports else None
    result["learning_round"] = {
        "seconds": time.perf_counter() - started, "state": job.state,
        "verdict": getattr(final, "reason", job.error)}


def check_targets(result: dict) -> dict:
    gaps = [g["p99"] for g in result["gaps_ms"].values() if g.get("n")]
    return {
        "cold_p50_ms": result["cold_ms"]["p50"] <= TARGETS["cold_p50_ms"],
        "prefetched_p50_ms": result["prefetched_ms"]["p50"] <= TARGETS["prefetched_p50_ms"],
        "gap_p99_ms": max(gaps) <= TARGETS["gap_p99_ms"],
    }


def table(result: dict) -> str:
    lines = [f"model: {result['model']}" + (" (RANDOM INIT stand-in: no shipped model)"
                                            if result["random_init"] else ""),
             f"device: {result['device']}, worker torch threads: {result['torch_threads']}",
             "",
             f"{'latency, request -> shown':<34}{'p50 ms':>9}{'p95 ms':>9}{'n':>5}"]
    for name, key in (("cold", "cold_ms"), ("prefetched", "prefetched_ms"),
                      ("cold, during batch predict", "during_batch_ms"),
                      ("cold, during a learning round", "during_round_ms")):
        s = result[key]
        if s.get("n"):
            lines.append(f"{name:<34}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['n']:>5}")
    lines += ["", f"{'UI event-loop interval (5 ms probe)':<34}{'p50 ms':>9}{'p99 ms':>9}"
                  + f"{'max ms':>9}"]
    for phase, s in result["gaps_ms"].items():
        lines.append(f"{phase:<34}{s['p50']:>9.1f}{s['p99']:>9.1f}{s['max']:>9.1f}")
    b, f = result["batch"], result["fine_tune"]
    lines += ["", (f"batch predict: {b['images']} images in {b['seconds']:.1f} s "
                   f"({b['images_per_s']:.1f} images/s)"),
              (f"fine-tune: {f['steps']} steps, {f['epochs']} epoch(s) in {f['seconds']:.1f} s "
               f"({f['stopped']})"),
              (f"learning round: {result['learning_round']['seconds']:.1f} s, "
               f"{result['learning_round']['verdict']}"), ""]
    for name, ok in result["targets_met"].items():
        lines.append(f"target {name} <= {TARGETS[name]:g}: {'met' if ok else 'MISSED'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.strokes:
        from stroke_latency import run_strokes, strokes_table

        qInstallMessageHandler(_quiet_offscreen)
        result = run_strokes(create_application(), args, LoopProbe(), stats, wait_until, dwell)
        print(json.dumps(result, indent=1) if args.json else strokes_table(result))
        return 0
    if not args.data.is_dir():
        print(f"{args.data}: no such folder (pass --data)", file=sys.stderr)
        return 2
    result = run(args)
    result["targets_met"] = check_targets(result)
    print(json.dumps(result, indent=1) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
