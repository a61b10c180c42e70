"""A task with sparse labels, an image whose mask file Batch Predict wrote ('predicted by v3'): it
opens all-unlabeled, and the prediction layer is that file's mask, whether no model is loaded,
a model that cannot label the task's classes, or the very version that wrote it; Enter accepts
it. It was shown only when a model of the task's classes was loaded, and then that model's
fresh prediction, not the file's. A model of the task's classes of another version (a newer
guess) shows its own, and the status line says that the file holds v3's. The region tools
(accept a region) take the file's mask as the prediction shown."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS, make_model_file
from tests.gui.test_sparse_batch_predicted_stroke import (
    SCHEME,
    UNLABELED,
    batch_predicted,
    folder,
    on_disk,
    the_prediction,
)
from tests.gui.test_sparse_correction import binary_model
from unet_desktop.core.folder.workspace import ImageState


def window_on_batch_predicted(qtbot, tmp_path, model=None, version="v3"):
    """The window showing a batch-predicted image of a sparse task (``version``: the one that
    wrote it; None: the model's in use), with ``model`` (a file or None) loaded."""
    root, key, _other = folder(tmp_path, False, SCHEME)
    win = open_window(qtbot, model_path=model, ask_for_task=True) if model else open_window(qtbot)
    if model:
        qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    batch_predicted(root, key, version or win.models.active.version)
    assert win.open_folder(root)
    if model:  # the model's prediction of the image has come (and was shown or not)
        with qtbot.waitSignal(win.predictions.prediction_ready, timeout=TIMEOUT_MS,
                              check_params_cb=lambda k, _v, _p: k == key):
            win.file_dock.select_key(key)
    else:
        win.file_dock.select_key(key)
    assert win.session.current_key == key
    return root, key, win


def assert_the_files_mask_is_shown(win, key):
    np.testing.assert_array_equal(win.canvas.prediction_layer.mask, the_prediction())
    assert win.prediction.shown.key == key and win.prediction.shown.from_file
    assert "Batch prediction of" in win.prediction_dock.status_label.text()
    labels, _uncertainty = win.prediction.shown_for_editing()  # the region tools take it too
    np.testing.assert_array_equal(labels, the_prediction())


@pytest.mark.parametrize("loaded", ["no model", "a model of other classes", "the version"])
def test_the_batch_prediction_is_the_layer_and_enter_accepts_it(qtbot, tmp_path, loaded):
    model = {"no model": None,
             "a model of other classes": make_model_file(tmp_path / "pets.safetensors"),
             "the version": binary_model(tmp_path / "cells-v0.safetensors", SCHEME)}[loaded]
    root, key, win = window_on_batch_predicted(
        qtbot, tmp_path, model, version=None if loaded == "the version" else "v3")
    s = win.session
    assert np.all(s.document.mask == UNLABELED)  # the image opened all-unlabeled
    assert_the_files_mask_is_shown(win, key)
    said = []
    s.error.connect(said.append)
    assert not s.mark_verified()  # nothing labelled yet; Enter is the way to accept it
    assert "Accept the prediction (Enter) or paint" in said[-1]
    assert win.prediction.accept()
    np.testing.assert_array_equal(s.document.mask, the_prediction())
    assert s.save()
    saved, state = on_disk(root, key)
    np.testing.assert_array_equal(saved, the_prediction())
    assert state is ImageState.CORRECTED  # accepted whole: the user's label in a sparse task
    win.close()


def test_a_model_of_another_version_shows_its_own_and_says_the_file_holds_v3s(qtbot, tmp_path):
    model = binary_model(tmp_path / "cells-v0.safetensors", SCHEME)
    _root, key, win = window_on_batch_predicted(qtbot, tmp_path, model, version="v3")
    shown = win.prediction.shown
    assert shown.key == key and shown.version == win.models.active.version
    assert not shown.from_file
    status = win.prediction_dock.status_label.text()
    assert "the prediction of cells-v0 (in use)" in status
    assert "its mask file holds the batch prediction of model version v3" in status
    win.close()
