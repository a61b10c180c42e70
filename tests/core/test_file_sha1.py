"""Files are hashed without ``hashlib.file_digest`` (Python 3.11+): the project supports 3.10,
where a fine-tune's learnt-image ids and a predict run's record called it and crashed."""

import hashlib

import numpy as np
import torch
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.file_hash import file_sha1
from unet_desktop.ml.inference.prediction_record import PredictionRecord
from unet_desktop.ml.training.dataset import Sample
from unet_desktop.ml.training.learnt_images import image_ids


def test_file_sha1_is_the_sha1_of_the_bytes_and_none_for_a_missing_file(tmp_path):
    data = bytes(range(256)) * 9000  # over one read chunk
    (tmp_path / "f.bin").write_bytes(data)
    assert file_sha1(tmp_path / "f.bin") == hashlib.sha1(data).hexdigest()
    assert file_sha1(tmp_path / "gone.bin") is None


def test_a_prediction_record_needs_no_file_digest(tmp_path, monkeypatch):
    monkeypatch.delattr(hashlib, "file_digest", raising=False)  # as on Python 3.10
    Image.fromarray(np.zeros((4, 5), np.uint8)).save(tmp_path / "a.png")
    record = PredictionRecord(tmp_path, 0, 1)
    record.add("a.png", {"image": "a.png", "model_version": "v1", "uncertainty": 0.1})
    record.save()
    assert not PredictionRecord(tmp_path, 0, 1).changed("a.png")
    Image.fromarray(np.ones((4, 5), np.uint8)).save(tmp_path / "a.png")  # the user's edit
    assert PredictionRecord(tmp_path, 0, 1).changed("a.png")


def test_learnt_image_ids_need_no_file_digest(tmp_path, monkeypatch):
    monkeypatch.delattr(hashlib, "file_digest", raising=False)
    (tmp_path / "images").mkdir()
    Image.fromarray(np.zeros((6, 7), np.uint8)).save(tmp_path / "images" / "a.png")
    ws = Workspace.open(tmp_path)
    sample = Sample(ws.entries[0].key, torch.zeros((3, 6, 7), dtype=torch.uint8),
                    torch.zeros((6, 7), dtype=torch.uint8))
    assert len(image_ids(ws, [sample])[sample.key]) == 2  # its pixels' and its file's
