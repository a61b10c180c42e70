"""The task's classes as a small editable table (name, colour, stored value) and Mask > Classes...

:class:`ClassEditor` owns the class list being edited; the table mirrors it. Binary and trimap
tasks have fixed classes (rename and recolour them); a multi-class task also adds, removes and
reorders classes (the order is the model's output order, and the next model takes the rows of
the model in use in the new order; the stored value stays with its class, so masks and the
model's predictions keep their meaning). "Sparse labels" keeps pixels nobody painted unlabeled,
stored as the unlabeled value (docs/sparse-labels.md). A class of the folder's masks may
become unlabeled (its value made the unlabeled one: a void the guess took for a class) once the
user confirms what that does.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.folder.task import class_made_unlabeled, removed_values
from unet_desktop.core.labels import (
    DEFAULT_UNLABELED,
    ClassInfo,
    LabelScheme,
    SchemeKind,
    binary_scheme,
    default_color,
    multiclass_scheme,
    trimap_scheme,
)

NAME, COLOUR, VALUE = range(3)
SHOWN_ROWS = 4  # classes shown without scrolling
# the mask reader takes a binary mask of 0s and 1s for 0/255 (core.io.maskio), so pixels stored
# as 1 would read as foreground
BINARY_READS_AS_FOREGROUND = 1


def default_scheme(kind: SchemeKind, sparse: bool = True) -> LabelScheme:
    """The classes a new task of ``kind`` starts with; sparse: unlabeled stored as the kind's
    default value."""
    ignore = DEFAULT_UNLABELED[kind] if sparse else None
    if kind == "binary":
        return binary_scheme(ignore_value=ignore)
    if kind == "trimap":
        return trimap_scheme(ignore_value=ignore)
    return multiclass_scheme(["background", "class 1"], ignore_value=ignore)


def unlabeled_problem(kind: SchemeKind, value: int | None) -> str | None:
    """Why ``value`` cannot store the unlabeled pixels of a ``kind`` scheme, or None."""
    if kind == "binary" and value == BINARY_READS_AS_FOREGROUND:
        return (f"the unlabeled value {value} would read as foreground: a binary mask of 0s "
                f"and 1s is read as 0/255 (choose another, e.g. {DEFAULT_UNLABELED['binary']})")
    return None


def dropped_values_problem(held: LabelScheme | None, scheme: LabelScheme) -> str | None:
    """Why ``scheme`` cannot replace ``held``, the scheme whose values the folder's masks (saved
    or unsaved) may hold: values it no longer reads, or reads as a class although they stored
    unlabeled pixels, each with what would happen to it. None without masks (``held`` None) or
    when every value stays readable (a class's value made the unlabeled one does: confirmed
    in the editor, :func:`made_unlabeled_note`)."""
    gone = removed_values(held, scheme) if held is not None else []
    if not gone:
        return None
    reasons = "; ".join(_what_becomes_of(value, held, scheme) for value in gone)
    return f"masks of this folder may hold the values {gone}: {reasons}"


def _what_becomes_of(value: int, held: LabelScheme, scheme: LabelScheme) -> str:
    """What ``scheme`` would make of ``value`` in masks of ``held``'s values, and the way out."""
    new_class = next((c for c in scheme.classes if c.value == value), None)
    if value == held.ignore_value and new_class is not None:
        return (f"{value} stores their unlabeled pixels, which would read as {new_class.name}: "
                f"every pixel nobody painted would be taught as {new_class.name} (keep {value} "
                "as the unlabeled value)")
    if value == held.ignore_value:
        return (f"{value} stores their unlabeled pixels, which the new classes do not read: "
                f"those masks would be unreadable (keep sparse labels, stored as {value})")
    name = next(c.name for c in held.classes if c.value == value)
    way_out = f"keep {name}"
    if not removed_values(held, replace(scheme, ignore_value=value)):
        way_out += (f", or make {value} the unlabeled value (Sparse labels, stored as {value}): "
                    "its pixels are then left out of training and evaluation")
    return (f"{value} is {name}'s, which the new classes do not have: those masks would be "
            f"unreadable ({way_out})")


