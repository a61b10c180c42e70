"""In a task with sparse labels what the user paints is the label: the prediction stays its own
layer, becomes the mask only when accepted, and a saved correction keeps every pixel nobody
painted unlabeled."""


from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS
from tests.gui.helpers import drag
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import LabelScheme, binary_scheme
from unet_desktop.ml.loop.learning_loop import LoopSettings
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

UNLABELED = 128
SCHEME = binary_scheme(("outside", "cell"), ignore_value=UNLABELED)


def binary_model(path: Path, scheme: LabelScheme) -> Path:
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=scheme,
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="cells-v0")
    save_model(path, build_model(meta.arch), meta)
    return path


def folder(tmp_path: Path, scheme: LabelScheme) -> Path:
    root = tmp_path / "cells"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        image = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(image).save(root / f"cell_{i}.png")
    save_task(root, Task("cells", scheme))
    return root


def painted_window(qtbot, tmp_path, scheme):
    root = folder(tmp_path, scheme)
    model = binary_model(tmp_path / "cells-v0.safetensors", scheme)
    win = open_window(qtbot, model_path=model, ask_for_task=True)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(root)
    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)
    return root, win


def test_a_sparse_correction_keeps_unpainted_pixels_unlabeled(qtbot, tmp_path):
    root, win = painted_window(qtbot, tmp_path, SCHEME)
    document = win.session.document
    assert win.canvas.has_prediction()  # the prediction is shown, as a layer of its own
    assert not win.prediction_dock.auto_check.isEnabled()  # and says auto-accept does not apply
    assert np.all(document.mask == UNLABELED) and not document.dirty  # not made the mask
    win.tools.set_tool("brush")
    win.tools.set_value(255)
    win.tools.set_size(3)
    drag(qtbot, win.canvas, [(10, 20), (20, 20)])
    assert win.session.save()
    mask = read_mask(root / "masks" / "cell_0.png", SCHEME)
    painted = mask != UNLABELED
    assert set(np.unique(mask)) == {255, UNLABELED}
    assert 0 < painted.mean() < 0.2  # the stroke, and only the stroke
    assert painted[20, 12:18].all()
    # accepting (Enter) is the user's choice: then the prediction becomes the labels
    assert win.prediction.accept()
    assert UNLABELED not in np.unique(win.session.document.mask)
    win.close()


def test_without_sparse_labels_the_prediction_still_becomes_the_mask_by_itself(qtbot, tmp_path):
    scheme = binary_scheme(("outside", "cell"))
    _root, win = painted_window(qtbot, tmp_path, scheme)
    qtbot.waitUntil(lambda: win.session.is_accepted_prediction(), timeout=TIMEOUT_MS)
    assert win.prediction_dock.auto_check.isEnabled()
    assert set(np.unique(win.session.document.mask)) <= {0, 255}
    win.close()


def disc_window(qtbot, tmp_path, model_scheme: LabelScheme = SCHEME):
    """A bright disc on a dark ground, a sparse task, a tiny model predicting
    ``model_scheme``'s classes: (window, disc)."""
    root = tmp_path / "discs"
    root.mkdir()
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:40, :48]
    disc = (yy - 20) ** 2 + (xx - 24) ** 2 < 10 ** 2
    image = (rng.normal(60, 12, (40, 48, 3)) + disc[..., None] * 120).clip(0, 255)
    Image.fromarray(image.astype(np.uint8)).save(root / "disc.png")
    save_task(root, Task("discs", SCHEME))
    model = binary_model(tmp_path / "cells-v0.safetensors", model_scheme)
    win = open_window(qtbot, model_path=model, ask_for_task=True)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(root)
    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)
    return win, disc


def paint_in_and_out(qtbot, win):
    """A stroke inside the disc and one around it, nowhere near its edge; returns once the
    prediction from them is shown (the signal's arguments)."""
    win.tools.set_tool("brush")
    win.tools.set_size(3)
    win.tools.set_value(255)
    drag(qtbot, win.canvas, [(20, 20), (28, 20)])
    win.tools.set_value(0)
    with qtbot.waitSignal(win.live_prediction.shown, timeout=30_000) as live:
        drag(qtbot, win.canvas, [(3, 3), (44, 3), (44, 36), (3, 36)])
    return live.args


def test_strokes_give_a_live_prediction_that_finds_the_disc(qtbot, tmp_path):
    """Seconds after the strokes the prediction layer shows the disc (the tiny model's own is
    noise)."""
    win, disc = disc_window(qtbot, tmp_path)
    live = paint_in_and_out(qtbot, win)
    assert live[0] == "disc.png" and 0 < live[1] < 30
    shown = win.prediction.shown
    assert shown.version == "strokes"
    labels = win.canvas.prediction_layer.mask
    assert ((labels == 255) == disc).mean() > 0.95  # the boundary nobody painted is found
    mask = win.session.document.mask
    assert (mask == UNLABELED).mean() > 0.6  # the mask is still the strokes alone
    win.close()


