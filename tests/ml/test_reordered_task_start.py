"""A task whose classes were reordered (Mask > Classes > Up/Down, names and values kept) still
fine-tunes its own model: the next round or fine-tune starts from it, its classifier's rows put
in the task's order (training indices follow the task's order), not from the ImageNet encoder."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import torch

from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import multiclass_scheme
from unet_desktop.ml.loop.folder_models import FolderModels, prediction_mismatch
from unet_desktop.ml.models.modelfile import load_model_file
from unet_desktop.ml.training.train_config import TrainConfig
from unet_desktop.ml.training.train_start import starting_model

FOUR = multiclass_scheme(["bg", "nucleus", "cyto", "debris"], ignore_value=255)


def _reordered(scheme, order):
    return replace(scheme, classes=tuple(scheme.classes[i] for i in order))


def test_the_next_model_of_a_reordered_task_starts_from_its_model(tmp_path, model_file_factory):
    model, _ = model_file_factory(FOUR, name="four-v0.safetensors")
    root = tmp_path / "four"
    root.mkdir()
    reordered = _reordered(FOUR, (0, 1, 3, 2))
    save_task(root, Task("four", reordered, model=str(model)))
    start = FolderModels(root, tmp_path / "user-models").starting_point(model, FOUR)
    assert start.path == model and start.new_classes  # rows mapped onto the task's order
    assert prediction_mismatch(root, Task("four", reordered, model=str(model)), model,
                               FOUR) is None


def test_the_rows_follow_the_classes_to_their_new_place(tmp_path, model_file_factory):
    model, _ = model_file_factory(FOUR)
    parent, _ = load_model_file(model)
    reordered = _reordered(FOUR, (3, 0, 1, 2))  # debris moved to the top
    start = starting_model(SimpleNamespace(scheme=reordered),
                           TrainConfig(tmp_path / "out.safetensors", init=model, new_classes=True))
    for row, source in enumerate((3, 0, 1, 2)):
        assert torch.equal(start.model.head.weight[row], parent.head.weight[source])
    assert start.scheme.names == ["debris", "bg", "nucleus", "cyto"]


def test_the_task_s_own_model_renamed_and_reordered_keeps_its_rows_by_value(
        tmp_path, model_file_factory):
    model, _ = model_file_factory(FOUR, name="four-v0.safetensors")
    parent, _ = load_model_file(model)
    junk = replace(FOUR.classes[3], name="junk")
    task_scheme = replace(FOUR, classes=(FOUR.classes[0], FOUR.classes[1], junk, FOUR.classes[2]))
    root = tmp_path / "four"
    root.mkdir()
    task = Task("four", task_scheme, model=str(model))
    save_task(root, task)
    start = FolderModels(root, tmp_path / "user-models").starting_point(model, FOUR)
    assert start.path == model and start.renamed
    assert prediction_mismatch(root, task, model, FOUR) is None
    assert prediction_mismatch(root, task, tmp_path / "other.safetensors", FOUR) is not None
    child = starting_model(SimpleNamespace(scheme=task_scheme),
                           TrainConfig(tmp_path / "out.safetensors", init=model, new_classes=True,
                                       renamed_classes=True))
    for row, source in enumerate((0, 1, 3, 2)):
        assert torch.equal(child.model.head.weight[row], parent.head.weight[source])


def test_a_round_after_a_reorder_is_judged_against_the_task_s_model(tmp_path, model_file_factory):
    """The round fine-tunes the reordered task's model (rows carried to the task's order) and the
    gate compares it with that model, not as "the first model of these classes"."""
    import numpy as np

    from unet_desktop.core.folder.learning_record import record_path
    from unet_desktop.core.labels import ClassInfo, LabelScheme
    from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings, RoundPlan

    pet, bg, border = (ClassInfo("pet", (255, 0, 0), 1), ClassInfo("bg", (0, 0, 255), 2),
                       ClassInfo("border", (255, 255, 0), 3))
    before = LabelScheme("multiclass", (pet, bg, border))
    parent_file, _ = model_file_factory(before)
    parent, _ = load_model_file(parent_file)
    reordered = LabelScheme("multiclass", (bg, pet, border))

    def pair(i):
        rng = np.random.default_rng(i)
        yy, xx = np.mgrid[:40, :48]
        d2 = (yy - 12 - i % 15) ** 2 + (xx - 14 - (3 * i) % 20) ** 2
        image = (rng.normal(60, 20, (40, 48, 3)) + (d2 < 64)[..., None] * 120).clip(0, 255)
        return image.astype(np.uint8), np.where(d2 < 49, 1, np.where(d2 < 81, 3, 2)).astype(
            np.uint8)

    pairs = {f"img_{i}.png": pair(i) for i in range(4)}
    loop = LearningLoop(reordered, record_path(tmp_path), pairs.__getitem__,
                        LoopSettings(epochs=1, size=32, batch_size=4, device="cpu", lr=1e-12))
    loop.set_every_k(2)
    for name in pairs:
        loop.note_corrected(name)
    result = list(loop.run_round(RoundPlan(parent_file, tmp_path / "v1.safetensors")))[-1]
    assert result.gate == "validation"  # judged against the task's model
    child, meta = load_model_file(result.model_path)
    assert meta.scheme.names == ["bg", "pet", "border"]
    for row, source in enumerate((1, 0, 2)):
        assert torch.allclose(child.head.weight[row], parent.head.weight[source], atol=1e-4)
