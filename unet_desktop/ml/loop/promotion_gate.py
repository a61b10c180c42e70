"""The learning loop's promotion gate: does a round's new version replace the model in use?

The new version is promoted only if it scores no worse than the model in use on the folder's
frozen validation set (``core.folder.learning_record``), image by image between predictions
(a :class:`GateReport` per image). With fewer than ``MIN_VALIDATION_IMAGES`` usable validation
images nothing can judge it: it is promoted "not validated" (gate ``"unvalidated"``); no figure
measured on its own training images is offered instead. A parent of other classes cannot label
the task, so the first version of the folder's classes is promoted (gate ``"first_model"``). A
validation image that cannot be scored is skipped and named (a ``SkippedPair``); the model in use
is scored on the images the new version was, and the verdict compares and counts only the images
both were scored on, each under the same mask (one saved again while the gate ran is scored
again for the new version). A model in use whose file cannot be read (deleted while the round
trained) cannot be compared with: the new version is kept as a candidate, and says so. A validation
image the loader says is no longer in the folder (``KeyError``) joins ``gone`` (the loop's: it
leaves it out of later rounds). A verdict on validation masks that hold strokes says so
(:func:`strokes_note`).

Owns the verdict (:class:`Verdict`) and the validation scores, cached by (model version, image,
digest of its mask): a mask changed by any path is scored again (:meth:`PromotionGate.forget`
drops an image's scores at once). Torch is imported only when a
version is judged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.learning_record import MIN_VALIDATION_IMAGES
from unet_desktop.core.labels import STROKES_BELOW, LabelScheme, class_mismatch
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.loop.loop_cache import BoundedCache, skipped
from unet_desktop.ml.reports import GateReport, figures_apart

PairLoader = Callable[[str], tuple[np.ndarray, np.ndarray]]  # key -> (image, saved mask)
MaskDigest = Callable[[str], str | None]  # key -> its mask's digest now (None: unknown)


def strokes_note(labelled: float | None) -> str:
    """Said of a verdict whose validation masks are strokes on average: the scores count only
    the painted pixels, painted where the user chose (corrections: where a model was wrong)."""
    if labelled is None or labelled >= STROKES_BELOW:
        return ""
    return (f", strokes only ({labelled:.1%} of their pixels painted, where you chose: "
            "a model that was wrong there when you painted scores low)")


@dataclass(frozen=True)
class Verdict:
    """The gate's decision on one new version (the round's result carries it)."""

    version: str
    promoted: bool
    gate: str  # "validation", "unvalidated", "first_model"
    reason: str  # one sentence for the user
    metrics: dict  # val_score / parent_val_score / miou / dice / train_loss
    validated: bool  # judged on >= MIN_VALIDATION_IMAGES validation images it never trained on
    validation_images: tuple[str, ...] = ()  # those scored (too few to score: the readable)


class PromotionGate:
    """Judges new versions for one folder's loop. ``lock``, ``cache`` and ``gone`` are the
    loop's (the validation pairs share the cache with the training samples; ``gone``: keys no
    longer in the folder); ``settings()`` is the loop's current ``LoopSettings`` (its ``device``
    and ``cache_bytes``); ``digest(key)`` is the loop's digest of the image's mask now (never
    raises)."""

    def __init__(self, scheme: LabelScheme, load_pair: PairLoader, lock: threading.Lock,
                 cache: BoundedCache, settings: Callable[[], Any], gone: set[str],
                 digest: MaskDigest = lambda key: None) -> None:
        self.scheme = scheme
        self.load_pair = load_pair
        self._lock = lock
        self._cache = cache
        self._settings = settings
        self._gone = gone
        self._digest = digest
        # (model version, key, mask digest) -> (score, dice, miou, labelled fraction) of a
        # validation image
        self._scores: dict[tuple[str, str, str | None],
                           tuple[float, float | None, float | None, float]] = {}

    def forget(self, key: str) -> None:
        """The mask of ``key`` changed: its scores are stale (the caller holds the lock)."""
        self._scores = {k: v for k, v in self._scores.items() if k[1] != key}

    def judge(self, final: Any, parent: Path | None, parent_meta: Any, renamed: bool,
              val_keys: tuple[str, ...], cancel: CancelToken) -> Iterator[object]:
        """Yields :class:`GateReport` s; returns the :class:`Verdict` on ``final`` (the
        training's ``FinalReport``) against ``parent`` (the model in use, ``parent_meta`` its
        header; ``renamed``: its classes are the task's, renamed since)."""
        from unet_desktop.ml.loop.loop_score import HEADLINE_LABELS, headline_metric
        from unet_desktop.ml.models.modelfile import read_meta

        path = Path(final.model_path)
        version = read_meta(path).version
        metrics = {"train_loss": final.metrics.get("loss")}

        def verdict(promoted: bool, gate: str, reason: str, scored: tuple[str, ...],
                    judged: int) -> Verdict:
            return Verdict(version, promoted, gate, reason,
                           {k: v for k, v in metrics.items() if v is not None},
                           validated=judged >= MIN_VALIDATION_IMAGES, validation_images=scored)

        new, judged = None, 0  # judged: how many of the validation images were scored
        if len(val_keys) >= MIN_VALIDATION_IMAGES:
            new = yield from self.validation_score(path, version, val_keys, cancel)
            # the others could not be read or scored (named)
            scored = tuple(new.get("keys", val_keys if new["score"] is not None else ()))
            judged = len(scored)
        else:  # too few to judge: say how many of them could be read
            scored = yield from self._readable(val_keys)
        # the one class rule: a parent of other classes (mapped by name) cannot label the task,
        # so the first version that can is promoted; reordered or renamed classes are the task's
        first = parent_meta is None \
            or class_mismatch(parent_meta.scheme, self.scheme, renamed=renamed) is not None
        if not first and judged >= MIN_VALIDATION_IMAGES:
            try:
                old = yield from self.validation_score(parent, parent_meta.version, scored,
                                                       cancel)
            except FileError as exc:  # the model file, not an image (deleted meanwhile)
                _record(metrics, new)
                return verdict(False, "validation", "Kept as a candidate: the model in use, "
                               f"{Path(parent).stem}, could not be read to compare the two "
                               f"({exc}).", scored, judged)
            # both on the same images, each under the same mask (one saved again meanwhile)
            new, old = yield from self._paired(path, version, new, old, cancel)
            scored = tuple(old.get("keys", scored))
            judged = len(scored)
        _record(metrics, new)
        unvalidated = (f"not validated: {len(scored)} usable validation image(s) so far, "
                       f"{MIN_VALIDATION_IMAGES} needed")
        if first:
            return verdict(True, "first_model", "The first model of this folder's classes: "
                           "promoted" + ("." if judged >= MIN_VALIDATION_IMAGES
                                         else f", {unvalidated}."), scored, judged)
        if judged < MIN_VALIDATION_IMAGES:
            return verdict(True, "unvalidated", f"Promoted, {unvalidated}.", scored, judged)
        metrics["parent_val_score"] = old["score"]
        better = metrics["val_score"] >= old["score"]
        name = HEADLINE_LABELS[headline_metric(self.scheme)]
        shown_new, shown_old = figures_apart(metrics["val_score"], old["score"])
        comparison = (f"{name} {shown_new} {'≥' if better else '<'} {shown_old} of the model "
                      f"in use on {judged} validation images" + strokes_note(new.get("labelled")))
        return verdict(better, "validation", ("Promoted: " if better else
                                              "Kept as a candidate: ") + comparison + ".",
                       scored, judged)

    def _paired(self, path: Path, version: str, new: dict, old: dict,
                cancel: CancelToken) -> Iterator[object]:
        """``new`` and ``old`` (``validation_score`` s of the new version and of the model in
        use) over the images both were scored on, each under one mask: an image whose mask was
        saved again between the two is scored again for the new version (still another mask
        then: left out of both). Returns the two, recomputed over those images."""
        new_scores, old_scores = new.get("per_key"), old.get("per_key")
        if new_scores is None or old_scores is None:  # no per-image figures (a stand-in)
            return new, old
        new_digests = dict(new["digests"])
        stale = tuple(k for k in old_scores if new_digests.get(k) != old["digests"][k])
        if stale:
            again = yield from self.validation_score(path, version, stale, cancel)
            new_scores = {k: v for k, v in new_scores.items() if k not in stale}
            new_scores.update(again["per_key"])
            new_digests.update(again["digests"])
        both = [k for k in old_scores
                if k in new_scores and new_digests.get(k) == old["digests"][k]]
        return (_means(new_scores, new_digests, both),
                _means(old_scores, old["digests"], both))

    def _load(self, key: str, digest: str | None) -> tuple[np.ndarray, np.ndarray]:
        """The validation pair of ``key``, loaded and cached; raises ``FileError``,
        ``KeyError`` or ``ValueError`` (a mask of another size than its image)."""
        pair = self.load_pair(key)
        if pair[0].shape[:2] != pair[1].shape[:2]:
            raise ValueError(f"mask is {pair[1].shape[1]}x{pair[1].shape[0]} but the image "
                             f"is {pair[0].shape[1]}x{pair[0].shape[0]}")
        with self._lock:
            self._cache.put(("pair", key, digest), pair, pair[0].nbytes + pair[1].nbytes,
                            self._settings().cache_bytes)
        return pair

    def _readable(self, keys: tuple[str, ...]) -> Iterator[object]:
        """Yields a ``SkippedPair`` for each of ``keys`` whose pair cannot be read; returns
        those that can (too few to judge a version, they are counted, not scored)."""
        readable = []
        for key in keys:
            digest = self._digest(key)
            with self._lock:
                pair = self._cache.get(("pair", key, digest))
            try:
                pair = pair or self._load(key, digest)
            except (FileError, KeyError, ValueError) as exc:
                if isinstance(exc, KeyError):
                    with self._lock:
                        self._gone.add(key)
                yield skipped(key, exc)
                continue
            readable.append(key)
        return tuple(readable)

    def validation_score(self, model_path: Path, version: str, keys: tuple[str, ...],
                         cancel: CancelToken) -> Iterator[object]:
        """Mean score (and Dice, mIoU) of a model over the validation images, cached by version,
        with ``count`` and ``keys``: those scored; yields a :class:`GateReport` per image so the
        caller's other work can run between."""
        from unet_desktop.ml.inference.predictor import Predictor
        from unet_desktop.ml.loop.loop_score import agreement

        predictor = None
        per_key: dict[str, tuple] = {}  # key -> (score, dice, miou, labelled fraction)
        digests: dict[str, str | None] = {}  # key -> the digest of the mask it was scored on
        for i, key in enumerate(keys):
            cancel.raise_if_cancelled()
            digest = self._digest(key)  # before loading: a mask changed meanwhile is read again
            with self._lock:
                cached = self._scores.get((version, key, digest))
                pair = self._cache.get(("pair", key, digest))
            if cached is None:
                try:
                    pair = pair or self._load(key, digest)
                except (FileError, KeyError, ValueError) as exc:  # one image, not the round
                    if isinstance(exc, KeyError):
                        with self._lock:
                            self._gone.add(key)
                    yield skipped(key, exc)
                    continue
                if predictor is None:  # a model that cannot be read is no image's fault
                    predictor = Predictor.from_file(model_path, device=self._settings().device,
                                                    engine="torch")
                try:
                    labels = predictor.predict(pair[0], probs=False).labels
                    a = agreement(labels, pair[1], self.scheme, predictor.meta.scheme)
                except ValueError as exc:  # this image cannot be compared
                    yield skipped(key, exc)
                    continue
                cached = (a.score, a.dice, a.miou, a.labelled_fraction)
                with self._lock:
                    self._scores[(version, key, digest)] = cached
            if cached[0] is not None:
                per_key[key], digests[key] = cached, digest
            yield GateReport(i + 1, len(keys))
        return _means(per_key, digests, list(per_key))


_FIGURES = ("score", "dice", "miou", "labelled")


def _means(per_key: dict[str, tuple], digests: dict[str, str | None],
           keys: list[str]) -> dict:
    """The mean of each figure over ``keys`` (None where none has it), with ``count``,
    ``keys`` and the per-image figures and mask digests they come from."""
    columns = {name: [per_key[k][i] for k in keys if per_key[k][i] is not None]
               for i, name in enumerate(_FIGURES)}
    return {**{name: (sum(v) / len(v) if v else None) for name, v in columns.items()},
            "count": len(keys), "keys": tuple(keys),
            "per_key": {k: per_key[k] for k in keys}, "digests": {k: digests[k] for k in keys}}


def _record(metrics: dict, new: dict | None) -> None:
    """The new version's validation figures into the verdict's ``metrics``."""
    if new is not None:
        metrics.update(val_score=new["score"], miou=new["miou"], dice=new["dice"],
                       val_labelled=new.get("labelled"))
