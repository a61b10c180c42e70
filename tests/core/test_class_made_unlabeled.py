"""A class's stored value made the unlabeled one (CamVid's void 11, guessed as a class): the
masks stay readable, so it is not among the removed values; it is the class made unlabeled.
A value truly dropped, or unlabeled pixels read as a class, still is."""

from __future__ import annotations

from unet_desktop.core.folder.task import class_made_unlabeled, removed_values
from unet_desktop.core.labels import multiclass_scheme

TWELVE = multiclass_scheme(12)  # class_0 .. class_11, no unlabeled value
ELEVEN_VOID = multiclass_scheme(11, ignore_value=11)


def test_a_class_value_made_the_unlabeled_one_is_not_removed():
    assert removed_values(TWELVE, ELEVEN_VOID) == []
    made = class_made_unlabeled(TWELVE, ELEVEN_VOID)
    assert (made.name, made.value) == ("class_11", 11)


def test_a_class_dropped_without_a_role_is_removed_and_not_made_unlabeled():
    assert removed_values(TWELVE, multiclass_scheme(11)) == [11]
    assert class_made_unlabeled(TWELVE, multiclass_scheme(11)) is None
    # the old unlabeled value must keep its role: 255 would be unreadable
    sparse = multiclass_scheme(12, ignore_value=255)
    assert removed_values(sparse, ELEVEN_VOID) == [255]
    assert class_made_unlabeled(sparse, ELEVEN_VOID).value == 11


def test_the_same_unlabeled_value_makes_no_class_unlabeled():
    assert class_made_unlabeled(ELEVEN_VOID, ELEVEN_VOID) is None
    assert class_made_unlabeled(TWELVE, multiclass_scheme(12, ignore_value=255)) is None
