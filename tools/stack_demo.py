"""A scientist's own data in the real window (run under Xvfb): a 12-bit TIFF stack, or 2-channel
16-bit images, in a new sparse task; screenshots and numbers.

The ISBI 2012 slices 10-19 are written as a 12-bit camera stores them when its signal reaches
about 1100 of 4095, the exposure varying by +-10 % from slice to slice (seeded), either as one
stack ``volume.tif`` (``--kind stack12``) or as ten 2-channel ``CYX`` images whose channel 2 is
the slice (with a bright 3x3 speck) and channel 1 noise (``--kind channels``; the task feeds new
models channel 2). As a new user would: the window with the shipped default model, the folder,
the task dialog's proposals kept (classes renamed "membrane" and "cell"), the careful
annotator's strokes of ``tools/task_demo.py`` on slices 1 and 6 through the canvas, the live
prediction from them, then Training > Fine-tune with the dialog's defaults (3 minutes for two
images). The new model's input rule and its wrong pixels on the 8 slices not scribbled are
measured (the ISBI masks as truth), beside "all cell".

    xvfb-run -a -s "-screen 0 1400x900x24" python tools/stack_demo.py \\
        ../shared/data/isbi2012 --kind stack12 --shots /tmp/shots --json out.json

``--no-train`` stops before the fine-tune (the window and its screenshot only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent))
import task_demo as demo  # the annotator's strokes, the canvas, the waits

SLICES = [f"slice_{i}.png" for i in range(10, 20)]
SCRIBBLED = (0, 5)  # slices 10 and 15, as in task_demo.py
PEAK = 1100.0  # the stored value of 8-bit white at gain 1: a 12-bit camera's low range


def write_folder(isbi: Path, folder: Path, kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The slices as ``kind`` stores them in ``folder``; returns what the model should see of
    each (the 12-bit slice)."""
    gains = rng.uniform(0.9, 1.1, len(SLICES))
    slices = [np.rint(cv2.imread(str(isbi / "images" / name), cv2.IMREAD_GRAYSCALE)
                      * (PEAK / 255) * gain).astype(np.uint16)
              for name, gain in zip(SLICES, gains)]
    if kind == "stack12":
        tifffile.imwrite(folder / "volume.tif", np.stack(slices), photometric="minisblack")
        return slices
    for i, em in enumerate(slices):
        speck = em.copy()
        speck[5:8, 5:8] = 40000
        noise = rng.integers(0, 300, em.shape).astype(np.uint16)
        tifffile.imwrite(folder / f"s{i:02d}.tif", np.stack([noise, speck]),
                         photometric="minisblack", metadata={"axes": "CYX"})
    return slices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("isbi", type=Path, help="the isbi2012 folder (images/, masks/)")
    parser.add_argument("--kind", choices=("stack12", "channels"), default="stack12")
    parser.add_argument("--shots", type=Path, default=Path("stack-demo-shots"))
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--no-train", action="store_true", help="stop before the fine-tune")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["UNET_DESKTOP_HOME"] = str(Path(tmp) / "home")  # a new user: no settings
        folder = Path(tmp) / "em"
        folder.mkdir()
        slices = write_folder(args.isbi, folder, args.kind, rng)
        result = run(folder, slices, args, rng)
    print(json.dumps(result, indent=1))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if args.no_train or result.get("wrong_pixels") is not None else 1


