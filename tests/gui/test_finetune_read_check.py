"""The Fine-tune dialog's check that each labelled image can be read: the engine's own reader
(a truncated JPEG or BMP is no more counted than a truncated PNG), and a check that does not hold
up the window: what is left after a moment is read on a thread, and Start waits for it."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from tests.gui.conftest_model import make_pets
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.gui.training import finetune_dialog, finetune_plan
from unet_desktop.gui.training.finetune_dialog import FinetuneDialog
from unet_desktop.gui.training.finetune_plan import unreadable


@pytest.mark.parametrize("ext", ["png", "jpg", "bmp"])
def test_a_truncated_image_file_is_found_whatever_its_format(tmp_path, ext):
    path = tmp_path / f"im04.{ext}"
    pixels = np.random.default_rng(0).integers(0, 255, (96, 96, 3), np.uint8)
    Image.fromarray(pixels).save(path)
    whole = SimpleNamespace(key="whole", image_path=path)
    assert unreadable([whole]) == {}
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    found = unreadable([SimpleNamespace(key="im04", image_path=path)])
    assert list(found) == ["im04"] and str(path) in found["im04"]


def test_the_images_left_after_a_moment_are_read_on_a_thread_and_start_waits(
        qtbot, tmp_path, monkeypatch):
    pets = make_pets(tmp_path / "pets", n_images=6, n_labelled=6)
    victim = pets / "images" / "img_04.png"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    ws = Workspace.open(pets)
    gate, reading = threading.Event(), []
    read = finetune_plan._read_problem

    def held(path: Path):
        reading.append(path.name)
        gate.wait(20)  # the thread waits here; the window must not
        return read(path)

    monkeypatch.setattr(finetune_plan, "_read_problem", held)
    monkeypatch.setattr(finetune_dialog, "CHECK_AT_ONCE_S", 0.0)
    try:
        dialog = FinetuneDialog(None, ws, tmp_path / "models", device="cpu")
        qtbot.addWidget(dialog)
        start = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
        assert not dialog.read_check.done  # the dialog opened while the files are read
        assert "checking that each can be read" in dialog.data_label.text()
        assert not start.isEnabled()
    finally:
        gate.set()
    qtbot.waitUntil(lambda: "cannot be read" in dialog.data_label.text(), timeout=20_000)
    assert dialog.data_label.text().startswith(
        "6 corrected or verified image(s) to learn from, of which 1 cannot be read")
    assert dialog.labelled_keys == [f"images/img_{i:02d}.png" for i in (0, 1, 2, 3, 5)]
    assert "img_04" not in dialog.validation_label.text()
    assert len(reading) == 6
