"""Screenshots of the smart tools in use in the real window (run under Xvfb).

Each scene copies one image of the shared data into a temporary folder, drives the tool through
the canvas's mouse signals (as tools/screenshot.py does) and grabs the screen:

- box: a box dragged around a pet, the cut shown, the box dragged again (dashed);
- wand: one click on a car's body at tolerance 40 (the slider in the tool dock);
- scissors: seven clicks along a pet's outline, the path snapped to its edges, the cursor on
  the way to the next point;
- fix: the pets model's prediction accepted, a false-positive region removed with one click
  (the cyan prediction outline still shows where it was).

    DISPLAY=:97 python tools/smart_tool_screenshots.py ../shared/data -o docs/images
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from screenshot import _wait, _wait_until

ROOT = Path(__file__).resolve().parents[1]


def copy_one(data: Path, dataset: str, stem: str, dst: Path) -> Path:
    """``dataset``'s image ``stem`` alone (no mask) in a new folder of the same layout."""
    src = data / dataset / "images"
    image = next(src.glob(stem + ".*"))
    (dst / "images").mkdir(parents=True)
    shutil.copy(image, dst / "images" / image.name)
    return dst


def truth(data: Path, dataset: str, stem: str) -> np.ndarray:
    """The object of the shared data's mask, for placing the clicks where a person would."""
    from unet_desktop.core.folder.workspace import Workspace

    ws = Workspace.open(data / dataset)
    key = next(e.key for e in ws.entries if Path(e.key).stem == stem)
    mask = ws.load_mask(key)
    return (mask == 1) | (mask == 3) if ws.scheme.kind == "trimap" else mask > 0


def press_move_release(canvas, points, release: bool = True) -> None:
    canvas.tool_pressed.emit(*points[0])
    for p in points[1:]:
        canvas.tool_moved.emit(*p)
    if release:
        canvas.tool_released.emit(*points[-1])


def box_scene(window, obj: np.ndarray) -> None:
    x, y, w, h = cv2.boundingRect(obj.view(np.uint8))
    pad = max(2, round(0.02 * max(w, h)))
    a, b = (x - pad + 0.5, y - pad + 0.5), (x + w + pad - 0.5, y + h + pad - 0.5)
    window.tools.set_tool("box")
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    press_move_release(window.canvas, [a, mid, b])
    press_move_release(window.canvas, [(a[0] - 1, a[1] - 1), mid, b], release=False)


def wand_scene(window, obj: np.ndarray) -> None:
    depth = cv2.distanceTransform(obj.view(np.uint8), cv2.DIST_L2, 5)
    row, col = np.unravel_index(int(np.argmax(depth)), depth.shape)
    window.tools.set_tool("wand")
    window.tool_dock.tolerance_slider.setValue(40)
    press_move_release(window.canvas, [(col + 0.5, row + 0.5)])


def scissors_scene(window, obj: np.ndarray) -> None:
    contours, _ = cv2.findContours(obj.view(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=len).reshape(-1, 2)
    picks = [outline[i] for i in np.linspace(0, len(outline) - 1, 10).astype(int)]
    window.tools.set_tool("scissors")
    for px, py in picks[:7]:
        press_move_release(window.canvas, [(px + 0.5, py + 0.5)])
    window.canvas.tool_moved.emit(picks[7][0] + 0.5, picks[7][1] + 0.5)
    window.tools._update_preview()


def fix_scene(window, obj: np.ndarray) -> None:
    if not _wait_until(lambda: window.prediction.shown_key is not None, 120):
        raise SystemExit("no prediction came back")
    labels = window.prediction.shown.prediction.labels
    fg = ((labels == 1) | (labels == 3)).view(np.uint8)
    count, parts, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    wrong = [i for i in range(1, count) if not (obj & (parts == i)).any()]
    if not wrong:
        raise SystemExit("the prediction has no false-positive region here")
    blob = max(wrong, key=lambda i: stats[i, cv2.CC_STAT_AREA])
    depth = cv2.distanceTransform((parts == blob).view(np.uint8), cv2.DIST_L2, 5)
    row, col = np.unravel_index(int(np.argmax(depth)), depth.shape)
    window.tools.set_tool("fix")
    window.tools.set_value(1)
    press_move_release(window.canvas, [(col + 0.5, row + 0.5)])


SCENES = {  # name: (data set, image, scene, model)
    "box": ("pets", "Abyssinian_127", box_scene, None),
    "wand": ("carvana", "0789bed99cb8_03", wand_scene, None),
    "scissors": ("pets", "Bengal_138", scissors_scene, None),
    "fix": ("pets", "Bengal_44", fix_scene, "models/pets-trimap.safetensors"),
}


def shoot(name: str, data: Path, out: Path, tmp: Path) -> None:
    from unet_desktop.gui.app import create_application
    from unet_desktop.gui.main_window import MainWindow

    dataset, stem, scene, model = SCENES[name]
    folder = copy_one(data, dataset, stem, tmp / name / dataset)
    app = create_application()
    window = MainWindow(model_path=ROOT / model if model else None, load_model=model is not None)
    window.resize(1280, 800)
    window.move(0, 0)
    window.show()
    if model and not _wait_until(lambda: window.models.active is not None, 120):
        raise SystemExit(f"cannot load {model}")
    if not window.open_folder(folder):
        raise SystemExit(f"cannot open {folder}")
    window.tools.set_value(window.session.document.scheme.foreground_value or 1)
    scene(window, truth(data, dataset, stem))
    _wait(600)
    path = out / f"tool-{name}.png"
    app.primaryScreen().grabWindow(0, 0, 0, 1280, 800).save(str(path))
    print(f"saved {path}")
    window.tools.cancel()
    window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (pets/, carvana/)")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--only", choices=sorted(SCENES), action="append")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("UNET_DESKTOP_HOME", str(Path(tmp) / "home"))  # no user settings
        for name in args.only or SCENES:
            shoot(name, args.data.resolve(), args.output, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
