"""An image whose correction was undone leaves the learning record: the corrected images, the
validation set (its slot goes to the next corrected image) and the curve."""

from __future__ import annotations

from unet_desktop.core.folder.learning_record import CurvePoint, LearningRecord


def point(image: str) -> CurvePoint:
    return CurvePoint(0, image, 0.5, "dice", 0.1, "v1", dice=0.5)


def corrected(keys: str, every_k: int = 3) -> LearningRecord:
    record = LearningRecord(every_k=every_k)
    for key in keys:
        record = record.with_corrected(key).with_point(point(key))
    return record


def test_an_undone_training_image_leaves_the_record_and_the_curve():
    record = corrected("abcd").without_corrected("b")
    assert record.corrected == tuple("acd")
    assert record.validation == ("c",)
    assert [(p.order, p.image) for p in record.points] == [(1, "a"), (2, "c"), (3, "d")]
    assert record.without_corrected("b") == record  # not there: no change


def test_an_undone_validation_image_frees_its_slot_for_the_next_corrected_image():
    record = corrected("abcdef").without_corrected("c")  # validation was (c, f)
    assert record.validation == ("f",)
    record = record.with_corrected("g")
    assert record.validation == ("f", "g")
    assert record.training_keys == tuple("abde")
    # corrected again later, it is a new correction (a training image here)
    record = record.with_corrected("c")
    assert record.training_keys == tuple("abdec")


def test_undoing_the_kth_image_lets_the_next_one_take_its_place():
    record = corrected("abc").without_corrected("c")
    assert record.validation == ()
    assert record.with_corrected("d").validation == ("d",)
