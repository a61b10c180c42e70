"""Instant predictions in the real window: the prediction layer, latest wins, auto-accept as one
undo step, corrected masks kept, Enter accepts, uncertainty map, most-uncertain navigation."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    disc_pair,
    image_key,
    tiny_model,
    tiny_pets,
    window_on,
)
from tests.gui.helpers import drag
from unet_desktop.core.editing.mask_values import erase_value
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.gui.editing.file_list_dock import UNCERTAINTY_ROLE
from unet_desktop.gui.editing.uncertainty_layer import heat_rgba
from unet_desktop.gui.model.prediction_service import uncertainty_order
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.modelfile import load_model_file

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
UNLABELED = [image_key(i) for i in (3, 4, 5)]  # make_pets: the first three have trimaps


@pytest.fixture
def reference(tiny_model, tiny_pets):
    """Expected predictions of every image, computed apart from the window."""
    predictor = Predictor.from_file(tiny_model, device="cpu")
    ws = Workspace.open(tiny_pets)
    return {e.key: predictor.predict(ws.load_image(e.key)) for e in ws}


@pytest.fixture
def win(qtbot, tiny_pets, tiny_model):
    """The window with the tiny model, on the tiny pets folder (showing img_00, corrected)."""
    w = window_on(qtbot, tiny_pets, tiny_model)
    yield w
    w.close()


def select(qtbot, win, key: str) -> None:
    """Select ``key`` in the list and wait until its prediction is on the canvas."""
    with qtbot.waitSignal(win.prediction.prediction_shown, timeout=TIMEOUT_MS,
                          check_params_cb=lambda k: k == key):
        win.file_dock.select_key(key)


def set_auto_accept(win, on: bool) -> None:
    win.prediction_dock.auto_check.setChecked(on)
    assert win.settings.auto_accept is on and win.prediction.auto_accept is on


class HeldNet(torch.nn.Module):
    """A real network whose forward pass waits for ``release`` while ``held`` (a slow GPU)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net
        self.held = False
        self.entered, self.release = threading.Event(), threading.Event()

    def hold(self) -> None:
        self.entered.clear()
        self.release.clear()
        self.held = True

    def let_go(self) -> None:
        self.held = False
        self.release.set()

    def forward(self, x):
        if self.held:
            self.entered.set()
            self.release.wait(5.0)
        return self.net(x)


def install_held_model(qtbot, win, model_path) -> HeldNet:
    """The same model behind a :class:`HeldNet`, with an empty prediction cache."""
    net, meta = load_model_file(model_path)
    held = HeldNet(net)
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        win.models.install(Predictor(held, meta, "cpu", fuse_bn=False), model_path)
    qtbot.waitUntil(win.worker.is_idle, timeout=TIMEOUT_MS)
    win.predictions.cache.clear()
    return held


def test_selecting_an_image_shows_its_prediction_as_its_own_layer(qtbot, win, reference):
    key = image_key(1)  # corrected: the editable mask stays the user's
    select(qtbot, win, key)
    layer = win.canvas.prediction_layer.mask
    np.testing.assert_array_equal(layer, reference[key].labels)
    document = win.session.document
    np.testing.assert_array_equal(document.mask, disc_pair(1)[1])
    assert layer is not document.mask and not document.dirty
    assert win.canvas.prediction_layer.isVisible() and win.canvas.prediction_layer.outline_only
    assert f"{reference[key].score:.3f}" in win.prediction_dock.status_label.text()
    assert win.file_dock.row_data(key, UNCERTAINTY_ROLE) == pytest.approx(reference[key].score)
    qtbot.keyClick(win, Qt.Key.Key_M, SHIFT)  # View > Show Prediction off
    assert not win.canvas.prediction_layer.isVisible() and not win.settings.show_prediction
    assert not win.prediction_dock.show_check.isChecked()
    win.prediction_dock.opacity_slider.setValue(40)
    assert win.canvas.prediction_layer.opacity() == pytest.approx(0.4)


@pytest.mark.reliability("concurrency", "late prediction while the user switches images")
def test_a_late_result_is_cached_and_never_painted_on_another_image(qtbot, win, reference,
                                                                     tiny_model):
    held = install_held_model(qtbot, win, tiny_model)
    painted: list[tuple[str, np.ndarray]] = []
    set_prediction = win.canvas.set_prediction

    def spy(labels, uncertainty, scheme):
        painted.append((win.session.current_key, labels.copy()))
        return set_prediction(labels, uncertainty, scheme)

    win.canvas.set_prediction = spy
    held.hold()
    win.file_dock.select_key(image_key(4))  # its forward pass starts and hangs
    assert held.entered.wait(5.0)
    for i in (5, 3, 2, 5, 1):  # the user keeps switching meanwhile
        win.file_dock.select_key(image_key(i))
    held.let_go()
    qtbot.waitUntil(lambda: win.prediction.shown_key == image_key(1), timeout=TIMEOUT_MS)
    qtbot.waitUntil(win.worker.is_idle, timeout=TIMEOUT_MS)
    assert painted and all(np.array_equal(labels, reference[key].labels)
                           for key, labels in painted)
    assert [key for key, _ in painted] == [image_key(1)]
    assert win.predictions.cached(image_key(4)) is not None  # the late result was kept
    np.testing.assert_array_equal(win.canvas.prediction_layer.mask, reference[image_key(1)].labels)


