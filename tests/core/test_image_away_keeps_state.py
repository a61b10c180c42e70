"""An image away when its folder opens (moved out for a moment, not synced yet) keeps its
labelling state: its manifest record is written on with every manifest while it is away, so a
model's prediction never comes back as a person's correction (a training label)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet_desktop.core.folder.manifest import journal_path, manifest_path
from unet_desktop.core.folder.workspace import ImageState, Workspace

MASK = np.zeros((8, 8), np.uint8)
MASK[2:5, 2:5] = 255


def _folder(root):
    root.mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(root / f"img_{i}.png")
    return root


def test_prediction_of_an_image_away_stays_predicted(tmp_path):
    root = _folder(tmp_path / "f")
    ws = Workspace.open(root, writer=True)
    ws.save_mask("img_1.png", MASK, ImageState.PREDICTED, "model-v1", 0.3)
    ws.close()
    away = tmp_path / "img_1.png"
    (root / "img_1.png").rename(away)

    ws = Workspace.open(root, writer=True)
    opened_warnings = ws.warnings
    ws.save_mask("img_0.png", MASK, ImageState.CORRECTED)  # writes the manifest
    ws.close()
    away.rename(root / "img_1.png")

    back = Workspace.open(root)
    assert back["img_1.png"].state is ImageState.PREDICTED
    assert back["img_1.png"].model_version == "model-v1"
    assert [e.key for e in back.labelled((ImageState.CORRECTED, ImageState.VERIFIED))] == [
        "img_0.png"]
    assert any("(img_1.png)" in w and "come back" in w for w in opened_warnings)


def test_a_present_image_record_wins_over_a_kept_one(tmp_path):
    root = _folder(tmp_path / "f")
    ws = Workspace.open(root, writer=True)
    ws.save_mask("img_1.png", MASK, ImageState.PREDICTED, "model-v1", 0.3)
    ws.close()
    (root / "img_1.png").rename(tmp_path / "img_1.png")
    ws = Workspace.open(root, writer=True)
    (tmp_path / "img_1.png").rename(root / "img_1.png")  # back while this window is open
    ws.save_mask("img_0.png", MASK, ImageState.CORRECTED)
    ws.close()
    again = Workspace.open(root, writer=True)
    again.save_mask("img_1.png", MASK, ImageState.VERIFIED)
    again.close()
    assert Workspace.open(root)["img_1.png"].state is ImageState.VERIFIED


def test_a_journalled_prediction_of_an_image_away_stays_predicted(tmp_path):
    """Killed during a batch (the manifest not yet written) and the image away at the next
    opening: the journal's record is kept for it too."""
    root = _folder(tmp_path / "f")
    ws = Workspace.open(root, writer=True)
    with ws.deferred_manifest():
        ws.save_mask("img_1.png", MASK, ImageState.PREDICTED, "model-v1", 0.3)
        left = journal_path(root).read_bytes()
    ws.close()
    manifest_path(root).unlink()  # as if killed before the manifest was written
    journal_path(root).write_bytes(left)
    (root / "img_1.png").rename(tmp_path / "img_1.png")

    again = Workspace.open(root, writer=True)
    again.save_mask("img_0.png", MASK, ImageState.CORRECTED)  # folds the journal
    again.close()
    assert not journal_path(root).exists()
    (tmp_path / "img_1.png").rename(root / "img_1.png")
    assert Workspace.open(root)["img_1.png"].state is ImageState.PREDICTED
