"""GUI test fixtures: isolated settings, a generated Oxford-style workspace and a window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from unet_desktop.gui.app import create_application
from unet_desktop.gui.settings import APPLICATION, ORGANIZATION

HEIGHT, WIDTH = 48, 64
KEYS = ["images/cat_0.png", "images/cat_1.png", "images/cat_2.png", "images/dog_0.png"]


def _real_settings_file() -> Path:
    """The user's own settings file, as Qt would place it (read before any test redirects)."""
    probe = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION,
                      APPLICATION)
    return Path(probe.fileName())


REAL_SETTINGS_FILE = _real_settings_file()


def file_fingerprint(path: Path) -> tuple | None:
    if not path.exists():
        return None
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, path.read_bytes())


@pytest.fixture(scope="session")
def qapp_cls():
    """pytest-qt builds its QApplication through ours (pyqtgraph row-major images etc.)."""
    create_application()
    from PySide6.QtWidgets import QApplication

    return QApplication


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    """Every test gets a fresh UNET_DESKTOP_HOME (settings.ini, recovery journal) and any
    default-constructed QSettings points into a temp dir; the real settings file is untouched."""
    home = tmp_path_factory.mktemp("gui-home")
    monkeypatch.setenv("UNET_DESKTOP_HOME", str(home))
    qt_dir = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(qt_dir))
    before = file_fingerprint(REAL_SETTINGS_FILE)
    yield home
    assert file_fingerprint(REAL_SETTINGS_FILE) == before, "a test touched the real settings"


def sample_image(i: int) -> np.ndarray:
    rng = np.random.default_rng(i)
    return rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def sample_trimap(i: int) -> np.ndarray:
    """Background 2 with a foreground rectangle (1) ringed by a 1-px border (3)."""
    mask = np.full((HEIGHT, WIDTH), 2, np.uint8)
    mask[9 + i : 31 + i, 9:41] = 3
    mask[10 + i : 30 + i, 10:40] = 1
    return mask


@pytest.fixture
def workspace_dir(tmp_path) -> Path:
    """Oxford layout: 4 RGB 64x48 PNG images, trimaps for the first three (the dog has none)."""
    root = tmp_path / "pets"
    (root / "images").mkdir(parents=True)
    (root / "annotations" / "trimaps").mkdir(parents=True)
    for i, key in enumerate(KEYS):
        Image.fromarray(sample_image(i)).save(root / key)
        if key.startswith("images/cat"):
            Image.fromarray(sample_trimap(i)).save(root / "annotations" / "trimaps" / Path(key).name)
    return root


def saved_mask(root: Path, key: str) -> np.ndarray:
    return np.array(Image.open(root / "annotations" / "trimaps" / (Path(key).stem + ".png")))


def open_window(qtbot, **options):
    """A new main window, shown and active (so that its shortcuts answer key presses).

    Without a model unless ``options`` name one (``model_path=...``): the editing tests must
    not depend on whether the shipped model is installed. A folder without masks opens without
    asking for a task unless ``ask_for_task=True``.
    """
    from unet_desktop.gui.main_window import MainWindow

    options.setdefault("load_model", "model_path" in options)
    options.setdefault("ask_for_task", False)  # the task dialog only where a test asks for it
    win = MainWindow(**options)
    qtbot.addWidget(win)
    win.resize(1000, 700)
    with qtbot.waitActive(win):
        win.show()
        win.activateWindow()
    return win


@pytest.fixture
def window(qtbot, workspace_dir):
    """The main window on the generated workspace, showing the first image."""
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    assert win.session.current_key == KEYS[0]
    yield win
    win.close()
