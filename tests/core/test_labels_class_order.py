"""Reordering a task's classes (Mask > Classes > Up/Down) keeps every stored value with its class:
a model's predictions (stored values) still mean the task's classes, though training needs the
classifier's rows in the task's order. A rename counts only for the task's own model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from unet_desktop.core.labels import adapt_labels, class_mismatch, multiclass_scheme

FOUR = multiclass_scheme(["bg", "nucleus", "cyto", "debris"], ignore_value=255)
REORDERED = replace(FOUR, classes=(FOUR.classes[0], FOUR.classes[1], FOUR.classes[3],
                                   FOUR.classes[2]))
RENAMED = replace(FOUR, classes=(*FOUR.classes[:3], replace(FOUR.classes[3], name="junk")))


def test_a_reorder_keeps_the_predictions_meaning_not_the_training_rows():
    assert REORDERED.same_class_set(FOUR)
    assert class_mismatch(FOUR, REORDERED) is None
    assert not FOUR.same_classes(REORDERED)  # the rows are in another order: training maps them
    labels = np.array([[0, 1, 2, 3]], np.uint8)
    assert adapt_labels(labels, FOUR, REORDERED) is labels


def test_a_rename_fits_only_the_task_s_own_model():
    assert class_mismatch(FOUR, RENAMED) is not None  # another model of those values: no
    assert class_mismatch(FOUR, RENAMED, renamed=True) is None
    swapped_values = replace(FOUR, classes=(FOUR.classes[0], replace(FOUR.classes[1], value=2),
                                            replace(FOUR.classes[2], value=1), FOUR.classes[3]))
    assert class_mismatch(FOUR, swapped_values) is not None  # a value changed its class
    assert class_mismatch(FOUR, multiclass_scheme(3), renamed=True) is not None
