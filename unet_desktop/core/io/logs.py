"""The application log: one rotating file in the user's log directory.

Every command (the window included) calls :func:`setup_logging` once at start; modules log
through ``logging.getLogger(__name__)`` under the ``unet_desktop`` package logger. Crashes are
written here with their traceback (see ``gui/app.py`` for the window's hooks), so a user can
attach the file to a bug report; a hard crash of the window's process (no Python hook runs)
leaves the threads' stacks in ``faults.log`` beside it. ``UNET_DESKTOP_HOME`` moves the
directory (tests use it).
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import sys
from pathlib import Path

from unet_desktop.core.io.paths import user_log_dir

LOGGER_NAME = "unet_desktop"
LOG_FILE_NAME = "unet-desktop.log"
MAX_BYTES = 1_000_000  # per file; with BACKUP_COUNT older files: at most ~4 MB in all
BACKUP_COUNT = 3
LEVEL_VARIABLE = "UNET_DESKTOP_LOG_LEVEL"  # e.g. DEBUG; default INFO
FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"

FAULT_FILE_NAME = "faults.log"

log = logging.getLogger(LOGGER_NAME)
_fault_file = None  # kept open for the life of the process: faulthandler writes to its fd


class _AppLogHandler(logging.handlers.RotatingFileHandler):
    """Marks the handler we own, so repeated set-ups replace it instead of adding another."""


def log_file_path() -> Path:
    """The log file of this process (workers of a ``torchrun`` job other than rank 0 get
    their own file: several processes rotating one file would lose lines)."""
    rank = os.environ.get("RANK", "0") or "0"
    name = LOG_FILE_NAME if rank == "0" else f"unet-desktop.rank{rank}.log"
    return user_log_dir() / name


def _level() -> int:
    name = os.environ.get(LEVEL_VARIABLE, "INFO").upper()
    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO


def setup_logging() -> Path | None:
    """Send the ``unet_desktop`` loggers to a rotating file (~1 MB x 3 backups); return its path.

    Idempotent: a second call keeps the handler when the path is unchanged and replaces it
    when ``UNET_DESKTOP_HOME`` moved the directory. Returns None (after one line on stderr)
    when the directory cannot be written: the program runs on without a log file.
    """
    path = log_file_path()
    log.setLevel(_level())
    current = [h for h in log.handlers if isinstance(h, _AppLogHandler)]
    if any(Path(h.baseFilename) == path for h in current):
        return path
    for handler in current:
        log.removeHandler(handler)
        handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK):
            raise PermissionError(f"{path.parent}: not writable")
        handler = _AppLogHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                 encoding="utf-8", delay=True)
    except OSError as exc:
        print(f"unet-desktop: warning: no log file: {exc}", file=sys.stderr)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    log.addHandler(handler)
    return path


def current_log_file() -> Path | None:
    """The file :func:`setup_logging` installed, if any (shown in crash messages)."""
    for handler in log.handlers:
        if isinstance(handler, _AppLogHandler):
            return Path(handler.baseFilename)
    return None


def enable_fault_log() -> Path | None:
    """On a hard crash (segfault or abort in Qt or torch, where no Python hook runs) write the
    Python stack of every thread to ``faults.log`` beside the log file. For the window's
    process; returns the file, or None when it cannot be opened."""
    global _fault_file
    if _fault_file is None:
        path = user_log_dir() / FAULT_FILE_NAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _fault_file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - must stay open
        except OSError as exc:
            log.warning("no fault log: %s", exc)
            return None
        faulthandler.enable(_fault_file, all_threads=True)
    return Path(_fault_file.name)
