"""A stack cancelled part-way under v1 and resumed by v2 keeps v1's pages, but was recorded as
v2's whole: a second v2 run skipped v1's pages as 'already predicted by this model version' and
a v1 run called them v2's. Now the record names each page's version (its stack is 'mixed'), and
each run says of each page what is true."""

from __future__ import annotations

import json

import tifffile

from tests.ml.test_stack_resume_other_model import _run, _volume, v1_v2  # noqa: F401
from unet_desktop.core.io.stacks import read_mask_stack_header
from unet_desktop.ml.inference.batch_folder import OTHER_MODEL, UP_TO_DATE
from unet_desktop.ml.inference.batch_predict import batch_predict


def _page(result) -> int:
    return int(result.key.split("[")[1].split()[0]) - 1


def _reasons(results) -> dict[int, str]:
    return {_page(r): r.reason for r in results if r.status == "skipped"}


def test_each_page_is_called_the_version_that_wrote_it(tmp_path, v1_v2):  # noqa: F811
    v1, v2 = v1_v2
    tifffile.imwrite(tmp_path / "vol.tif", _volume(6))
    out = tmp_path / "out"
    _run(v1, tmp_path / "vol.tif", out, cancel_after=3)
    by_v2 = read_mask_stack_header(out / "vol.tif").unlabeled
    by_v1 = set(range(6)) - by_v2
    _run(v2, tmp_path / "vol.tif", out)

    entry = json.loads((out / "unet-desktop-predictions.json").read_text())["items"]["vol.tif"]
    assert entry["model_version"] == "mixed"
    assert [entry["page_versions"][i] == v1.meta.version for i in range(6)] == \
        [i in by_v1 for i in range(6)]

    for version, own in ((v2, by_v2), (v1, by_v1)):
        last, results = _run(version, tmp_path / "vol.tif", out)
        reasons = _reasons(results)
        assert last.predicted == 0 and set(reasons) == set(range(6))
        for page, reason in reasons.items():
            if page in own:
                assert reason == UP_TO_DATE, (page, reason)
            else:
                assert OTHER_MODEL in reason and f"page {page + 1} of" in reason, (page, reason)
                assert UP_TO_DATE not in reason


def test_overwrite_makes_the_stack_one_versions_again(tmp_path, v1_v2):  # noqa: F811
    v1, v2 = v1_v2
    tifffile.imwrite(tmp_path / "vol.tif", _volume(6))
    out = tmp_path / "out"
    _run(v1, tmp_path / "vol.tif", out, cancel_after=3)
    _run(v2, tmp_path / "vol.tif", out)
    for _ in batch_predict(v2, tmp_path / "vol.tif", out, overwrite=True, decode_workers=1):
        pass
    entry = json.loads((out / "unet-desktop-predictions.json").read_text())["items"]["vol.tif"]
    assert entry["model_version"] == v2.meta.version
    assert entry["page_versions"] == [v2.meta.version] * 6
    _, results = _run(v2, tmp_path / "vol.tif", out)
    assert set(_reasons(results).values()) == {UP_TO_DATE}
