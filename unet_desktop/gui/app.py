"""Application start-up: the QApplication, pyqtgraph options and the main window.

Torch is not imported here: the window opens without it; the model loads on the worker
thread once the window is up. An exception nobody caught, on any thread, is written to the log
file with its traceback and shown in a message box (:class:`CrashReporter`); the window goes on.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from unet_desktop import __version__
from unet_desktop.core.folder.samples import sample_workspace
from unet_desktop.core.io.logs import enable_fault_log, setup_logging
from unet_desktop.gui import main_thread_gc, qt_messages
from unet_desktop.gui.settings import APPLICATION, ORGANIZATION
from unet_desktop.gui.xcb_check import MISSING_LIBRARIES_EXIT_CODE, check_xcb_libraries

log = logging.getLogger(__name__)
CRASH_TITLE = "unet-desktop: unexpected error"


def create_application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, created (and configured) on first call."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    main_thread_gc.install(app)  # widgets must never be freed by the worker thread's collector
    return app


def run_gui(folder: Path | None = None, test_stroke: str | None = None,
            model: Path | None = None) -> int:
    """Open the window (on ``folder`` if given) and run the event loop; returns the exit code.

    ``model``: the model file to predict with (default: the one opened last, else the shipped
    model).

    On Linux, a missing system library of Qt's xcb plugin is named (with the packages that
    provide it) on stderr and in the log, and the exit code is ``MISSING_LIBRARIES_EXIT_CODE``.

    ``test_stroke`` ("x0,y0,x1,y1,value,size"), for the crash test only, paints one brush
    stroke on the first image through the canvas's own signals once the window is up.
    """
    log_path = setup_logging()
    missing = check_xcb_libraries()  # Qt would abort the process, naming only one library
    if missing is not None:
        text = missing.message()
        log.error("%s", text)
        print(text, file=sys.stderr)
        return MISSING_LIBRARIES_EXIT_CODE
    enable_fault_log()  # before Qt starts: an abort in the platform plugin leaves the stacks
    qt_messages.install()  # ... and Qt's own reason in the log
    app = create_application()
    reporter = CrashReporter(log_path, parent=app)
    reporter.install()
    from unet_desktop.gui.main_window import MainWindow

    window = MainWindow(model_path=model)
    reporter.parent_widget = window
    window.show()
    if folder is not None:
        window.open_folder(folder)
    else:
        open_starting_folder(window)
    if test_stroke:
        QTimer.singleShot(0, lambda: paint_test_stroke(window, test_stroke))
    return app.exec()


def starting_folder(settings) -> Path:
    """Without a FOLDER argument: the folder opened last, else (first start) the samples."""
    for recent in settings.recent_folders:
        if Path(recent).is_dir():
            return Path(recent)
    return sample_workspace()


def last_folder_gone(settings, opened: Path) -> str | None:
    """What to say when the folder opened last no longer exists and ``opened`` opens instead."""
    recent = settings.recent_folders
    if not recent or Path(recent[0]).is_dir():
        return None
    return (f"The folder opened last, {recent[0]}, no longer exists (moved, renamed, or on a "
            f"drive not connected?); {opened} was opened instead. Use File > Open Folder to "
            "open it where it is now.")


def open_starting_folder(window) -> None:
    """Open :func:`starting_folder`; when the folder opened last is gone, say so in a message
    box that does not block and in the status bar (an older folder was opened without a word,
    and labelled for the missing one)."""
    folder = starting_folder(window.settings)
    note = last_folder_gone(window.settings, folder)  # before the open reorders the list
    window.open_folder(folder)
    if note is None:
        return
    log.warning("%s", note)
    bar = window.statusBar()
    bar.showMessage(f"{note} {bar.currentMessage()}", 30_000)
    box = QMessageBox(QMessageBox.Icon.Information, APPLICATION, note, parent=window)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()


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


def crash_message_box(summary: str, details: str, log_path: Path | None,
                      parent: QWidget | None = None) -> QMessageBox:
    """The message box for an uncaught exception (built, not shown)."""
    box = QMessageBox(QMessageBox.Icon.Critical, CRASH_TITLE,
                      f"Something went wrong:\n{summary}", QMessageBox.StandardButton.Ok, parent)
    where = (f"The details are in the log file {log_path}." if log_path is not None
             else "No log file could be written; the details are below.")
    box.setInformativeText(f"{where}\nYour edits are autosaved. If the window misbehaves from "
                           "now on, close it and start it again.")
    box.setDetailedText(details)
    return box


class CrashReporter(QObject):
    """Turns an uncaught exception from any thread into a log entry and a message box.

    ``install()`` sets ``sys.excepthook`` and ``threading.excepthook`` (``uninstall()`` puts
    the previous hooks back). The box is built on the UI thread (the signal is queued from
    other threads) and shown with ``show_box`` (default: ``QMessageBox.open``, which does not
    block); one box at a time, since an error in a paint handler repeats on every repaint.
    """

    crash_reported = Signal(str, str)  # "Type: message", formatted traceback

    def __init__(self, log_path: Path | None,
                 show_box: Callable[[QMessageBox], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self.parent_widget: QWidget | None = None
        self.box: QMessageBox | None = None
        self._show_box = show_box or QMessageBox.open
        self._previous: tuple | None = None
        self.crash_reported.connect(self._on_crash_reported)

    def install(self) -> None:
        if self._previous is None:
            self._previous = (sys.excepthook, threading.excepthook)
            sys.excepthook = self._on_excepthook
            threading.excepthook = self._on_thread_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None

    def report(self, exc_type: type[BaseException], exc: BaseException,
               tb: TracebackType | None, thread_name: str | None = None) -> None:
        """Log the exception with its traceback, print it to stderr as Python would, and ask
        the UI thread to show the box."""
        where = f" in thread {thread_name}" if thread_name else ""
        log.error("uncaught exception%s", where, exc_info=(exc_type, exc, tb))
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        if sys.stderr is not None:  # None under pythonw
            sys.stderr.write(details)
        self.crash_reported.emit(f"{exc_type.__name__}: {exc}", details)

    def _on_excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt) and self._previous is not None:
            self._previous[0](exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb, threading.current_thread().name)

    def _on_thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return  # a thread that exits that way is no crash (the default hook agrees)
        name = args.thread.name if args.thread is not None else None
        self.report(args.exc_type, args.exc_value, args.exc_traceback, name)

    def _on_crash_reported(self, summary: str, details: str) -> None:
        if self.box is not None and shiboken6.isValid(self.box) and self.box.isVisible():
            return
        parent = self.parent_widget
        if parent is not None and not shiboken6.isValid(parent):
            parent = None  # the window is gone already
        try:
            self.box = crash_message_box(summary, details, self.log_path, parent)
            self._show_box(self.box)
        except Exception:  # an error here must not go back through the hook: it would loop
            log.exception("could not show the crash message box")
