"""A learning round's verdict said "Kept as a candidate: Dice 0.412 < 0.412 of the model in
use" (0.4121 against 0.4124): the gate now shows its two figures apart, as the fine-tune's
verdict does (``figures_apart``)."""

import re
import threading
from pathlib import Path
from types import SimpleNamespace

from unet_desktop.core.folder.learning_record import MIN_VALIDATION_IMAGES
from unet_desktop.core.labels import binary_scheme
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.loop.promotion_gate import PromotionGate
from unet_desktop.ml.models import modelfile

KEYS = tuple(f"images/{i}.png" for i in range(MIN_VALIDATION_IMAGES))


def gate_verdict(monkeypatch, new: float, in_use: float):
    """The gate's verdict on a version scoring ``new`` against the model in use's ``in_use``."""
    monkeypatch.setattr(modelfile, "read_meta", lambda path: SimpleNamespace(version="v2"))
    gate = PromotionGate(binary_scheme(), None, threading.Lock(), None, lambda: None, set())

    def score(path, version, val_keys, cancel):
        value = new if version == "v2" else in_use
        return {"score": value, "miou": value, "dice": value, "keys": list(val_keys)}
        yield  # a generator, as the real one

    gate.validation_score = score
    final = SimpleNamespace(model_path=Path("v2.safetensors"), metrics={"loss": 0.1})
    judging = gate.judge(final, Path("v1.safetensors"),
                         SimpleNamespace(scheme=binary_scheme(), version="v1"), False, KEYS,
                         CancelToken())
    try:
        while True:
            next(judging)
    except StopIteration as stop:
        return stop.value


def test_a_candidate_kept_by_a_hair_shows_two_different_figures(monkeypatch):
    verdict = gate_verdict(monkeypatch, 0.4121, 0.4124)
    assert not verdict.promoted
    assert re.findall(r"\d\.\d+", verdict.reason) == ["0.4121", "0.4124"]


def test_figures_apart_at_three_decimals_keep_three(monkeypatch):
    verdict = gate_verdict(monkeypatch, 0.8123, 0.7456)
    assert verdict.promoted
    assert re.findall(r"\d\.\d+", verdict.reason) == ["0.812", "0.746"]
