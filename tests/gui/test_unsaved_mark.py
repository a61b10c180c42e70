"""The window title's unsaved mark ([*]) and the file list's '*' tell the same thing."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, sample_trimap
from tests.gui.helpers import click


def _listed_unsaved(window, key: str) -> bool:
    return window.file_dock.row_data(key, Qt.ItemDataRole.DisplayRole).endswith("*")


def test_a_prediction_only_looked_at_leaves_the_title_saved(qtbot, window, workspace_dir):
    """Viewing never writes: a prediction that became the mask by itself is no unsaved edit,
    in the title as in the file list; the user's first stroke makes it one in both."""
    window.file_dock.select_key(KEYS[3])  # no mask file yet
    window.session.accept_prediction(sample_trimap(0), "v1", 0.1, automatic=True)
    assert not window.isWindowModified() and not _listed_unsaved(window, KEYS[3])
    click(qtbot, window.canvas, 3.5, 3.5)
    assert window.isWindowModified() and _listed_unsaved(window, KEYS[3])
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not window.isWindowModified() and not _listed_unsaved(window, KEYS[3])
    window.close()
    assert not (workspace_dir / "annotations" / "trimaps" / "dog_0.png").exists()
