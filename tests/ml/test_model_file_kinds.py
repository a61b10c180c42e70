"""Files the app writes that are not models, given to Model > Open or a command: the training
checkpoint kept after Ctrl-C was called "a refused pickle" with torch's advice to load it with
weights_only=False, an ONNX export "not a readable .safetensors file (header too large)". Each
is named for what it is and what to open instead; a pickled .ckpt still reads as before."""

from __future__ import annotations

import shutil

import pytest
import torch

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.models.modelfile import load_model_file, read_meta
from unet_desktop.ml.training.checkpoint import TrainingState, checkpoint_path, save_checkpoint


def test_the_apps_checkpoint_and_an_onnx_export_are_named_for_what_they_are(
        tmp_path, model_file_factory):
    model, _ = model_file_factory(trimap_scheme())
    ckpt = checkpoint_path(tmp_path / "run.safetensors")
    net, _ = load_model_file(model)
    save_checkpoint(ckpt, TrainingState(
        epoch=1, global_step=2, elapsed_s=1.0, model=net.state_dict(),
        optimizer={"state": {}, "param_groups": []},
        best_model=None, scaler=None, rng={}, info={}))
    onnx = tmp_path / "run.onnx"
    onnx.write_bytes(b"\x08\x07\x12\x07pytorch")  # an ONNX protobuf's first bytes
    for read in (read_meta, load_model_file):
        with pytest.raises(ModelFileError, match="a training checkpoint.*--resume.*"
                                                 "the .safetensors file beside it"):
            read(ckpt)
        with pytest.raises(ModelFileError, match="an ONNX export.*the .safetensors model"):
            read(onnx)


def test_a_pickled_ckpt_is_still_read_as_a_pickle(tmp_path, model_file_factory):
    model, meta = model_file_factory(trimap_scheme())
    pickled = tmp_path / "lightning.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}}, pickled)
    with pytest.raises(ModelFileError) as refused:
        read_meta(pickled)
    assert "training checkpoint" not in str(refused.value)
    shutil.copyfile(model, tmp_path / "copy.safetensors")
    assert read_meta(tmp_path / "copy.safetensors").version == meta.version
