"""The parent model's prediction averaged into the fill of sparse masks (ml.training.parent_fill)."""

from __future__ import annotations

import numpy as np

from tests.ml.test_stroke_fill import disc_with_strokes, sample
from unet_desktop.core.labels import IGNORE_INDEX, LabelScheme, binary_scheme
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.models.new_classes import ClassTransfer
from unet_desktop.ml.reports import FinalReport
from unet_desktop.ml.training.dataset import SampleSet
from unet_desktop.ml.training.parent_fill import parent_knows_the_classes, parent_probabilities
from unet_desktop.ml.training.stroke_fill import fill_strokes
from unet_desktop.ml.training.train import train
from unet_desktop.ml.training.train_config import TrainConfig

TINY = {"name": "unet", "in_channels": 3, "depth": 2, "base": 4}
SPARSE = LabelScheme("binary", binary_scheme().classes, 128)


def corrections_only(strokes: np.ndarray) -> np.ndarray:
    """A few corrective dabs instead of the full strokes: under 2 % of the pixels painted."""
    few = np.full_like(strokes, IGNORE_INDEX)
    few[46:49, 44:52] = 1  # inside the disc
    few[2:5, 40:56] = 0  # outside it
    return few


def run(tmp_path, name: str, both: bool = False, **options) -> FinalReport:
    """One training run on the scribbled disc (``both``: and a disc holding only corrections)."""
    image, _, strokes = disc_with_strokes()
    samples = [sample(image, strokes)]
    if both:
        samples.append(sample(image, corrections_only(strokes), "corrected.png"))
    cfg = TrainConfig(out=tmp_path / name, epochs=1, size=32, batch_size=2, device="cpu",
                      patience=None, **options)
    final = list(train(SampleSet(samples, SPARSE), cfg))[-1]
    assert isinstance(final, FinalReport) and final.model_path is not None
    return final


def test_only_a_parent_that_knows_every_class_gives_an_opinion(tmp_path):
    parent = tmp_path / "p.safetensors"
    scheme = binary_scheme()
    assert not parent_knows_the_classes(None, None)  # a new model
    assert parent_knows_the_classes(parent, None)  # the same classes
    carried = ClassTransfer(scheme, {"background": "background", "foreground": "foreground"}, [])
    assert parent_knows_the_classes(parent, carried)
    half = ClassTransfer(scheme, {"background": "background"}, ["membrane"])
    assert not parent_knows_the_classes(parent, half)  # a class the parent never learned


def test_the_opinion_comes_in_the_tasks_class_order(tmp_path):
    first = run(tmp_path, "first.safetensors", arch=TINY)
    image, _, strokes = disc_with_strokes()
    samples = [sample(image, strokes), sample(image, corrections_only(strokes), "c.png")]
    scribbled, same = parent_probabilities(first.model_path, None, SPARSE, samples)
    assert scribbled is None  # a scribbled image: the forest's fill alone
    assert same.shape == (2, *image.shape) and np.allclose(same.sum(0), 1, atol=1e-4)
    meta = read_meta(first.model_path)
    flipped = LabelScheme("binary", tuple(reversed(meta.scheme.classes)), 128)
    transfer = ClassTransfer(meta.scheme, {c.name: c.name for c in meta.scheme.classes}, [])
    swapped = parent_probabilities(first.model_path, transfer, flipped, samples)[1]
    assert np.allclose(swapped, same[::-1])


def test_a_sure_second_opinion_corrects_the_forest_where_it_is_unsure():
    image, truth, strokes = disc_with_strokes()
    alone = fill_strokes([sample(image, strokes)], 2)[0].target.numpy()
    truth_opinion = np.stack([truth == 0, truth == 1]).astype(np.float32)
    helped = fill_strokes([sample(image, strokes)], 2, second_opinion=[truth_opinion])[0]
    helped = helped.target.numpy()
    painted = strokes != IGNORE_INDEX
    assert (helped[painted] == strokes[painted]).all()  # the strokes still stand
    assert (helped != truth).sum() < max(1, (alone != truth).sum())
    wrong_opinion = 1 - truth_opinion  # an average: a sure wrong opinion cannot undo strokes
    against = fill_strokes([sample(image, strokes)], 2, second_opinion=[wrong_opinion])[0]
    assert (against.target.numpy()[painted] == strokes[painted]).all()


def test_a_fine_tune_on_strokes_asks_its_parent_and_a_new_model_cannot(tmp_path, monkeypatch):
    from unet_desktop.ml.training import train as train_module

    asked = []
    real = train_module.parent_probabilities
    monkeypatch.setattr(train_module, "parent_probabilities",
                        lambda *a, **k: asked.append(1) or real(*a, **k))
    first = run(tmp_path, "first.safetensors", both=True, arch=TINY, scale="native")
    assert not asked and read_meta(first.model_path).data_summary["fill_second_opinion"] == 0
    # a loop round's fine-tune: the fill, the parent's opinion and the turns in one run; only
    # the image that holds corrections asks the parent
    child = run(tmp_path, "child.safetensors", both=True, init=first.model_path,
                new_classes=True)
    summary = read_meta(child.model_path).data_summary
    assert asked and summary["fill_second_opinion"] == 1 and summary["stroke_fill"] is True
    assert summary["turned"] is True  # the parent's native scale carried over
    asked.clear()
    scribbled = run(tmp_path, "scribbled.safetensors", init=first.model_path)
    assert read_meta(scribbled.model_path).data_summary["fill_second_opinion"] == 0
    off = run(tmp_path, "off.safetensors", both=True, init=first.model_path,
              fill_from_parent=False)
    assert read_meta(off.model_path).data_summary["fill_second_opinion"] == 0
    assert len(asked) == 1  # the scribbled run asked (and got None for its image); off did not
