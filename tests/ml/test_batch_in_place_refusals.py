"""A batch run in place into a folder that cannot be written is refused before the first image
(it predicted every image, then failed each save), saying why and what to do; a refusal never
closes the window's own workspace."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.folder.folder_lock import lock_path
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.ml.inference.batch_job import BatchSettings, batch_predictor, run_batch


@pytest.fixture
def plain(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((24, 32), 40 * i, np.uint8)).save(folder / f"p_{i}.png")
    return folder


@pytest.fixture
def read_only(plain):
    """``plain`` without write permission (its mode bits: root may write anywhere, but the
    folder counts as read-only, as on a read-only share)."""
    plain.chmod(0o555)
    yield plain
    plain.chmod(0o755)


class NoImages:
    """A predictor that fails the test when it is asked to predict anything."""

    def __init__(self, real):
        self.real, self.meta = real, real.meta

    def __getattr__(self, name):
        pytest.fail(f"an image was predicted ({name}) before the run was refused")


@pytest.mark.parametrize("opened_by", ["run", "window"])
def test_a_folder_that_cannot_be_written_is_refused_before_any_image(
        read_only, tiny_binary_model_file, opened_by):
    window_ws = Workspace.open(read_only, writer=True) if opened_by == "window" else None
    settings = BatchSettings(read_only, tiny_binary_model_file, device="cpu")
    predictor = NoImages(batch_predictor(settings))
    with pytest.raises(ValueError) as refused:
        list(run_batch(settings, predictor, window_ws))
    message = str(refused.value)
    assert f"cannot predict {read_only} in place" in message
    assert "cannot be written" in message and "choose an output folder" in message
    assert not (read_only / "masks").exists()
    if window_ws is not None:
        assert not window_ws.closed
    else:  # the run let go of the folder it opened
        assert Workspace.open(read_only, writer=True).lock_holder is None


def test_an_unwritable_mask_folder_is_named(plain, tiny_binary_model_file, monkeypatch):
    from unet_desktop.core.folder import folder_open

    mask_dir = plain / "masks"
    writable = folder_open._is_writable
    monkeypatch.setattr(folder_open, "_is_writable", lambda f: f != mask_dir and writable(f))
    settings = BatchSettings(plain, tiny_binary_model_file, device="cpu")
    with pytest.raises(ValueError, match=f"its mask folder {mask_dir} cannot be written"):
        list(run_batch(settings, NoImages(batch_predictor(settings))))


def test_into_an_output_folder_a_read_only_folder_is_predicted(read_only, tmp_path,
                                                              tiny_binary_model_file):
    settings = BatchSettings(read_only, tiny_binary_model_file, output=tmp_path / "out",
                             device="cpu")
    assert list(run_batch(settings, batch_predictor(settings)))[-1].predicted == 3


def test_a_refusal_never_closes_the_windows_own_workspace(plain, tiny_binary_model_file):
    """Another window holds the folder: the window's workspace (opened read-only) stays open
    when its in-place run is refused (the refusal closed it)."""
    lock_path(plain).parent.mkdir()
    lock_path(plain).write_text(json.dumps({
        "host": socket.gethostname(), "pid": os.getppid(), "since": "2026-12-07T12:00:00Z"}))
    window_ws = Workspace.open(plain, writer=True)
    assert window_ws.lock_holder is not None
    settings = BatchSettings(plain, tiny_binary_model_file, device="cpu")
    with pytest.raises(ValueError, match="another window has this folder open"):
        list(run_batch(settings, batch_predictor(settings), window_ws))
    assert not window_ws.closed
