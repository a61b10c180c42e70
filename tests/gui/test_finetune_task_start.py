"""What a fine-tune in the window starts from and where it may go: the task it makes in a folder
without one, the choice of a new model from the pretrained encoder, a folder that cannot be
written (a read-only share) and one another window writes."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import pytest

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import new_window
from tests.gui.test_models_meet import QUICK, hold_fine_tunes, start_fine_tune
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import trimap_scheme


def test_the_task_a_fine_tune_makes_keeps_a_copy_of_another_folders_version(
        qtbot, tmp_path, tiny_model):
    a = make_pets(tmp_path / "a", n_images=3, n_labelled=2)
    b = make_pets(tmp_path / "b", n_images=3, n_labelled=2)
    theirs = make_model_file(a / ".unet-desktop" / "models" / "a-v1.safetensors", seed=5,
                             name="a")
    save_task(a, Task("a", trimap_scheme(), model="models/a-v1.safetensors"))
    win = new_window(qtbot, a, tiny_model)
    qtbot.waitUntil(lambda: win.models.active.path == theirs, timeout=TIMEOUT_MS)
    assert win.open_folder(b)  # a's version stays loaded: b has no task
    said: list[str] = []
    win.task_commands.message.connect(said.append)
    win.training_commands.finetune().reject()
    ours = b / ".unet-desktop" / "models" / "b-v1.safetensors"
    assert load_task(b).model == "models/b-v1.safetensors" and ours.is_file()
    assert any("this task keeps a copy, b-v1.safetensors" in m for m in said), said
    qtbot.waitUntil(lambda: win.models.active.path == ours, timeout=TIMEOUT_MS)
    assert theirs.is_file()
    win.close()


def test_the_fine_tune_dialog_still_offers_a_new_model_from_the_pretrained_encoder(
        qtbot, tmp_path, tiny_model):
    pets = make_pets(tmp_path / "pets", n_images=7, n_labelled=4)
    win = new_window(qtbot, pets, tiny_model)
    win.training_commands.config_overrides = QUICK
    dialog = win.training_commands.finetune()
    check = dialog.from_current_check
    assert dialog.plan is not None and dialog.plan.init == tiny_model
    assert check.isVisibleTo(dialog) and check.isEnabled() and check.isChecked()
    assert dialog.config().init == tiny_model
    check.setChecked(False)
    assert "a new model from the ImageNet-pretrained encoder" in dialog.model_label.text()
    assert dialog.lr_spin.value() == pytest.approx(dialog.defaults.from_scratch_lr)
    dialog.epochs_spin.setValue(1)
    dialog.size_spin.setValue(32)
    name = dialog.plan.name
    dialog.accept()
    job = win.training_dock.job
    qtbot.waitUntil(lambda: job.finished, timeout=60_000)
    qtbot.waitUntil(lambda: load_task(pets).model == f"models/{name}.safetensors",
                    timeout=TIMEOUT_MS)
    version = load_task(pets).version_of(f"models/{name}.safetensors")
    assert version.parent is None  # no parent: it did not start from the model in use
    qtbot.waitUntil(lambda: win.models.active.path.name == f"{name}.safetensors",
                    timeout=TIMEOUT_MS)
    win.close()


@pytest.fixture
def read_only_share(tmp_path):
    """A folder of 4 corrected images whose write bits are off (a read-only lab share: the app
    reads them as such even for root)."""
    share = make_pets(tmp_path / "share", n_images=7, n_labelled=4)
    share.chmod(0o555)
    yield share
    share.chmod(0o755)


def fingerprint(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_a_folder_that_cannot_be_written_is_fine_tuned_into_the_user_models_folder(
        qtbot, read_only_share, tiny_model):
    share = read_only_share
    before = fingerprint(share)
    win = new_window(qtbot, share, tiny_model)
    ws = win.session.workspace
    assert ws.read_only and ws.lock_holder is None
    win.training_commands.config_overrides = QUICK
    said: list[str] = []
    win.training_commands.message.connect(said.append)
    dialog = win.training_commands.finetune()
    assert dialog is not None, said
    assert dialog.plan is None and dialog.from_current_check.isVisibleTo(dialog)
    assert dialog.where_label.isVisibleTo(dialog)
    models = win.training_commands.models_folder
    assert str(models) in dialog.where_label.text()
    dialog.epochs_spin.setValue(1)
    dialog.size_spin.setValue(32)
    dialog.accept()
    job = win.training_dock.job
    qtbot.waitUntil(lambda: job.finished, timeout=60_000)
    qtbot.waitUntil(lambda: win.models.active.path.parent == models, timeout=TIMEOUT_MS)
    assert fingerprint(share) == before  # no task, no model, nothing written there
    win.close()


def test_a_fine_tune_of_a_read_only_share_is_not_loaded_once_another_folder_is_open(
        qtbot, tmp_path, read_only_share, tiny_model, monkeypatch):
    other = make_pets(tmp_path / "other", n_images=3, n_labelled=1)
    win = new_window(qtbot, read_only_share, tiny_model)
    assert win.session.workspace.read_only
    go = hold_fine_tunes(monkeypatch)
    start_fine_tune(win)
    job = win.training_dock.job
    assert win.open_folder(other) and not win.session.workspace.read_only
    said: list[str] = []
    win.training_commands.message.connect(said.append)
    go.set()
    qtbot.waitUntil(lambda: job.finished, timeout=60_000)
    qtbot.waitUntil(lambda: any("not loaded, another folder is open now" in m for m in said),
                    timeout=TIMEOUT_MS)
    assert win.models.active.path == tiny_model
    assert load_task(other) is None or load_task(other).model is None
    win.close()


def test_a_fine_tune_started_once_the_copy_is_in_use_says_nothing_changed_meanwhile(
        qtbot, tmp_path, tiny_model):
    a = make_pets(tmp_path / "a", n_images=7, n_labelled=4)
    b = make_pets(tmp_path / "b", n_images=7, n_labelled=4)
    theirs = make_model_file(a / ".unet-desktop" / "models" / "a-v1.safetensors", seed=5,
                             name="a")
    save_task(a, Task("a", trimap_scheme(), model="models/a-v1.safetensors"))
    win = new_window(qtbot, a, tiny_model)
    qtbot.waitUntil(lambda: win.models.active.path == theirs, timeout=TIMEOUT_MS)
    assert win.open_folder(b)
    said: list[str] = []
    win.training_commands.message.connect(said.append)
    win.training_commands.error.connect(said.append)
    win.training_commands.config_overrides = QUICK
    dialog = win.training_commands.finetune()
    dialog.epochs_spin.setValue(1)
    dialog.size_spin.setValue(32)
    qtbot.waitUntil(lambda: win.models.active.path.name == "b-v1.safetensors",
                    timeout=TIMEOUT_MS)  # the copy of a-v1, the same model
    dialog.accept()
    job = win.training_dock.job
    assert said == ["Fine-tuning into b-v2.safetensors..."]
    qtbot.waitUntil(lambda: job.finished, timeout=60_000)
    qtbot.waitUntil(lambda: load_task(b).model == "models/b-v2.safetensors", timeout=TIMEOUT_MS)
    win.close()
