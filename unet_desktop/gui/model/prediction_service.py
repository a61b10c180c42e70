"""Instant predictions: the image on screen first, its neighbours prefetched, results cached.

``request(key, neighbours)`` asks for the prediction of the image the user selected. A cached
result is emitted at once; otherwise a job goes to the worker thread, replacing any request that
has not started yet (latest wins: rapid switching never queues up stale work). The neighbours
are then predicted at a lower priority into the cache. Every result is emitted with its image
key and the version of the model that made it, so that the window paints it only if both still
match (:meth:`PredictionService.is_current`). No forward pass ever runs on the UI thread.

Which image is on screen is not the service's to keep: it reads it from its one owner (the
editing session's document in the window) through the ``current_key`` callable.

:func:`uncertainty_order` ranks the images not yet corrected by how unsure the model is (the
"most uncertain next" navigation); it is Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from unet_desktop.core.folder.workspace import ImageEntry, ImageState
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.gui.model.prediction_cache import PredictionCache
from unet_desktop.gui.worker import RUNNING, Job, Priority, Worker

ImageLoader = Callable[[str], np.ndarray]
CurrentKey = Callable[[], str | None]  # the key of the image on screen, read from its owner
_DONE_STATES = (ImageState.CORRECTED, ImageState.VERIFIED)


def neighbours_of(keys: Sequence[str], key: str, radius: int = 2) -> list[str]:
    """The keys around ``key`` in list order, nearest first, the next before the previous."""
    try:
        i = keys.index(key)
    except ValueError:
        return []
    out = []
    for d in range(1, radius + 1):
        out += [keys[j] for j in (i + d, i - d) if 0 <= j < len(keys)]
    return out


def uncertainty_order(entries: Iterable[ImageEntry],
                      scores: Mapping[str, float] | None = None,
                      invalid: Container[str] = ()) -> list[str]:
    """Keys of images not yet corrected or verified, most uncertain first.

    A fresh score (``scores``, e.g. :meth:`PredictionCache.scores` of the active model) wins over
    the one recorded in the manifest; images with neither come last, in list order. An image
    whose mask file is ``invalid`` (``Workspace.invalid``) still needs work, whatever its
    recorded state.
    """
    scores = scores or {}
    ranked, unknown = [], []
    for i, entry in enumerate(entries):
        if entry.state in _DONE_STATES and entry.key not in invalid:
            continue
        score = scores.get(entry.key, entry.uncertainty)
        if score is None or not np.isfinite(score):
            unknown.append(entry.key)
        else:
            ranked.append((-float(score), i, entry.key))
    return [key for *_, key in sorted(ranked)] + unknown


def most_uncertain(entries: Iterable[ImageEntry],
                   scores: Mapping[str, float] | None = None,
                   invalid: Container[str] = ()) -> str | None:
    """The image to correct next: the most uncertain one not yet corrected (None if none)."""
    order = uncertainty_order(entries, scores, invalid)
    return order[0] if order else None


class PredictionService(QObject):
    """Runs predictions for the window on the worker thread (see the module docstring)."""

    # keys as Python objects: a Qt string drops the bytes of a file name not UTF-8
    prediction_ready = Signal(object, str, object)  # image key, model version, Prediction
    failed = Signal(object, object)  # image key, message naming the file and the reason
    superseded = Signal(object)  # image key whose request was replaced before it started

    def __init__(self, worker: Worker, models: ModelController, current_key: CurrentKey,
                 cache: PredictionCache | None = None, *, keep_probs: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.models = models
        self.current_key = current_key
        self.cache = cache if cache is not None else PredictionCache()
        self.keep_probs = keep_probs
        self._load_image: ImageLoader | None = None
        self._generation = 0
        self._jobs: dict[str, Job] = {}  # image key -> its pending or running job
        models.predictions_invalidated.connect(self.cache.clear)

    # --- setup ----------------------------------------------------------------------------------
    def set_image_loader(self, load_image: ImageLoader | None) -> None:
        """Where images come from (e.g. ``workspace.load_raw``: stored values, which the
        model's input rule makes into its input); forgets the old folder."""
        self._generation += 1
        self.worker.discard("predict")
        self.worker.discard("prefetch")
        self._jobs.clear()
        self.cache.clear()
        self._load_image = load_image

    def set_workspace(self, workspace: Any | None) -> None:
        self.set_image_loader(workspace.load_raw if workspace is not None else None)

    # --- queries --------------------------------------------------------------------------------
    def cached(self, key: str) -> Any | None:
        """The active model's cached prediction of ``key``, if any."""
        version = self.models.active_version
        return self.cache.get(key, version) if version else None

    def is_current(self, key: str, version: str) -> bool:
        """Whether a result is for the image on screen and from the model predicting now."""
        return key == self.current_key() and version == self.models.active_version

    def pending_keys(self) -> list[str]:
        return list(self._jobs)

    def scores(self) -> dict[str, float]:
        """Uncertainty scores of the cached predictions of the active model."""
        version = self.models.active_version
        return self.cache.scores(version) if version else {}

    # --- requests -------------------------------------------------------------------------------
    def request(self, key: str, neighbours: Sequence[str] = ()) -> Any | None:
        """Predict ``key`` now (returns and emits a cached result at once), then prefetch."""
        neighbours = list(neighbours)
        for job in self.worker.discard("predict", keep=lambda job: job.tag == key):
            self.superseded.emit(job.tag)
        self.worker.discard("prefetch", keep=lambda job: job.tag in neighbours)
        hit = self.cached(key)
        if hit is not None:
            self.prediction_ready.emit(key, self.models.active_version, hit)
        elif not self._has_job(key, only_running=False, group="predict") \
                and not self._has_job(key, only_running=True):
            self._submit(key, Priority.INTERACTIVE, "predict")
        self.prefetch(neighbours)
        return hit

    def prefetch(self, keys: Iterable[str]) -> None:
        """Predict ``keys`` into the cache at low priority (those not cached nor queued)."""
        for key in keys:
            if self.cached(key) is None and key not in self._jobs:
                self._submit(key, Priority.PREFETCH, "prefetch")

    def cancel_pending(self) -> None:
        """Drop every request that has not started (e.g. before a long job)."""
        self.worker.discard("predict")
        self.worker.discard("prefetch")

    def _has_job(self, key: str, only_running: bool, group: str | None = None) -> bool:
        job = self._jobs.get(key)
        if job is None or job.finished:
            return False
        if only_running:
            return job.state == RUNNING
        return group is None or job.group == group

    def _submit(self, key: str, priority: Priority, group: str) -> None:
        if self._load_image is None:
            self.failed.emit(key, "no folder is open")
            return
        generation = self._generation
        job = self.worker.submit(
            self._predict_job(key, self._load_image), priority, group=group,
            name=f"{group} {key}", tag=key,
            on_result=lambda result: self._on_result(generation, result),
            on_error=lambda message: self._on_error(generation, key, message),
            on_finished=lambda job: self._on_finished(key, job))
        self._jobs[key] = job

    def _predict_job(self, key: str, load_image: ImageLoader) -> Callable:
        cache, models, keep_probs = self.cache, self.models, self.keep_probs
        epoch = cache.epoch  # a clear since (another folder, another mode) drops the result

        def predict(token) -> tuple[str, str, Any]:  # runs on the worker thread
            model = models.slots.active()  # the worker's, swapped in between two jobs
            if model is None:
                raise RuntimeError("no model is loaded")
            hit = cache.get(key, model.version)
            if hit is not None:
                return key, model.version, hit
            image = load_image(key)
            model.meta.rule.pick_channels(image, key)  # a misfit names the image, not "<image>"
            prediction = model.predictor.predict(image, probs=keep_probs)
            cache.put(key, model.version, prediction, epoch)
            return key, model.version, prediction

        return predict

    # --- results (UI thread) --------------------------------------------------------------------
    def _on_result(self, generation: int, result: tuple[str, str, Any]) -> None:
        if generation == self._generation:
            self.prediction_ready.emit(*result)

    def _on_error(self, generation: int, key: str, message: str) -> None:
        if generation == self._generation:
            self.failed.emit(key, message)

    def _on_finished(self, key: str, job: Job) -> None:
        if self._jobs.get(key) is job:
            del self._jobs[key]
