"""Preferences persist between windows, in the test's own settings file only."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.conftest import REAL_SETTINGS_FILE, file_fingerprint, open_window
from unet_desktop.gui.settings import AppSettings, settings_file


def test_settings_live_in_the_isolated_home(isolated_settings):
    assert settings_file() == isolated_settings / "settings.ini"
    assert settings_file() != REAL_SETTINGS_FILE


def test_preferences_and_recent_folders_persist(qtbot, workspace_dir, isolated_settings):
    before = file_fingerprint(REAL_SETTINGS_FILE)
    win = open_window(qtbot)
    win.open_folder(workspace_dir)
    win.tool_dock.opacity_slider.setValue(30)
    win.tool_dock.outline_check.setChecked(True)
    win.tools.set_size(42)
    win.file_dock.set_sort_mode("state")
    win.tool_dock.island_spin.setValue(77)
    win.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, win.tool_dock)  # layout change
    win.close()

    assert (isolated_settings / "settings.ini").is_file()
    settings = AppSettings()
    assert settings.recent_folders == [str(workspace_dir.resolve())]
    assert settings.mask_opacity == 0.3
    assert settings.outline_only is True
    assert settings.brush_size == 42
    assert settings.min_island == 77

    again = open_window(qtbot)
    assert again.tools.size == 42
    assert again.tool_dock.size_spin.value() == 42
    assert abs(again.canvas.mask_layer.opacity() - 0.3) < 1e-6
    assert again.actions.outline.isChecked() and again.canvas.mask_layer.outline_only
    assert again.file_dock.sort_combo.currentData() == "state"
    assert again.tool_dock.island_spin.value() == 77
    assert again.dockWidgetArea(again.tool_dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert [a.text() for a in again.actions.recent_menu.actions()] == [
        str(workspace_dir.resolve())
    ]
    again.close()
    assert file_fingerprint(REAL_SETTINGS_FILE) == before
