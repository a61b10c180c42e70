"""Batch Predict: Enter typed in a path field presses no button. The Folder row's Browse... was
the dialog's default button, so Enter in the Output or Model field opened the "Folder of images"
chooser, and a folder picked there replaced the folder to predict."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QPushButton

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.gui.model.batch_predict_dialog import BatchPredictDialog


def test_enter_in_a_path_field_opens_no_chooser_and_starts_nothing(qtbot, models, tmp_path,
                                                                   monkeypatch):
    choosers: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(
        lambda _parent, title, *_a, **_k: choosers.append(title) or str(tmp_path)))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(
        lambda _parent, title, *_a, **_k: choosers.append(title) or ("", "")))
    root = make_pets(tmp_path / "pets", 3, 1)
    dialog = BatchPredictDialog(models, Workspace.open(root))
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    for edit, typed in ((dialog.output_edit, "preds"), (dialog.model_edit, ""),
                        (dialog.folder_edit, "")):
        edit.setFocus()
        qtbot.waitUntil(lambda e=edit: QApplication.focusWidget() is e)
        qtbot.keyClicks(edit, typed)
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert choosers == [], edit
        assert dialog.job is None and dialog.isVisible()
    assert dialog.folder_edit.text() == str(root)  # the folder to predict is as it was
    assert dialog.output_edit.text() == "preds"
    assert [b.text() for b in dialog.findChildren(QPushButton) if b.isDefault()] == []
    dialog.close()
