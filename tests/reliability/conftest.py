"""Fixtures for the reliability tests: Qt set up as in tests/gui, tiny models, generated folders.

The GUI fixtures are imported from tests/gui so that every window test here runs with the same
application object and never touches the user's settings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.gui.conftest import (  # noqa: F401 - fixtures used by name
    isolated_settings,
    qapp_cls,
    window,
    workspace_dir,
)


def write_noise_images(folder: Path, names: list[str], size: tuple[int, int] = (40, 30),
                       seed: int = 0) -> list[Path]:
    """RGB PNGs of ``size`` (width, height) with random pixels, one per name."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for name in names:
        path = folder / name
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(
            path, format="PNG")
        paths.append(path)
    return paths


@pytest.fixture
def noise_images():
    """:func:`write_noise_images` (test modules cannot import conftest)."""
    return write_noise_images
