"""New Task in a folder of 2-channel images: it proposes a channel, refuses channels that fit no
image (naming one and its channel count), says which images a task leaves out, and keeps their
masks until the task's channels fit them again."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.gui.conftest import open_window
from unet_desktop.core.folder.task import load_task
from unet_desktop.core.folder.workspace import ImageState, Workspace

SLICE = "hs.tif [1 of 3]"


def _two_channel_folder(root, gray: int = 0):
    """An ImageJ ZCYX stack and an image, both of 2 channels; ``gray`` gray images beside
    them; slice 1 of the stack corrected and saved."""
    rng = np.random.default_rng(0)
    tifffile.imwrite(root / "hs.tif", rng.integers(0, 4000, (3, 2, 32, 40), dtype=np.uint16),
                     imagej=True, metadata={"axes": "ZCYX"})
    tifffile.imwrite(root / "two.tif", rng.integers(0, 4000, (32, 40, 2), dtype=np.uint16),
                     photometric="minisblack", planarconfig="contig")
    for i in range(gray):
        tifffile.imwrite(root / f"gray{i}.tif", rng.integers(0, 255, (32, 40), dtype=np.uint8))
    mask = np.zeros((32, 40), np.uint8)
    mask[5:20, 10:30] = 255
    Workspace.open(root).save_mask(SLICE, mask, ImageState.CORRECTED)
    return root


def _ok(dialog) -> bool:
    return dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def _state(win, key):
    return win.session.workspace[key].state


def test_new_task_proposes_a_channel_and_keeps_every_image_listed(qtbot, tmp_path):
    root = _two_channel_folder(tmp_path)
    win = open_window(qtbot)
    assert win.open_folder(root)
    assert len(win.session.workspace) == 4
    dialog = win.task_commands.new_task()
    dialog.name_edit.setText("nuclei")
    assert dialog.channels_edit.text() == "1"  # the box was empty: gray or RGB as stored
    note = " ".join(label.text() for label in dialog.findChildren(type(dialog.problem_label)))
    assert "2 of the folder's 2 image file(s) have 2 channels" in note
    assert _ok(dialog) and dialog.problem_label.text() == ""
    dialog.accept()
    ws = win.session.workspace
    assert ws.task.input_rule["channels"] == [0]
    assert len(ws) == 4 and not ws.skipped  # was 0 of 0: every image skipped
    assert _state(win, SLICE) is ImageState.CORRECTED
    assert win.statusBar().currentMessage().startswith("Task nuclei:")
    win.close()


def test_channels_that_fit_no_image_are_refused_naming_a_file_and_its_channels(qtbot,
                                                                             tmp_path):
    root = _two_channel_folder(tmp_path)
    win = open_window(qtbot)
    assert win.open_folder(root)
    errors = []
    win.task_commands.error.connect(errors.append)
    dialog = win.task_commands.new_task()
    dialog.name_edit.setText("nuclei")
    dialog.channels_edit.setText("")  # gray or RGB as stored
    problem = dialog.problem_label.text()
    assert "no image of this folder would be listed" in problem
    assert "hs.tif: the image has 2 channels" in problem
    assert not _ok(dialog)
    dialog.accept()  # Enter, or a caller that skips the button: refused all the same
    assert errors and errors[-1].startswith("Cannot create the task: no image of this folder")
    assert load_task(root) is None and len(win.session.workspace) == 4
    dialog = win.task_commands.new_task()
    dialog.name_edit.setText("nuclei")
    dialog.channels_edit.setText("3")
    assert "hs.tif: the image has 2 channel(s)" in dialog.problem_label.text()
    win.close()


def test_a_task_that_leaves_images_out_says_which_and_they_come_back_with_their_masks(
        qtbot, tmp_path):
    root = _two_channel_folder(tmp_path, gray=3)  # mostly gray: no channel is proposed
    win = open_window(qtbot)
    assert win.open_folder(root)
    dialog = win.task_commands.new_task()
    dialog.name_edit.setText("nuclei")
    assert dialog.channels_edit.text() == "" and _ok(dialog)
    assert dialog.fit_label.text().startswith("2 of the folder's 5 image file(s) will be "
                                              "skipped with these channels (hs.tif: the image "
                                              "has 2 channels")
    dialog.accept()
    ws = win.session.workspace
    assert [e.key for e in ws] == ["gray0.tif", "gray1.tif", "gray2.tif"]
    said = win.statusBar().currentMessage()  # the Task line no longer hides the skipped files
    assert said.startswith("Task nuclei: background, foreground; 2 image file(s) skipped")
    assert "hs.tif, two.tif; hs.tif: the image has 2 channels" in said
    assert not any("not in the folder" in w for w in ws.warnings)
    assert any(w.startswith(f"1 labelled image(s) are not listed because the task's channels "
                            f"do not fit them ({SLICE})") for w in ws.warnings)

    dialog = win.task_commands.new_task()  # the task set up again, with channel 1
    dialog.channels_edit.setText("1")
    assert dialog.fit_label.text() == ""
    dialog.accept()
    ws = win.session.workspace
    assert len(ws) == 7 and _state(win, SLICE) is ImageState.CORRECTED
    assert (ws.load_mask(SLICE)[5:20, 10:30] == 255).all()
    win.close()


def test_a_task_that_lists_no_image_says_so_in_a_warning(qtbot, tmp_path):
    """A task set up elsewhere (another version, a file copied in) whose channels fit no image:
    applying it warns, naming the file and why, instead of 'Task ...' alone."""
    from dataclasses import replace

    root = _two_channel_folder(tmp_path)
    win = open_window(qtbot)
    assert win.open_folder(root)
    errors = []
    win.task_commands.error.connect(errors.append)
    dialog = win.task_commands.new_task()
    dialog.name_edit.setText("nuclei")
    dialog.accept()
    ws = win.session.workspace
    assert win.task_commands.apply_task(replace(ws.task, input_rule={"kind": "data-range"}))
    ws = win.session.workspace
    assert len(ws) == 0
    assert errors[-1].startswith("Task nuclei: background, foreground; 2 image file(s) skipped")
    assert errors[-1].endswith("; no image is listed")
    assert any(w.startswith("no image is listed: the task's channels fit none of the 2 image "
                            "file(s)") and "(hs.tif: the image has 2 channels" in w
               for w in ws.warnings)
    assert not any("no images found" in w or "not in the folder" in w for w in ws.warnings)
    win.close()


def test_a_task_made_for_a_fine_tune_takes_a_channel_that_keeps_the_images_listed(qtbot,
                                                                                 tmp_path):
    """Fine-tune and Learn as I Correct make a task from the folder's classes when it has none
    (ensure_task): in a folder of 2-channel images it took no channels, which list none of
    them once the folder is read again (the corrected slice gone, '0 corrected images')."""
    root = _two_channel_folder(tmp_path)
    win = open_window(qtbot)
    assert win.open_folder(root)
    task = win.task_commands.ensure_task()
    assert task is not None and task.input_rule["channels"] == [0]
    ws = win.session.workspace
    assert len(ws) == 4 and _state(win, SLICE) is ImageState.CORRECTED
    win.close()
    assert len(Workspace.open(root)) == 4


def test_a_task_made_for_a_fine_tune_in_a_mixed_folder_is_the_one_returned(qtbot, tmp_path):
    """Mostly gray images: the task made takes no channel, the folder is read again without the
    2-channel files, and the task returned is the reopened folder's (it was the old one's None,
    as if it could not be saved)."""
    root = _two_channel_folder(tmp_path, gray=3)
    win = open_window(qtbot)
    assert win.open_folder(root)
    task = win.task_commands.ensure_task()
    assert task is not None and task is win.session.workspace.task
    assert len(win.session.workspace) == 3
    assert "hs.tif: the image has 2 channels" in win.statusBar().currentMessage()
    win.close()
