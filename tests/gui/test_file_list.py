"""The image list: state icons, unsaved marks, filter, sort and keyboard navigation."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.gui.editing.file_list_dock import KEY_ROLE, STATE_ROLE, UNCERTAINTY_ROLE


def test_lists_every_image_with_its_state(window):
    dock = window.file_dock
    assert dock.visible_keys() == KEYS
    states = {k: dock.row_data(k, STATE_ROLE) for k in KEYS}
    assert states == {KEYS[0]: "corrected", KEYS[1]: "corrected", KEYS[2]: "corrected",
                      KEYS[3]: "unlabeled"}
    assert not dock.row_data(KEYS[0], Qt.ItemDataRole.DecorationRole).isNull()
    assert dock.count_label.text() == "4 of 4 shown, 3 corrected or verified"


def test_filter_by_name_and_state(qtbot, window):
    dock = window.file_dock
    qtbot.keyClicks(dock.filter_edit, "dog")
    assert dock.visible_keys() == [KEYS[3]]
    dock.filter_edit.clear()
    dock.state_combo.setCurrentIndex(dock.state_combo.findData("corrected"))
    assert dock.visible_keys() == KEYS[:3]
    assert dock.count_label.text().startswith("3 of 4 shown")


def test_typing_in_the_filter_does_not_trigger_shortcuts(qtbot, window):
    dock = window.file_dock
    dock.filter_edit.setFocus()
    qtbot.keyClicks(dock.filter_edit, "d2")  # D = next image, 2 = class 2 elsewhere
    assert window.session.current_key == KEYS[0]
    assert window.tools.value == 1
    assert dock.filter_edit.text() == "d2"


def test_filtering_out_the_open_image_keeps_it_open(qtbot, window):
    dock = window.file_dock
    dock.state_combo.setCurrentIndex(dock.state_combo.findData("unlabeled"))
    assert dock.visible_keys() == [KEYS[3]]
    assert window.session.current_key == KEYS[0]
    qtbot.keyClick(window, Qt.Key.Key_PageDown)  # navigation goes on in the filtered list
    assert window.session.current_key == KEYS[3]
    dock.state_combo.setCurrentIndex(0)
    assert dock.current_key() == KEYS[3]


def test_sort_by_state_and_uncertainty(qtbot, window):
    dock = window.file_dock
    ws = window.session.workspace
    ws[KEYS[1]].state = ImageState.PREDICTED
    ws[KEYS[1]].uncertainty = 0.9
    ws[KEYS[2]].state = ImageState.VERIFIED
    ws[KEYS[0]].uncertainty = 0.2
    for key in KEYS:
        window._on_entry_changed(key)
    dock.set_sort_mode("state")
    assert dock.visible_keys() == [KEYS[3], KEYS[1], KEYS[0], KEYS[2]]
    dock.set_sort_mode("uncertainty")
    assert dock.visible_keys() == [KEYS[1], KEYS[0], KEYS[2], KEYS[3]]
    assert window.settings.file_sort == "uncertainty"


def test_keyboard_navigation_follows_the_shown_order(qtbot, window):
    dock = window.file_dock
    dock.state_combo.setCurrentIndex(dock.state_combo.findData("corrected"))
    qtbot.keyClick(window, Qt.Key.Key_End)  # not a shortcut: nothing happens
    for expected in (KEYS[1], KEYS[2], KEYS[2]):  # stops at the end
        qtbot.keyClick(window, Qt.Key.Key_PageDown)
        assert window.session.current_key == expected
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert window.session.current_key == KEYS[1]
    assert dock.current_key() == KEYS[1]


def test_clicking_a_row_opens_that_image(qtbot, window):
    dock = window.file_dock
    index = dock.view.model().index(2, 0)
    rect = dock.view.visualRect(index)
    qtbot.mouseClick(dock.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.session.current_key == KEYS[2]
    assert window.windowTitle().startswith(f"{KEYS[2]}")


def test_the_list_reads_the_workspace_entries_it_does_not_copy_them(qtbot, window):
    """One owner: the workspace's entries; the list shows what they say (issue 18, item 14)."""
    dock, ws = window.file_dock, window.session.workspace
    ws.note_uncertainty(KEYS[3], 0.75)
    assert dock.row_data(KEYS[3], UNCERTAINTY_ROLE) == 0.75  # nothing synced by hand
    with qtbot.waitSignal(dock._model.dataChanged) as changed:
        ws.set_state(KEYS[2], ImageState.VERIFIED)
        dock.refresh_entry(KEYS[2])
    assert changed.args[0].data(KEY_ROLE) == KEYS[2]
    assert dock.row_data(KEYS[2], STATE_ROLE) == "verified"
    assert dock.count_label.text() == "4 of 4 shown, 3 corrected or verified"
