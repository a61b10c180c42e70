"""Model > Versions says what each version was validated on and shows whole notes; Roll Back
works after the folder is reopened (issue 33, item 9)."""


from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS, make_model_file
from unet_desktop.core.folder.task import ModelVersion, Task, save_task, sidecar_dir
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.models.modelfile import read_meta

NOTE = ("learning loop: Kept as a candidate: Dice 0.912 < 0.950 of the model in use on 2 "
        "validation images, so the model in use stays; pick it here to try it anyway.")


def folder_with_two_versions(tmp_path):
    root = tmp_path / "pets"
    root.mkdir()
    for i in range(2):
        Image.fromarray(np.full((40, 48, 3), 40 * i, np.uint8)).save(root / f"img_{i}.png")
    models = sidecar_dir(root) / "models"
    v1 = make_model_file(models / "pets-v1.safetensors", seed=1, name="pets-v1")
    v2 = make_model_file(models / "pets-v2.safetensors", seed=2, name="pets-v2")
    first = ModelVersion("pets-v1", "models/pets-v1.safetensors", read_meta(v1).version,
                         None, "2026-12-06T10:00", {"miou": 0.81}, 2, "",
                         validation_images=1)
    second = ModelVersion("pets-v2", "models/pets-v2.safetensors", read_meta(v2).version,
                          first.version, "2026-12-06T11:00", {"train_loss": 0.2}, 4, NOTE,
                          validation_images=2)
    third = ModelVersion("pets-v3", "models/pets-v3.safetensors", "v3", second.version,
                         "2026-12-06T12:00", {"val_score": 0.912, "dice": 0.912, "miou": 0.84},
                         6, "learning loop: Kept as a candidate",
                         validation_images=2)  # judged on Dice
    save_task(root, Task("pets", trimap_scheme(), model=second.file, versions=(first, second, third)))
    return root, v1, v2


def test_versions_dialog_words_and_roll_back_after_reopening(qtbot, tmp_path):
    root, v1, v2 = folder_with_two_versions(tmp_path)
    win = open_window(qtbot, model_path=v2)  # started again on the task's model
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(root)
    assert win.models.active.path == v2 and win.models.slots.previous is None
    dialog = win.task_commands.show_versions()
    table = dialog.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    candidate = {headers[c]: table.item(0, c).text() for c in range(table.columnCount())}
    assert candidate["Validation"] == "Dice 0.912"  # what the round was judged by
    row = {headers[c]: table.item(1, c).text() for c in range(table.columnCount())}  # v2
    assert row["Validation"] == "not validated"  # no "—": says what it is
    assert row["Labelled images"] == "4 (2 validate)"
    first = {headers[c]: table.item(2, c).text() for c in range(table.columnCount())}
    assert first["Validation"] == "mIoU 0.810" and first["Labelled images"] == "2 (1 validates)"
    note = table.item(1, headers.index("Note"))
    assert note.text() == NOTE and note.toolTip() == NOTE
    rect = table.visualItemRect(note)
    needed = table.fontMetrics().boundingRect(rect.adjusted(0, 0, -8, 0),
                                              int(Qt.TextFlag.TextWordWrap), NOTE)
    assert rect.height() >= needed.height() and rect.right() <= table.viewport().width(), \
        (rect, needed)  # the whole note, on the lines it needs, inside the table
    dialog.close()
    rollback = win.model_actions.rollback
    assert rollback.isEnabled()  # nothing in memory: the task knows v2's parent
    rollback.trigger()
    qtbot.waitUntil(lambda: win.models.active.path == v1, timeout=TIMEOUT_MS)
    assert win.models.slots.previous.path == v2  # C compares with the one rolled back
    win.close()


def test_the_dock_says_how_validation_images_are_chosen(qtbot):
    from PySide6.QtWidgets import QLabel

    win = open_window(qtbot)
    panel = win.learning.panel
    panel.k_spin.setValue(5)
    assert panel.k_spin.text() == "1 in 5 corrected images"
    texts = [label.text() for label in panel.findChildren(QLabel)]
    assert "Validation:" in texts and "th" not in texts and "Validation: every" not in texts
    win.close()
