"""Start in the Fine-tune dialog checks what the dialog was planned from, as the window knows it
then: the model in use (also a switch between two models that cannot label the task), the
folder, its classes and its corrected images. A changed model plans the run again; a changed
folder or images start nothing and say what changed."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments
from __future__ import annotations

from pathlib import Path

import torch

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    disc_pair,
    image_key,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import pets, win  # noqa: F401 - fixtures used by name
from tests.gui.test_models_meet import QUICK, messages_of
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.folder.task import load_task
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.gui.training.finetune_plan import PlanBasis
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model


def binary_model(path: Path, name: str) -> Path:
    """A model of other classes than the pets' trimap: it cannot label the task."""
    torch.manual_seed(1)
    meta = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name=name)
    save_model(path, build_model(meta.arch), meta)
    return path


def load(qtbot, win, path: Path) -> None:
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        win.models.load(path)  # as Model > Open does
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)


def open_dialog(win):
    win.training_commands.config_overrides = QUICK
    win.model_actions.finetune.trigger()
    dialog = win.training_commands.finetune_dialog
    dialog.epochs_spin.setValue(1)
    dialog.size_spin.setValue(32)
    return dialog


def reservations(folder: Path) -> list[Path]:
    return list((folder / ".unet-desktop" / "models").glob("*.reserved"))


def test_start_after_a_switch_between_two_models_unfit_for_the_task_plans_again(
        qtbot, win, pets, tmp_path):
    a = binary_model(tmp_path / "a.safetensors", "a")
    b = binary_model(tmp_path / "b.safetensors", "b")
    assert win.training_commands.ensure_task() is not None
    load(qtbot, win, a)
    assert load_task(pets).model is None  # a cannot label the task: no version in use
    said = messages_of(win.training_commands)
    dialog = open_dialog(win)
    load(qtbot, win, b)  # another model that cannot label the task, while the dialog is open
    with qtbot.waitSignal(win.training_dock.training_finished, timeout=60_000) as done:
        dialog.accept()
    assert ("It trains a new model from the ImageNet-pretrained encoder: the model in use "
            "changed while the dialog was open (now b") in said[0], said
    qtbot.waitUntil(lambda: win.models.active.path == done.args[0].model_path,
                    timeout=TIMEOUT_MS)
    task = load_task(pets)  # put into use over b, which the user had chosen before Start
    assert task.model == f"models/{done.args[0].model_path.name}"
    assert "candidate" not in task.version_of(task.model).note


def test_start_after_another_folder_was_opened_starts_nothing_and_says_so(
        qtbot, win, pets, tmp_path):
    other = make_pets(tmp_path / "other", n_images=5, n_labelled=3)
    errors = []
    win.training_commands.error.connect(errors.append)
    dialog = open_dialog(win)
    assert reservations(pets)  # the run's version name is reserved
    assert win.open_folder(other)
    dialog.accept()
    assert win.training_dock.job is None
    assert errors[-1] == ("Cannot start training: another folder (other) was opened while the "
                          "Fine-tune dialog was open; open it again"), errors
    assert not reservations(pets)


def test_start_after_an_image_was_corrected_starts_nothing_and_names_it(qtbot, win, pets):
    key, s = image_key(5), win.session
    errors = []
    win.training_commands.error.connect(errors.append)
    dialog = open_dialog(win)
    win.file_dock.select_key(key)  # corrected while the dialog is open (another way in)
    s.apply(delta_from_masks(s.document.mask, disc_pair(5)[1], "correct"))
    assert s.save("save") and s.workspace[key].state is ImageState.CORRECTED
    dialog.accept()
    assert win.training_dock.job is None
    assert errors[-1] == ("Cannot start training: img_05.png is now corrected or verified "
                          "while the Fine-tune dialog was open; open it again"), errors
    assert not reservations(pets)


class Ws:
    def __init__(self, root, scheme, keys):
        self.root, self.scheme = Path(root), scheme
        self._keys = keys

    def labelled(self):
        return [type("E", (), {"key": k}) for k in self._keys]


def test_the_basis_names_the_classes_and_images_that_changed(tmp_path):
    keys = [f"images/{n}.png" for n in "abcdef"]
    before = PlanBasis.of(Ws(tmp_path, trimap_scheme(), keys[:2]), None)
    assert before.data_changes(PlanBasis.of(Ws(tmp_path, trimap_scheme(), keys[:2]), None)) == ""
    now = PlanBasis.of(Ws(tmp_path, binary_scheme(), keys[1:]), None)
    assert before.data_changes(now) == (
        "the classes changed to background, foreground; c.png, d.png, e.png and 1 more are "
        "now corrected or verified; a.png is no longer corrected")
    elsewhere = PlanBasis.of(Ws(tmp_path / "b", trimap_scheme(), keys[:2]), None)
    assert before.data_changes(elsewhere) == "another folder (b) was opened"
