"""The model in use, as the window's code reads it (``ModelController.active``), changes on the
UI thread when the window is told (``model_changed``), never earlier on the worker thread; and
Roll Back refuses a model whose file is gone in every ordering, also while the load of a run's
result has swapped its model in on the worker and the window has not heard of it yet."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.gui.model.model_actions import ModelActions
from unet_desktop.gui.model.model_commands import ModelCommands
from unet_desktop.gui.settings import AppSettings


def swapped_in_unheard(models, path, **load_options):
    """Load ``path`` and wait until the worker swapped it in, its result not yet delivered
    (the UI thread processes no event meanwhile)."""
    job = models.load(path, **load_options)
    assert models.worker.wait_until_finished(job, TIMEOUT_MS / 1000)
    assert models.slots.current.path == path  # the worker's side: it predicts from now on
    return job


def test_active_changes_when_the_window_is_told(qtbot, models, tiny_model, tmp_path):
    other = make_model_file(tmp_path / "other.safetensors", seed=1, name="other")
    told = []
    models.model_changed.connect(lambda model: told.append((model, models.active)))
    swapped_in_unheard(models, other)
    assert models.active.path == tiny_model and models.current.path == tiny_model
    assert models.previous is None and models.loading
    qtbot.waitUntil(lambda: len(told) == 1, timeout=TIMEOUT_MS)
    model, active = told[0]
    assert model is active and active.path == other  # what the signal says is what it reads
    assert models.previous.path == tiny_model and not models.loading


def test_roll_back_to_a_gone_file_is_refused_before_the_window_hears_of_the_load(
        qtbot, models, tiny_model, tmp_path):
    folder = object()
    models.open_folder = lambda: folder
    parent = QWidget()
    commands = ModelCommands(ModelActions(parent), models, AppSettings(), parent, parent)
    errors = []
    commands.error.connect(errors.append)
    version = make_model_file(tmp_path / "v1.safetensors", seed=2, name="v1")
    swapped_in_unheard(models, version, run_result=True)  # a promoted round's version
    assert commands.rollback()  # to tiny: the version becomes the previous model
    assert models.slots.current.path == tiny_model
    assert models.slots.previous.path == version
    version.unlink()  # deleted outside the app
    assert not commands.rollback()
    assert "gone" in errors[-1] and version.name in errors[-1]
    assert models.slots.current.path == tiny_model and models.active.path == tiny_model
    qtbot.waitUntil(lambda: not models.loading, timeout=TIMEOUT_MS)  # the late result
    assert models.active.path == tiny_model and models.previous.path == version
    assert not commands.rollback()  # and once the window heard of it
    assert models.active.path == tiny_model
    parent.deleteLater()
