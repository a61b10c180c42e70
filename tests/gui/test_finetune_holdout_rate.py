"""The Fine-tune dialog names the folder's own validation rate: it said "1 in k corrected
images" with a literal k, while the learning panel said "1 in 5"."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import make_pets, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import new_window
from unet_desktop.core.folder.learning_record import LearningRecord, record_path, save_record
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import trimap_scheme


def test_the_dialog_says_one_in_the_folders_k(qtbot, tmp_path, tiny_model):
    pets = make_pets(tmp_path / "pets", n_images=3, n_labelled=2)
    save_task(pets, Task("pets", trimap_scheme()))
    save_record(record_path(pets), LearningRecord(every_k=3))
    win = new_window(qtbot, pets, tiny_model)
    dialog = win.training_commands.finetune()
    assert "validation set (1 in 3 corrected images" in dialog.validation_label.text()
    dialog.reject()
    win.close()
