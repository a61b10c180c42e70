"""Typed application preferences over QSettings, declared once: one line per setting.

The settings file lives in ``$UNET_DESKTOP_HOME/settings.ini`` when that variable is set (tests
and the crash test point it at a temp dir), otherwise in the platform's user config location.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from unet_desktop.core.editing.brush import MAX_BRUSH, MIN_BRUSH
from unet_desktop.core.editing.tools import DEFAULT_BRUSH_SIZE
from unet_desktop.core.io.paths import folder_identity
from unet_desktop.ml.inference.prediction_options import MODES

ORGANIZATION = "unet-desktop"
APPLICATION = "unet-desktop"
MAX_RECENT_FOLDERS = 10


def settings_file() -> Path:
    """Where preferences are stored (an INI file)."""
    override = os.environ.get("UNET_DESKTOP_HOME")
    if override:
        return Path(override) / "settings.ini"
    probe = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)
    return Path(probe.fileName())


def _clamped(low: float, high: float) -> Callable[[Any], Any]:
    return lambda value: min(high, max(low, value))


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    return lambda value: value if value in choices else None  # None: the default


def _path_or_none(value: str) -> Path | None:
    return Path(value) if value else None


@dataclass(frozen=True)
class Setting:
    """One preference: its key in the file, type, default and the check applied on reading
    (a value the file holds that cannot be read gives the default)."""

    key: str
    default: Any
    kind: type
    check: Callable[[Any], Any] | None = None  # returns the value to use; None: the default
    doc: str = ""

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)

    def __get__(self, settings: AppSettings | None, owner: type) -> Any:
        if settings is None:
            return self
        return settings.read(self)

    def __set__(self, settings: AppSettings, value: Any) -> None:
        settings.write(self, value)


class AppSettings:
    """Every preference the window keeps: the table below is the one place for each key, type
    and default; ``settings.brush_size`` reads it, ``settings.brush_size = 20`` writes it."""

    mask_opacity = Setting("view/mask_opacity", 0.5, float, _clamped(0.0, 1.0))
    show_mask = Setting("view/show_mask", True, bool)
    outline_only = Setting("view/outline_only", False, bool)
    brush_size = Setting("tools/brush_size", DEFAULT_BRUSH_SIZE, int,
                         _clamped(MIN_BRUSH, MAX_BRUSH))
    band_width = Setting("tools/band_width", 3, int, _clamped(1, 10_000))
    min_island = Setting("tools/min_island", 50, int, _clamped(1, 10**9))
    file_sort = Setting("files/sort", "name", str)
    auto_accept = Setting("prediction/auto_accept", True, bool,
                          doc="An unlabeled image's prediction becomes its editable mask by itself")
    show_prediction = Setting("prediction/show", True, bool)
    prediction_opacity = Setting("prediction/opacity", 0.9, float, _clamped(0.0, 1.0))
    prediction_outline = Setting("prediction/outline", True, bool)
    show_uncertainty = Setting("prediction/show_uncertainty", False, bool)
    prediction_mode = Setting("model/mode", MODES[0], str, _one_of(MODES))
    flip_averaging = Setting("model/tta", False, bool,
                             doc="Each prediction averaged over flips (3x the work)")
    device = Setting("model/device", "auto", str, lambda v: v or None,
                     doc="auto, cuda:N, mps or cpu")
    model_path = Setting("model/path", None, str, _path_or_none,
                         doc="The model file opened last (None: the shipped default)")
    window_geometry = Setting("window/geometry", None, QByteArray)
    window_state = Setting("window/state", None, QByteArray)

    def __init__(self, path: Path | None = None) -> None:
        self._path = path or settings_file()
        self._qs = QSettings(str(self._path), QSettings.Format.IniFormat)

    @classmethod
    def table(cls) -> list[Setting]:
        return [v for v in vars(cls).values() if isinstance(v, Setting)]

    @property
    def path(self) -> Path:
        return self._path

    def sync(self) -> None:
        self._qs.sync()

    # --- reading and writing one setting --------------------------------------------------------
    def read(self, setting: Setting) -> Any:
        value = self._qs.value(setting.key)
        if value is None:
            return setting.default
        try:
            value = _as_kind(value, setting.kind)
        except (TypeError, ValueError):
            return setting.default
        if setting.check is not None:
            value = setting.check(value)
        return setting.default if value is None else value

    def write(self, setting: Setting, value: Any) -> None:
        if value is None:
            self._qs.setValue(setting.key, "" if setting.kind is str else None)
        elif setting.kind is QByteArray:
            self._qs.setValue(setting.key, value)
        else:
            self._qs.setValue(setting.key, setting.kind(value) if setting.kind is not str
                              else str(value))

    # --- recent folders ------------------------------------------------------------------------
    @property
    def recent_folders(self) -> list[str]:
        value = self._qs.value("files/recent_folders", [])
        if isinstance(value, str):  # QSettings returns a single-item list as a string
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent_folder(self, folder: str | os.PathLike) -> None:
        folder = str(folder_identity(folder))
        recent = [f for f in self.recent_folders if f != folder]
        self._qs.setValue("files/recent_folders", [folder, *recent][:MAX_RECENT_FOLDERS])

    def clear_recent_folders(self) -> None:
        self._qs.setValue("files/recent_folders", [])


def _as_kind(value: Any, kind: type) -> Any:
    if kind is bool and isinstance(value, str):  # INI files store booleans as text
        return value.lower() in ("true", "1", "yes")
    if kind is QByteArray:
        if not isinstance(value, QByteArray):
            raise TypeError(f"not a byte array: {type(value).__name__}")
        return value
    return kind(value)
