"""A stack's uncertainty in an output folder's record was the mean over the pages the last run
predicted: a run cancelled part-way then resumed recorded the figure of the resumed pages only,
so the same stack ranked differently after a full and a resumed run. Now the record keeps each
page's figure and the stack's is their mean over every predicted page."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tests.ml.test_stack_resume_other_model import _run, v1_v2  # noqa: F401


def _volume(pages: int) -> np.ndarray:
    """Pages unlike each other, so that their uncertainties differ."""
    volume = np.random.default_rng(0).integers(0, 40, (pages, 24, 28), dtype=np.uint8)
    for k in range(pages):
        volume[k, :, : 4 * k + 2] = 230 - 30 * k
    return volume


def _entry(out):
    return json.loads((out / "unet-desktop-predictions.json").read_text())["items"]["vol.tif"]


def test_a_resumed_stack_scores_all_its_pages(tmp_path, v1_v2):  # noqa: F811
    model = v1_v2[0]
    tifffile.imwrite(tmp_path / "vol.tif", _volume(6))
    _run(model, tmp_path / "vol.tif", tmp_path / "full")
    _run(model, tmp_path / "vol.tif", tmp_path / "res", cancel_after=3)
    last, _ = _run(model, tmp_path / "vol.tif", tmp_path / "res")
    assert 0 < last.predicted < 6  # the resumed run predicted only the pages left
    full, resumed = _entry(tmp_path / "full"), _entry(tmp_path / "res")
    assert resumed["uncertainty"] == pytest.approx(full["uncertainty"], abs=2e-6)
    assert len(set(full["page_uncertainty"])) > 1  # the pages' figures differ
    assert resumed["page_uncertainty"] == pytest.approx(full["page_uncertainty"], abs=1e-6)
    assert full["uncertainty"] == pytest.approx(np.mean(full["page_uncertainty"]), abs=1e-6)


def test_a_stack_of_two_versions_scores_both(tmp_path, v1_v2):  # noqa: F811
    v1, v2 = v1_v2
    tifffile.imwrite(tmp_path / "vol.tif", _volume(6))
    out = tmp_path / "out"
    _run(v1, tmp_path / "vol.tif", out, cancel_after=3)
    by_v1 = _entry(out)["page_uncertainty"]
    _run(v2, tmp_path / "vol.tif", out)
    entry = _entry(out)
    scores = entry["page_uncertainty"]
    assert None not in scores
    assert [s for s in by_v1 if s is not None] == \
        [s for s, v in zip(scores, entry["page_versions"]) if v == v1.meta.version]
    assert entry["uncertainty"] == pytest.approx(np.mean(scores), abs=1e-6)


def test_a_record_from_before_page_figures_lends_its_kept_pages_the_stacks(tmp_path, v1_v2):  # noqa: F811
    model = v1_v2[0]
    tifffile.imwrite(tmp_path / "vol.tif", _volume(6))
    out = tmp_path / "out"
    _run(model, tmp_path / "vol.tif", out, cancel_after=3)
    record = out / "unet-desktop-predictions.json"
    data = json.loads(record.read_text())
    old = data["items"]["vol.tif"]
    kept = [i for i, s in enumerate(old.pop("page_uncertainty")) if s is not None]
    record.write_text(json.dumps(data))  # as an earlier build wrote it
    _run(model, tmp_path / "vol.tif", out)
    scores = _entry(out)["page_uncertainty"]
    assert [scores[i] for i in kept] == [old["uncertainty"]] * len(kept)
    assert _entry(out)["uncertainty"] == pytest.approx(np.mean(scores), abs=1e-6)