def test_an_unlabeled_image_takes_its_prediction_as_one_undo_step(qtbot, win, reference,
                                                                   tiny_pets):
    key = UNLABELED[0]
    select(qtbot, win, key)
    document = win.session.document
    np.testing.assert_array_equal(document.mask, reference[key].labels)
    assert document.dirty and len(document.history) == 1
    assert win.actions.undo.text() == "Undo Accept prediction"
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(document.mask,
                                  np.full(document.shape, erase_value(document.scheme)))
    assert not document.dirty
    qtbot.keyClick(win, Qt.Key.Key_Y, CTRL)
    np.testing.assert_array_equal(document.mask, reference[key].labels)
    win.file_dock.select_key(image_key(0))  # only viewed: leaving writes no file
    assert Workspace.open(tiny_pets)[key].state is ImageState.UNLABELED
    assert not (tiny_pets / "annotations" / "trimaps" / "img_03.png").exists()
    select(qtbot, win, key)  # the prediction is the mask again, by itself
    np.testing.assert_array_equal(win.session.document.mask, reference[key].labels)
    qtbot.keyClick(win, Qt.Key.Key_Return)  # accepted by the user: written when left
    win.file_dock.select_key(image_key(0))
    saved = Workspace.open(tiny_pets)[key]
    assert saved.state is ImageState.PREDICTED
    assert saved.model_version == win.models.active_version
    assert saved.uncertainty == pytest.approx(reference[key].score, abs=1e-4)


@pytest.mark.reliability("concurrency", "prediction arriving after the user started painting")
def test_corrected_masks_and_unsaved_edits_are_never_replaced(qtbot, win, reference,
                                                              tiny_model):
    select(qtbot, win, image_key(2))  # corrected on disk
    document = win.session.document
    np.testing.assert_array_equal(document.mask, disc_pair(2)[1])
    assert not document.dirty and len(document.history) == 0
    held = install_held_model(qtbot, win, tiny_model)
    held.hold()
    key = UNLABELED[1]
    win.file_dock.select_key(key)
    assert held.entered.wait(5.0)
    win.tools.set_tool("brush")
    win.tools.set_value(1)
    drag(qtbot, win.canvas, [(3.5, 3.5), (9.5, 3.5)])  # an edit before the prediction is in
    edited = win.session.document.mask.copy()
    held.let_go()
    qtbot.waitUntil(lambda: win.prediction.shown_key == key, timeout=TIMEOUT_MS)
    np.testing.assert_array_equal(win.session.document.mask, edited)
    assert win.session.document.undo_label == "Undo Brush stroke"
    np.testing.assert_array_equal(win.canvas.prediction_layer.mask, reference[key].labels)


def test_enter_accepts_the_prediction_when_auto_accept_is_off(qtbot, win, reference):
    set_auto_accept(win, False)
    key = UNLABELED[2]
    select(qtbot, win, key)
    document = win.session.document
    empty = np.full(document.shape, erase_value(document.scheme))
    np.testing.assert_array_equal(document.mask, empty)
    qtbot.keyClick(win, Qt.Key.Key_Return)
    np.testing.assert_array_equal(document.mask, reference[key].labels)
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(document.mask, empty)
    select(qtbot, win, image_key(0))  # a corrected mask is replaced only when asked to
    before = win.session.document.mask.copy()
    win.prediction_dock.accept_button.click()
    np.testing.assert_array_equal(win.session.document.mask, reference[image_key(0)].labels)
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(win.session.document.mask, before)


def test_uncertainty_map_toggles_and_matches_the_prediction(qtbot, win, reference):
    key = image_key(4)
    select(qtbot, win, key)
    layer = win.canvas.uncertainty_layer
    assert not layer.isVisible()
    qtbot.keyClick(win, Qt.Key.Key_U, SHIFT)
    assert layer.isVisible() and win.settings.show_uncertainty
    assert win.prediction_dock.uncertainty_check.isChecked()
    assert win.model_actions.show_uncertainty.isChecked()
    np.testing.assert_array_equal(layer.image, heat_rgba(reference[key].uncertainty))
    assert layer.map_shape == win.session.document.shape
    for x in (5.5, 20.5, 30.5):  # hovering over the map (a wrong hit-test shape crashed here)
        qtbot.mouseMove(win.canvas.viewport(), win.canvas.widget_pos(x, 10.5))
    assert win.pointer_status.position_label.text() == "x 30  y 10"
    win.prediction_dock.uncertainty_check.setChecked(False)
    assert not layer.isVisible() and not win.model_actions.show_uncertainty.isChecked()


def test_u_jumps_to_the_most_uncertain_image_not_yet_corrected(qtbot, win, reference):
    keys = win.file_dock.visible_keys()
    win.predictions.prefetch(keys)
    qtbot.waitUntil(lambda: all(win.predictions.cached(k) for k in keys), timeout=TIMEOUT_MS)
    ws = win.session.workspace
    expected = uncertainty_order(ws.entries, {k: reference[k].score for k in keys})
    assert set(expected) == set(UNLABELED)
    qtbot.keyClick(win, Qt.Key.Key_U)
    assert win.session.current_key == expected[0]
    qtbot.keyClick(win, Qt.Key.Key_U)  # the one on screen is skipped: the next one
    assert win.session.current_key == expected[1]
    win.file_dock.set_sort_mode("uncertainty")
    assert win.file_dock.visible_keys() == sorted(keys, key=lambda k: -reference[k].score)
