"""A batch run says what it could not read or write in its record of predicted masks
(issue 18, item 12: both were silent before)."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.ml.test_batch_predict import run, write_images
from unet_desktop.core.folder.journal import Journal
from unet_desktop.ml.inference.prediction_record import RECORD_NAME
from unet_desktop.ml.inference.predictor import Predictor

torch.set_num_threads(1)


@pytest.fixture
def predictor(tiny_model_file):
    return Predictor.from_file(tiny_model_file, device="cpu", batch_size=2)


def test_an_unreadable_record_is_said_in_the_log_and_in_each_skip_reason(tmp_path, predictor,
                                                                         caplog):
    write_images(tmp_path / "in", 3)
    out = tmp_path / "out"
    run(predictor, tmp_path / "in", out)
    record = out / f"{RECORD_NAME}.json"
    record.write_text("{ not json")
    with caplog.at_level(logging.WARNING, logger="unet_desktop.ml.inference.prediction_record"):
        last, results = run(predictor, tmp_path / "in", out)
    assert last.skipped == 3
    assert all("is unreadable" in r.reason and record.name in r.reason
               for r in results.values())
    assert any(str(record) in m and "unreadable" in m for m in caplog.messages)


def test_a_failed_journal_append_is_logged(tmp_path, predictor, caplog, monkeypatch):
    def refuse(self, entry):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Journal, "append", refuse)
    write_images(tmp_path / "in", 2)
    with caplog.at_level(logging.WARNING, logger="unet_desktop.ml.inference.prediction_record"):
        last, _ = run(predictor, tmp_path / "in", tmp_path / "out")
    assert last.predicted == 2  # the record itself is still saved at the end
    warnings = [m for m in caplog.messages if "cannot append to the journal" in m]
    assert len(warnings) == 2 and "No space left" in warnings[0]
