"""Batch Predict Folder: progress, cancel and resume, a corrupt file, user masks never touched."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import torch

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.gui.model.batch_predict_dialog import (
    BatchPredictDialog,
    RateEstimator,
    format_duration,
)
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.modelfile import load_model_file

N_IMAGES, N_LABELLED = 9, 2


class Gate:
    """Counts forward passes; the second waits for ``release`` (shared with network copies)."""

    def __init__(self) -> None:
        self.calls, self.release = 0, threading.Event()


class GatedNet(torch.nn.Module):
    """A real network whose second forward pass waits until the test lets it go; a batch run
    copies its network, and the copy shares the gate."""

    def __init__(self, net: torch.nn.Module, gate: Gate | None = None) -> None:
        super().__init__()
        self.net, self.gate = net, gate or Gate()

    def __deepcopy__(self, memo):
        return GatedNet(copy.deepcopy(self.net, memo), self.gate)

    def forward(self, x):
        self.gate.calls += 1
        if self.gate.calls == 2:
            self.gate.release.wait(5.0)
        return self.net(x)


@pytest.fixture
def pets(tmp_path):
    root = make_pets(tmp_path / "pets", N_IMAGES, N_LABELLED)
    (root / "images" / "img_05.png").write_bytes(b"\x89PNG broken beyond repair")
    return root


@pytest.fixture
def dialog(qtbot, models, pets):
    ws = Workspace.open(pets)
    d = BatchPredictDialog(models, ws)
    qtbot.addWidget(d)
    return d


def run_to_end(qtbot, dialog):
    with qtbot.waitSignal(dialog.run_finished, timeout=TIMEOUT_MS) as done:
        assert dialog.start() is not None
    return done.args[0]


@pytest.mark.reliability("images", "batch dialog: corrupt file listed, run goes on; cancel, resume")
def test_cancel_then_resume_with_a_corrupt_file_and_user_masks_kept(qtbot, dialog, models,
                                                                     tiny_model, pets):
    ws = dialog.workspace
    corrected_before = {k: (pets / "annotations" / "trimaps" / k.split("/")[1]).read_bytes()
                        for k in (image_key(0), image_key(1))}
    net, meta = load_model_file(tiny_model)
    gated = GatedNet(net)
    with qtbot.waitSignal(models.model_changed, timeout=TIMEOUT_MS):
        models.install(Predictor(gated, meta, "cpu", fuse_bn=False), tiny_model)
    assert dialog.folder_edit.text() == str(pets)

    dialog.start()
    qtbot.waitUntil(lambda: gated.gate.calls == 2 and dialog.summary.done > 0, timeout=TIMEOUT_MS)
    assert not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    with qtbot.waitSignal(dialog.run_finished, timeout=TIMEOUT_MS) as finished:
        dialog.cancel()
        gated.gate.release.set()
    first = finished.args[0]
    assert first.cancelled and 0 < len(first.written) <= 2  # the two images it started
    assert "Cancelled" in dialog.status_label.text()
    assert dialog.start_button.isEnabled()

    second = run_to_end(qtbot, dialog)  # resume: the same model version skips what it did
    assert not second.cancelled
    reasons = dict(second.skipped)
    assert reasons[image_key(0)] == reasons[image_key(1)] == "kept: marked corrected"
    assert all(reasons[k] == "already predicted by this model version"
               for k, _ in first.written)
    failed = dict(second.failed)
    assert list(failed) == [image_key(5)] and "img_05.png" in failed[image_key(5)]
    written = {k for k, _ in first.written} | {k for k, _ in second.written}
    assert written == {image_key(i) for i in range(N_LABELLED, N_IMAGES) if i != 5}
    assert "img_05.png" in dialog.summary_view.toPlainText()

    reopened = Workspace.open(pets)
    for key, data in corrected_before.items():
        assert reopened[key].state is ImageState.CORRECTED
        assert (pets / "annotations" / "trimaps" / key.split("/")[1]).read_bytes() == data
    version = models.active_version
    reference = Predictor.from_file(tiny_model, device="cpu")
    for key in written:
        assert reopened[key].state is ImageState.PREDICTED
        assert reopened[key].model_version == version
        expected = reference.predict(ws.load_image(key)).labels
        np.testing.assert_array_equal(read_mask(reopened[key].mask_path, ws.scheme), expected)


def test_protected_images_are_asked_about_on_the_worker_and_skipped(qtbot, models, pets,
                                                                   tmp_path):
    ws = Workspace.open(pets)
    asked: list[tuple[object, str, bool]] = []  # (root, key, on the UI thread)

    def protect(root, key):
        asked.append((root, key, threading.current_thread() is threading.main_thread()))
        return key == image_key(3)

    dialog = BatchPredictDialog(models, ws, protect=protect)
    qtbot.addWidget(dialog)
    summary = run_to_end(qtbot, dialog)
    assert dict(summary.skipped)[image_key(3)] == "being edited"
    assert image_key(3) not in dict(summary.written) and not ws[image_key(3)].has_mask
    assert len(summary.written) == N_IMAGES - N_LABELLED - 2  # img_03 and the corrupt img_05
    assert {root for root, _, _ in asked} == {ws.root}
    assert not any(on_ui for _, _, on_ui in asked)

    asked.clear()  # an output folder is not the workspace: nothing there is being edited
    dialog.output_edit.setText(str(tmp_path / "out"))
    summary = run_to_end(qtbot, dialog)
    assert not asked and (tmp_path / "out" / "img_03.png").is_file()


def test_predicting_into_another_folder_and_overwrite(qtbot, dialog, pets, tmp_path):
    out = tmp_path / "out"
    dialog.output_edit.setText(str(out))
    first = run_to_end(qtbot, dialog)
    assert len(first.written) == N_IMAGES - 1 and len(first.failed) == 1
    assert (out / "img_00.png").is_file()  # folder mode: every image, user masks elsewhere
    again = run_to_end(qtbot, dialog)
    assert not again.written and len(again.skipped) == N_IMAGES - 1
    dialog.overwrite_check.setChecked(True)
    forced = run_to_end(qtbot, dialog)
    assert len(forced.written) == N_IMAGES - 1


def test_flip_averaging_follows_the_window_and_reaches_the_predictor(qtbot, models, pets,
                                                                    tmp_path, monkeypatch):
    used: list[bool] = []
    scores = Predictor.scores
    monkeypatch.setattr(Predictor, "scores", lambda self, batch: used.append(self.tta)
                        or scores(self, batch))
    models.set_tta(True)  # what Model > Flip Averaging does
    d = BatchPredictDialog(models, Workspace.open(pets))
    qtbot.addWidget(d)
    assert d.tta_check.isChecked() and d.settings().tta
    d.output_edit.setText(str(tmp_path / "out"))
    run_to_end(qtbot, d)
    assert used and all(used)
    used.clear()
    d.tta_check.setChecked(False)
    d.overwrite_check.setChecked(True)
    d.output_edit.setText(str(tmp_path / "plain"))
    run_to_end(qtbot, d)
    assert used and not any(used)


def test_a_missing_model_file_fails_with_its_name(qtbot, dialog, tmp_path):
    dialog.model_edit.setText(str(tmp_path / "missing.safetensors"))
    run_to_end(qtbot, dialog)
    assert "missing.safetensors" in dialog.status_label.text()
    assert dialog.start_button.isEnabled()


def test_rate_and_time_left():
    rate = RateEstimator()
    assert rate.update(2, 102, now=10.0) == (0.0, float("inf"))  # skipped ones: instant
    assert rate.update(12, 102, now=15.0) == (2.0, 45.0)
    assert format_duration(45.0) == "0:45"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(float("inf")) == "--:--"


def test_a_mask_written_with_a_warning_is_listed_with_it():
    """A result predicted with a reason (values beyond the model's fixed range) says so in the
    dialog's summary; it was listed among the written ones, its reason dropped."""
    from pathlib import Path

    from unet_desktop.gui.model.batch_predict_dialog import BatchSummary
    from unet_desktop.ml.inference.batch_progress import BatchProgress, ItemResult

    why = "its values reach 51998 (16-bit data), beyond the 12-bit range (0-4095)"
    summary = BatchSummary()
    summary.add(BatchProgress(2, 2, predicted=2, finished=True, results=[
        ItemResult("a.tif", Path("a.tif"), "predicted", why, Path("out/a.tif")),
        ItemResult("b.png", Path("b.png"), "predicted", "", Path("out/b.png"))]))
    assert "2 written (1 with a warning)" in summary.headline()
    assert f"Written with a warning (1):\n  a.tif: {why}" in summary.text()
