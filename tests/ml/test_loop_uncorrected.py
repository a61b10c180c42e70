"""Images whose correction was undone (saved back to a prediction or to no mask file): the loop's
rounds neither train nor judge on them, whether or not the loop was told; a validation image
that cannot be read is not counted as usable."""

from __future__ import annotations

from tests.ml.test_learning_loop import FAST, PAIRS, key, plan, run
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.learning_record import record_path
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop.learning_loop import LearningLoop
from unet_desktop.ml.reports import SkippedPair


def test_a_round_uses_only_the_images_corrected_now(tmp_path, tiny_model_file):
    undone: set[str] = set()  # saved back to a prediction, the loop not told
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), PAIRS.__getitem__, FAST,
                        is_labelled=lambda k: k not in undone)
    loop.set_every_k(2)
    for i in range(4):  # 1 and 3 validate
        loop.note_corrected(key(i))
    undone.update({key(0), key(1)})
    result, reports = run(loop, plan(tmp_path, tiny_model_file))
    assert result.train_images == (key(2),)
    assert key(1) not in result.validation_images
    assert not any(isinstance(r, SkippedPair) for r in reports)


def test_noted_uncorrected_an_image_leaves_the_record_and_frees_its_validation_slot(tmp_path):
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), PAIRS.__getitem__, FAST)
    loop.set_every_k(2)
    for i in range(4):
        loop.note_corrected(key(i))
    assert loop.note_uncorrected([key(3), key(6)]) == [key(3)]  # 6 was never corrected
    assert loop.record.corrected == (key(0), key(1), key(2))
    assert loop.record.validation == (key(1),)
    assert loop.note_corrected(key(4))  # takes the freed slot


def test_a_validation_image_that_cannot_be_read_is_not_counted_usable(tmp_path, tiny_model_file):
    def load(k):
        if k == key(1):
            raise FileError(tmp_path / k, "the corrected mask is missing")
        return PAIRS[k]

    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), load, FAST)
    loop.set_every_k(2)
    loop.note_corrected(key(0))
    loop.note_corrected(key(1))  # the one validation image: too few to judge
    result, reports = run(loop, plan(tmp_path, tiny_model_file))
    assert "0 usable validation image(s)" in result.reason
    assert any(isinstance(r, SkippedPair) and r.key == key(1) for r in reports)
