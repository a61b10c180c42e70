"""A stroke on a sparse task's batch-predicted image (opened all-unlabeled, the model's mask set
aside), autosaved, the app killed: after the restart the stroke is recovered as the correction,
Ctrl+Z gives back the image as it opened (all-unlabeled, not the model's whole mask as an edit),
and leaving it writes the model's mask back 'predicted' (code review 2, finding 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.test_crash_recovery import REPO, autosaves
from tests.gui.test_sparse_batch_predicted_stroke import (
    SCHEME,
    UNLABELED,
    batch_predicted,
    folder,
    on_disk,
    the_prediction,
)
from unet_desktop.core.folder.autosave import RecoveryJournal, default_recovery_dir
from unet_desktop.core.folder.workspace import ImageState

CTRL = Qt.KeyboardModifier.ControlModifier


def killed_after_a_stroke(root, key, home) -> None:
    """Run the app on ``root``, paint a stroke of class 0 on ``key`` (the first image) and kill
    it once the stroke is autosaved."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", UNET_DESKTOP_HOME=str(home))
    app = subprocess.Popen([sys.executable, "-m", "unet_desktop.cli", str(root), "--test-stroke",
                            "10.5,20.5,30.5,20.5,0,3"], cwd=REPO, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = RecoveryJournal(default_recovery_dir())
    deadline = time.monotonic() + 90
    try:
        while not autosaves(journal, root, key):
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "no autosave"
            time.sleep(0.1)
    finally:
        app.send_signal(signal.SIGKILL)
        app.communicate(timeout=30)


def test_undoing_a_recovered_stroke_gives_back_the_models_mask_as_predicted(
        qtbot, tmp_path, isolated_settings):
    root, other, key = folder(tmp_path, False, SCHEME)
    batch_predicted(root, key, "v3")
    killed_after_a_stroke(root, key, isolated_settings)
    win = open_window(qtbot)  # the restart
    assert win.open_folder(root) and win.recovered_keys == [key]
    saved, state = on_disk(root, key)
    painted = saved != UNLABELED
    assert state is ImageState.CORRECTED  # the stroke alone is the correction
    assert 0 < painted.sum() < 200 and set(np.unique(saved[painted])) == {0}
    kept = list((root / ".unet-desktop" / "replaced").glob("*.png"))  # the model's file, kept
    assert len(kept) == 1
    np.testing.assert_array_equal(np.asarray(Image.open(kept[0])), the_prediction())
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.session.current_key == key)
    s = win.session
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)  # undo the recovered stroke: the image as it opened
    assert np.all(s.document.mask == UNLABELED) and s.document.dirty
    with qtbot.waitSignal(s.error):  # nothing on screen is labelled: nothing to verify
        assert not s.mark_verified()
    win.file_dock.select_key(other)  # leave: the model's mask goes back, as the model's
    qtbot.waitUntil(lambda: win.session.current_key == other)
    saved, state = on_disk(root, key)
    np.testing.assert_array_equal(saved, the_prediction())
    assert state is ImageState.PREDICTED and s.workspace[key].model_version == "v3"
    assert key not in [e.key for e in s.workspace.labelled()]
    win.close()
