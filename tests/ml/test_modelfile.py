"""Model files: round trip with metadata, clear errors, and no pickle code ever runs."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.labels import binary_scheme, camvid_scheme, trimap_scheme
from unet_desktop.ml.models.architecture import build_model
from unet_desktop.ml.models.modelfile import (
    ModelMeta,
    load_model_file,
    new_version_id,
    read_meta,
    save_model,
)

torch.set_num_threads(1)


def test_round_trip_keeps_weights_and_every_metadata_field(model_file_factory, tmp_path):
    path, meta = model_file_factory(camvid_scheme(), in_channels=3)
    meta_in = read_meta(path)
    assert meta_in.to_dict() == meta.to_dict()
    assert meta_in.scheme == camvid_scheme()
    assert meta_in.scheme.ignore_value == 11 and meta_in.scheme.classes[8].name == "Car"
    assert meta_in.metrics == {"val_miou": 0.5} and meta_in.data_summary == {"images": 0}
    assert meta_in.created  # filled in on save

    torch.manual_seed(0)
    original = build_model(meta.arch).eval()
    save_model(tmp_path / "again.safetensors", original, meta)
    loaded, meta2 = load_model_file(tmp_path / "again.safetensors")
    assert not loaded.training
    x = torch.randn(1, 3, 24, 40)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), original(x))
    assert meta2.version == meta.version


def test_wrapper_prefixes_are_stripped(tmp_path, model_file_factory):
    _, meta = model_file_factory(binary_scheme())
    wrapped = torch.nn.Sequential()
    wrapped.add_module("module", build_model(meta.arch))  # as DistributedDataParallel names it
    save_model(tmp_path / "m.safetensors", wrapped, meta)
    model, _ = load_model_file(tmp_path / "m.safetensors")
    assert set(model.state_dict()) == set(wrapped.module.state_dict())


@pytest.mark.reliability("models", "weights with mismatched shapes")
def test_weights_of_another_architecture_give_one_clear_error(tmp_path, model_file_factory):
    _, meta = model_file_factory(trimap_scheme(), depth=2, base=4)
    bigger = build_model(meta.arch | {"base": 8})
    save_model(tmp_path / "lying.safetensors", bigger, meta)  # metadata says base 4
    with pytest.raises(ModelFileError, match=r"lying\.safetensors: weights do not match.*"
                                             r"wrong shape.*expected") as info:
        load_model_file(tmp_path / "lying.safetensors")
    assert "\n" not in str(info.value)


def test_metadata_is_validated(model_file_factory):
    _, meta = model_file_factory(trimap_scheme())
    bad = ModelMeta.from_dict(meta.to_dict())
    bad.arch = bad.arch | {"num_classes": 5}
    with pytest.raises(ValueError, match="5 outputs but the label scheme has 3"):
        bad.validate()
    d = meta.to_dict() | {"normalization": {"mean": [0.5], "std": [0.2]}}
    with pytest.raises(ValueError, match="normalization"):
        ModelMeta.from_dict(d)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a model at all", "not a readable .safetensors"),
        (None, "no such file"),
    ],
)
@pytest.mark.reliability("models", "not a model file, missing file")
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "m.safetensors"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load_model_file(path)


@pytest.mark.reliability("models", "foreign safetensors, broken metadata")
def test_foreign_safetensors_and_broken_metadata(tmp_path, model_file_factory):
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    with pytest.raises(ModelFileError, match="not a unet-desktop model"):
        read_meta(foreign)
    broken = tmp_path / "broken.safetensors"
    save_file({"w": torch.zeros(2)}, broken, metadata={"format": "unet-desktop", "meta": "{"})
    with pytest.raises(ModelFileError, match="invalid model metadata"):
        load_model_file(broken)


@pytest.mark.reliability("models", "pickle that runs code when loaded: refused, never run")
def test_malicious_pickle_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):  # unpickling this calls open(marker, "w")
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    torch.save({"meta": {}, "state_dict": {}, "x": Payload()}, path)
    with pytest.raises(ModelFileError, match="refused"):
        load_model_file(path)
    with pytest.raises(ModelFileError, match="refused"):
        read_meta(path)
    assert not marker.exists()
    # The payload is real: an unsafe load would have created the marker.
    torch.load(path, weights_only=False).get("x").close()
    assert marker.exists()


def test_plain_tensor_pickle_checkpoint_loads(tmp_path, model_file_factory):
    _, meta = model_file_factory(binary_scheme(), in_channels=1)
    model = build_model(meta.arch)
    path = tmp_path / "ok.pth"
    torch.save({"meta": meta.to_dict(), "state_dict": model.state_dict()}, path)
    loaded, meta2 = load_model_file(path)
    assert meta2.scheme == binary_scheme()
    torch.testing.assert_close(loaded.head.weight, model.head.weight)
    torch.save({"weights": model.state_dict()}, tmp_path / "other.pth")
    with pytest.raises(ModelFileError, match="needs 'meta' and 'state_dict'"):
        load_model_file(tmp_path / "other.pth")


def test_version_ids_are_unique_and_sortable():
    ids = [new_version_id() for _ in range(20)]
    assert len(set(ids)) == 20
    assert all(len(i.split("-")) == 3 for i in ids)


@pytest.mark.reliability("disk", "failed model save keeps the previous file")
def test_failed_save_keeps_previous_file(tmp_path, model_file_factory):
    path, meta = model_file_factory(trimap_scheme(), name="keep.safetensors")
    before = path.read_bytes()
    with pytest.raises(ValueError):
        save_model(path, build_model(meta.arch), ModelMeta(**{**vars(meta), "train_size": 0}))
    assert path.read_bytes() == before
    assert json.loads(json.dumps(read_meta(path).to_dict()))["version"] == meta.version
