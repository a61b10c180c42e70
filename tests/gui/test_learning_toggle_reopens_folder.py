"""Training > Learn as I Correct turned on in a folder without a task, where the task it makes
leaves a file out (a 2-channel TIFF among gray ones) and so reopens the folder: the toggle
showed off while learning was on, no round started, and the next save started one with the
toggle still off. Now the reopened folder's loop is turned on, the toggle shows it and the
round starts at once."""

import numpy as np
import tifffile

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS
from unet_desktop.core.folder.learning_record import (
    LearningRecord,
    load_record,
    record_path,
    save_record,
)
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.ml.loop.learning_loop import LoopSettings


def mixed_folder(root):
    """Three gray TIFFs (one corrected) and one 2-channel TIFF, no task."""
    rng = np.random.default_rng(0)
    tifffile.imwrite(root / "two.tif", rng.integers(0, 4000, (64, 80, 2), dtype=np.uint16),
                     photometric="minisblack", planarconfig="contig")
    for i in range(3):
        tifffile.imwrite(root / f"gray{i}.tif", rng.integers(0, 255, (64, 80), dtype=np.uint8))
    mask = np.zeros((64, 80), np.uint8)
    mask[5:20, 10:30] = 255
    Workspace.open(root).save_mask("gray0.tif", mask, ImageState.CORRECTED)
    return root


def test_learning_turned_on_where_its_task_reopens_the_folder(qtbot, tmp_path):
    root = mixed_folder(tmp_path)
    win = open_window(qtbot)
    learning = win.learning
    learning.settings = LoopSettings(epochs=1, size=64, batch_size=4)
    assert win.open_folder(root)
    assert win.session.workspace.task is None and len(win.session.workspace) == 4
    first_loop = learning.loop
    learning.action.trigger()  # Training > Learn as I Correct: on
    qtbot.waitUntil(lambda: learning.round_job is not None, timeout=TIMEOUT_MS)
    ws = win.session.workspace
    assert ws.task is not None and "two.tif" not in ws  # the folder was read again
    assert learning.loop is not first_loop
    assert learning.action.isChecked() and learning.enabled
    assert load_record(record_path(root)).enabled
    learning.round_job.cancel()
    qtbot.waitUntil(lambda: not learning.running, timeout=TIMEOUT_MS)
    win.close()


def test_a_round_of_a_folder_whose_task_reopens_it_runs_on_the_reopened_folder(qtbot, tmp_path):
    """Learning on in the folder's record but no task yet: the first round makes the task,
    which reopens the folder. The round was the folder's as first opened: it was recorded as
    v1 while the dock said it was "cancelled: the folder was opened again; nothing kept", and a
    second round (v2) followed. Now the one round is the reopened folder's."""
    root = mixed_folder(tmp_path)
    save_record(record_path(root), LearningRecord(enabled=True))
    win = open_window(qtbot)
    learning = win.learning
    learning.settings = LoopSettings(epochs=1, size=64, batch_size=4)
    with qtbot.waitSignal(learning.round_finished, timeout=TIMEOUT_MS):
        assert win.open_folder(root)
    assert win.session.workspace.task is not None and "two.tif" not in win.session.workspace
    assert learning.action.isChecked() and learning.enabled
    assert [v.name for v in win.session.workspace.task.versions] == [f"{root.name}-v1"]
    assert "nothing kept" not in win.training_dock.status_label.text()
    win.close()
