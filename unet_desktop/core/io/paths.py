"""Where things live: shipped resources and models, and the user's own directories.

Shipped files sit at the repository top level (``resources/``, ``models/``) in a source checkout
and inside the package (``unet_desktop/_data/``) in an installed wheel. User data never goes into
site-packages: settings, logs and user-trained models use the platform's user directories.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "unet-desktop"
_PACKAGE_DIR = Path(__file__).resolve().parents[2]  # unet_desktop/
DEFAULT_MODEL_NAME = "pets-trimap"


def _shipped_dir(name: str) -> Path:
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name  # source checkout / editable install


def resources_dir() -> Path:
    return _shipped_dir("resources")


def models_dir() -> Path:
    return _shipped_dir("models")


def samples_dir() -> Path:
    return resources_dir() / "samples"


def default_model_path() -> Path:
    return models_dir() / f"{DEFAULT_MODEL_NAME}.safetensors"


def user_data_dir() -> Path:
    """Per-user data root; ``UNET_DESKTOP_HOME`` overrides it (tests point it at a temp dir)."""
    override = os.environ.get("UNET_DESKTOP_HOME")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_models_dir() -> Path:
    return user_data_dir() / "models"


def user_log_dir() -> Path:
    override = os.environ.get("UNET_DESKTOP_HOME")
    if override:
        return Path(override) / "logs"
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Rebuildable files (e.g. models converted for ONNX Runtime); safe to delete.
    ``UNET_DESKTOP_CACHE`` overrides it, else ``UNET_DESKTOP_HOME``/cache."""
    cache = os.environ.get("UNET_DESKTOP_CACHE")
    if cache:
        return Path(cache)
    override = os.environ.get("UNET_DESKTOP_HOME")
    if override:
        return Path(override) / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def folder_identity(folder: str | os.PathLike) -> Path:
    """The one way folders are compared: user home expanded, symbolic links and ``..``
    resolved (a folder opened through a link is the same folder as its target)."""
    return Path(os.path.realpath(os.path.expanduser(folder)))


def same_folder(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    return folder_identity(a) == folder_identity(b)


def first_free_path(folder: str | os.PathLike, name: str, suffix: str = "") -> Path:
    """``folder/<name><suffix>``, or ``<name>-2<suffix>``, ``-3``... : the first that does not
    exist (names for files that must never replace one: kept-aside masks, new models)."""
    folder = Path(folder)
    path, n = folder / f"{name}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{name}-{n}{suffix}"
    return path
