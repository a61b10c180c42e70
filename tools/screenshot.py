"""Screenshot of the real annotation window (run under Xvfb, e.g. ``xvfb-run -a``).

Opens FOLDER (or, with ``--copy N``, a temporary copy of its first N Oxford-layout image/trimap
pairs, so read-only data can be edited), optionally paints a few strokes the way the mouse
would, and saves the whole screen (``QScreen.grabWindow(0)``) to a PNG.

    xvfb-run -a -s "-screen 0 1280x800x24" python tools/screenshot.py ../shared/data/pets \
        --copy 6 --image Abyssinian_1 --edit -o docs/images/annotation-window.png
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path


def copy_oxford_pairs(src: Path, count: int, dst: Path) -> Path:
    """Copy the first ``count`` images that have a trimap, in the same layout."""
    (dst / "images").mkdir(parents=True)
    (dst / "annotations" / "trimaps").mkdir(parents=True)
    copied = 0
    for image in sorted((src / "images").glob("*.jpg")):
        trimap = src / "annotations" / "trimaps" / f"{image.stem}.png"
        if trimap.is_file():
            shutil.copy(image, dst / "images" / image.name)
            shutil.copy(trimap, dst / "annotations" / "trimaps" / trimap.name)
            copied += 1
            if copied == count:
                break
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
    parser.add_argument("--size", default="1280x800", help="window size WxH")
    args = parser.parse_args(argv)
    if args.edit and not args.copy:
        parser.error("--edit paints into the folder: use it with --copy N")

    import os

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("UNET_DESKTOP_HOME", str(Path(tmp) / "home"))  # no user settings
        folder = copy_oxford_pairs(args.folder, args.copy, Path(tmp) / "pets") if args.copy \
            else args.folder
        return _shoot(folder, args)


def _shoot(folder: Path, args: argparse.Namespace) -> int:
    from PySide6.QtGui import QCursor

    from unet_desktop.gui.app import create_application
    from unet_desktop.gui.main_window import MainWindow

    app = create_application()
    window = MainWindow()
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.move(0, 0)
    window.show()
    if not window.open_folder(folder):
        print(f"cannot open {folder}", file=sys.stderr)
        return 1
    if args.image:
        key = next((k for k in window.file_dock.visible_keys() if Path(k).stem == args.image), None)
        if key is None:
            print(f"no image named {args.image} in {folder}", file=sys.stderr)
            return 1
        window.file_dock.select_key(key)
    if args.outline:
        window.actions.outline.setChecked(True)
    if args.edit:
        paint_demo_edits(window)
    document = window.session.document
    h, w = document.shape
    window.tools.set_tool("brush")
    _wait(500)  # let the window settle, then hover over the image: brush circle, status bar
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


def _wait(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


if __name__ == "__main__":
    sys.exit(main())
