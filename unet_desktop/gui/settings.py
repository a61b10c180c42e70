"""Typed application preferences over QSettings, declared once.

The settings file lives in ``$UNET_DESKTOP_HOME/settings.ini`` when that variable is set (tests
and the crash test point it at a temp dir), otherwise in the platform's user config location.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from unet_desktop.core.paths import folder_identity

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


class AppSettings:
    """Every preference the window keeps, with its type and default in one place."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path or settings_file()
        self._qs = QSettings(str(self._path), QSettings.Format.IniFormat)

    @property
    def path(self) -> Path:
        return self._path

    def sync(self) -> None:
        self._qs.sync()

    # --- helpers -------------------------------------------------------------------------------
    def _get(self, key: str, default, kind: type):
        value = self._qs.value(key, default)
        if kind is bool and isinstance(value, str):  # INI files store booleans as text
            return value.lower() in ("true", "1", "yes")
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

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

    # --- view ----------------------------------------------------------------------------------
    @property
    def mask_opacity(self) -> float:
        return min(1.0, max(0.0, self._get("view/mask_opacity", 0.5, float)))

    @mask_opacity.setter
    def mask_opacity(self, value: float) -> None:
        self._qs.setValue("view/mask_opacity", float(value))

    @property
    def show_mask(self) -> bool:
        return self._get("view/show_mask", True, bool)

    @show_mask.setter
    def show_mask(self, value: bool) -> None:
        self._qs.setValue("view/show_mask", bool(value))

    @property
    def outline_only(self) -> bool:
        return self._get("view/outline_only", False, bool)

    @outline_only.setter
    def outline_only(self, value: bool) -> None:
        self._qs.setValue("view/outline_only", bool(value))

    # --- tools ---------------------------------------------------------------------------------
    @property
    def brush_size(self) -> int:
        return min(500, max(1, self._get("tools/brush_size", 15, int)))

    @brush_size.setter
    def brush_size(self, value: int) -> None:
        self._qs.setValue("tools/brush_size", int(value))

    @property
    def band_width(self) -> int:
        return max(1, self._get("tools/band_width", 3, int))

    @band_width.setter
    def band_width(self, value: int) -> None:
        self._qs.setValue("tools/band_width", int(value))

    @property
    def min_island(self) -> int:
        return max(1, self._get("tools/min_island", 50, int))

    @min_island.setter
    def min_island(self, value: int) -> None:
        self._qs.setValue("tools/min_island", int(value))

    # --- file list -----------------------------------------------------------------------------
    @property
    def file_sort(self) -> str:
        return self._get("files/sort", "name", str)

    @file_sort.setter
    def file_sort(self, value: str) -> None:
        self._qs.setValue("files/sort", str(value))

    # --- predictions and the model ------------------------------------------------------------
    @property
    def auto_accept(self) -> bool:
        """An unlabeled image's prediction becomes its editable mask by itself."""
        return self._get("prediction/auto_accept", True, bool)

    @auto_accept.setter
    def auto_accept(self, value: bool) -> None:
        self._qs.setValue("prediction/auto_accept", bool(value))

    @property
    def show_prediction(self) -> bool:
        return self._get("prediction/show", True, bool)

    @show_prediction.setter
    def show_prediction(self, value: bool) -> None:
        self._qs.setValue("prediction/show", bool(value))

    @property
    def prediction_opacity(self) -> float:
        return min(1.0, max(0.0, self._get("prediction/opacity", 0.9, float)))

    @prediction_opacity.setter
    def prediction_opacity(self, value: float) -> None:
        self._qs.setValue("prediction/opacity", float(value))

    @property
    def prediction_outline(self) -> bool:
        return self._get("prediction/outline", True, bool)

    @prediction_outline.setter
    def prediction_outline(self, value: bool) -> None:
        self._qs.setValue("prediction/outline", bool(value))

    @property
    def show_uncertainty(self) -> bool:
        return self._get("prediction/show_uncertainty", False, bool)

    @show_uncertainty.setter
    def show_uncertainty(self, value: bool) -> None:
        self._qs.setValue("prediction/show_uncertainty", bool(value))

    @property
    def prediction_mode(self) -> str:
        mode = self._get("model/mode", "resize", str)
        return mode if mode in ("resize", "tile") else "resize"

    @prediction_mode.setter
    def prediction_mode(self, value: str) -> None:
        self._qs.setValue("model/mode", str(value))

    @property
    def flip_averaging(self) -> bool:
        """Flip test-time augmentation: each prediction averaged over flips (3x the work)."""
        return self._get("model/tta", False, bool)

    @flip_averaging.setter
    def flip_averaging(self, value: bool) -> None:
        self._qs.setValue("model/tta", bool(value))

    @property
    def device(self) -> str:
        """auto, cuda:N, mps or cpu."""
        return self._get("model/device", "auto", str) or "auto"

    @device.setter
    def device(self, value: str) -> None:
        self._qs.setValue("model/device", str(value))

    @property
    def model_path(self) -> Path | None:
        """The model file opened last (None: the shipped default)."""
        value = self._get("model/path", "", str)
        return Path(value) if value else None

    @model_path.setter
    def model_path(self, value: str | os.PathLike | None) -> None:
        self._qs.setValue("model/path", str(value) if value else "")

    # --- window layout -------------------------------------------------------------------------
    @property
    def window_geometry(self) -> QByteArray | None:
        value = self._qs.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    @window_geometry.setter
    def window_geometry(self, value: QByteArray) -> None:
        self._qs.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        value = self._qs.value("window/state")
        return value if isinstance(value, QByteArray) else None

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._qs.setValue("window/state", value)
