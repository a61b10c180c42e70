"""A sparse task's batch-predicted image opened with no model loaded: it opens all-unlabeled
(a save holds only the strokes) with the file's mask as the prediction layer, so Mark Verified
says to accept it (Enter) or paint, and the first save keeps the model's mask file in
.unet-desktop/replaced/ and says so; nothing is lost (code review 2, finding 5; the layer:
tests/gui/test_sparse_batch_prediction_layer.py)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.test_sparse_batch_predicted_stroke import (
    SCHEME,
    UNLABELED,
    batch_predicted,
    folder,
    on_disk,
    one_stroke,
    the_prediction,
)
from unet_desktop.core.folder.workspace import ImageState


def test_without_a_model_the_set_aside_prediction_is_kept_and_the_messages_say_so(
        qtbot, tmp_path):
    root, key, _other = folder(tmp_path, False, SCHEME)
    batch_predicted(root, key, "v3")  # e.g. `unet-desktop predict --in-place`
    win = open_window(qtbot)  # no model loaded
    assert win.open_folder(root)
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.session.current_key == key)
    s = win.session
    assert np.all(s.document.mask == UNLABELED) and win.canvas.has_prediction()
    said = []
    s.error.connect(said.append)
    assert not s.mark_verified()
    assert "shown as a layer" not in said[-1] and "Accept the prediction (Enter)" in said[-1]
    assert s.workspace[key].state is ImageState.PREDICTED
    one_stroke(qtbot, win)
    error_before = win.last_error
    assert s.save()
    saved, state = on_disk(root, key)
    painted = saved != UNLABELED
    assert state is ImageState.CORRECTED and 0 < painted.sum() < 60  # the stroke alone
    kept = list((root / ".unet-desktop" / "replaced").glob("*.png"))
    assert len(kept) == 1  # the model's mask file, as it was
    np.testing.assert_array_equal(np.asarray(Image.open(kept[0])), the_prediction())
    told = win.statusBar().currentMessage()  # said, not a warning box: the usual save
    assert "kept in .unet-desktop/replaced/" in told and key in told
    assert win.last_error == error_before  # no warning box for it
    win.close()
