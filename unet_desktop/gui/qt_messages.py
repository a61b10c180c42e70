"""Qt's own warnings and fatal errors into the application log as well as onto stderr.

Installed before the QApplication exists, so that a platform plugin that cannot load (Qt prints
its reason and aborts the process, where no Python hook runs) still leaves its reason in the log.
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QtMsgType, qInstallMessageHandler

log = logging.getLogger("unet_desktop.qt")
_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _on_qt_message(kind: QtMsgType, context, text: str) -> None:
    category = getattr(context, "category", None) or ""
    line = f"{category}: {text}" if category and category != "default" else text
    level = _LEVELS.get(kind, logging.WARNING)
    if level >= logging.INFO:
        log.log(level, "%s", line)
        for handler in logging.getLogger("unet_desktop").handlers:
            handler.flush()  # a fatal message is followed by abort()
    if sys.stderr is not None and kind != QtMsgType.QtDebugMsg:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def install() -> None:
    """Route Qt's messages through :func:`_on_qt_message` (for the window's process)."""
    qInstallMessageHandler(_on_qt_message)
