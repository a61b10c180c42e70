"""The Training dock's verdict showed "validates better than its parent (0.001)" beside a new
mIoU of 0.001 (0.00133 against 0.00089: CamVid after a short first run)."""

import re
from pathlib import Path
from types import SimpleNamespace

from unet_desktop.gui.training.training_dock import verdict


def final(new, parent, better):
    return SimpleNamespace(model_path=Path("streets-v2.safetensors"), metrics={"miou": new},
                           val_images=2, val_labelled=1.0, best_epoch=1, held_back=0,
                           parent_metrics={"miou": parent}, better_than_parent=better,
                           parent_trained_on_val=False, stopped="time_budget")


def shown(text):
    return re.findall(r"\d\.\d+", text)


def test_better_than_the_parent_shows_two_different_figures():
    text = verdict(final(0.0013339, 0.00088907, True))
    assert "better than its parent" in text
    new, parent = shown(text)
    assert new != parent and float(new) > float(parent)


def test_worse_than_the_parent_shows_two_different_figures():
    text = verdict(final(0.41249, 0.41251, False))
    assert "worse than its parent" in text
    new, parent = shown(text)
    assert new != parent and float(new) < float(parent)


def test_figures_keep_three_decimals_when_they_differ_there():
    text = verdict(final(0.8123, 0.7456, True))
    assert shown(text) == ["0.812", "0.746"]
