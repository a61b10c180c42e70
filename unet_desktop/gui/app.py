"""Application start-up: the QApplication, pyqtgraph options and the main window.

Torch is not imported here: the window opens without it; the model loads on the worker
thread once the window is up.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from unet_desktop import __version__
from unet_desktop.core.samples import sample_workspace
from unet_desktop.gui.settings import APPLICATION, ORGANIZATION


def create_application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, created (and configured) on first call."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    return app


def run_gui(folder: Path | None = None, test_stroke: str | None = None,
            model: Path | None = None) -> int:
    """Open the window (on ``folder`` if given) and run the event loop; returns the exit code.

    ``model``: the model file to predict with (default: the one opened last, else the shipped
    model).

    ``test_stroke`` ("x0,y0,x1,y1,value,size"), for the crash test only, paints one brush
    stroke on the first image through the canvas's own signals once the window is up.
    """
    app = create_application()
    from unet_desktop.gui.main_window import MainWindow

    window = MainWindow(model_path=model)
    window.show()
    window.open_folder(folder if folder is not None else starting_folder(window.settings))
    if test_stroke:
        QTimer.singleShot(0, lambda: paint_test_stroke(window, test_stroke))
    return app.exec()


def starting_folder(settings) -> Path:
    """Without a FOLDER argument: the folder opened last, else (first start) the samples."""
    for recent in settings.recent_folders:
        if Path(recent).is_dir():
            return Path(recent)
    return sample_workspace()


def paint_test_stroke(window, spec: str) -> None:
    """Paint a straight brush stroke as the mouse would (see :func:`run_gui`)."""
    x0, y0, x1, y1, value, size = (float(v) for v in spec.split(","))
    window.tools.set_tool("brush")
    window.tools.set_value(int(value))
    window.tools.set_size(int(size))
    canvas = window.canvas
    canvas.tool_pressed.emit(x0, y0)
    canvas.tool_moved.emit((x0 + x1) / 2, (y0 + y1) / 2)
    canvas.tool_released.emit(x1, y1)
    print("test stroke painted", flush=True)
