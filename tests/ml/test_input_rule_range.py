"""A model whose rule fixed 12 bits meets 16-bit data: fine-tuning leaves such images out (and
refuses when none is left), prediction warns, instead of training on or predicting a white
image without a word."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.commands.predict import FileTally
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.architecture import unet_arch
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import FinalReport, SkippedPair
from unet_desktop.ml.training.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _scene(seed: int, top: int, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A uint16 image with a bright disc (values below ``top``) and its binary mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - 16) ** 2 + (xx - rng.integers(10, 22)) ** 2 < 36
    noise = rng.integers(0, top // 20, (size, size))
    image = np.where(disc, top - top // 20, top // 10) + noise
    return image.astype(np.uint16), np.where(disc, 255, 0).astype(np.uint8)


def _folder(root: Path, tops: list[int]) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, top in enumerate(tops):
        image, mask = _scene(i, top)
        tifffile.imwrite(root / f"images/im{i}.tif", image)
        Image.fromarray(mask).save(root / f"masks/im{i}.png")
    return root


def _train(root: Path, out: Path, init: Path | None = None) -> list:
    arch = None if init else unet_arch(1, 2, base=4, depth=2)
    cfg = TrainConfig(out=out, init=init, arch=arch, epochs=1, size=32, batch_size=2,
                      patience=None, device="cpu", seed=0)
    return list(train(Workspace.open(root, scheme=binary_scheme()), cfg))


@pytest.fixture(scope="module")
def twelve_bit_model(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("model")
    out = tmp / "m12.safetensors"
    _train(_folder(tmp / "twelve", [4000] * 4), out)
    assert read_meta(out).input_rule == {"kind": "data-range", "bits": 12}
    return out


def test_fine_tuning_on_16_bit_data_refuses_naming_both_ranges(twelve_bit_model, tmp_path):
    root = _folder(tmp_path / "sixteen", [52000] * 3)
    with pytest.raises(FileError, match=r"5\d{4} \(16-bit data\), beyond the 12-bit "
                                        r"range \(0-4095\)"):
        _train(root, tmp_path / "ft.safetensors", init=twelve_bit_model)
    assert not (tmp_path / "ft.safetensors").exists()


def test_fine_tuning_leaves_out_and_names_the_images_beyond_the_range(twelve_bit_model,
                                                                      tmp_path):
    root = _folder(tmp_path / "mixed", [4000, 4000, 52000, 4000])
    reports = _train(root, tmp_path / "ft.safetensors", init=twelve_bit_model)
    skipped = [r for r in reports if isinstance(r, SkippedPair)]
    assert [s.key for s in skipped] == ["images/im2.tif"]
    assert "beyond the 12-bit range (0-4095)" in skipped[0].message
    assert isinstance(reports[-1], FinalReport) and reports[-1].model_path is not None


def test_predicting_16_bit_data_with_a_12_bit_model_warns_per_image(twelve_bit_model,
                                                                   tmp_path):
    images = _folder(tmp_path / "mixed", [4000, 52000]) / "images"
    predictor = Predictor.from_file(twelve_bit_model, device="cpu", engine="torch")
    results = [r for p in batch_predict(predictor, images, tmp_path / "out") for r in p.results]
    by_name = {r.image_path.name: r for r in results}
    assert {r.status for r in results} == {"predicted"}
    assert by_name["im0.tif"].reason == ""
    assert "beyond the 12-bit range (0-4095)" in by_name["im1.tif"].reason
    tally = FileTally()
    warnings = [w for w in map(tally.add, results) if w]
    assert len(warnings) == 1 and warnings[0].startswith("im1.tif: predicted, but its values")
