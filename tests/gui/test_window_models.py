"""The model menus of the real window: batch predict, fine-tune and swap in, compare with the
previous model and roll back, model card, save as, ONNX export, device and mode, closing."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_pets,
    tiny_model,
    window_on,
)
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.gui import main_thread_gc
from unet_desktop.gui.editing.file_list_dock import STATE_ROLE
from unet_desktop.gui.worker import DONE
from unet_desktop.ml.models.modelfile import read_meta

FAST_TRAINING = {"batch_size": 4, "patience": None}


@pytest.fixture
def pets(tmp_path):
    return make_pets(tmp_path / "pets", n_images=7, n_labelled=4)


@pytest.fixture
def win(qtbot, pets, tiny_model):
    w = window_on(qtbot, pets, tiny_model)
    yield w
    w.close()


def state_in_list(win, key: str) -> str:
    return win.file_dock.row_data(key, STATE_ROLE)


def test_batch_predict_from_the_menu_refreshes_the_list_and_the_image_only_looked_at(
        qtbot, win, pets):
    """The image on screen, only looked at (nothing edited, no prediction accepted), is
    predicted like the others, and the view shows what the run wrote (an edited one is kept:
    tests/gui/test_two_windows_recovery.py, tests/gui/test_batch_dialog.py)."""
    win.prediction_dock.auto_check.setChecked(False)  # the image on screen stays unedited
    on_screen = image_key(5)
    win.file_dock.select_key(on_screen)
    win.model_actions.batch_predict.trigger()
    dialog = win.training_commands.batch_dialog
    assert dialog.isVisible() and dialog.folder_edit.text() == str(pets)
    with qtbot.waitSignal(dialog.run_finished, timeout=TIMEOUT_MS) as finished:
        dialog.start()
    summary = finished.args[0]
    predicted = [image_key(4), on_screen, image_key(6)]
    assert sorted(k for k, _ in summary.written) == predicted
    for key in predicted:
        assert state_in_list(win, key) == "predicted"
    assert state_in_list(win, image_key(0)) == "corrected"
    ws = Workspace.open(pets)
    assert ws[on_screen].state is ImageState.PREDICTED
    qtbot.waitUntil(lambda: win.session.document is not None
                    and win.session.document.key == on_screen
                    and (win.session.document.mask
                         == read_mask(ws[on_screen].mask_path, ws.scheme)).all(),
                    timeout=TIMEOUT_MS)
    assert not win.session.document.dirty
    assert win.model_actions.batch_predict.shortcut().toString() == "Ctrl+B"


def test_fine_tune_from_the_menu_swaps_the_new_model_in_then_compare_and_roll_back(
        qtbot, win, tmp_path):
    parent = win.models.active_version
    win.training_commands.config_overrides = FAST_TRAINING
    win.training_commands.models_folder = tmp_path / "trained"
    win.model_actions.finetune.trigger()
    dialog = win.training_commands.finetune_dialog
    assert dialog.isVisible() and "4 corrected" in dialog.data_label.text()
    dialog.epochs_spin.setValue(1)
    dialog.size_spin.setValue(32)
    with qtbot.waitSignal(win.models.model_changed, timeout=60_000,
                          check_params_cb=lambda m: m is not None and m.version != parent):
        dialog.accept()
    assert win.training_dock.isVisible()
    new = win.models.active_version
    assert read_meta(win.models.active.path).parent_version == parent
    # a fine-tune is a run of the folder's task (made for it): its result is a task version
    assert win.models.active.path.parent == win.session.workspace.root / ".unet-desktop" / "models"
    # 4 corrected images: the folder's frozen validation set holds fewer than 2, so it says so
    assert "Not validated" in win.training_dock.result_label.text()
    assert win.model_actions.compare_previous.isEnabled()

    win.activateWindow()  # back from the dialog: the window's shortcuts answer again
    qtbot.waitUntil(win.isActiveWindow, timeout=TIMEOUT_MS)
    qtbot.keyClick(win, Qt.Key.Key_C)  # compare: the previous model predicts
    assert win.models.active_version == parent and win.models.using_previous
    assert win.model_actions.compare_previous.isChecked()
    assert "comparing" in win.prediction_dock.model_label.text()
    qtbot.waitUntil(lambda: win.prediction.shown is not None
                    and win.prediction.shown.version == parent, timeout=TIMEOUT_MS)
    qtbot.keyClick(win, Qt.Key.Key_C)
    assert win.models.active_version == new and not win.models.using_previous
    qtbot.waitUntil(lambda: win.prediction.shown is not None
                    and win.prediction.shown.version == new, timeout=TIMEOUT_MS)

    win.model_actions.rollback.trigger()
    assert win.models.active_version == parent
    assert win.models.slots.current.version == parent and win.models.slots.previous.version == new
    assert win.statusBar().currentMessage().startswith("Rolled back")


def test_a_folder_without_masks_opens_with_the_models_scheme(qtbot, tiny_model, tmp_path):
    from PIL import Image

    folder = tmp_path / "unlabelled"
    folder.mkdir()
    Image.new("RGB", (40, 30), (90, 120, 60)).save(folder / "a.png")
    trimap_model = read_meta(tiny_model).scheme
    assert trimap_model.kind == "trimap"
    w = open_window(qtbot, model_path=tiny_model)  # the model is still loading: read its file
    assert w.open_folder(folder)
    assert w.session.workspace.scheme == trimap_model
    w.close()


def test_model_card_shows_the_metadata(qtbot, win, tiny_model):
    win.model_actions.model_card.trigger()
    card = win.model_commands.card
    assert card.isVisible()
    assert card.value_labels["Version"].text() == win.models.active_version
    assert card.value_labels["Name"].text() == "tiny"
    assert card.value_labels["Training size"].text() == "32 px"
    assert card.value_labels["Label scheme"].text().startswith("trimap: 1 ")
    assert card.value_labels["File"].text() == str(tiny_model)


def test_save_as_copies_the_model_file(qtbot, win, tiny_model, tmp_path):
    with qtbot.waitSignal(win.worker.job_finished, timeout=TIMEOUT_MS,
                          check_params_cb=lambda job: job.name == "save model") as done:
        win.model_commands.save_model_as(tmp_path / "copy.safetensors")
    assert done.args[0].state == DONE
    assert (tmp_path / "copy.safetensors").read_bytes() == tiny_model.read_bytes()
    assert win.statusBar().currentMessage() == f"Saved {tmp_path / 'copy.safetensors'}"


def test_export_onnx_runs_on_the_worker(qtbot, win, tmp_path):
    """With the onnx extra installed the file is written and checked; without it the user is
    told what to install."""
    try:
        import onnx  # noqa: F401

        has_onnx = True
    except ImportError:
        has_onnx = False
    with qtbot.waitSignal(win.worker.job_finished, timeout=60_000,
                          check_params_cb=lambda job: job.name == "export onnx") as done:
        win.model_commands.export_onnx(tmp_path / "tiny.onnx")
    job = done.args[0]
    if has_onnx:
        assert job.state == DONE, job.error
        assert (tmp_path / "tiny.onnx").stat().st_size > 1000
        assert "Exported tiny.onnx" in win.statusBar().currentMessage()
    else:
        assert "pip install 'unet-desktop[onnx]'" in win.last_error


def test_the_first_model_load_freezes_the_long_lived_objects(win):
    import gc

    assert gc.get_freeze_count() > 100_000  # torch's modules and classes, the model...
    assert main_thread_gc.install(QApplication.instance()).frozen


def test_device_menu_lists_the_devices_and_moves_the_model(qtbot, win):
    menu = win.model_actions.device_menu
    menu.aboutToShow.emit()  # what opening the submenu does
    actions = {a.data(): a for a in menu.actions()}
    assert "auto" in actions and "cpu" in actions
    assert actions[win.models.device_name].isChecked()
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        actions["cpu"].trigger()
    assert win.settings.device == "cpu" and win.models.device_name == "cpu"
    assert str(win.models.active.predictor.device) == "cpu"
    oom = "Out of memory on cuda:0: retrying with batch size 2"
    win.models.message.emit(oom)  # what ResilientPredictor's notify sends, from the worker
    assert win.statusBar().currentMessage() == oom


def test_prediction_mode_menu_switches_to_tiles_and_clears_the_cache(qtbot, win):
    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)
    assert win.model_actions.modes["resize"].isChecked()
    with qtbot.waitSignal(win.models.predictions_invalidated, timeout=TIMEOUT_MS):
        win.model_actions.modes["tile"].trigger()
    assert win.models.mode == "tile" and win.settings.prediction_mode == "tile"
    assert win.models.active.predictor.mode == "tile"
    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)


def test_flip_averaging_predicts_with_tta_and_is_remembered(qtbot, win, pets, tiny_model):
    import numpy as np

    from unet_desktop.ml.api import load_model

    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)
    action = win.model_actions.flip_averaging
    assert action in win.model_actions.model_menu.actions() and not action.isChecked()
    plain = win.prediction.shown.prediction
    with qtbot.waitSignal(win.models.predictions_invalidated, timeout=TIMEOUT_MS):
        action.trigger()
    assert win.models.tta and win.models.active.predictor.tta and win.settings.flip_averaging
    assert "flip TTA" in win.prediction_dock.model_label.text()
    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)
    shown = win.prediction.shown
    image = win.session.workspace.load_image(shown.key)
    expected = load_model(tiny_model, device="cpu", tta=True).predict(image)
    np.testing.assert_allclose(shown.prediction.uncertainty, expected.uncertainty, atol=1e-4)
    assert not np.allclose(shown.prediction.uncertainty, plain.uncertainty, atol=1e-4)
    win.close()

    again = open_window(qtbot, model_path=tiny_model)  # the setting is remembered
    qtbot.waitUntil(lambda: again.models.active is not None, timeout=TIMEOUT_MS)
    assert again.model_actions.flip_averaging.isChecked()
    assert again.models.active.predictor.tta
    with qtbot.waitSignal(again.models.predictions_invalidated, timeout=TIMEOUT_MS):
        again.model_actions.flip_averaging.trigger()
    assert not again.models.active.predictor.tta and not again.settings.flip_averaging
    again.close()


@pytest.mark.reliability("models", "window: a bad model file is an error, the model in use stays")
def test_open_model_failure_is_an_error_and_keeps_the_model(qtbot, win, tmp_path):
    version = win.models.active_version
    with qtbot.waitSignal(win.models.load_failed, timeout=TIMEOUT_MS):
        win.model_commands.open_model(tmp_path / "missing.safetensors")
    assert "missing.safetensors" in win.last_error
    assert win.models.active_version == version


def test_closing_saves_then_stops_the_worker(qtbot, win, pets):
    key = image_key(6)
    with qtbot.waitSignal(win.prediction.accepted, timeout=TIMEOUT_MS):
        win.file_dock.select_key(key)  # unlabeled: the prediction becomes its mask
    assert win.prediction.accept()  # accepted by the user (only viewed, it would not be saved)
    thread = win.worker._thread
    win.close()
    assert not thread.is_alive()
    assert Workspace.open(pets)[key].state is ImageState.PREDICTED


def test_a_native_scale_model_says_it_predicts_in_tiles(qtbot, pets, tmp_path):
    import dataclasses

    from tests.gui.conftest_model import make_model_file
    from unet_desktop.ml.models.modelfile import load_model_file, save_model

    model, meta = load_model_file(make_model_file(tmp_path / "fit.safetensors"))
    native = tmp_path / "native.safetensors"
    save_model(native, model, dataclasses.replace(meta, scale="native", version="native-1"))
    w = window_on(qtbot, pets, native)
    try:
        assert w.models.mode == "resize" and w.models.active.predictor.tiled
        qtbot.waitUntil(lambda: "tile (native-scale model)"
                        in w.prediction_dock.model_label.text(), timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: w.prediction.shown is not None, timeout=TIMEOUT_MS)
    finally:
        w.close()


def test_the_shipped_default_model_is_fine_tuned_and_kept_by_its_file(qtbot, pets, tiny_model,
                                                                     monkeypatch):
    """A new user starts with the shipped model (no model chosen): Fine-tune starts from it,
    a folder's first task records it, Save As has a file (it was loaded without one: every
    fine-tune of a new user's task was a new model from the ImageNet encoder)."""
    monkeypatch.setattr("unet_desktop.core.io.paths.default_model_path", lambda: tiny_model)
    win = open_window(qtbot, load_model=True)
    try:
        # the worker installs the model, then the window hears of it and enables Save As
        qtbot.waitUntil(lambda: win.model_actions.save_model_as.isEnabled(), timeout=TIMEOUT_MS)
        assert win.models.active.path == tiny_model
        assert win.open_folder(pets)
        win.model_actions.finetune.trigger()  # no task: one is made, the model in use fine-tuned
        dialog = win.training_commands.finetune_dialog
        assert dialog.plan is not None and dialog.plan.init == tiny_model
        dialog.reject()
        task = win.task_commands.ensure_task()  # what Learn as I Correct makes
        assert task is not None and task.model == str(tiny_model)
        owner = win.training_commands._owner(win.session.workspace)
        start = win.models.start_in(owner)
        assert start.path == tiny_model and start.origin.startswith("fine-tunes")
    finally:
        win.close()
