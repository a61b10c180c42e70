"""File > New Task reads the few images its scale and colours are proposed from on the worker
unless their files are small: the dialog shows at once and says what it reads (six large
images, or a network disk, froze the window for seconds before it showed); the proposal then
arrives, the same as before, except where the user chose meanwhile; closing the dialog cancels
the reading. Small files are proposed from before the dialog shows, as before."""

from __future__ import annotations

import threading

import pytest
import tifffile

from tests.core.test_task_proposal import vessel_image
from tests.gui.conftest import open_window
from unet_desktop.core.folder.task_proposal import SAMPLE_IMAGES, propose_for_folder
from unet_desktop.gui.task import task_controller
from unet_desktop.gui.worker import CANCELLED, Priority

TIMEOUT_MS = 10_000
IMAGES = 8


@pytest.fixture
def main_thread_opens(monkeypatch):
    """The TIFF files opened on the UI thread, and those opened on any thread."""
    opened = {"ui": [], "all": []}
    init = tifffile.TiffFile.__init__

    def counting_init(self, arg, *args, **kwargs):
        opened["all"].append(str(arg))
        if threading.current_thread() is threading.main_thread():
            opened["ui"].append(str(arg))
        init(self, arg, *args, **kwargs)

    monkeypatch.setattr(tifffile.TiffFile, "__init__", counting_init)
    return opened


@pytest.fixture
def vessels(tmp_path):
    """Thin lines: the images propose native pixels (not the default, whole images)."""
    for i in range(IMAGES):
        tifffile.imwrite(tmp_path / f"v{i}.tif", vessel_image(i, size=160))
    return tmp_path


@pytest.fixture
def large(monkeypatch):
    """Files read on the worker, however small (as large images are)."""
    monkeypatch.setattr(task_controller, "READ_HERE_BYTES", 0)


def _proposed(qtbot, dialog) -> None:
    qtbot.waitUntil(lambda: not dialog.looking_label.text().startswith("Looking"),
                    timeout=TIMEOUT_MS)


def test_the_dialog_shows_before_the_images_are_read_then_proposes(qtbot, vessels, large,
                                                                    main_thread_opens):
    win = open_window(qtbot)
    assert win.open_folder(vessels)
    main_thread_opens["ui"].clear()
    dialog = win.task_commands.new_task()
    assert main_thread_opens["ui"] == []
    assert dialog.looking_label.text().startswith(
        f"Looking at {SAMPLE_IMAGES} of the folder's images for the scale and the colours")
    assert dialog.scale_combo.currentData() == "fit"  # until the images say otherwise
    _proposed(qtbot, dialog)
    assert main_thread_opens["ui"] == []
    expected = propose_for_folder(win.session.workspace, 2)  # as New Task proposed before
    assert dialog.scale_combo.currentData() == expected.scale == "native"
    assert dialog.classes.colours() == list(expected.colors)
    assert dialog.looking_label.text() == expected.why and "thin structures" in expected.why
    dialog.reject()
    win.close()


def test_what_the_user_chose_meanwhile_is_kept(qtbot, vessels, large):
    win = open_window(qtbot)
    assert win.open_folder(vessels)
    dialog = win.task_commands.new_task()  # no event handled until the waits below
    dialog.scale_combo.setCurrentIndex(dialog.scale_combo.findData("fit"))
    dialog.scale_combo.setCurrentIndex(dialog.scale_combo.findData("native"))
    dialog.scale_combo.setCurrentIndex(dialog.scale_combo.findData("fit"))  # chosen: fit
    dialog.classes.set_colour(1, (1, 2, 3))
    mine = dialog.classes.colours()
    _proposed(qtbot, dialog)
    expected = propose_for_folder(win.session.workspace, 2)
    assert dialog.scale_combo.currentData() == "fit" != expected.scale
    assert dialog.classes.colours() == [expected.colors[0], (1, 2, 3)] != mine
    dialog.reject()
    win.close()


def test_closing_the_dialog_cancels_the_reading(qtbot, vessels, large, main_thread_opens):
    win = open_window(qtbot)
    assert win.open_folder(vessels)
    release = threading.Event()
    win.worker.submit(lambda token: release.wait(TIMEOUT_MS / 1000), Priority.CONTROL)
    dialog = win.task_commands.new_task()
    main_thread_opens["all"].clear()
    looked = []
    win.worker.job_finished.connect(
        lambda job: looked.append(job) if job.name.startswith("look at the images") else None)
    dialog.reject()  # Cancel while the reading waits for the worker
    release.set()
    qtbot.waitUntil(lambda: bool(looked), timeout=TIMEOUT_MS)
    assert looked[0].state == CANCELLED
    assert main_thread_opens["all"] == []  # no image was read
    assert dialog.looking_label.text().startswith("Looking")  # nothing proposed after Cancel
    win.close()


def test_small_files_are_proposed_from_before_the_dialog_shows(qtbot, vessels):
    win = open_window(qtbot)
    assert win.open_folder(vessels)
    dialog = win.task_commands.new_task()
    expected = propose_for_folder(win.session.workspace, 2)
    assert dialog.scale_combo.currentData() == expected.scale == "native"
    assert dialog.classes.colours() == list(expected.colors)
    assert dialog.looking_label.text() == expected.why
    dialog.reject()
    win.close()
