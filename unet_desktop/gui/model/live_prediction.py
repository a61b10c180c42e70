"""A prediction seconds after each pause in painting a sparse task (ilastik's "live update").

After the user stops painting for :data:`PAUSE_MS`, the image's strokes go to a pixel classifier
(``ml.strokes.stroke_prediction``) on a thread of its own (never the UI thread, never the model worker,
which may be training a loop round); its prediction is shown as the prediction layer (through
the :class:`PredictionController`, which owns what is shown) until the model's next prediction
replaces it. Strokes made while it runs start one more run when it ends; a result for an image
no longer on screen, or older than the latest strokes, is dropped.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from unet_desktop.core.io.display import render
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.gui import main_thread_gc
from unet_desktop.gui.editing.session import EditingSession
from unet_desktop.gui.model.prediction_controller import PredictionController

PAUSE_MS = 300
VERSION = "strokes"  # the "model version" of a prediction made from the strokes
# The classifier's features take 124-148 bytes a pixel (about twice that while made): beyond
# this an image gets no live prediction (an 8000 x 8000 one would have needed about 30 GB)
MAX_PIXELS = 2048 * 2048


class LivePrediction(QObject):
    """Owner of the stroke predictions of the image on screen (module docstring)."""

    # the key as a Python object: a Qt string drops the bytes of a file name not UTF-8
    shown = Signal(object, float)  # image key, seconds from the last stroke to the prediction
    _finished = Signal(object)  # from the thread: (key, generation, prediction, stroke time)
    _loaded = Signal()  # from the thread: the classifier's modules are imported

    def __init__(self, session: EditingSession, prediction: PredictionController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.prediction = session, prediction
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stroke-prediction")
        self._timer = QTimer(self, singleShot=True, interval=PAUSE_MS)
        self._timer.timeout.connect(self._on_pause)
        self._running: Future | None = None
        self._generation = 0  # grows with every stroke and every new image
        # ml.strokes.stroke_prediction.StrokePredictor of the latest image: used on the pool's thread only
        self._predictor: Any = None
        self._last_stroke = 0.0
        self._image: Any = None  # what the classifier reads of the image on screen
        self._image_is_view = False  # whether that is the document's image as shown
        self._active = True
        session.document_opened.connect(self._on_document_opened)
        session.mask_changed.connect(self._on_mask_changed)
        self._finished.connect(self._on_finished)
        self._loaded.connect(self._on_loaded)
        self._frozen = False  # whether the classifier's modules were frozen (_on_loaded)

    def stop(self) -> None:
        """The window is closing: no more runs, and no result is shown."""
        self._active = False
        self._timer.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _sparse(self) -> bool:
        ws = self.session.workspace
        return ws is not None and ws.scheme.ignore_value is not None

    def _on_document_opened(self) -> None:
        self._generation += 1
        self._timer.stop()
        document = self.session.document
        self._image = None
        if self._active and document is not None and self._sparse():
            if self._too_big(document):
                return
            self._take_image(document)
            self._running = self._pool.submit(self._warm_up, self._image)

    def _too_big(self, document: Any) -> bool:
        """An image over :data:`MAX_PIXELS` gets no live prediction, said in the status line."""
        if _within_budget(document):
            return False
        height, width = document.image.shape[:2]
        self.prediction.status_changed.emit(
            f"No prediction from the strokes for this image: at {width} x {height} pixels the "
            f"pixel classifier's features would need about {height * width * 148 / 1e9:.0f} GB "
            f"(it runs on images up to {MAX_PIXELS / 1e6:.1f} megapixels); the model's "
            "predictions still come")
        return True

    def _take_image(self, document: Any) -> None:
        self._image = self._classifier_image()
        self._image_is_view = self._image is document.image

    def _classifier_image(self) -> Any:
        """What the classifier reads: the image as shown, or, where the task feeds its models
        chosen channels of a multi-channel image, those channels alone (by their own automatic
        limits): a channel the task leaves out (another stain, noise) does not sway it."""
        document, task = self.session.document, self.session.workspace.task
        channels = InputRule.from_dict(task.input_rule).channels if task is not None else None
        stored = document.stored
        if channels is None or stored is None or stored.ndim != 3 \
                or max(channels) >= stored.shape[2]:
            return document.image
        picked = stored[..., list(channels)]
        return render(picked[..., 0] if len(channels) == 1 else picked)

    def _on_mask_changed(self, _box: object) -> None:
        document = self.session.document
        if self._active and self._sparse() and document is not None \
                and _within_budget(document):
            self._generation += 1
            self._last_stroke = time.monotonic()
            self._timer.start()

    def _on_pause(self) -> None:
        document = self.session.document
        if not self._active or document is None:
            return
        if document.in_stroke or (self._running is not None and not self._running.done()):
            self._timer.start()  # still painting, or a run in flight: ask again after a pause
            return
        if self.session.is_accepted_prediction():
            return  # the mask is a prediction accepted as it is: no strokes to learn from
        if self._image is None or (self._image_is_view and self._image is not document.image):
            self._take_image(document)  # new contrast limits drew the image anew: new features
        job = (document.key, self._generation, self._image, document.mask.copy(),
               document.scheme, self._last_stroke)
        self._running = self._pool.submit(self._run, *job)

    def _on_loaded(self) -> None:
        """Importing scikit-learn made a few hundred thousand objects that live as long as the
        window; a full garbage collection of them held the UI for 0.3 s. Collections skip them
        from now on (``gui.main_thread_gc``; the window does the same once torch is loaded)."""
        if self._frozen:
            return
        self._frozen = True
        main_thread_gc.install(QApplication.instance()).freeze_survivors()

    # --- on the pool's one thread ------------------------------------------------------------
    def _warm_up(self, image: Any) -> None:
        """Import the classifier's modules and compute the image's features before the first
        stroke's run needs them."""
        import sklearn.ensemble  # noqa: F401 - imported by the first fit otherwise

        self._predictor_for(image)
        if self._active:
            try:
                self._loaded.emit()
            except RuntimeError:  # the window (and this object) went away meanwhile
                pass

    def _predictor_for(self, image: Any) -> Any:
        """The image's ``StrokePredictor`` with its features (made once per image; the import of
        the ML modules happens here too, never on the UI thread)."""
        from unet_desktop.ml.strokes.stroke_prediction import StrokePredictor

        if self._predictor is None or self._predictor.image is not image:
            self._predictor = StrokePredictor(image)
            self._predictor.compute_features()
        return self._predictor

    def _run(self, key, generation, image, mask, scheme, stroke_time) -> None:
        """The result goes back to the UI thread through a signal."""
        try:
            result = self._predictor_for(image).predict(mask, scheme)
        except Exception as exc:  # noqa: BLE001 - said in the status line, never fatal
            result = exc
        if self._active:
            try:
                self._finished.emit((key, generation, result, stroke_time))
            except RuntimeError:  # the window (and this object) went away meanwhile
                pass

    def _on_finished(self, payload: tuple) -> None:
        key, generation, result, stroke_time = payload
        if not self._active or key != self.session.current_key:
            return
        if isinstance(result, Exception):
            self.prediction.status_changed.emit(f"Prediction from the strokes failed: {result}")
            return
        if generation != self._generation:
            return  # newer strokes: their run follows
        if result is None:  # fewer than two classes painted
            self.prediction.withdraw_from_strokes(key)
            return
        if self.prediction.show_from_strokes(key, result):
            self.shown.emit(key, time.monotonic() - stroke_time)


def _within_budget(document: Any) -> bool:
    """The image on screen is small enough for a live prediction (:data:`MAX_PIXELS`)."""
    height, width = document.image.shape[:2]
    return height * width <= MAX_PIXELS
