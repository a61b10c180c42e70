"""An image undone and saved (no longer corrected) while a round trains or is judged on it: the
round stops and keeps nothing, says which image, and asks for a new round, which leaves it out;
no version keeps what it learnt from it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.ml.test_learning_loop import FAST, PAIRS, key, plan
from unet_desktop.core.folder.learning_record import record_path
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop.learning_loop import LearningLoop
from unet_desktop.ml.reports import GateReport, RoundResult, StepReport


def _loop(tmp_path, undone: set[str]) -> LearningLoop:
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), PAIRS.__getitem__,
                        dataclasses.replace(FAST, epochs=4), is_labelled=lambda k: k not in undone)
    loop.set_every_k(2)  # 1 and 3 validate: the gate judges on them
    for i in range(4):
        loop.note_corrected(key(i))
    return loop


@pytest.mark.parametrize("when", [StepReport, GateReport])  # while it trains / is judged
def test_an_image_undone_during_a_round_stops_it_and_the_next_round_leaves_it_out(
        tmp_path, tiny_model_file, when):
    undone: set[str] = set()
    loop = _loop(tmp_path, undone)
    first = plan(tmp_path, tiny_model_file)
    reports = []
    for report in loop.run_round(first):
        reports.append(report)
        if isinstance(report, when) and not undone:
            undone.add(key(2))  # saved back to its prediction; the loop is told later
    result = reports[-1]
    assert isinstance(result, RoundResult)
    assert result.gate == "undone" and not result.promoted and result.model_path is None
    assert key(2) in result.reason and "nothing kept" in result.reason
    assert not list((tmp_path / "versions").glob("*.safetensors"))  # no half a version
    assert loop.round_requested
    if when is StepReport:  # stopped after the step it was undone in, not trained to the end
        assert len([r for r in reports if isinstance(r, StepReport)]) == 1

    loop.note_uncorrected([key(2)])
    second = [r for r in loop.run_round(plan(tmp_path, tiny_model_file, 2))][-1]
    assert second.gate != "undone" and second.model_path is not None
    assert key(2) not in second.train_images + second.validation_images
