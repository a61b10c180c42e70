"""A new user's own task, end to end in the real window (run under Xvfb): screenshots and a number.

Copies the ISBI 2012 slices ``slice_1*.png`` (ten EM slices) without their masks into a temporary
folder, starts the window as a new user would (no settings, the shipped default model), opens the
folder and answers the task dialog it asks: binary, classes "membrane" (0) and "cell" (255) as the
ISBI masks store them, sparse labels. Then it scribbles two slices through the real canvas (mouse
events on the canvas viewport): short strokes along membranes all over the slice and, in every
cell, one through its middle, two just inside its edge and in large cells a few over the rest of
the inside, placed from the ISBI ground truth the way a careful annotator would place them (see
:func:`strokes`), everything else left unlabeled.
The task dialog's own proposals (scale, class colours) are kept, and Training > Fine-tune... is
started with the dialog's own defaults, nothing set (for two corrected slices: a 3-minute time
limit, no epoch count, nothing held out, the few-image recipe: ``ml.training.few_image_recipe``). It
trains the task's first model (a new model from the ImageNet-pretrained encoder), and the wrong
pixels and ISBI pixel error of that model on the eight slices nobody scribbled are measured
against the ISBI masks, beside the all-cell baseline (every pixel called cell: wrong pixels =
the membrane share).

    xvfb-run -a -s "-screen 0 1400x900x24" python tools/task_demo.py \
        /work/shared/data/isbi2012 --shots docs/images

Writes ``task-dialog.png``, ``class-editor.png``, ``task-scribbles.png`` and ``task-result.png``
into ``--shots`` and prints the measurements (also as JSON with ``--json FILE``).

``--learn N`` goes on as a user of Training > Learn as I Correct would: it turns learning on and
corrects the next N slices (``LEARNED``), each by clicking disks of the true class (radius 3 px)
into the 40 largest wrong regions of the prediction shown (issue 30's corrective strokes, through
the canvas), saving it and waiting for the round it starts. The rounds' verdicts, the curve
points and ``task-learning.png`` (the window with the curve) are recorded, and both models are
scored on the slices neither touched.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

SCRIBBLED = ("slice_10.png", "slice_15.png")
LEARNED = ("slice_11.png", "slice_13.png", "slice_16.png", "slice_18.png")  # --learn N: the first N
DISK_BRUSH = 7  # px: a disk of radius 3
MEMBRANE, CELL = 0, 255


# --- scribbles from the ground truth -----------------------------------------------------------
def strokes(truth: np.ndarray, rng: np.random.Generator, grid: int = 8, per_square: int = 2,
            edge_per_cell: int = 2) -> list[tuple[int, int, list[tuple[float, float]]]]:
    """(value, brush size, points) strokes as a careful annotator places them: short strokes
    along membranes spread over the whole slice (up to ``per_square`` in each square of a
    ``grid`` x ``grid`` division), and in every cell one stroke through its middle, up to
    ``edge_per_cell`` short ones just inside its edge (both sides of each boundary get labels)
    and, in large cells, one more per 2,000 px over the rest of the inside.
    Every brushed pixel is of its class; the rest stays unlabeled."""
    membrane = (truth == MEMBRANE).astype(np.uint8)
    inside_membrane = cv2.distanceTransform(membrane, cv2.DIST_L2, 3)
    inside_cell = cv2.distanceTransform(1 - membrane, cv2.DIST_L2, 3)
    out = []
    h, w = truth.shape
    step_y, step_x = h // grid, w // grid
    for gy in range(grid):  # membranes: 2 px brush, 9 px segments on the membrane
        for gx in range(grid):
            box = inside_membrane[gy * step_y:(gy + 1) * step_y, gx * step_x:(gx + 1) * step_x]
            centre = np.argwhere(box >= 1.4) + (gy * step_y, gx * step_x)
            found = 0
            for _ in range(200):
                if found == per_square or not len(centre):
                    break
                segment = _segment(centre[rng.integers(len(centre))], rng, 9, inside_membrane,
                                   1.4, truth.shape)
                if segment:
                    out.append((MEMBRANE, 2, segment))
                    found += 1
    count, cells = cv2.connectedComponents(1 - membrane, connectivity=4)
    for label in range(1, count):  # cells: a 5 px stroke through the middle of each
        depth = np.where(cells == label, inside_cell, 0)
        if depth.max() < 4:
            continue
        centre = np.unravel_index(int(depth.argmax()), depth.shape)
        length = int(min(24, 2 * (depth.max() - 3)))
        for _ in range(20):
            segment = _segment(np.array(centre), rng, length, depth, 3.5, truth.shape,
                               through=True)
            if segment:
                out.append((CELL, 5, segment))
                break
        # short 3 px strokes just inside its edge, where the cell meets a membrane (the side of
        # the boundary that the middle never shows), and, in a large cell, strokes over the rest
        # of its inside (organelles and darker patches are cell too): one per 2,000 px
        near_edge = np.argwhere((cells == label) & (inside_cell >= 3) & (inside_cell <= 5))
        inside = np.argwhere(depth >= 4)
        for where, count, size in ((near_edge, edge_per_cell, 3),
                                   (inside, int(depth.astype(bool).sum()) // 2000, 5)):
            found = 0
            for _ in range(20 * count):
                if found == count or not len(where):
                    break
                segment = _segment(where[rng.integers(len(where))], rng, 15, depth, 3.0,
                                   truth.shape, through=True)
                if segment:
                    out.append((CELL, size, segment))
                    found += 1
    return out


def _segment(centre, rng, length: int, depth: np.ndarray, min_depth: float, shape,
             through: bool = False) -> list[tuple[float, float]] | None:
    """A straight segment from ``centre`` (or through it) in a random direction whose every
    pixel lies at least ``min_depth`` inside its region; None if this one does not."""
    angle = rng.uniform(0, np.pi)
    dy, dx = np.sin(angle), np.cos(angle)
    ts = np.linspace(-0.5 if through else 0, 0.5 if through else 1, max(2, length + 1))
    ys = np.round(centre[0] + ts * length * dy).astype(int)
    xs = np.round(centre[1] + ts * length * dx).astype(int)
    if ys.min() < 0 or xs.min() < 0 or ys.max() >= shape[0] or xs.max() >= shape[1]:
        return None
    if not np.all(depth[ys, xs] >= min_depth):
        return None
    return [(x + 0.5, y + 0.5) for x, y in zip(xs, ys)]


def paint(window, stroke_list) -> None:
    """Each stroke as the mouse would draw it: press, moves, release on the canvas viewport."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    viewport, canvas = window.canvas.viewport(), window.canvas
    window.tools.set_tool("brush")
    for value, size, points in stroke_list:
        window.tools.set_value(value)
        window.tools.set_size(size)
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=canvas.widget_pos(*points[0]))
        for p in points[1:]:
            QTest.mouseMove(viewport, canvas.widget_pos(*p))
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=canvas.widget_pos(*points[-1]))
    _wait(100)


