"""The promotion gate compares the new version and the model in use on the same validation
images, each under the same mask:

- a validation image saved again while the gate ran was scored on its old mask for the new
  version and on its new mask for the model in use ("Dice 0.140 ≥ 0.070" where both score 0.070
  on the masks as saved); now the new version is scored again on the new mask;
- a model in use whose file is gone (deleted while the round trained) failed the round with a
  raw TypeError after naming every validation image as skipped, or was compared on fewer
  images than the verdict counted; now the version is kept as a candidate and says why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.ml.test_loop_mask_changes import FAST, Folder
from unet_desktop.core.folder.learning_record import record_path
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.loop.learning_loop import LearningLoop, RoundPlan
from unet_desktop.ml.loop.loop_score import agreement
from unet_desktop.ml.reports import GateReport, RoundResult, SkippedPair, StepReport


def loop_on(folder: Folder, root: Path, corrected: list[str]) -> LearningLoop:
    loop = LearningLoop(trimap_scheme(), record_path(root), folder.load_pair, FAST,
                        folder.digests.get)
    loop.set_every_k(2)  # img_1, img_3, img_5 validate
    for key in corrected:
        loop.note_corrected(key)
    return loop


def first_round(loop: LearningLoop, root: Path, parent: Path) -> RoundResult:
    *_, result = loop.run_round(RoundPlan(parent, root / "v1.safetensors", "v1"))
    assert result.model_path is not None
    return result


def mean_score(folder: Folder, path: Path, keys) -> float:
    """The model's mean score on ``keys`` against their masks as saved now."""
    p = Predictor.from_file(path, device="cpu", engine="torch")
    scores = [agreement(p.predict(folder.pairs[k][0], probs=False).labels, folder.pairs[k][1],
                        trimap_scheme(), p.meta.scheme).score for k in keys]
    return sum(scores) / len(scores)


def test_a_validation_mask_saved_again_while_judged_scores_both_on_the_new_mask(
        tmp_path, tiny_model_file):
    folder = Folder(4)
    loop = loop_on(folder, tmp_path, list(folder.pairs))
    val = loop.record.validation
    v1 = first_round(loop, tmp_path, tiny_model_file)
    gates, result = 0, None
    for report in loop.run_round(RoundPlan(v1.model_path, tmp_path / "v2.safetensors", "v2")):
        if isinstance(report, GateReport):
            gates += 1
            if gates == len(val):  # the new version is scored; the model in use is next
                folder.repaint(val[0])  # the user saves a new correction of it
                loop.note_corrected(val[0])
        result = report
    assert result.gate == "validation" and result.validation_images == val
    assert result.metrics["val_score"] == pytest.approx(mean_score(folder, result.model_path, val))
    assert result.metrics["parent_val_score"] == pytest.approx(
        mean_score(folder, v1.model_path, val))


def test_a_model_in_use_deleted_while_the_round_trains_keeps_the_version_as_a_candidate(
        tmp_path, tiny_model_file):
    folder = Folder(6)
    keys = list(folder.pairs)
    loop = loop_on(folder, tmp_path, keys[:4])
    v1 = first_round(loop, tmp_path, tiny_model_file)
    for key in ["img_1", "img_3"]:  # no score of the model in use is cached for any
        folder.repaint(key)
    for key in ["img_1", "img_3"] + keys[4:]:
        loop.note_corrected(key)
    reports = []
    for report in loop.run_round(RoundPlan(v1.model_path, tmp_path / "v2.safetensors", "v2")):
        if isinstance(report, StepReport) and v1.model_path.exists():
            v1.model_path.unlink()  # deleted while the round trains
        reports.append(report)
    result = reports[-1]
    assert isinstance(result, RoundResult)
    assert not any(isinstance(r, SkippedPair) for r in reports)  # no image is to blame
    assert not result.promoted and result.model_path.is_file()  # a candidate the user may pick
    assert result.reason.startswith("Kept as a candidate: the model in use, v1, could not be "
                                    "read to compare the two")
    assert "parent_val_score" not in result.metrics
    assert result.validation_images == ("img_1", "img_3", "img_5")


def test_a_model_in_use_deleted_with_some_scores_cached_is_not_compared_on_them_alone(
        tmp_path, tiny_model_file):
    folder = Folder(6)
    keys = list(folder.pairs)
    loop = loop_on(folder, tmp_path, keys[:4])
    v1 = first_round(loop, tmp_path, tiny_model_file)  # v1's scores on img_1, img_3 cached
    for key in keys[4:]:  # img_5 joins the validation set: v1 has no score there
        loop.note_corrected(key)
    reports = []
    for report in loop.run_round(RoundPlan(v1.model_path, tmp_path / "v2.safetensors", "v2")):
        if isinstance(report, StepReport) and v1.model_path.exists():
            v1.model_path.unlink()
        reports.append(report)
    result = reports[-1]
    assert not any(isinstance(r, SkippedPair) for r in reports)
    assert not result.promoted
    assert "the model in use, v1, could not be read" in result.reason


def test_a_mask_saved_again_twice_while_judged_is_left_out_of_both(tmp_path, tiny_model_file):
    folder = Folder(8)
    loop = loop_on(folder, tmp_path, list(folder.pairs))
    val = loop.record.validation  # img_1, img_3, img_5, img_7
    v1 = first_round(loop, tmp_path, tiny_model_file)
    gates, result = 0, None
    for report in loop.run_round(RoundPlan(v1.model_path, tmp_path / "v2.safetensors", "v2")):
        if isinstance(report, GateReport):
            gates += 1
            if gates == len(val):  # the new version is scored: saved again
                folder.repaint(val[0])
                loop.note_corrected(val[0])
            if gates == 2 * len(val):  # the model in use is scored: saved once more
                image, mask = folder.pairs[val[0]]
                folder.pairs[val[0]], folder.digests[val[0]] = (image, np.ones_like(mask)), "3"
                loop.note_corrected(val[0])
        result = report
    rest = val[1:]
    assert result.gate == "validation" and result.validation_images == rest
    assert "on 3 validation images" in result.reason
    assert result.metrics["val_score"] == pytest.approx(
        mean_score(folder, result.model_path, rest))
    assert result.metrics["parent_val_score"] == pytest.approx(
        mean_score(folder, v1.model_path, rest))
