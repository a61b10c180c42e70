"""The learning loop's record: validation-set choice, one point per image, the file, the curve."""

from __future__ import annotations

import json

import pytest

from unet_desktop.core.folder.learning_record import (
    CurvePoint,
    LearningRecord,
    LearningRecordError,
    images_to_target,
    images_until_target,
    load_record,
    moving_average,
    record_path,
    save_record,
)


def point(image: str, score: float) -> CurvePoint:
    return CurvePoint(0, image, score, "dice", 0.1, "v1", dice=score)


def test_every_kth_corrected_image_is_frozen_into_the_validation_set():
    record = LearningRecord(every_k=3)
    for key in "abcdefg":
        record = record.with_corrected(key)
    record = record.with_corrected("c")  # corrected again: no new choice
    assert record.corrected == tuple("abcdefg")
    assert record.validation == ("c", "f")
    assert record.training_keys == tuple("abdeg")


def test_changing_k_keeps_the_images_already_chosen():
    record = LearningRecord(every_k=2).with_corrected("a").with_corrected("b")
    record = LearningRecord(every_k=5, corrected=record.corrected, validation=record.validation)
    for key in "cde":
        record = record.with_corrected(key)
    assert record.validation == ("b", "e")


def test_one_point_per_image_numbered_in_order():
    record = LearningRecord().with_point(point("a", 0.5)).with_point(point("b", 0.7))
    record = record.with_point(point("a", 0.9))
    assert [(p.order, p.image, p.score) for p in record.points] == [(1, "a", 0.5), (2, "b", 0.7)]


def test_the_record_survives_a_round_trip(tmp_path):
    record = LearningRecord(enabled=True, every_k=4, target=0.9).with_corrected("x")
    record = record.with_point(point("x", 0.8))
    path = record_path(tmp_path)
    save_record(path, record)
    assert load_record(path) == record
    assert load_record(tmp_path / "none.json") == LearningRecord()


def test_a_bad_file_is_named_with_the_reason(tmp_path):
    path = record_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(LearningRecordError, match="learning.json: not a valid learning record"):
        load_record(path)
    with pytest.raises(ValueError, match="every_k must be >= 2"):
        LearningRecord(every_k=1)


def test_moving_average_and_images_to_target():
    scores = [0.5, 0.8, 0.96, 0.97, 0.99, 0.85, 0.99, 0.99, 0.99, 0.99]
    assert moving_average([1.0, 0.0, 0.5])[1:] == [0.5, 0.5]
    # >= 0.95 at images 4-5, below again at 6-8 (the dip at 6), then from image 9 on
    assert images_to_target(scores, 0.95) == 9
    assert images_to_target([0.99, 0.99], 0.95) is None  # fewer than three points
    assert images_to_target([0.99] * 4 + [0.5], 0.95) is None  # did not stay


def test_images_until_target_extrapolates_a_rising_average():
    assert images_until_target([0.5, 0.6, 0.7, 0.8], 0.95) is not None
    assert images_until_target([0.5, 0.6, 0.7, 0.8], 0.95) >= 1
    assert images_until_target([0.96, 0.97, 0.99], 0.95) == 0
    assert images_until_target([0.8, 0.7, 0.6], 0.95) is None  # getting worse: no estimate
    assert images_until_target([0.8], 0.95) is None


def test_points_of_strokes_are_kept_apart_and_survive_a_round_trip(tmp_path):
    strokes = CurvePoint(0, "s", 0.1, "dice", 0.9, "v1", dice=0.1, labelled_fraction=0.08)
    half = CurvePoint(0, "h", 0.8, "dice", 0.1, "v1", dice=0.8, labelled_fraction=0.5)
    record = LearningRecord().with_point(strokes).with_point(half).with_point(point("f", 0.9))
    assert [p.strokes for p in record.points] == [True, False, False]
    assert [p.image for p in record.full_points] == ["h", "f"]
    path = record_path(tmp_path)
    save_record(path, record)
    assert load_record(path) == record
    # a record written before the fraction was kept: its points were full corrections
    data = json.loads(path.read_text())
    for d in data["points"]:
        del d["labelled_fraction"]
    path.write_text(json.dumps(data))
    assert [p.labelled_fraction for p in load_record(path).points] == [1.0, 1.0, 1.0]