def test_the_prediction_from_strokes_accepted_and_saved_stays_a_training_image(qtbot,
                                                                                tmp_path):
    """Enter over the prediction from the strokes, then save: in a sparse task what the mask
    labels is the user's, so the image stays corrected (it was saved 'predicted': out of the
    training images, no loop round, open to batch predict)."""
    win, _ = disc_window(qtbot, tmp_path)
    paint_in_and_out(qtbot, win)
    assert win.prediction.shown.version == "strokes"
    assert win.prediction.accept()
    assert win.session.save()
    ws = win.session.workspace
    assert ws["disc.png"].state is ImageState.CORRECTED
    assert [e.key for e in ws.labelled()] == ["disc.png"]
    win.close()


def test_a_prediction_from_strokes_an_undo_took_away_is_withdrawn(qtbot, tmp_path):
    """Undo of the stroke outside leaves one class: no prediction from the strokes can be made,
    and the one made with the stroke undone is taken away, not left to accept."""
    win, _ = disc_window(qtbot, tmp_path)
    paint_in_and_out(qtbot, win)
    win.actions.undo.trigger()
    qtbot.waitUntil(lambda: win.prediction.shown is None
                    or win.prediction.shown.version != "strokes", timeout=30_000)
    before = win.session.document.mask.copy()
    if win.prediction.shown is not None:  # the model's own may be back: never the strokes'
        assert win.prediction.shown.version == win.models.active_version
    else:
        assert not win.prediction.accept()
        np.testing.assert_array_equal(win.session.document.mask, before)
    win.close()


def test_a_saved_stroke_starts_a_loop_round_and_its_curve_point_says_strokes(qtbot, tmp_path):
    """Learn as I Correct beside a sparse correction: saving strokes starts a round that trains
    on them, and the curve keeps their point apart (hollow, out of the averages), because
    strokes are painted where the user chooses and their agreement is not the model's."""
    root, win = painted_window(qtbot, tmp_path, SCHEME)
    win.learning.settings = LoopSettings(epochs=1, size=32, batch_size=4)
    win.model_actions.learn_as_i_correct.trigger()  # nothing corrected yet: no round
    assert win.learning.loop.record.enabled and not win.learning.running
    win.tools.set_tool("brush")
    win.tools.set_value(255)
    win.tools.set_size(3)
    drag(qtbot, win.canvas, [(10, 20), (20, 20)])
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as done:
        assert win.session.save()
    assert done.args[0].train_images == ("cell_0.png",)
    qtbot.waitUntil(lambda: bool(win.learning.loop.record.points), timeout=TIMEOUT_MS)
    point = win.learning.loop.record.points[0]
    painted = (read_mask(root / "masks" / "cell_0.png", SCHEME) != UNLABELED).mean()
    assert point.strokes and point.labelled_fraction == pytest.approx(painted)
    assert win.learning.loop.record.full_points == ()
    text = win.learning.panel.estimate_label.text()
    assert "No full corrections yet" in text and "1 image(s) saved as strokes" in text
    assert win.learning.panel.average_curve.getData()[0] is None or \
        len(win.learning.panel.average_curve.getData()[0]) == 0  # no average over strokes
    spot = win.learning.panel.points.points()[0]
    assert spot.brush().style() == Qt.BrushStyle.NoBrush  # hollow
    win.close()


def test_enter_over_strokes_names_the_prediction_from_the_strokes(qtbot, tmp_path,
                                                                 monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    win, _ = disc_window(qtbot, tmp_path)
    paint_in_and_out(qtbot, win)
    asked = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked.append(box.text()) or 0)
    win.prediction.accept(ask=True)  # Enter; the question is answered "keep" (no button)
    assert asked == ["Replace your mask of disc.png with the prediction from your strokes?"]
    win.close()


def test_the_accept_button_follows_the_prediction_shown(qtbot, tmp_path):
    """A model whose classes are not the task's: its prediction cannot be accepted (the button
    says why); the prediction from the strokes, in the task's classes, can."""
    win, _ = disc_window(qtbot, tmp_path, binary_scheme(("sky", "ground")))
    button = win.prediction_dock.accept_button
    assert not button.isEnabled() and button.toolTip().startswith("Not available")
    paint_in_and_out(qtbot, win)
    assert button.isEnabled()
    win.close()
