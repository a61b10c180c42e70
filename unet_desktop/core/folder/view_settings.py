"""A folder's display settings, remembered in ``.unet-desktop/view.json``: contrast limits set
by hand (:class:`unet_desktop.core.io.display.Limits`), so a microscope session keeps its display
across images and restarts. The workspace owns the folder's one :class:`ViewSettings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.manifest import MANIFEST_DIR
from unet_desktop.core.io.display import Limits
from unet_desktop.core.io.json_file import read_json, write_json

VIEW_NAME = "view.json"


class ViewSettingsError(FileError):
    """The folder's view settings cannot be read or written."""


@dataclass(frozen=True)
class ViewSettings:
    """A folder's display settings: contrast limits set by hand (None: automatic)."""

    limits: Limits | None = None

    def to_dict(self) -> dict:
        limits = None if self.limits is None else [self.limits.low, self.limits.high]
        return {"format": "unet-desktop-view", "version": 1, "contrast_limits": limits}

    @classmethod
    def from_dict(cls, d: dict) -> ViewSettings:
        limits = d.get("contrast_limits") if isinstance(d, dict) else None
        if isinstance(limits, list) and len(limits) == 2:
            return cls(Limits(float(limits[0]), float(limits[1])))
        return cls()


def view_path(root: str | os.PathLike) -> Path:
    return Path(root) / MANIFEST_DIR / VIEW_NAME


def load_view_settings(root: str | os.PathLike) -> ViewSettings:
    """The folder's view settings; defaults when there are none or they cannot be read."""
    try:
        data = read_json(view_path(root), ViewSettingsError, "view settings file")
        return ViewSettings.from_dict(data) if data is not None else ViewSettings()
    except (ViewSettingsError, ValueError, TypeError):
        return ViewSettings()


def save_view_settings(root: str | os.PathLike, settings: ViewSettings) -> None:
    """Write the folder's view settings atomically (raises :class:`ViewSettingsError`)."""
    write_json(view_path(root), settings.to_dict(), ViewSettingsError, "view settings")
