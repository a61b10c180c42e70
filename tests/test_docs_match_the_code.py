"""Claims of the user-facing texts checked against the code they describe: the few-image
recipe's decay (Fine-tune dialog, Help > Learning as You Correct), Make Trimap Band's scope (the
README's Mask menu) and what ``train`` writes with few images (``train --help``)."""

from __future__ import annotations

import re
from pathlib import Path

from unet_desktop.commands import train as train_command
from unet_desktop.gui.training.finetune_plan import recipe_note
from unet_desktop.ml.training.few_image_recipe import FEW_IMAGE_SCHEDULE, FEW_IMAGES

ROOT = Path(__file__).resolve().parents[1]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_fine_tune_dialog_says_the_few_image_rate_decays():
    assert FEW_IMAGE_SCHEDULE.min_lr_ratio < 1.0  # the recipe decays the rate
    for frozen in (False, True):
        note = recipe_note(2, 0.0, frozen=frozen)
        assert "full learning rate" not in note
        assert f"decays to {FEW_IMAGE_SCHEDULE.min_lr_ratio:.0%}" in note


def test_learning_loop_help_says_a_round_decays_the_rate():
    guide = _flat((ROOT / "docs" / "learning-loop.md").read_text(encoding="utf-8"))
    assert "does not decay" not in guide
    assert f"decay to {FEW_IMAGE_SCHEDULE.min_lr_ratio:.0%}".replace("%", " %") in guide


def test_readme_mask_menu_says_the_trimap_band_is_for_trimaps():
    readme = _flat((ROOT / "README.md").read_text(encoding="utf-8"))
    menu = readme[readme.index("Mask menu:"):][:400]
    assert "from a binary mask" not in menu
    assert "trimap folders only" in menu


def test_train_help_says_few_images_keep_the_latest_model():
    description = _flat(train_command.__doc__.split("\n\n")[1])
    assert f"more than {FEW_IMAGES} images" in description
    assert "latest model" in description and "not validated" in description
