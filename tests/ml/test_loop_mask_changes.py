"""A mask changed behind the learning loop's back (corrected again while learning was off, or
by another program) is read again: the next round trains on it, the gate judges on it, and a
round is asked for when it differs from the mask the newest version learnt."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.folder.learning_record import record_path
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings, RoundPlan
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import RoundResult

FAST = LoopSettings(epochs=1, size=32, batch_size=4, device="cpu")


def disc_pair(i: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(i)
    yy, xx = np.mgrid[:40, :48]
    d2 = (yy - 12 - i % 15) ** 2 + (xx - 14 - (3 * i) % 20) ** 2
    image = rng.normal(60, 20, (40, 48, 3)) + (d2 < 64)[..., None] * 120
    trimap = np.where(d2 < 49, 1, np.where(d2 < 81, 3, 2)).astype(np.uint8)
    return image.clip(0, 255).astype(np.uint8), trimap


class Folder:
    """Pairs and their masks' digests, as a folder would give them; counts the reads."""

    def __init__(self, n: int) -> None:
        self.pairs = {f"img_{i}": disc_pair(i) for i in range(n)}
        self.digests = dict.fromkeys(self.pairs, "first")
        self.reads: list[str] = []

    def load_pair(self, key: str):
        self.reads.append(key)
        return self.pairs[key]

    def repaint(self, key: str) -> None:
        image, mask = self.pairs[key]
        self.pairs[key] = (image, np.full_like(mask, 2))  # all background
        self.digests[key] = "second"


def run(loop: LearningLoop, parent, out) -> RoundResult:
    *_, result = loop.run_round(RoundPlan(parent, out, out.stem))
    assert isinstance(result, RoundResult)
    return result


def test_a_mask_changed_without_note_is_trained_and_judged_anew(tmp_path, tiny_model_file):
    folder = Folder(4)
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), folder.load_pair, FAST,
                        folder.digests.get)
    loop.set_every_k(2)
    for key in folder.pairs:
        loop.note_corrected(key)
    train, val = loop.record.training_keys, loop.record.validation
    assert len(train) == 2 and len(val) == 2
    first = run(loop, tiny_model_file, tmp_path / "v1.safetensors")
    assert read_meta(first.model_path).data_summary["mask_sha1"] == dict.fromkeys(train, "first")

    folder.repaint(train[0])  # learning off: nothing is noted
    folder.repaint(val[0])
    folder.reads.clear()
    second = run(loop, first.model_path, tmp_path / "v2.safetensors")
    assert train[0] in folder.reads and val[0] in folder.reads  # read again
    assert train[1] not in folder.reads and val[1] not in folder.reads  # cached: unchanged
    digests = read_meta(second.model_path).data_summary["mask_sha1"]
    assert digests == {train[0]: "second", train[1]: "first"}


def test_a_round_is_asked_for_when_a_trained_mask_changed(tmp_path):
    folder = Folder(3)
    loop = LearningLoop(trimap_scheme(), record_path(tmp_path), folder.load_pair, FAST,
                        folder.digests.get)
    for key in folder.pairs:
        loop.note_corrected(key)
    trained = set(folder.pairs)
    fresh = LearningLoop(trimap_scheme(), loop.record_file, folder.load_pair, FAST,
                         folder.digests.get)
    assert not fresh.request_untrained(list(folder.pairs), trained, dict(folder.digests))
    folder.repaint("img_1")
    learnt = dict.fromkeys(folder.pairs, "first")
    assert fresh.request_untrained(list(folder.pairs), trained, learnt)
