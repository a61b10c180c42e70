"""A decimal spin box that reads numbers the way scientists type them, whatever the locale.

Qt's ``QDoubleSpinBox`` accepts only the system locale's decimal mark: in a German locale it
read a typed ``0.001`` as ``1`` (the ``.`` taken for a thousands separator), in any locale it
dropped the ``e`` of ``1e-4`` (read as ``14``), and then clamped the result to the range
without a word. This box accepts ``.`` or ``,`` as the decimal mark and exponent notation, and
shows its value with significant digits (``0.0001``, ``2.5e-05``) in the locale's own mark.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

# what a number may look like while it is still being typed ("", "-", "1e", "1e-", "0,")
_PARTIAL = re.compile(r"[+-]?(\d*[.,]?\d*)([eE][+-]?\d*)?")
KEPT_DECIMALS = 12  # the value is rounded to this many decimals (QDoubleSpinBox rounds always)


def parse_decimal(text: str) -> float | None:
    """The number in ``text`` with ``.`` or ``,`` as its decimal mark (``1e-4`` allowed); None
    when it is no complete number (``1,000.5``, with both marks, is none: which one is meant?)."""
    text = text.strip()
    if not _PARTIAL.fullmatch(text):
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


class DecimalSpinBox(QDoubleSpinBox):
    """A ``QDoubleSpinBox`` that takes ``0.001``, ``0,001`` and ``1e-4`` in any locale.

    ``significant``: the digits shown. The value itself keeps ``decimals`` decimals (by default
    :data:`KEPT_DECIMALS`, so a learning rate of 3e-7 or a contrast limit of 0.00002 is kept).
    """

    def __init__(self, parent: QWidget | None = None, significant: int = 6) -> None:
        super().__init__(parent)
        self.significant = significant
        self.setDecimals(KEPT_DECIMALS)

    def _number_part(self, text: str) -> str:
        """``text`` without the box's prefix and suffix (when still there)."""
        text = text.strip()
        prefix, suffix = self.prefix().strip(), self.suffix().strip()
        if prefix and text.startswith(prefix):
            text = text[len(prefix):]
        if suffix and text.endswith(suffix):
            text = text[:-len(suffix)]
        return text.strip()

    def validate(self, text: str, pos: int) -> object:
        number = self._number_part(text)
        if not _PARTIAL.fullmatch(number):
            return QValidator.State.Invalid, text, pos
        value = parse_decimal(number)
        if value is None or not self.minimum() <= value <= self.maximum():
            return QValidator.State.Intermediate, text, pos  # more typing may make it one
        return QValidator.State.Acceptable, text, pos

    def fixup(self, text: str) -> str:
        return text  # Qt's would remove the locale's group separator: "0.001" -> "0001" in German

    def valueFromText(self, text: str) -> float:
        value = parse_decimal(self._number_part(text))
        return self.value() if value is None else value

    def textFromValue(self, value: float) -> str:
        text = f"{value:.{self.significant}g}"
        return text.replace(".", self.locale().decimalPoint())