# --- the run -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("isbi", type=Path, help="the isbi2012 folder (images/, masks/)")
    parser.add_argument("--shots", type=Path, default=Path("docs/images"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--keep", type=Path, help="copy the task folder here afterwards")
    parser.add_argument("--learn", type=int, default=0, choices=range(len(LEARNED) + 1),
                        help="then correct this many slices with Learn as I Correct on")
    args = parser.parse_args(argv)
    import os

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["UNET_DESKTOP_HOME"] = str(Path(tmp) / "home")  # a new user: no settings
        folder = Path(tmp) / "em-slices"
        folder.mkdir()
        for path in sorted((args.isbi / "images").glob("slice_1*.png")):
            shutil.copy(path, folder / path.name)
        result = run(folder, args)
        if args.keep is not None:
            shutil.copytree(folder, args.keep, dirs_exist_ok=True)
    print(json.dumps(result, indent=1))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if result.get("wrong_pixels") is not None else 1


def run(folder: Path, args: argparse.Namespace) -> dict:
    from unet_desktop.gui.app import create_application
    from unet_desktop.gui.main_window import MainWindow

    app = create_application()
    window = MainWindow()  # the shipped default model, as a new user gets it
    window.resize(1380, 860)
    window.move(0, 0)
    window.show()
    _wait_until(lambda: window.models.active is not None, 120)
    result: dict = {"start_model": window.models.active.label if window.models.active else None}
    window.open_folder(folder)
    tasks = window.task_commands
    _wait_until(lambda: tasks.dialog is not None, 10)
    dialog = tasks.dialog
    dialog.name_edit.setText("membranes")
    dialog.classes.rename(0, "membrane")
    dialog.classes.rename(1, "cell")
    result["task_proposed"] = {"scale": dialog.scale_combo.currentData(),
                               "colours": [c.color for c in dialog.classes.scheme().classes]}
    _wait(300)
    _save(dialog.grab(), args.shots / "task-dialog.png")
    dialog.accept()
    _wait(300)

    classes = tasks.edit_classes()  # Mask > Classes...: shown, left as it is
    classes.editor.table.setCurrentCell(1, 0)
    _wait(300)
    _save(classes.grab(), args.shots / "class-editor.png")
    classes.reject()

    rng = np.random.default_rng(args.seed)
    scribbled = {}
    for name in SCRIBBLED:
        window.file_dock.select_key(name)
        _wait_until(lambda n=name: window.session.current_key == n, 10)
        window.canvas.fit_to_window()
        truth = cv2.imread(str(args.isbi / "masks" / name), cv2.IMREAD_GRAYSCALE)
        paint(window, strokes(truth, rng))
        mask = window.session.document.mask
        labelled = mask != window.session.workspace.scheme.ignore_value
        scribbled[name] = {"labelled_fraction": round(float(labelled.mean()), 4),
                           "agrees_with_truth": round(float((mask[labelled]
                                                             == truth[labelled]).mean()), 4)}
    _wait(500)
    _save(window.grab(), args.shots / "task-scribbles.png")
    result["scribbles"] = scribbled
    result["banner_before"] = window.task_banner.text()

    started = time.monotonic()
    window.model_actions.finetune.trigger()  # the dialog's own defaults: nothing is set
    fine_tune = window.training_commands.finetune_dialog
    settings = fine_tune.settings()
    minutes = settings.max_minutes or 10.0
    result["dialog_defaults"] = {"epochs": settings.epochs, "minutes": settings.max_minutes,
                                 "size": settings.size, "val_fraction": settings.val_fraction,
                                 "scale": settings.scale, "lr": settings.lr}
    _wait(300)
    _save(fine_tune.grab(), args.shots / "finetune-dialog.png")
    plan = fine_tune.plan  # the dialog is deleted once it closes
    result["plan"] = {"name": plan.name, "origin": plan.origin}
    fine_tune.accept()
    done = _wait_until(lambda: window.training_dock.final is not None
                       and window.models.active is not None
                       and window.models.active.path == plan.out, minutes * 60 + 300)
    result["fine_tune_seconds"] = round(time.monotonic() - started, 1)
    if not done:
        result["error"] = (window.training_dock.status_label.text() + " "
                           + window.training_dock.result_label.text())
        return result
    final = window.training_dock.final
    result["epochs_run"] = final.epochs_run
    result["stopped"] = final.stopped
    result["dock_verdict"] = window.training_dock.result_label.text()
    result["model"] = plan.out.name
    result["arch"] = window.models.active.meta.arch.get("name")
    result["encoder"] = window.models.active.meta.arch.get("encoder")
    window.file_dock.select_key("slice_12.png")
    _wait_until(lambda: window.prediction.shown_key == "slice_12.png", 120)
    window.canvas.fit_to_window()
    _wait(800)
    _save(window.grab(), args.shots / "task-result.png")
    result["banner_after"] = window.task_banner.text()
    learned = LEARNED[:args.learn]
    last_model = learn(window, learned, args, result) if learned else plan.out
    window.close()
    app.processEvents()
    result.update(pixel_errors(plan.out, folder, args.isbi, learned))
    if learned:
        result["after_learning"] = pixel_errors(last_model, folder, args.isbi, learned)
    return result


def learn(window, names: tuple[str, ...], args: argparse.Namespace, result: dict) -> Path:
    """Learn as I Correct on, then each slice corrected with disks and saved, waiting for its
    round; returns the model in use at the end."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from scribble_user import corrective_strokes

    from unet_desktop.core.labels import IGNORE_INDEX

    learning = window.learning
    verdicts: list[str] = []
    learning.round_finished.connect(
        lambda r: verdicts.append("failed" if r is None else r.reason))

    def settled() -> bool:
        return not learning.running and not learning.loop.round_requested

    window.model_actions.learn_as_i_correct.trigger()  # the two scribbled slices: a round
    _wait_until(settled, 600)
    rounds = []
    for name in names:
        window.file_dock.select_key(name)
        version = window.models.active_version
        _wait_until(lambda n=name, v=version: window.prediction.shown is not None
                    and window.prediction.shown.key == n
                    and window.prediction.shown.version == v, 120)
        window.canvas.fit_to_window()
        truth = cv2.imread(str(args.isbi / "masks" / name), cv2.IMREAD_GRAYSCALE)
        shown = window.prediction.shown.prediction.labels
        disks = np.full(truth.shape, IGNORE_INDEX, np.uint8)
        count = corrective_strokes((truth == CELL).astype(np.uint8),
                                   (shown == CELL).astype(np.uint8), disks)
        clicks = []
        n, components = cv2.connectedComponents((disks != IGNORE_INDEX).astype(np.uint8))
        for i in range(1, n):
            ys, xs = np.nonzero(components == i)
            value = CELL if disks[ys[0], xs[0]] == 1 else MEMBRANE
            clicks.append((value, DISK_BRUSH, [(xs.mean() + 0.5, ys.mean() + 0.5)]))
        paint(window, clicks)
        mask = window.session.document.mask
        labelled = mask != window.session.workspace.scheme.ignore_value
        started, before = time.monotonic(), len(verdicts)
        window.session.save()  # starts a round (or asks for one after the running one)
        _wait_until(lambda b=before: len(verdicts) > b and settled(), 600)
        if len(verdicts) > before and verdicts[-1].startswith("Promoted"):  # the window hears
            _wait_until(lambda v=version: window.models.active_version != v, 60)  # of it later
        point = next((p for p in learning.loop.record.points if p.image == name), None)
        rounds.append({
            "slice": name, "wrong_before": round(float((shown != truth).mean()), 4),
            "disks": count, "labelled_fraction": round(float(labelled.mean()), 4),
            "agrees_with_truth": round(float((mask[labelled] == truth[labelled]).mean()), 4),
            "curve_point": None if point is None else {
                "score": round(point.score, 4), "strokes": point.strokes,
                "labelled_fraction": round(point.labelled_fraction, 4)},
            "round_seconds": round(time.monotonic() - started, 1),
            "verdict": verdicts[-1] if len(verdicts) > before else None,
            "validation": name in learning.loop.record.validation})
    _wait(1000)
    result["learning"] = {"rounds": rounds, "verdicts": verdicts,
                          "panel": learning.panel.estimate_label.text(),
                          "model_in_use": window.models.active.path.name}
    window.training_dock.show()
    _wait(500)
    _save(window.grab(), args.shots / "task-learning.png")
    return window.models.active.path


def pixel_errors(model: Path, folder: Path, isbi: Path, corrected: tuple[str, ...] = ()) -> dict:
    """Wrong pixels (share of pixels whose class differs from the ISBI mask) and the ISBI pixel
    error (the challenge's: 1 - F-score of the cell pixels) of ``model`` on the slices nobody
    scribbled or ``corrected`` (their originals in ``isbi``), in both prediction modes."""
    from unet_desktop.commands.evaluate import evaluate_workspace
    from unet_desktop.core.folder.workspace import Workspace
    from unet_desktop.core.labels import binary_scheme
    from unet_desktop.ml.inference.predictor import Predictor

    names = [p.name for p in sorted(folder.glob("slice_*.png"))
             if p.name not in SCRIBBLED + corrected]
    ws = Workspace.open(isbi, binary_scheme(("membrane", "cell")))
    entries = [e for e in ws if e.image_path.name in names]
    out = {}
    for mode in ("resize", "tile"):
        predictor = Predictor.from_file(model, device="cpu", mode=mode)
        metrics = evaluate_workspace(predictor, ws, entries)
        out[f"wrong_pixels_{mode}"] = round(1.0 - metrics["pixel_accuracy"], 4)
        out[f"isbi_pixel_error_{mode}"] = round(metrics["isbi_pixel_error"], 4)
    truths = [cv2.imread(str(isbi / "masks" / name), cv2.IMREAD_GRAYSCALE) for name in names]
    out["all_cell_wrong_pixels"] = round(float(np.mean([(t == MEMBRANE).mean() for t in truths])),
                                         4)  # the baseline: every pixel called cell
    out["wrong_pixels"] = out["wrong_pixels_resize"]  # the window's default mode
    out["isbi_pixel_error"] = out["isbi_pixel_error_resize"]
    out["evaluated_on"] = names
    return out


def _save(pixmap, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path)):
        raise OSError(f"cannot write {path}")
    print(f"saved {path} ({pixmap.width()}x{pixmap.height()})", file=sys.stderr)


def _wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        _wait(50)
    return True


def _wait(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


if __name__ == "__main__":
    sys.exit(main())
