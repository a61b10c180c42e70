"""Uncaught exceptions in the window: the traceback goes to the log file, a message box (that
does not block) says what happened and where the log is, and the window goes on."""

from __future__ import annotations

import logging
import logging.handlers
import os
import subprocess
import sys
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from unet_desktop.core.io.logs import setup_logging
from unet_desktop.gui.app import CRASH_TITLE, CrashReporter, crash_message_box


@pytest.fixture
def log_file(isolated_settings):
    path = setup_logging()
    assert path is not None and path.is_relative_to(isolated_settings)
    yield path
    logger = logging.getLogger("unet_desktop")
    for handler in list(logger.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            logger.removeHandler(handler)
            handler.close()


@pytest.fixture
def reporter(qtbot, log_file):
    """Hooks installed for the test only; the previous (pytest's) hooks come back after."""
    crash = CrashReporter(log_file)
    crash.install()
    yield crash
    crash.uninstall()
    if crash.box is not None:
        crash.box.close()


def log_text(path) -> str:
    for handler in logging.getLogger("unet_desktop").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_the_box_names_the_error_and_the_log_file(qtbot, tmp_path):
    parent = QWidget()
    qtbot.addWidget(parent)
    box = crash_message_box("ValueError: bad pixel", "Traceback ...\nValueError: bad pixel",
                            tmp_path / "app.log", parent)
    assert box.windowTitle() == CRASH_TITLE and box.icon() == QMessageBox.Icon.Critical
    assert "ValueError: bad pixel" in box.text()
    assert str(tmp_path / "app.log") in box.informativeText()
    assert box.detailedText().startswith("Traceback") and box.parent() is parent
    assert not box.isVisible()  # built, not shown: the caller decides how
    assert "No log file" in crash_message_box("E", "", None).informativeText()


def test_an_exception_in_a_slot_is_logged_and_shown(qtbot, reporter, log_file):
    def on_timer():
        raise ZeroDivisionError("the canvas divided by zero")

    QTimer.singleShot(0, on_timer)  # raised inside the event loop, as a real slot would
    qtbot.waitUntil(lambda: reporter.box is not None and reporter.box.isVisible(), timeout=3000)
    box = reporter.box
    assert "ZeroDivisionError: the canvas divided by zero" in box.text()
    assert str(log_file) in box.informativeText()
    assert "in on_timer" in box.detailedText()
    text = log_text(log_file)
    assert "ERROR unet_desktop.gui.app: uncaught exception in thread MainThread" in text
    assert "Traceback (most recent call last)" in text and "in on_timer" in text
    assert "ZeroDivisionError: the canvas divided by zero" in text


def test_an_exception_in_a_thread_reaches_the_ui_thread(qtbot, reporter, log_file):
    shown_on = []
    reporter._show_box = lambda box: shown_on.append(threading.current_thread().name)

    def work():
        raise RuntimeError("worker fell over")

    thread = threading.Thread(target=work, name="model-worker")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(shown_on), timeout=3000)
    assert shown_on == ["MainThread"]  # widgets are only ever made on the UI thread
    assert "RuntimeError: worker fell over" in reporter.box.text()
    text = log_text(log_file)
    assert "uncaught exception in thread model-worker" in text and "in work" in text


def test_one_box_at_a_time_and_every_crash_logged(qtbot, reporter, log_file):
    for i in range(3):
        try:
            raise KeyError(f"repeat {i}")
        except KeyError as exc:
            reporter.report(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: reporter.box is not None and reporter.box.isVisible(), timeout=3000)
    first = reporter.box
    qtbot.wait(50)
    assert reporter.box is first and "repeat 0" in first.text()
    assert all(f"KeyError: 'repeat {i}'" in log_text(log_file) for i in range(3))
    first.close()
    try:
        raise KeyError("after closing")
    except KeyError as exc:
        reporter.report(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: reporter.box is not first and reporter.box.isVisible(), timeout=3000)


def test_uninstall_restores_the_previous_hooks(qtbot, log_file):
    before = (sys.excepthook, threading.excepthook)
    crash = CrashReporter(log_file)
    crash.install()
    assert sys.excepthook != before[0] and threading.excepthook != before[1]
    crash.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


CRASHING_WINDOW = """
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from unet_desktop.gui import app as gui_app
from unet_desktop.gui.main_window import MainWindow

application = gui_app.create_application()


def slot_that_crashes():
    raise RuntimeError("boom in a slot")


def look_then_quit():
    windows = QApplication.topLevelWidgets()
    boxes = [w for w in windows if w.isVisible() and w.windowTitle() == gui_app.CRASH_TITLE]
    print("boxes:", [b.text() for b in boxes], flush=True)
    for window in windows:
        if isinstance(window, MainWindow):
            print("window still up:", window.isVisible(), flush=True)
            window.close()
    application.quit()


QTimer.singleShot(300, slot_that_crashes)
QTimer.singleShot(1500, look_then_quit)
sys.exit(gui_app.run_gui(Path(sys.argv[1])))
"""


def test_the_real_window_reports_a_crash_and_goes_on(workspace_dir, isolated_settings):
    """run_gui installs the hooks: the traceback reaches the log, the box opens, the window
    stays up."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", UNET_DESKTOP_HOME=str(isolated_settings))
    done = subprocess.run([sys.executable, "-c", CRASHING_WINDOW, str(workspace_dir)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "boxes: ['Something went wrong:\\nRuntimeError: boom in a slot']" in done.stdout
    assert "window still up: True" in done.stdout
    assert "RuntimeError: boom in a slot" in done.stderr  # still printed for a terminal user
    text = (isolated_settings / "logs" / "unet-desktop.log").read_text(encoding="utf-8")
    assert "uncaught exception in thread MainThread" in text
    assert "in slot_that_crashes" in text and "RuntimeError: boom in a slot" in text