def run(folder: Path, slices: list[np.ndarray], args: argparse.Namespace,
        rng: np.random.Generator) -> dict:
    from unet_desktop.gui.app import create_application
    from unet_desktop.gui.main_window import MainWindow

    app = create_application()
    window = MainWindow()
    window.resize(1380, 860)
    window.move(0, 0)
    window.show()
    demo._wait_until(lambda: window.models.active is not None, 120)
    result: dict = {"kind": args.kind, "peaks": [int(s.max()) for s in slices]}
    window.open_folder(folder)
    demo._wait_until(lambda: window.task_commands.dialog is not None, 10)
    dialog = window.task_commands.dialog
    if args.kind == "channels":
        dialog.channels_edit.setText("2")
    dialog.name_edit.setText("membranes")
    dialog.classes.rename(0, "membrane")
    dialog.classes.rename(1, "cell")
    result["proposed"] = {"scale": dialog.scale_combo.currentData(),
                          "input": dialog.input_combo.currentText(),
                          "sparse": dialog.classes.sparse_check.isChecked()}
    dialog.accept()
    demo._wait(500)
    keys = [entry.key for entry in window.session.workspace]
    scheme = window.session.workspace.scheme
    for index in SCRIBBLED:
        key, name = keys[index], SLICES[index]
        window.file_dock.select_key(key)
        demo._wait_until(lambda k=key: window.session.current_key == k, 10)
        window.canvas.fit_to_window()
        truth = cv2.imread(str(args.isbi / "masks" / name), cv2.IMREAD_GRAYSCALE)
        demo.paint(window, demo.strokes(truth, rng))
        demo._wait_until(lambda k=key: window.prediction.shown is not None
                         and window.prediction.shown.key == k
                         and window.prediction.shown.version == "strokes", 60)
        live = window.canvas.prediction_layer.mask
        mask = window.session.document.mask
        result[name] = {"painted": round(float((mask != scheme.ignore_value).mean()), 4),
                        "live_prediction_wrong": None if live is None
                        else round(float((live != truth).mean()), 4)}
    demo._wait(800)
    result["window"] = [window.width(), window.height()]
    result["contrast"] = window.contrast_dock.info_label.text()
    demo._save(window.grab(), args.shots / f"{args.kind}-strokes.png")
    if not args.no_train:
        result.update(fine_tune(window, keys, slices, args))
    window.session.save()
    window.close()
    app.processEvents()
    result["mask_files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("masks/*"))
    return result


def fine_tune(window, keys: list[str], slices: list[np.ndarray],
              args: argparse.Namespace) -> dict:
    """Training > Fine-tune with the dialog's defaults; the new model scored on the slices
    nobody scribbled, fed as the folder stores them."""
    from unet_desktop.ml.inference.predictor import Predictor

    window.model_actions.finetune.trigger()
    dialog = window.training_commands.finetune_dialog
    minutes, plan = dialog.settings().max_minutes or 10.0, dialog.plan
    started = time.monotonic()
    dialog.accept()
    done = demo._wait_until(lambda: window.training_dock.final is not None
                            and window.models.active is not None
                            and window.models.active.path == plan.out, minutes * 60 + 300)
    out = {"fine_tune_seconds": round(time.monotonic() - started, 1),
           "verdict": window.training_dock.result_label.text()}
    if not done:
        return out
    out["input_rule"] = window.models.active.meta.input_rule
    window.file_dock.select_key(keys[2])
    demo._wait_until(lambda: window.prediction.shown is not None
                     and window.prediction.shown.key == keys[2]
                     and window.prediction.shown.version != "strokes", 120)
    window.canvas.fit_to_window()
    demo._wait(800)
    demo._save(window.grab(), args.shots / f"{args.kind}-result.png")
    predictor = Predictor.from_file(plan.out, device="cpu")
    wrong, all_cell = [], []
    for index, name in enumerate(SLICES):
        if index in SCRIBBLED:
            continue
        truth = cv2.imread(str(args.isbi / "masks" / name), cv2.IMREAD_GRAYSCALE)
        stored = window.session.workspace.load_raw(keys[index])
        wrong.append(float((predictor.predict(stored, probs=False).labels != truth).mean()))
        all_cell.append(float((truth == demo.MEMBRANE).mean()))
    out["wrong_pixels"] = round(float(np.mean(wrong)), 4)
    out["all_cell_wrong_pixels"] = round(float(np.mean(all_cell)), 4)
    return out


if __name__ == "__main__":
    sys.exit(main())
