"""A class guessed from the masks that is really their void (CamVid's 11): once the task exists,
Mask > Classes and File > New Task let its value become the unlabeled value, after a
confirmation that says what it does (its pixels are left out of training and evaluation; a
model predicting it no longer fits until a fine-tune). The masks stay readable; the model that
predicts the class is shown for reference, and the next fine-tune makes one of the new classes.
A class truly dropped is still refused, with the true reason and the way out."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS
from tests.gui.test_models_meet import QUICK
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import multiclass_scheme
from unet_desktop.gui.task.class_editor import ClassEditor, dropped_values_problem
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

FOUR = multiclass_scheme(4)  # class_0 .. class_3; 3 is the void nobody said was one
VOID = 3


def _folder_with_void(tmp_path):
    """Two images whose masks hold 0..3 (3: a void band), a 4-class task and its model."""
    root = tmp_path / "streets"
    (root / "masks").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(root / f"s{i}.png")
        mask = np.repeat(np.arange(48) % 3, 40).reshape(48, 40).T.astype(np.uint8)
        mask[:4] = VOID
        Image.fromarray(mask).save(root / "masks" / f"s{i}.png")
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 4, depth=2, base=4), scheme=FOUR,
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="streets-v1")
    model = root / ".unet-desktop" / "models" / "streets-v1.safetensors"
    model.parent.mkdir(parents=True)
    save_model(model, build_model(meta.arch), meta)
    save_task(root, Task("streets", FOUR, model="models/streets-v1.safetensors"))
    return root, model


def _window(qtbot, root, model):
    win = open_window(qtbot, model_path=model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(root)
    return win


def _ok(dialog) -> bool:
    return dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_mask_classes_makes_the_void_class_unlabeled_after_a_plain_confirmation(
        qtbot, tmp_path):
    root, model = _folder_with_void(tmp_path)
    win = _window(qtbot, root, model)
    assert win.task_commands.banner.text() == ""  # the 4-class model fits the 4-class task
    dialog = win.task_commands.edit_classes()
    editor = dialog.editor
    editor.set_sparse(True, VOID)
    editor.remove_class(VOID)
    note = editor.made_unlabeled_label.text()
    assert editor.made_unlabeled_check.isVisibleTo(dialog)
    assert "class_3's pixels (stored as 3)" in note and "left out of training and evaluation" in note
    assert "no longer fits" in note
    assert "to confirm" in dialog.problem_label.text() and not _ok(dialog)
    editor.made_unlabeled_check.setChecked(True)
    assert dialog.problem_label.text() == "" and _ok(dialog)
    dialog.accept()
    qtbot.waitUntil(lambda: load_task(root).scheme.ignore_value == VOID, timeout=TIMEOUT_MS)
    ws = win.session.workspace
    assert ws.scheme.num_classes == 3 and ws.scheme.ignore_value == VOID
    assert not ws.invalid  # every mask stays readable, its void now unlabeled
    assert VOID in ws.load_mask("s0.png")
    # the model predicting class_3 no longer fits: the banner says so, as the note did
    qtbot.waitUntil(lambda: "does not fit" in win.task_commands.banner.text(), timeout=TIMEOUT_MS)
    assert not win.task_commands.accept_button.isEnabled()
    # and the next fine-tune makes a model of the new classes
    win.training_commands.config_overrides = QUICK
    finetune = win.training_commands.finetune()
    assert finetune.plan is not None
    finetune.epochs_spin.setValue(1)
    finetune.size_spin.setValue(32)
    name = finetune.plan.name
    finetune.accept()
    job = win.training_dock.job
    qtbot.waitUntil(lambda: job.finished, timeout=60_000)
    qtbot.waitUntil(lambda: load_task(root).model == f"models/{name}.safetensors",
                    timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: win.models.active.path.name == f"{name}.safetensors",
                    timeout=TIMEOUT_MS)
    assert win.models.active.meta.scheme.num_classes == 3
    qtbot.waitUntil(lambda: win.task_commands.banner.text() == "", timeout=TIMEOUT_MS)
    win.close()


def test_new_task_makes_the_void_class_unlabeled_after_the_same_confirmation(qtbot, tmp_path):
    root, model = _folder_with_void(tmp_path)
    win = _window(qtbot, root, model)
    dialog = win.task_commands.new_task()
    dialog.classes.set_sparse(True, VOID)
    dialog.classes.remove_class(VOID)
    assert "to confirm" in dialog.problem_label.text() and not _ok(dialog)
    dialog.classes.made_unlabeled_check.setChecked(True)
    assert dialog.problem_label.text() == "" and _ok(dialog)
    dialog.accept()
    qtbot.waitUntil(lambda: load_task(root).scheme.ignore_value == VOID, timeout=TIMEOUT_MS)
    assert not win.session.workspace.invalid
    win.close()


def test_a_confirmation_is_asked_again_for_another_class(qtbot, tmp_path):
    root, model = _folder_with_void(tmp_path)
    win = _window(qtbot, root, model)
    editor = win.task_commands.edit_classes().editor
    editor.set_sparse(True, VOID)
    editor.remove_class(VOID)
    editor.made_unlabeled_check.setChecked(True)
    editor.set_kind("multiclass")  # back to the folder's classes: nothing made unlabeled
    editor.set_sparse(False)
    assert not editor.made_unlabeled_check.isVisibleTo(editor)
    editor.remove_class(2)
    editor.set_sparse(True, 2)
    assert "class_2's pixels" in editor.made_unlabeled_label.text()
    assert not editor.made_unlabeled_check.isChecked()
    win.close()


def test_a_class_truly_dropped_is_refused_with_the_true_reason(qtbot, tmp_path):
    root, model = _folder_with_void(tmp_path)
    win = _window(qtbot, root, model)
    dialog = win.task_commands.edit_classes()
    dialog.editor.remove_class(VOID)  # no unlabeled value takes 3
    problem = dialog.problem_label.text()
    assert "3 is class_3's, which the new classes do not have" in problem
    assert "unreadable" in problem and "keep class_3, or make 3 the unlabeled value" in problem
    assert not dialog.editor.made_unlabeled_check.isVisibleTo(dialog) and not _ok(dialog)
    dialog.reject()
    assert load_task(root).scheme == FOUR
    win.close()


def test_no_confirmation_is_asked_for_a_change_refused_anyway(qtbot):
    held = multiclass_scheme(4, ignore_value=255)  # unlabeled pixels stored as 255
    editor = ClassEditor(held)
    qtbot.addWidget(editor)
    editor.keep_classes(held)
    editor.unlabeled_spin.setValue(VOID)
    editor.remove_class(VOID)
    assert editor.made_unlabeled() is None and not editor.made_unlabeled_check.isVisibleTo(editor)
    problem = dropped_values_problem(held, editor.scheme())
    assert "255 stores their unlabeled pixels, which the new classes do not read" in problem
    assert "keep sparse labels, stored as 255" in problem
