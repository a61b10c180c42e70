"""Fixtures shared by every test tier."""

from __future__ import annotations

import gc
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_collection_modifyitems(items):
    """A malformed ``reliability`` mark stops the run: tools/reliability_report.py, which
    writes docs/reliability.md from these marks, refuses to write with one."""
    spec = importlib.util.spec_from_file_location("reliability_report",
                                                  REPO / "tools" / "reliability_report.py")
    report = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(report)
    problems = [f"{item.nodeid}: {problem}" for item in items
                for mark in [item.get_closest_marker("reliability")]
                if mark is not None and (problem := report.mark_problem(mark))]
    if problems:
        raise pytest.UsageError("\n".join(problems))


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Tests never touch the user's own data, logs, settings or models."""
    home = tmp_path_factory.mktemp("user-home")
    monkeypatch.setenv("UNET_DESKTOP_HOME", str(home))
    monkeypatch.setenv("UNET_DESKTOP_CACHE", str(_shared_cache(tmp_path_factory)))
    return home


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread():
    """Once a Qt test has created the application, its main-thread collector owns garbage
    collection (gui/main_thread_gc.py), but its timer only fires while an event loop runs: do
    its work after every test, on this thread, so tests without a loop do not pile up garbage."""
    yield
    if not gc.isenabled():  # only after a Qt test: PySide is loaded already
        from PySide6.QtWidgets import QApplication

        from unet_desktop.gui import main_thread_gc

        app = QApplication.instance()
        if app is not None:
            helper = main_thread_gc.install(app)
            helper.thaw()  # a window froze its survivors: the next test starts without that
            helper.collect_if_due()


def _shared_cache(tmp_path_factory) -> Path:
    """One cache folder for the whole run: ONNX exports are keyed by a hash of the weights, so
    tests that load the same model share one export."""
    root = tmp_path_factory.getbasetemp() / "shared-cache"
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets in ../shared/data (present on developer machines and in CI)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data not found at {SHARED_DATA}: check out the repo beside shared/")
    return SHARED_DATA


@pytest.fixture
def one_torch_thread():
    """Torch on one thread for the test (the suite shares 2 cores); torch imported only here."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _gray_cells(size: int = 256, cells: int = 30, seed: int = 0, membrane: int = 3):
    """An EM-like gray, textured image: Voronoi cells (gray ~150 with a grainy texture and a few
    dark organelles) separated by a connected network of dark membranes ``membrane`` px wide.
    Returns ``(image uint8 HxW, membrane bool HxW, cell label int HxW)``."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    points = rng.uniform(0, size, (cells, 2))
    yy, xx = np.mgrid[:size, :size]
    labels = np.argmin((yy[..., None] - points[:, 0]) ** 2 + (xx[..., None] - points[:, 1]) ** 2,
                       axis=2)
    edge = np.zeros((size, size), bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:] |= labels[1:] != labels[:-1]
    kernel = np.ones((membrane, membrane), np.uint8)
    network = cv2.dilate(edge.astype(np.uint8), kernel).astype(bool)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (size, size)), (0, 0), 1.2)
    image = 150 + 18 * texture / texture.std()
    for y, x in rng.uniform(10, size - 10, (cells // 2, 2)).astype(int):  # organelles
        cv2.circle(image, (int(x), int(y)), 4, 105, -1)
    image[network] = 70 + 10 * rng.normal(0, 1, network.sum())
    return np.clip(image, 0, 255).astype(np.uint8), network, labels


@pytest.fixture
def gray_cells():
    """:func:`_gray_cells`: an EM-like gray textured image with a thin membrane network."""
    return _gray_cells
