"""Screenshot of the real annotation window (run under Xvfb, e.g. ``xvfb-run -a``).

Opens FOLDER (or, with ``--copy N``, a temporary copy of its first N image/mask pairs in the
folder's layout, so read-only data can be edited; ``--spread`` takes N pairs spread over the
folder, ``--unlabeled`` copies the images without their masks), optionally paints a few strokes the
way the mouse would, and saves the whole screen (``QScreen.grabWindow(0)``) to a PNG.

``--scene`` picks what to show with the model given by ``--model``:

- ``edit`` (default): the annotation window, as above;
- ``predictions``: every image predicted (uncertainty in the file list), one image on screen
  with its prediction accepted as the mask and drawn as outlines (``--uncertainty``: the map);
- ``finetune``: Training > Fine-tune started from the menu, shot mid-training with its curves;
- ``batch``: File > Batch Predict Folder... running over the folder;
- ``model-card``: Model > Model Card; ``shortcuts``: Help > Keyboard Shortcuts;
- ``training-idle``: the training dock before any run (Training > Show Training);
- ``learning``: Training > Learn as I Correct on, then ``--corrections`` images corrected one after
  the other into their masks (held back from the copy) with ``--user-seconds`` between them while
  the loop trains; shot with the learning curve in the training dock. ``--by-hand``: each
  correction is drawn with the Lasso fill tool through mouse events on the canvas (the regions
  that differ from the held-back mask, outlined), instead of being set as one edit.

    xvfb-run -a -s "-screen 0 1280x800x24" python tools/screenshot.py ../shared/data/pets \
        --copy 6 --image Abyssinian_1 --edit -o docs/images/annotation-window.png
    xvfb-run -a -s "-screen 0 1280x800x24" python tools/screenshot.py ../shared/data/pets \
        --copy 8 --spread --unlabeled --scene predictions --model models/pets-trimap.safetensors \
        -o docs/images/predictions.png
    xvfb-run -a -s "-screen 0 1280x800x24" python tools/screenshot.py ../shared/data/carvana \
        --copy 8 --spread --scene finetune --model models/pets-trimap.safetensors --epochs 12 \
        -o docs/images/finetune.png
    xvfb-run -a -s "-screen 0 1280x800x24" python tools/screenshot.py ../shared/data/carvana \
        --copy 12 --spread --scene learning --model models/pets-trimap.safetensors \
        --corrections 8 --by-hand --user-seconds 30 -o docs/images/learning-loop.png
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path


def copy_pairs(src: Path, count: int, dst: Path, spread: bool = False,
               with_masks: bool = True) -> Path:
    """Copy ``count`` images that have a mask (the first ones, or spread over the folder) with
    their masks, in the folder's own layout; without ``with_masks``, any ``count`` images
    without their masks."""
    from unet_desktop.core.folder.workspace import Workspace

    root = Path(src).resolve()
    pairs = [e for e in Workspace.open(root).entries if e.mask_path.is_file() or not with_masks]
    if spread and count:
        step = max(1, len(pairs) // count)
        pairs = pairs[step // 2::step]
    for entry in pairs[:count]:
        files = [entry.image_path] + ([entry.mask_path] if with_masks else [])
        for path in files:
            target = dst / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return dst


def paint_demo_edits(window) -> None:
    """A few strokes near the image centre: border class, then foreground; a polygon started."""
    document = window.session.document
    h, w = document.shape
    canvas = window.canvas
    tools = window.tools
    tools.set_tool("brush")
    tools.set_size(max(4, min(h, w) // 40))
    tools.set_value(3)
    canvas.tool_pressed.emit(w * 0.15, h * 0.85)
    for i in range(1, 21):
        canvas.tool_moved.emit(w * (0.15 + 0.02 * i), h * (0.85 - 0.004 * i * i / 4))
    canvas.tool_released.emit(w * 0.55, h * 0.45)
    tools.set_value(1)
    tools.set_size(max(8, min(h, w) // 15))
    canvas.tool_pressed.emit(w * 0.8, h * 0.2)
    canvas.tool_moved.emit(w * 0.85, h * 0.3)
    canvas.tool_released.emit(w * 0.85, h * 0.3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/images/window.png"))
    parser.add_argument("--copy", type=int, default=0, metavar="N",
                        help="work on a temporary copy of the first N image/trimap pairs")
    parser.add_argument("--image", help="stem of the image to show (default: the first)")
    parser.add_argument("--edit", action="store_true", help="paint a few strokes first")
    parser.add_argument("--outline", action="store_true", help="show the mask as outlines")
    parser.add_argument("--contrast", metavar="LOW,HIGH",
                        help="set these contrast limits in the Contrast dock (use --copy: they "
                             "are remembered in the folder)")
    parser.add_argument("--size", default="1280x800", help="window size WxH")
    parser.add_argument("--spread", action="store_true",
                        help="with --copy: pairs spread over the folder, not the first ones")
    parser.add_argument("--unlabeled", action="store_true",
                        help="with --copy: copy the images without their trimaps")
    parser.add_argument("--scene", default="edit", choices=(
        "edit", "predictions", "finetune", "batch", "model-card", "shortcuts", "training-idle",
        "learning"))
    parser.add_argument("--model", type=Path, help="model file to predict with")
    parser.add_argument("--uncertainty", action="store_true", help="show the uncertainty map")
    parser.add_argument("--epochs", type=int, default=2,
                        help="finetune scene: shoot after this many epochs")
    parser.add_argument("--train-size", type=int, help="finetune scene: training image size")
    parser.add_argument("--by-hand", action="store_true",
                        help="learning scene: correct with lasso strokes through the canvas")
    parser.add_argument("--corrections", type=int, default=6,
                        help="learning scene: images to correct")
    parser.add_argument("--user-seconds", type=float, default=20.0,
                        help="learning scene: seconds between two corrections")
    args = parser.parse_args(argv)
    if (args.edit or args.scene != "edit") and not args.copy:
        parser.error("--edit and the model scenes write into the folder: use --copy N")
    if args.scene != "edit" and args.model is None:
        parser.error(f"--scene {args.scene} needs --model")

    import os

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("UNET_DESKTOP_HOME", str(Path(tmp) / "home"))  # no user settings
        folder = copy_pairs(args.folder, args.copy, Path(tmp) / args.folder.resolve().name,
                            args.spread, not args.unlabeled) if args.copy else args.folder
        return _shoot(folder, args)


def _shoot(folder: Path, args: argparse.Namespace) -> int:
    from PySide6.QtGui import QCursor

    from unet_desktop.gui.app import create_application
    from unet_desktop.gui.main_window import MainWindow

    app = create_application()
    window = MainWindow(model_path=args.model, load_model=args.model is not None)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.move(0, 0)
    window.show()
    if args.model is not None and not _wait_until(lambda: window.models.active is not None, 120):
        print(f"cannot load {args.model}: {window.statusBar().currentMessage()}", file=sys.stderr)
        return 1
    if not window.open_folder(folder):
        print(f"cannot open {folder}", file=sys.stderr)
        return 1
    if args.image:
        key = next((k for k in window.file_dock.visible_keys()
                    if args.image in (Path(k).stem, k, Path(k).name)), None)  # a stack's slice:
        # its key or name, e.g. "volume.tif [12/20]"
        if key is None:
            print(f"no image named {args.image} in {folder} (of "
                  f"{window.file_dock.visible_keys()[:5]}...)", file=sys.stderr)
            return 1
        window.file_dock.select_key(key)
    if args.outline:
        window.actions.outline.setChecked(True)
    if args.contrast:
        low, high = (float(v) for v in args.contrast.split(","))
        window.contrast_dock.low_spin.setValue(low)  # as typed into the Contrast dock
        window.contrast_dock.high_spin.setValue(high)
    if args.edit:
        paint_demo_edits(window)
    scene = {"predictions": _predictions_scene, "finetune": _finetune_scene,
             "batch": _batch_scene, "model-card": _model_card_scene,
             "shortcuts": _shortcuts_scene, "training-idle": _training_idle_scene,
             "learning": _learning_scene}.get(args.scene)
    if scene is not None and not scene(window, args):
        return 1
    document = window.session.document
    h, w = document.shape
    window.tools.set_tool("brush")
    _wait(500)  # let the window settle, then hover over the image: brush circle, status bar
    if args.scene in ("edit", "predictions"):
        cursor_at = window.canvas.widget_pos(w * 0.62, h * 0.55)
        QCursor.setPos(window.canvas.viewport().mapToGlobal(cursor_at))
        _wait(500)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    pixmap = app.primaryScreen().grabWindow(0)
    if not pixmap.save(str(args.output)):
        print(f"cannot write {args.output}", file=sys.stderr)
        return 1
    print(f"saved {args.output} ({pixmap.width()}x{pixmap.height()}), showing "
          f"{window.session.current_key}")
    window.close()  # saves the demo edits into the temporary copy
    return 0


def _predictions_scene(window, args: argparse.Namespace) -> bool:
    """Predict every image (their scores fill the list), then show the chosen one."""
    keys = window.file_dock.visible_keys()
    window.predictions.prefetch(keys)
    if not _wait_until(lambda: all(window.predictions.cached(k) for k in keys), 300):
        print("the predictions did not come back in time", file=sys.stderr)
        return False
    for key in keys:  # the list shows each score
        window._on_entry_changed(key)
    current = window.session.current_key
    if not _wait_until(lambda: window.prediction.shown_key == current, 60):
        return False
    if args.uncertainty:
        window.model_actions.show_uncertainty.setChecked(True)
    return True


def _finetune_scene(window, args: argparse.Namespace) -> bool:
    """Training > Fine-tune from the menu, shot once ``--epochs`` epochs are plotted."""
    window.training_commands.models_folder = Path(tempfile.mkdtemp(prefix="finetune-"))
    window.training_commands.config_overrides = {"patience": None}
    if args.train_size:
        window.training_commands.config_overrides["size"] = args.train_size
    window.model_actions.finetune.trigger()
    dialog = window.training_commands.finetune_dialog
    dialog.epochs_spin.setValue(max(20, args.epochs * 4))
    dialog.accept()
    dock = window.training_dock
    if not _wait_until(lambda: len(dock._epochs) >= args.epochs, 600):
        print(f"training did not reach epoch {args.epochs}: {dock.status_label.text()} "
              f"{dock.result_label.text()}", file=sys.stderr)
        return False
    _wait(300)  # the next steps' loss points
    return True


def _batch_scene(window, args: argparse.Namespace) -> bool:
    """File > Batch Predict Folder... over the folder, shot when it is done."""
    window.model_actions.batch_predict.trigger()
    dialog = window.training_commands.batch_dialog
    dialog.move(window.width() // 2 - dialog.width() // 2, 150)
    dialog.start()
    if not _wait_until(lambda: dialog.job is not None and dialog.job.finished, 300):
        print("the batch run did not finish in time", file=sys.stderr)
        return False
    return True


def _model_card_scene(window, args: argparse.Namespace) -> bool:
    window.model_actions.model_card.trigger()
    card = window.model_commands.card
    card.move(window.width() - card.width() - 40, 40)
    return True


def _shortcuts_scene(window, args: argparse.Namespace) -> bool:
    dialog = window.help.show_shortcuts()
    dialog.move(window.width() // 2 - dialog.width() // 2, 60)
    return True


def _training_idle_scene(window, args: argparse.Namespace) -> bool:
    from PySide6.QtCore import Qt

    window.model_actions.show_training.trigger()
    window.resizeDocks([window.training_dock], [270], Qt.Orientation.Vertical)
    _wait(300)
    return True


def _learning_scene(window, args: argparse.Namespace) -> bool:
    """Learn as I Correct, then images corrected into their masks one after the other."""
    from PySide6.QtCore import Qt

    from unet_desktop.core.editing.delta import delta_from_masks
    from unet_desktop.core.folder.task import TASK_NAME

    ws = window.session.workspace
    if window.task_commands.ensure_task() is None:  # keeps the classes once the masks are gone
        return False
    truth = {e.key: ws.load_mask(e.key) for e in ws.entries if e.has_mask}
    for entry in ws.entries:  # the temporary copy starts unlabeled again
        entry.mask_path.unlink(missing_ok=True)
    for path in (ws.root / ".unet-desktop").iterdir():
        if path.is_file() and path.name != TASK_NAME:
            path.unlink()
    if not window.open_folder(ws.root):
        return False
    window.model_actions.learn_as_i_correct.trigger()
    window.resizeDocks([window.training_dock], [330], Qt.Orientation.Vertical)
    learning = window.learning
    for key in list(truth)[: args.corrections]:
        window.file_dock.select_key(key)
        if not _wait_until(lambda k=key: window.prediction.shown_key == k, 120):
            print(f"no prediction for {key}", file=sys.stderr)
            return False
        document = window.session.document
        points = len(learning.loop.record.points)
        if args.by_hand:
            lassos = _correct_by_hand(window, truth[key])
            off = (window.session.document.mask != truth[key]).mean()
            print(f"{key}: {lassos} lasso(s); {off:.2%} of the pixels still differ from the "
                  "held-back mask", file=sys.stderr)
        else:
            window.session.apply(delta_from_masks(document.mask, truth[key], "correct"))
        window.session.save("save")
        if not _wait_until(lambda n=points: len(learning.loop.record.points) > n, 120):
            print(f"no curve point for {key}", file=sys.stderr)
            return False
        _wait(int(args.user_seconds * 1000))  # the user corrects the next one; the loop trains
    return True


def _correct_by_hand(window, truth, passes: int = 3, min_area: int = 40) -> int:
    """Correct the mask on screen towards ``truth`` as a user with the lasso would: each region
    of at least ``min_area`` px where they disagree is outlined with the class ``truth`` has
    there (press, moves along its outline, release on the canvas viewport), pass after pass over
    what is still wrong. The result is what the lassos drew at the canvas's zoom, not ``truth``.
    Returns the number of lassos."""
    import cv2
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    viewport, canvas = window.canvas.viewport(), window.canvas
    window.tools.set_tool("lasso")
    lassos = 0
    for _ in range(passes):
        mask = window.session.document.mask.copy()
        drawn = 0
        for value in np.unique(truth):
            wrong = ((truth == value) & (mask != value)).astype(np.uint8)
            count, labels, stats, _ = cv2.connectedComponentsWithStats(wrong, connectivity=8)
            for i in range(1, count):
                if stats[i, cv2.CC_STAT_AREA] < min_area:
                    continue
                contours, _ = cv2.findContours((labels == i).astype(np.uint8),
                                               cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
                outline = [canvas.widget_pos(float(x), float(y))
                           for x, y in max(contours, key=cv2.contourArea)[:, 0, :]]
                window.tools.set_value(int(value))
                QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=outline[0])
                for point in outline[1:]:
                    QTest.mouseMove(viewport, point)
                QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=outline[-1])
                drawn += 1
        lassos += drawn
        _wait(50)
        if not drawn:
            break
    return lassos


def _wait_until(condition, timeout_s: float) -> bool:
    import time

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
