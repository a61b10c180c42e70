"""Decimal boxes read '0.001', '0,001' and '1e-4' as meant, in any locale (a German locale
read '0.001' as 1 and every locale read '1e-4' as 14: a fine-tune at lr = 1.0)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtTest import QTest

from unet_desktop.gui.decimal_box import DecimalSpinBox, parse_decimal
from unet_desktop.gui.training.finetune_dialog import FinetuneDialog
from unet_desktop.gui.training.learning_panel import LearningPanel

GERMAN = QLocale(QLocale.Language.German, QLocale.Country.Germany)
ENGLISH = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
FRENCH = QLocale(QLocale.Language.French, QLocale.Country.France)


@pytest.fixture
def in_locale():
    """Sets the application's default locale (what a German system gives the boxes)."""
    yield QLocale.setDefault
    QLocale.setDefault(QLocale.c())


def type_into(spin, text: str) -> None:
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin.lineEdit(), text)
    QTest.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


@pytest.mark.parametrize("text,value", [
    ("0.001", 0.001), ("0,001", 0.001), ("1e-4", 1e-4), ("2.5E-05", 2.5e-5), ("-3", -3.0),
    (" 7 ", 7.0), ("1e", None), ("1,000.5", None), ("1.2.3", None), ("abc", None), ("", None),
])
def test_parse_decimal(text, value):
    assert parse_decimal(text) == value


@pytest.mark.parametrize("locale", [GERMAN, ENGLISH, FRENCH], ids=["de", "en", "fr"])
@pytest.mark.parametrize("text,lr", [("1e-4", 1e-4), ("0.0005", 5e-4), ("0,0005", 5e-4),
                                     ("2e-6", 2e-6)])
def test_finetune_learning_rate_typed(qtbot, tmp_path, in_locale, locale, text, lr):
    in_locale(locale)
    dialog = FinetuneDialog(None, None, tmp_path / "models", device="cpu")
    qtbot.addWidget(dialog)
    type_into(dialog.lr_spin, text)
    assert dialog.settings().lr == pytest.approx(lr, rel=1e-9)
    assert parse_decimal(dialog.lr_spin.cleanText()) == pytest.approx(lr)  # shown as it is


def test_finetune_minutes_and_validation_in_german(qtbot, tmp_path, in_locale):
    in_locale(GERMAN)
    dialog = FinetuneDialog(None, None, tmp_path / "models", device="cpu")
    qtbot.addWidget(dialog)
    type_into(dialog.minutes_spin, "1.5")
    type_into(dialog.val_spin, "0.2")
    assert dialog.minutes_spin.value() == 1.5  # was 15 min
    assert dialog.val_spin.value() == 0.2  # was 0.0: no image held out
    assert dialog.minutes_spin.text() == "1,5 min"  # shown in the locale's own way


def test_out_of_range_is_not_clamped_silently(qtbot, in_locale):
    in_locale(GERMAN)
    spin = DecimalSpinBox()
    qtbot.addWidget(spin)
    spin.setRange(1e-6, 1.0)
    spin.setValue(1e-3)
    type_into(spin, "5")  # not a learning rate this box takes: the old value stays
    assert spin.value() == 1e-3


def test_learning_target_in_german(qtbot, in_locale):
    in_locale(GERMAN)
    panel = LearningPanel()
    qtbot.addWidget(panel)
    type_into(panel.target_spin, "0.95")
    assert panel.target_spin.value() == pytest.approx(0.95)