def made_unlabeled_note(made: ClassInfo) -> str:
    """What making ``made``'s value the unlabeled one does, in plain words."""
    return (f"{made.name}'s pixels (stored as {made.value}) in this folder's masks become "
            "unlabeled, like pixels nobody painted: left out of training and evaluation. "
            f"A model that predicts {made.name} no longer fits the task: its "
            "predictions are shown for reference only until a fine-tune makes a model of the "
            "new classes.")


class ClassEditor(QWidget):
    """Edits one label scheme; :meth:`scheme` builds it (``ValueError`` says what is wrong)."""

    changed = Signal()

    def __init__(self, scheme: LabelScheme | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind: SchemeKind = "binary"
        self._classes: list[ClassInfo] = []
        self._held: frozenset[int] = frozenset()  # values masks may hold: no new class takes one
        self._held_classes: tuple[ClassInfo, ...] = ()  # the classes those values stand for
        self._held_scheme: LabelScheme | None = None  # the scheme of the masks, when known
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Class", "Colour", "Value in mask files"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(NAME, 170)
        self.table.verticalHeader().setVisible(False)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.cellDoubleClicked.connect(self._on_cell_double_clicked)
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Up")
        self.down_button = QPushButton("Down")
        self.colour_button = QPushButton("Colour...")
        self.add_button.clicked.connect(lambda: self.add_class())
        self.remove_button.clicked.connect(lambda: self.remove_class(self.table.currentRow()))
        self.up_button.clicked.connect(lambda: self.move(self.table.currentRow(), -1))
        self.down_button.clicked.connect(lambda: self.move(self.table.currentRow(), 1))
        self.colour_button.clicked.connect(lambda: self.pick_colour(self.table.currentRow()))
        self.sparse_check = QCheckBox("Sparse labels: pixels nobody painted stay unlabeled, "
                                      "stored as")
        self.sparse_check.setToolTip(
            "Unlabeled pixels are never read as background. While the masks are mostly strokes, "
            "training first fills them with a pixel classifier's guess from your strokes "
            "(train --stroke-fill off ignores them instead)")
        self.unlabeled_spin = QSpinBox()
        self.unlabeled_spin.setRange(0, 255)
        self.sparse_check.toggled.connect(self._on_sparse_changed)
        self.unlabeled_spin.valueChanged.connect(lambda _v: self.changed.emit())
        # a held class's value made the unlabeled one: said, and confirmed (scheme() waits)
        self.made_unlabeled_label = QLabel("")
        self.made_unlabeled_label.setWordWrap(True)
        self.made_unlabeled_check = QCheckBox("")
        self.made_unlabeled_check.toggled.connect(lambda _on: self.changed.emit())
        self._confirm_shown_for: int | None = None  # the value the box asks about
        self.changed.connect(self._show_made_unlabeled)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button,
                       self.colour_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        sparse = QHBoxLayout()
        sparse.addWidget(self.sparse_check)
        sparse.addWidget(self.unlabeled_spin)
        sparse.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addLayout(sparse)
        layout.addWidget(self.made_unlabeled_label)
        layout.addWidget(self.made_unlabeled_check)
        self.set_scheme(scheme or default_scheme("binary"))

    # --- model -> view --------------------------------------------------------------------------
    def set_scheme(self, scheme: LabelScheme) -> None:
        self._kind = scheme.kind
        self._classes = list(scheme.classes)
        with QSignalBlocker(self.sparse_check), QSignalBlocker(self.unlabeled_spin):
            self.sparse_check.setChecked(scheme.ignore_value is not None)
            self.unlabeled_spin.setValue(scheme.ignore_value if scheme.ignore_value is not None
                                         else DEFAULT_UNLABELED[scheme.kind])
            self.unlabeled_spin.setEnabled(scheme.ignore_value is not None)
        editable = scheme.kind == "multiclass"
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            button.setVisible(editable)
        self._refresh()

    def set_kind(self, kind: SchemeKind) -> None:
        """Start over with the default classes of ``kind`` (keeping the sparse choice); a
        multi-class task over masks of another kind starts from their classes, since every
        value they hold must keep a class (Add never gives one of those values)."""
        scheme = default_scheme(kind, self.sparse_check.isChecked())
        if kind == "multiclass" and self._held_classes:
            held = {c.value for c in self._held_classes}
            ignore = scheme.ignore_value
            if ignore in held:  # e.g. 255, a binary mask's foreground
                ignore = next(v for v in range(255, -1, -1) if v not in held)
            scheme = LabelScheme("multiclass", self._held_classes, ignore)
        self.set_scheme(scheme)

    def _refresh(self) -> None:
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(self._classes))
            for row, c in enumerate(self._classes):
                name = QTableWidgetItem(c.name)
                swatch = QTableWidgetItem("")
                swatch.setBackground(QColor(*c.color))
                swatch.setToolTip("Double-click to change the colour")
                swatch.setFlags(swatch.flags() & ~Qt.ItemFlag.ItemIsEditable)
                value = QTableWidgetItem(str(c.value))
                value.setFlags(value.flags() & ~Qt.ItemFlag.ItemIsEditable)
                for col, item in ((NAME, name), (COLOUR, swatch), (VALUE, value)):
                    self.table.setItem(row, col, item)
        self._fit_rows()
        self.changed.emit()

    def _fit_rows(self) -> None:
        """Tall enough for up to SHOWN_ROWS classes without scrolling (a multi-class task's
        classes were two and a half rows tall in the New Task dialog); more scroll."""
        rows = min(max(len(self._classes), 2), SHOWN_ROWS)
        header = self.table.horizontalHeader().sizeHint().height()
        frame = 2 * self.table.frameWidth()
        self.table.setMinimumHeight(header + frame + rows * self.table.verticalHeader()
                                    .defaultSectionSize())

    # --- edits (view -> model) ------------------------------------------------------------------
    @property
    def kind(self) -> SchemeKind:
        return self._kind

    def rename(self, row: int, name: str) -> None:
        c = self._classes[row]
        self._classes[row] = ClassInfo(name.strip(), c.color, c.value)
        self._refresh()

    def set_colour(self, row: int, rgb: tuple[int, int, int]) -> None:
        c = self._classes[row]
        self._classes[row] = ClassInfo(c.name, tuple(int(v) for v in rgb), c.value)
        self._refresh()

    def colours(self) -> list[tuple[int, int, int]]:
        """The classes' colours, in class order."""
        return [c.color for c in self._classes]

    def keep_values(self, values: frozenset[int]) -> None:
        """Values the folder's masks may hold: a new class never takes one (it would take over
        the pixels of a removed class)."""
        self._held = frozenset(values)

    def keep_classes(self, held: LabelScheme) -> None:
        """The scheme of the folder's masks: :meth:`keep_values` of its values, and its classes
        are where a switch to multi-class starts."""
        self.keep_values(held.valid_values)
        self._held_classes = held.classes
        self._held_scheme = held
        self._show_made_unlabeled()

    def add_class(self, name: str | None = None) -> int:
        """A new class with the lowest value that is free and no mask may hold; returns its
        row."""
        used = {c.value for c in self._classes} | {self.unlabeled_value()} | self._held
        value = next(v for v in range(255) if v not in used)
        colour = default_color(len(self._classes))
        self._classes.append(ClassInfo(name or f"class {value}", colour, value))
        self._refresh()
        self.table.setCurrentCell(len(self._classes) - 1, NAME)
        return len(self._classes) - 1

    def remove_class(self, row: int) -> None:
        if 0 <= row < len(self._classes) and len(self._classes) > 2:
            del self._classes[row]
            self._refresh()

    def move(self, row: int, delta: int) -> None:
        target = row + delta
        if 0 <= row < len(self._classes) and 0 <= target < len(self._classes):
            self._classes[row], self._classes[target] = self._classes[target], self._classes[row]
            self._refresh()
            self.table.setCurrentCell(target, NAME)

    def pick_colour(self, row: int) -> None:
        if not 0 <= row < len(self._classes):
            return
        colour = QColorDialog.getColor(QColor(*self._classes[row].color), self, "Class colour")
        if colour.isValid():
            self.set_colour(row, (colour.red(), colour.green(), colour.blue()))

    def set_sparse(self, on: bool, value: int | None = None) -> None:
        if value is not None:
            self.unlabeled_spin.setValue(value)
        self.sparse_check.setChecked(on)

    def unlabeled_value(self) -> int | None:
        return self.unlabeled_spin.value() if self.sparse_check.isChecked() else None

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == NAME:
            self.rename(item.row(), item.text())

    def _on_cell_double_clicked(self, row: int, column: int) -> None:
        if column == COLOUR:
            self.pick_colour(row)

    def _on_sparse_changed(self, on: bool) -> None:
        self.unlabeled_spin.setEnabled(on)
        self.changed.emit()

    def made_unlabeled(self) -> ClassInfo | None:
        """The class of the folder's masks whose value the edit makes the unlabeled one."""
        try:
            return self._made_unlabeled_in(self._built_scheme())
        except ValueError:
            return None

    def _made_unlabeled_in(self, scheme: LabelScheme) -> ClassInfo | None:
        """:func:`class_made_unlabeled` while nothing else is lost (else that is the problem)."""
        held = self._held_scheme
        if held is None or removed_values(held, scheme):
            return None
        return class_made_unlabeled(held, scheme)

    def _show_made_unlabeled(self) -> None:
        """Say what becomes of the class made unlabeled, and ask again for another one."""
        made = self.made_unlabeled()
        value = made.value if made is not None else None
        if value != self._confirm_shown_for:
            self._confirm_shown_for = value
            with QSignalBlocker(self.made_unlabeled_check):
                self.made_unlabeled_check.setChecked(False)
        self.made_unlabeled_label.setText(made_unlabeled_note(made) if made else "")
        self.made_unlabeled_check.setText(f"Make {made.name}'s pixels unlabeled" if made else "")
        self.made_unlabeled_label.setVisible(made is not None)
        self.made_unlabeled_check.setVisible(made is not None)

    # --- result ---------------------------------------------------------------------------------
    def scheme(self) -> LabelScheme:
        """The edited scheme; ``ValueError`` names the problem (empty or repeated names, the
        unlabeled value used by a class or read as one, a class of the folder's masks made
        unlabeled and not confirmed yet)."""
        scheme = self._built_scheme()
        made = self._made_unlabeled_in(scheme)
        if made is not None and not self.made_unlabeled_check.isChecked():
            raise ValueError(f"tick '{self.made_unlabeled_check.text()}' above to confirm")
        return scheme

    def _built_scheme(self) -> LabelScheme:
        names = [c.name for c in self._classes]
        if any(not n for n in names):
            raise ValueError("every class needs a name")
        if len({n.casefold() for n in names}) != len(names):
            raise ValueError("two classes have the same name")
        ignore = self.unlabeled_value()
        if ignore is not None and ignore in {c.value for c in self._classes}:
            raise ValueError(f"the unlabeled value {ignore} is also a class's value")
        problem = unlabeled_problem(self._kind, ignore)
        if problem:
            raise ValueError(problem)
        return LabelScheme(self._kind, tuple(self._classes), ignore)


class ClassesDialog(QDialog):
    """Mask > Classes...: edit the open folder's classes. Values that masks may hold (saved, or
    unsaved edits in memory) cannot go away or change meaning while the folder has such masks
    (they would become unreadable, or read as another class), except a class's value made the
    unlabeled one, once confirmed: its pixels become unlabeled."""

    def __init__(self, scheme: LabelScheme, has_masks: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Classes")
        self.original = scheme
        self.has_masks = has_masks
        self.editor = ClassEditor(scheme)
        if has_masks:
            self.editor.keep_classes(scheme)
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Classes of this folder ({scheme.kind}). Double-click a name "
                                "to rename it, a colour to change it."))
        layout.addWidget(self.editor)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self.editor.changed.connect(self._validate)
        self._validate()
        self.resize(520, 360)

    def problem(self) -> str | None:
        try:
            scheme = self.editor.scheme()
        except ValueError as exc:
            return str(exc)
        return dropped_values_problem(self.original if self.has_masks else None, scheme)

    def _validate(self) -> None:
        problem = self.problem()
        self.problem_label.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def scheme(self) -> LabelScheme:
        return self.editor.scheme()
