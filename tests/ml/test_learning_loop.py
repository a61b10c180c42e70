"""The learning-loop engine on tiny generated data: merged requests, the frozen validation set,
the promotion gate (validation, training loss with < 2 validation images), the curve points."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.learning_record import load_record, record_path
from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings, RoundPlan
from unet_desktop.ml.loop.promotion_gate import PromotionGate
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import GateReport, RoundResult, SkippedPair

FAST = LoopSettings(epochs=1, size=32, batch_size=4, device="cpu")


def disc_pair(i: int) -> tuple[np.ndarray, np.ndarray]:
    """A noisy 40x48 image with a bright disc, and its trimap (1 pet, 2 background, 3 border)."""
    rng = np.random.default_rng(i)
    yy, xx = np.mgrid[:40, :48]
    d2 = (yy - 12 - i % 15) ** 2 + (xx - 14 - (3 * i) % 20) ** 2
    image = rng.normal(60, 20, (40, 48, 3)) + (d2 < 64)[..., None] * 120
    trimap = np.where(d2 < 49, 1, np.where(d2 < 81, 3, 2)).astype(np.uint8)
    return image.clip(0, 255).astype(np.uint8), trimap


def key(i: int) -> str:
    return f"img_{i:02d}.png"


PAIRS = {key(i): disc_pair(i) for i in range(8)}


@pytest.fixture
def loop(tmp_path) -> LearningLoop:
    return LearningLoop(trimap_scheme(), record_path(tmp_path), PAIRS.__getitem__, FAST)


def run(loop: LearningLoop, plan: RoundPlan, during=None) -> tuple[RoundResult, list]:
    """Run a round to its end; ``during()`` is called after its first report."""
    reports = []
    for report in loop.run_round(plan):
        reports.append(report)
        if during is not None and len(reports) == 1:
            during()
    assert isinstance(reports[-1], RoundResult)
    return reports[-1], reports


def plan(tmp_path, parent, n: int = 1) -> RoundPlan:
    return RoundPlan(parent, tmp_path / "versions" / f"loop-v{n}.safetensors", f"loop-v{n}")


def test_requests_during_a_round_merge_into_one_next_round(loop, tmp_path, tiny_model_file):
    loop.note_corrected(key(0))
    loop.note_corrected(key(1))
    assert loop.round_requested

    def correct_two_more():
        assert not loop.round_requested  # the running round took the request
        loop.note_corrected(key(2))
        loop.note_corrected(key(3))

    result, _ = run(loop, plan(tmp_path, tiny_model_file), during=correct_two_more)
    assert result.train_images == (key(0), key(1))  # what was corrected when it started
    assert loop.round_requested  # one request for the two that came during the round
    second, _ = run(loop, plan(tmp_path, tiny_model_file, 2))
    assert set(second.train_images) == {key(0), key(1), key(2), key(3)}
    assert not loop.round_requested


def test_every_kth_image_is_validation_and_never_trained_on(tmp_path, tiny_model_file):
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), PAIRS.__getitem__, FAST)
    loop.set_every_k(2)
    in_validation = [loop.note_corrected(key(i)) for i in range(5)]
    assert in_validation == [False, True, False, True, False]
    result, reports = run(loop, plan(tmp_path, tiny_model_file))
    assert result.validation_images == (key(1), key(3))
    assert not set(result.train_images) & set(result.validation_images)
    assert result.gate == "validation"
    assert [r for r in reports if isinstance(r, GateReport)]  # scored image by image
    assert load_record(record_path(tmp_path)).validation == (key(1), key(3))  # persisted


def test_a_worse_round_is_kept_as_a_candidate(loop, tmp_path, tiny_model_file, monkeypatch):
    loop.set_every_k(2)
    for i in range(4):
        loop.note_corrected(key(i))
    parent_version = read_meta(tiny_model_file).version

    def fake_score(self, model_path, version, keys, cancel):
        yield GateReport(len(keys), len(keys))
        score = 0.9 if version == parent_version else 0.5
        return {"score": score, "dice": score, "miou": score}

    monkeypatch.setattr(PromotionGate, "validation_score", fake_score)
    result, _ = run(loop, plan(tmp_path, tiny_model_file))
    assert not result.promoted
    assert result.model_path.is_file()  # still there to be picked
    assert "candidate" in result.reason and "0.500 < 0.900" in result.reason
    assert result.metrics["val_score"] == 0.5 and result.metrics["parent_val_score"] == 0.9

    monkeypatch.setattr(PromotionGate, "validation_score", lambda self, p, v, k, c:
                        fake_score(self, p, parent_version if v != parent_version else "x", k, c))
    better, _ = run(loop, plan(tmp_path, tiny_model_file, 2))
    assert better.promoted and better.gate == "validation"


def test_fewer_than_two_validation_images_promote_a_round_as_not_validated(loop, tmp_path,
                                                                          tiny_model_file):
    for i in range(5):  # k = 5: one validation image
        loop.note_corrected(key(i))
    result, _ = run(loop, plan(tmp_path, tiny_model_file))
    assert result.gate == "unvalidated" and result.promoted and not result.validated
    assert "not validated: 1 usable validation image(s) so far, 2 needed" in result.reason


def test_a_round_warms_up_briefly_then_decays_over_its_budget(tmp_path, tiny_model_file):
    """A round is a dozen steps: a 2-step warm-up (not 20), then the rate decays to the end of
    the round (the few-image recipe)."""
    from unet_desktop.ml.reports import StepReport
    from unet_desktop.ml.training.train_config import FINE_TUNE_LR

    settings = dataclasses.replace(FAST, epochs=12, batch_size=1)
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), PAIRS.__getitem__, settings)
    loop.note_corrected(key(0))
    _, reports = run(loop, plan(tmp_path, tiny_model_file))
    rates = [r.lr for r in reports if isinstance(r, StepReport)]
    assert len(rates) == 12
    assert rates[0] == pytest.approx(FINE_TUNE_LR / 2)
    assert rates[1] == pytest.approx(FINE_TUNE_LR, rel=0.05)  # the peak after 2 steps
    assert all(later < earlier for earlier, later in itertools.pairwise(rates[1:]))
    assert rates[-1] < FINE_TUNE_LR / 5


def test_a_parent_of_other_classes_gives_the_first_model(tmp_path, model_file_factory):
    parent, _ = model_file_factory(multiclass_scheme(5))
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), PAIRS.__getitem__, FAST)
    loop.note_corrected(key(0))
    result, _ = run(loop, plan(tmp_path, parent))
    assert result.promoted and result.gate == "first_model"
    assert read_meta(result.model_path).scheme == trimap_scheme()


def test_nothing_to_train_before_any_correction(loop, tmp_path, tiny_model_file):
    result, _ = run(loop, plan(tmp_path, tiny_model_file))
    assert result.gate == "nothing_to_train" and result.model_path is None
    assert not result.promoted


def test_a_curve_point_per_image(loop):
    image_key = key(0)
    truth = PAIRS[image_key][1]
    predicted = truth.copy()
    predicted[:10] = 2  # the user changed the top rows
    point = loop.score_prediction(image_key, predicted, trimap_scheme(), truth, "v1")
    changed = float(np.mean(predicted != truth))
    assert point.order == 1 and point.metric == "dice" and point.model_version == "v1"
    assert point.changed_fraction == pytest.approx(changed)
    assert 0 < point.score < 1
    assert loop.score_prediction(image_key, truth, trimap_scheme(), truth, "v2") is None
    perfect = loop.score_prediction(key(1), PAIRS[key(1)][1], trimap_scheme(), PAIRS[key(1)][1],
                                    "v2")
    assert perfect.score == 1.0 and perfect.order == 2
    assert [p.image for p in load_record(loop.record_file).points] == [key(0), key(1)]


def test_an_image_gone_since_it_was_corrected_is_skipped_and_named(tmp_path, tiny_model_file):
    def load_pair(key):
        if key == key_gone:
            raise FileError(tmp_path / "masks" / "gone.png", "file not found")
        return PAIRS[key]

    key_gone = key(1)
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), load_pair, FAST)
    for i in range(3):
        loop.note_corrected(key(i))
    result, reports = run(loop, plan(tmp_path, tiny_model_file))
    skipped = [r for r in reports if isinstance(r, SkippedPair)]
    assert [(s.key, s.reason) for s in skipped] == [(key_gone, "file not found")]
    assert "gone.png" in skipped[0].message
    assert result.train_images == (key(0), key(2)) and result.model_path.is_file()


def test_a_prediction_of_other_classes_gave_the_user_nothing(loop):
    truth = PAIRS[key(0)][1]
    point = loop.score_prediction(key(0), np.zeros((40, 48), np.uint8), multiclass_scheme(5),
                                  truth, "other")
    assert (point.score, point.changed_fraction) == (0.0, 1.0)


def test_a_first_round_takes_the_plans_scale_and_later_rounds_the_parents(loop, tmp_path):
    loop.note_corrected(key(0))
    loop.note_corrected(key(1))  # two: a batch of one 32 px crop is 1x1 at the bottom (BN)
    first = RoundPlan(None, tmp_path / "versions" / "new-v1.safetensors", "new-v1", "native")
    result, _ = run(loop, first)
    assert result.promoted and read_meta(first.out).scale == "native"
    loop.note_corrected(key(2))
    second = RoundPlan(first.out, tmp_path / "versions" / "new-v2.safetensors", "new-v2")
    run(loop, second)
    assert read_meta(second.out).scale == "native"  # the plan's "fit" is for new models only


def test_a_mask_of_strokes_is_scored_on_its_painted_pixels_and_says_so():
    from unet_desktop.ml.loop.loop_score import agreement

    scheme = binary_scheme(ignore_value=128)
    truth = np.zeros((40, 48), np.uint8)
    truth[10:30, 10:30] = 255
    strokes = np.full_like(truth, 128)
    strokes[18:21, 12:28] = 255  # a stroke inside the square, another outside it
    strokes[2:4, 5:40] = 0
    predicted = np.zeros_like(truth)  # right outside, wrong on the whole square
    a = agreement(predicted, strokes, scheme)
    painted = float((strokes != 128).mean())
    assert a.labelled_fraction == pytest.approx(painted) and painted < 0.1
    inside = 3 * 16
    assert a.changed_fraction == pytest.approx(inside / (inside + 2 * 35))
    assert agreement(truth, truth, binary_scheme()).labelled_fraction == 1.0


def test_a_verdict_on_validation_strokes_says_it_counts_only_the_painted_pixels(tmp_path,
                                                                                tiny_model_file):
    """Strokes on the validation images (a sparse trimap task, 0 = unlabeled): the gate still
    compares the two models on the same painted pixels, and its reason says that is all."""
    def strokes_only(k: str) -> tuple[np.ndarray, np.ndarray]:
        image, trimap = PAIRS[k]
        sparse = np.zeros_like(trimap)
        sparse[::8] = trimap[::8]  # every eighth row painted
        return image, sparse

    loop = LearningLoop(trimap_scheme(ignore_value=0), record_path(tmp_path), strokes_only, FAST)
    loop.set_every_k(2)
    for i in range(4):
        loop.note_corrected(key(i))
    result, _ = run(loop, plan(tmp_path, tiny_model_file))
    assert result.gate == "validation"
    assert "validation images, strokes only (12.5% of their pixels painted" in result.reason
    assert result.metrics["val_labelled"] == pytest.approx(0.125)  # Model > Versions says it
    (tmp_path / "dense").mkdir()  # a folder's record: the folder exists
    dense = LearningLoop(trimap_scheme(), record_path(tmp_path / "dense"), PAIRS.__getitem__,
                         FAST)
    dense.set_every_k(2)
    for i in range(4):
        dense.note_corrected(key(i))
    result, _ = run(dense, plan(tmp_path, tiny_model_file, 3))
    assert result.gate == "validation" and "strokes" not in result.reason


def test_a_first_round_on_12_bit_images_fixes_their_range_for_every_later_one(tmp_path):
    def twelve_bit(i: int, peak: int) -> tuple[np.ndarray, np.ndarray]:
        image, trimap = disc_pair(i)
        return np.rint(image * (peak / 255)).astype(np.uint16), trimap

    pairs = {key(0): twelve_bit(0, 4000), key(1): twelve_bit(1, 900)}  # the second one dim
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), pairs.__getitem__, FAST)
    loop.note_corrected(key(0))
    loop.note_corrected(key(1))
    first = RoundPlan(None, tmp_path / "versions" / "new-v1.safetensors", "new-v1", "fit",
                      {"kind": "data-range"})
    result, _ = run(loop, first)
    assert result.promoted
    assert read_meta(first.out).input_rule == {"kind": "data-range", "bits": 12}
    pairs[key(2)] = twelve_bit(2, 200)  # dimmer still: the version's range stays
    loop.note_corrected(key(2))
    second = RoundPlan(first.out, tmp_path / "versions" / "new-v2.safetensors", "new-v2")
    run(loop, second)
    assert read_meta(second.out).input_rule == {"kind": "data-range", "bits": 12}


def test_a_cancelled_round_asks_again_for_what_it_took(loop, tmp_path, tiny_model_file):
    """Learning turned off during a round (or a fine-tune taking the folder): its corrections
    go into the next round."""
    from unet_desktop.core.progress import CancelToken

    for i in range(2):
        loop.note_corrected(key(i))
    cancel = CancelToken()
    reports = []
    for report in loop.run_round(plan(tmp_path, tiny_model_file), cancel):
        if not reports:
            assert not loop.round_requested  # the running round took the request
            cancel.cancel()
        reports.append(report)
    assert reports[-1].gate == "cancelled"
    assert loop.round_requested


def test_corrections_no_kept_version_trained_on_ask_for_a_round(loop):
    """Reopening a folder whose last round was cancelled (the window quit during it)."""
    for i in range(3):
        loop.note_corrected(key(i))
    fresh = LearningLoop(trimap_scheme(), loop.record_file, PAIRS.__getitem__, FAST)
    assert not fresh.round_requested
    labelled = [key(i) for i in range(3)]
    assert not fresh.request_untrained(labelled, trained=labelled)
    assert fresh.request_untrained(labelled, trained=labelled[:2])
    assert fresh.round_requested


def test_a_validation_image_no_longer_in_the_folder_is_named_once_and_not_counted(
        tmp_path, tiny_model_file):
    pairs = dict(PAIRS)
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), pairs.__getitem__, FAST)
    loop.set_every_k(2)
    for i in range(6):  # 1, 3 and 5 validate
        loop.note_corrected(key(i))
    del pairs[key(3)]  # deleted from the folder (the loader raises KeyError)
    first, reports = run(loop, plan(tmp_path, tiny_model_file))
    assert [r.key for r in reports if isinstance(r, SkippedPair)] == [key(3)]  # said once
    assert first.gate == "validation" and first.validated
    assert first.validation_images == (key(1), key(5))  # the count a version records
    assert "on 2 validation images" in first.reason
    second, reports = run(loop, plan(tmp_path, tiny_model_file, 2))
    assert not [r for r in reports if isinstance(r, SkippedPair)]  # not every round
    assert second.validation_images == (key(1), key(5)) and "on 2 validation" in second.reason
