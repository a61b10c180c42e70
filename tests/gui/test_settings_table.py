"""Settings are one table of typed keys; the brush, prediction modes and learning-rate defaults
each live in one place (issue 18, item 14)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray

from tests.gui.conftest_model import model_worker, models, tiny_model  # noqa: F401
from unet_desktop.core.editing.tools import DEFAULT_BRUSH_SIZE, BrushTool
from unet_desktop.gui.editing.tool_controller import ToolController
from unet_desktop.gui.settings import AppSettings
from unet_desktop.gui.training.finetune_dialog import FinetuneDialog
from unet_desktop.ml.inference.prediction_options import MODES
from unet_desktop.ml.training import train_config

VALUES = {bool: True, int: 7, float: 0.25, str: "tile", QByteArray: QByteArray(b"\x01\x02")}


def test_every_setting_round_trips_and_falls_back_on_bad_values(tmp_path):
    table = AppSettings.table()
    assert len({s.key for s in table}) == len(table) >= 18
    settings = AppSettings(tmp_path / "a.ini")
    for setting in table:
        assert getattr(settings, setting.name) == setting.default
    for setting in table:
        value = tmp_path / "m.safetensors" if setting.name == "model_path" \
            else VALUES[setting.kind]
        setattr(settings, setting.name, value)
    settings.sync()
    again = AppSettings(tmp_path / "a.ini")
    for setting in table:
        expected = getattr(settings, setting.name)
        assert getattr(again, setting.name) == expected, setting.name
    assert again.model_path == tmp_path / "m.safetensors" and again.prediction_mode == "tile"
    assert again.mask_opacity == 0.25 and again.brush_size == 7
    raw = again._qs
    raw.setValue("tools/brush_size", "not a number")
    raw.setValue("model/mode", "sideways")
    raw.setValue("view/mask_opacity", 7.5)
    raw.setValue("model/path", "")
    assert again.brush_size == DEFAULT_BRUSH_SIZE and again.prediction_mode == MODES[0]
    assert again.mask_opacity == 1.0 and again.model_path is None


def test_one_brush_default_and_one_set_of_modes(qtbot):
    assert AppSettings.brush_size.default == DEFAULT_BRUSH_SIZE
    assert inspect.signature(ToolController).parameters["size"].default == DEFAULT_BRUSH_SIZE
    assert BrushTool().size == DEFAULT_BRUSH_SIZE
    assert AppSettings.prediction_mode.default in MODES


def test_the_fine_tune_dialog_reads_the_engine_defaults(qtbot, models, tmp_path, monkeypatch):
    monkeypatch.setattr(train_config, "FINE_TUNE_LR", 2.5e-4)
    monkeypatch.setattr(train_config, "FROM_SCRATCH_LR", 2e-3)
    dialog = FinetuneDialog(models.active, None, Path(tmp_path), device="cpu")
    qtbot.addWidget(dialog)
    assert dialog.lr_spin.value() == pytest.approx(2.5e-4)
    dialog.from_current_check.setChecked(False)
    assert dialog.lr_spin.value() == pytest.approx(2e-3)
    from unet_desktop.ml.training.few_image_recipe import default_val_fraction

    assert dialog.val_spin.value() == pytest.approx(default_val_fraction(0))  # no folder open
