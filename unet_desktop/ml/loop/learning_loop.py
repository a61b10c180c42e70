"""Learn while the user corrects: short fine-tune rounds, a promotion gate, the loop's curve.

One :class:`LearningLoop` per folder; the window (on its worker thread) and
``bench/hitl_loop.py`` drive the same object:

- :meth:`note_corrected` when an image becomes corrected or verified: every k-th one joins the
  frozen validation set (``core.folder.learning_record``), and a round is requested. Requests that
  arrive while a round runs merge into ONE next round (:attr:`round_requested`); a cancelled
  round asks again for what it took, and :meth:`request_untrained` asks for a round when a
  corrected image is in no kept version (its round was cancelled in another session) or its
  mask is not the one the newest version learnt (corrected again while learning was off).
- :meth:`note_uncorrected` when an image is no longer corrected or verified (its correction
  undone and saved): it leaves the record, and a validation image frees its slot for the next
  corrected one. A round also trains and judges only on images the caller's ``is_labelled``
  says are corrected or verified now, whatever the record says. One of them undone while the
  round runs stops it (between two steps, or after its gate): it keeps nothing, says which image
  (gate ``"undone"``) and asks for a new round, which leaves that image out; a version never
  keeps what it learnt from an image that is no longer corrected.
- :meth:`run_round` (a generator of training reports, then one :class:`RoundResult`): a
  time-budgeted fine-tune (``ml.training.finetune_job.run_finetune``) from the model in use over every
  corrected image outside the validation set (the newest always among them), then the gate
  (``ml.loop.promotion_gate``): the new version is promoted only if it scores no worse than
  the model in use on the validation set (fewer than 2 validation images: promoted "not
  validated", ``RoundResult.validated`` False). A version that is not promoted stays a
  candidate (its file is kept). An image the loader says is no longer in the folder
  (``KeyError``) is named once (a ``SkippedPair``) and left out of later rounds quietly.
- :meth:`score_prediction` records a curve point: how good the prediction was that the user
  started from, against the correction they saved (``ml.loop.loop_score``).

The round's inputs (:class:`RoundPlan`) are immutable values made by the caller; the record is
kept in the folder's one record store (``core.folder.learning_record.record_store``, shared with the
folder's model owner), so corrections may be noted from another thread while a round runs.
Cached training samples and validation pairs stay within ``LoopSettings.cache_bytes`` (least
recently used go first, ``ml.loop.loop_cache``). Each is kept under the digest of the mask it was
made from (``mask_digest``, the caller's: the mask file's sha1), checked whenever it is used, so a
mask changed by any path (learning off, another window, another program) is read again; a training
sample carries that digest into the version's header (``data_summary["mask_sha1"]``). Torch is imported only when a round runs or a prediction is scored (the
window imports this module).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.learning_record import (
    CurvePoint,
    LearningRecord,
    record_store,
)
from unet_desktop.core.io.input_rule import DEFAULT_NEW, LEGACY, InputRule, fixed_range
from unet_desktop.core.labels import LabelScheme
from unet_desktop.core.progress import CancelToken, EitherToken
from unet_desktop.ml.loop.loop_cache import BoundedCache, sample_bytes, skipped
from unet_desktop.ml.loop.promotion_gate import MaskDigest, PairLoader, PromotionGate
from unet_desktop.ml.reports import RoundResult
from unet_desktop.ml.training.few_image_recipe import FEW_IMAGE_SCHEDULE

DEFAULT_ROUND_SECONDS = 20.0
DEFAULT_CACHE_BYTES = 64 * 2**20  # decoded samples and validation pairs kept between rounds


@dataclass(frozen=True)
class LoopSettings:
    """How a round trains. ``epochs`` (tests) replaces the time budget by a fixed count."""

    round_seconds: float = DEFAULT_ROUND_SECONDS
    epochs: int | None = None
    size: int | None = None  # None: the parent's training size (256 for a new model)
    scale: str | None = None  # "fit" or "native"; None: the parent's ("fit" for a new model)
    # The few-image recipe (ml.training.few_image_recipe), as the Fine-tune dialog and `train` use it:
    # short steps (the worker predicts for the window between two), a short warm-up, a cosine
    # decay over the round's time budget. warmup_steps None: the schedule of runs on many images
    batch_size: int = FEW_IMAGE_SCHEDULE.batch_size
    lr: float | None = None
    warmup_steps: int | None = FEW_IMAGE_SCHEDULE.warmup_steps
    min_lr_ratio: float = FEW_IMAGE_SCHEDULE.min_lr_ratio
    device: str = "auto"
    seed: int = 0
    max_steps: int | None = None  # also end a round after this many steps (benches)
    cache_bytes: int = DEFAULT_CACHE_BYTES

    def __post_init__(self) -> None:
        if self.round_seconds <= 0:
            raise ValueError(f"a round needs a positive time budget, got {self.round_seconds} s")
        if self.cache_bytes < 0:
            raise ValueError(f"the sample cache needs a size >= 0, got {self.cache_bytes}")


@dataclass(frozen=True)
class RoundPlan:
    """One round: what it starts from (None: a new model from the ImageNet encoder), where the
    new version goes and its name."""

    parent: Path | None
    out: Path
    name: str = ""
    scale: str = "fit"  # of a new model (parent None); a parent's fine-tunes keep its scale
    input_rule: dict | None = None  # of a new model (parent None); a parent's fine-tunes keep its
    renamed: bool = False  # the parent is the task's own model, its classes renamed since


class LearningLoop:
    """The loop's state for one folder (module docstring)."""

    def __init__(self, scheme: LabelScheme, record_file: Path, load_pair: PairLoader,
                 settings: LoopSettings | None = None,
                 mask_digest: MaskDigest | None = None,
                 is_labelled: Callable[[str], bool] | None = None) -> None:
        self.scheme = scheme
        self.record_file = Path(record_file)
        self.load_pair = load_pair
        # key -> the digest of its mask as stored now (None: unknown); without it, cached
        # entries are trusted until note_corrected forgets them
        self.mask_digest: MaskDigest = mask_digest or (lambda key: None)
        # key -> whether it is corrected or verified now (an image no longer in the folder:
        # True, the loader then names it); without it, the record is trusted
        self.is_labelled: Callable[[str], bool] = is_labelled or (lambda key: True)
        self.settings = settings or LoopSettings()
        self._lock = threading.Lock()
        self._store = record_store(self.record_file)
        self._store.read()  # LearningRecordError names the file
        self._requested = False
        self._rounds = 0
        # ("sample", key, mask digest, channels, side, rule) -> ml.training.dataset.Sample;
        # ("pair", key, mask digest) -> validation pair
        self._cache = BoundedCache()
        self._gone: set[str] = set()  # keys the loader said are not in the folder (named once)
        self._gate = PromotionGate(scheme, load_pair, self._lock, self._cache,
                                   lambda: self.settings, self._gone, self._digest)

    # --- the record -------------------------------------------------------------------------------
    @property
    def record(self) -> LearningRecord:
        return self._store.read()

    def cached_bytes(self) -> int:
        """Bytes of the cached samples and validation pairs (at most ``cache_bytes``)."""
        with self._lock:
            return self._cache.nbytes

    def _update(self, change: Callable[[LearningRecord], LearningRecord],
                then: Callable[[], None] | None = None) -> LearningRecord:
        """Apply ``change`` to the record and save it, then ``then()``, under one lock (a round
        starting meanwhile sees both or neither)."""
        with self._lock:
            return self._store.update(change, then)

    def set_enabled(self, enabled: bool) -> None:
        self._update(lambda r: dataclasses.replace(r, enabled=bool(enabled)))

    def set_every_k(self, k: int) -> None:
        """Takes effect for the images corrected from now on; those chosen stay chosen."""
        self._update(lambda r: dataclasses.replace(r, every_k=int(k)))

    def set_target(self, target: float) -> None:
        self._update(lambda r: dataclasses.replace(r, target=float(target)))

    def note_corrected(self, key: str) -> bool:
        """``key`` was saved as corrected or verified: forget its cached pair (the mask may have
        changed), choose its validation membership (first time only) and request a round.
        Returns whether it is in the validation set."""
        def forget_and_request() -> None:
            self._cache.forget(key)
            self._gate.forget(key)
            self._requested = True

        record = self._update(lambda r: r.with_corrected(key), forget_and_request)
        return key in record.validation

    def note_corrected_all(self, keys: list[str]) -> None:
        """Note images that were corrected before learning was turned on (one write); a round
        is requested if any of them is new to the loop."""
        def request_if_new() -> None:
            self._requested = self._requested or self._store.read().corrected != before

        before = self.record.corrected
        self._update(lambda r: _with_all(r, keys), request_if_new)

    def note_uncorrected(self, keys: Iterable[str]) -> list[str]:
        """These images are no longer corrected or verified (undone and saved, here or while
        learning was off): each leaves the corrected images, the validation set (its slot goes
        to the next corrected image) and the curve; its cached sample and scores are forgotten.
        Returns those the record held."""
        keys = list(dict.fromkeys(keys))

        def forget() -> None:
            for key in keys:
                self._cache.forget(key)
                self._gate.forget(key)

        before = self.record
        held = [k for k in keys if k in before.corrected or before.has_point(k)]
        if held:
            self._update(lambda r: _without_all(r, held), forget)
        return held

    def request_round(self) -> None:
        with self._lock:
            self._requested = True

    def request_untrained(self, labelled: Collection[str], trained: Collection[str],
                          trained_masks: Mapping[str, str] | None = None) -> bool:
        """Request a round if one of ``labelled`` (the folder's corrected images) that a round
        trains on is not among ``trained`` (what the folder's kept versions trained on): the
        round that took it was cancelled or failed; or if its mask is not the one the newest
        version that trained on it learnt (``trained_masks``: key -> mask digest): it was
        corrected again while learning was off. Returns whether a round is requested."""
        wanted = set(self.record.training_keys) & set(labelled)
        untrained = wanted - set(trained)
        changed = [k for k in wanted & set(trained_masks or {})
                   if self._digest(k) not in (None, (trained_masks or {})[k])]
        with self._lock:
            self._requested = self._requested or bool(untrained) or bool(changed)
            return self._requested

    def no_longer_labelled(self, keys: Iterable[str]) -> list[str]:
        """Those of ``keys`` that are no longer corrected or verified (undone and saved)."""
        return [k for k in dict.fromkeys(keys) if not self._labelled(k)]

    def _labelled(self, key: str) -> bool:
        try:
            return bool(self.is_labelled(key))
        except (FileError, KeyError, OSError, ValueError):
            return True  # the loader says why it cannot be used

    def _digest(self, key: str) -> str | None:
        """The digest of ``key``'s mask as stored now; None when unknown or unreadable (the
        loader then says why)."""
        try:
            return self.mask_digest(key)
        except (FileError, KeyError, OSError, ValueError):
            return None

    @property
    def round_requested(self) -> bool:
        """A correction arrived since the last round started (they all go into the next)."""
        with self._lock:
            return self._requested

    def score_prediction(self, key: str, predicted: np.ndarray, predicted_scheme: LabelScheme,
                         corrected: np.ndarray, model_version: str) -> CurvePoint | None:
        """Record the curve point of ``key`` (once per image); returns it, or None if the image
        has one already. Raises ``ValueError`` when the two cannot be compared."""
        from unet_desktop.ml.loop.loop_score import agreement

        if self.record.has_point(key):
            return None
        a = agreement(predicted, corrected, self.scheme, predicted_scheme)
        point = CurvePoint(0, key, a.score, a.metric, a.changed_fraction, model_version,
                           a.dice, a.miou, a.labelled_fraction)
        record = self._update(lambda r: r.with_point(point))
        return next(p for p in record.points if p.image == key)

    # --- a round ----------------------------------------------------------------------------------
    def run_round(self, plan: RoundPlan, cancel: CancelToken | None = None) -> Iterator[object]:
        """Training reports, the gate's ``GateReport`` s, then one :class:`RoundResult`."""
        cancel = cancel or CancelToken()
        with self._lock:
            self._requested = False  # what arrives from now on goes into the next round
            self._rounds += 1
            record, number, gone = self._store.read(), self._rounds, set(self._gone)
        # corrected or verified now: one undone meanwhile (its note may not have come) is left
        # out quietly, as it is left out of the record
        train_keys = tuple(k for k in record.training_keys if k not in gone and self._labelled(k))
        val_keys = tuple(k for k in record.validation if k not in gone and self._labelled(k))
        if not train_keys:
            yield RoundResult(None, "", False, "nothing_to_train",
                              "No corrected image outside the validation set to train on yet.",
                              {}, (), val_keys)
            return
        from unet_desktop.ml.models.modelfile import read_meta
        from unet_desktop.ml.reports import FinalReport, PrepareReport, SkippedPair
        from unet_desktop.ml.training.dataset import SampleSet
        from unet_desktop.ml.training.finetune_job import run_finetune
        from unet_desktop.ml.training.train_config import TrainConfig, cache_side

        parent_meta = read_meta(plan.parent) if plan.parent is not None else None
        size = self.settings.size or (parent_meta.train_size if parent_meta else 256)
        scale = self.settings.scale or (parent_meta.scale if parent_meta else plan.scale)
        channels = parent_meta.in_channels if parent_meta else 3
        rule = parent_meta.rule if parent_meta else fixed_range(
            InputRule.from_dict(plan.input_rule or {"kind": DEFAULT_NEW}),
            self._stored_images(train_keys))
        samples = []
        for done, key in enumerate(train_keys, start=1):
            sample = self._sample(key, channels, cache_side(size, scale), rule)
            if isinstance(sample, SkippedPair):  # reported; the round trains on the others
                yield sample
            else:
                samples.append(sample)
            yield PrepareReport(done, len(train_keys))  # one image at a time between predictions
        train_keys = tuple(sample.key for sample in samples)
        if not samples:
            yield RoundResult(None, "", False, "nothing_to_train", "None of the corrected "
                              "images can be read; nothing to train on.", {}, (), val_keys)
            return
        s = self.settings
        config = TrainConfig(
            out=plan.out, init=plan.parent, new_classes=True, renamed_classes=plan.renamed,
            input_rule=rule.to_dict(), epochs=s.epochs,
            max_minutes=None if s.epochs else s.round_seconds / 60, size=s.size, scale=scale,
            batch_size=s.batch_size, lr=s.lr, warmup_steps=s.warmup_steps,
            min_lr_ratio=s.min_lr_ratio, val_fraction=0.0, seed=s.seed + number,
            patience=None, device=s.device, num_workers=0, name=plan.name,
            max_steps=s.max_steps,
            # the validation set judges the version (image by image, between predictions); a
            # loss on the images it trained on would judge nothing
            validate=False,
            description=f"learning loop round {number} on {len(samples)} corrected image(s)")
        data = SampleSet(samples, self.scheme, f"learning loop ({len(samples)} images)")
        started, final = time.monotonic(), None
        undone, stop = [], CancelToken()  # stop: an image it uses was undone meanwhile
        inputs = train_keys + val_keys
        try:
            for report in run_finetune(data, config, EitherToken(cancel, stop)):
                if isinstance(report, FinalReport):
                    final = report
                yield report
                undone = undone or self.no_longer_labelled(inputs)
                if undone:
                    stop.cancel()
            seconds = time.monotonic() - started
            if undone and not cancel.cancelled:
                result = self._undone_result(undone, (final.model_path if final else None,
                                                      plan.out), train_keys, val_keys, seconds)
            elif final is None or final.model_path is None or final.stopped == "cancelled":
                self._discard(final.model_path if final else None, plan.out)
                self.request_round()  # what it took goes into the next round
                result = RoundResult(None, "", False, "cancelled",
                                     "Round cancelled; nothing kept.", {}, train_keys, val_keys,
                                     seconds)
            else:
                verdict = yield from self._gate.judge(final, plan.parent, parent_meta,
                                                      plan.renamed, val_keys, cancel)
                undone = self.no_longer_labelled(inputs)  # while it was judged
                result = (self._undone_result(undone, (final.model_path, plan.out), train_keys,
                                              val_keys, seconds) if undone else
                          RoundResult(Path(final.model_path), verdict.version, verdict.promoted,
                                      verdict.gate, verdict.reason, verdict.metrics, train_keys,
                                      verdict.validation_images, seconds,
                                      validated=verdict.validated))
        except BaseException:  # stopped unfinished (quit, a failure): keep no half a version
            self._discard(plan.out)
            if cancel.cancelled:
                self.request_round()  # what it took goes into the next round
            raise
        yield result

    def _undone_result(self, undone: list[str], files: Iterable[Path | None],
                       train_keys: tuple[str, ...], val_keys: tuple[str, ...],
                       seconds: float) -> RoundResult:
        """The round stopped because ``undone`` (images it trained or was judged on) are no
        longer corrected: its version's ``files`` go and a new round is asked for."""
        self._discard(*files)
        self.request_round()  # the new round leaves them out
        names = ", ".join(undone)
        is_, it = ("is", "it") if len(undone) == 1 else ("are", "them")
        return RoundResult(None, "", False, "undone",
                           f"Stopped, nothing kept: {names} {is_} no longer corrected (undone "
                           f"and saved while the round ran); a new round starts without {it}.",
                           {}, train_keys, val_keys, seconds)

    def _stored_images(self, keys: Sequence[str]) -> Iterator[np.ndarray]:
        """The stored values of these images, for a new model's :func:`fixed_range` (the
        first round only: later rounds keep their parent's rule); unreadable ones are passed
        over (their samples say why)."""
        for key in keys:
            try:
                yield self.load_pair(key)[0]
            except (FileError, KeyError, ValueError):
                continue

    def _sample(self, key: str, channels: int, max_side: int,
                rule: InputRule = LEGACY) -> Any:
        """The cached training sample of ``key``, or a ``SkippedPair`` saying why there is none
        (the image or its mask is gone or unreadable since it was corrected)."""
        from unet_desktop.ml.training.dataset import make_sample

        digest = self._digest(key)  # before loading: a mask changed meanwhile is read again
        cache_key = ("sample", key, digest, channels, max_side, rule)
        with self._lock:
            sample = self._cache.get(cache_key)
        if sample is None:
            try:
                image, mask = self.load_pair(key)  # the image's stored values
                sample = make_sample(key, rule.apply(image, key), mask, self.scheme,
                                     in_channels=channels, max_side=max_side,
                                     mask_sha1=digest or "")
            except (FileError, KeyError, ValueError) as exc:
                if isinstance(exc, KeyError):
                    with self._lock:
                        self._gone.add(key)
                return skipped(key, exc)
            with self._lock:
                self._cache.put(cache_key, sample, sample_bytes(sample),
                                self.settings.cache_bytes)
        return sample

    @staticmethod
    def _discard(*paths: Path | None) -> None:
        from unet_desktop.ml.training.checkpoint import checkpoint_path

        for path in {p for p in paths if p is not None}:
            path.unlink(missing_ok=True)
            checkpoint_path(path).unlink(missing_ok=True)


def _with_all(record: LearningRecord, keys: list[str]) -> LearningRecord:
    for key in keys:
        record = record.with_corrected(key)
    return record


def _without_all(record: LearningRecord, keys: list[str]) -> LearningRecord:
    for key in keys:
        record = record.without_corrected(key)
    return record

