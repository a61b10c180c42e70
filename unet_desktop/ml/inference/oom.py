"""Out-of-memory recovery: retry with a smaller batch or smaller tiles, then fall back to the CPU.

Inference goes through :class:`ResilientPredictor`, a drop-in wrapper of a
:class:`~unet_desktop.ml.inference.predictor.Predictor` (it has the same ``predict``/``predict_batch``,
``meta``, ``batch_size``...), so ``batch_predict`` and the GUI's prediction service get the
recovery without knowing about it. Training goes through :func:`train_with_oom_fallback`, which
restarts the run from its last checkpoint with half the batch size, then on the CPU.

Every adaptation is announced through ``notify(message)`` (the GUI shows it in the status bar).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any

import torch

from unet_desktop.ml.inference.predictor import Prediction, Predictor

log = logging.getLogger(__name__)

Notify = Callable[[str], None]
MIN_TILE = 128  # tiles smaller than this lose too much context to be worth it


class OutOfMemory(RuntimeError):
    """Out of memory even after every fallback (on the CPU, with batch size 1)."""


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA/MPS/CPU allocation failures as torch reports them."""
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    if not isinstance(exc, (RuntimeError, MemoryError)):
        return False
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "out of memory" in text \
        or "can't allocate memory" in text


def free_device_memory() -> None:
    """Return cached blocks to the driver so that the retry starts from a clean pool."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and hasattr(mps, "empty_cache") and torch.backends.mps.is_available():
        mps.empty_cache()


def predictor_on_cpu(predictor: Predictor) -> Predictor:
    """The same model and options as ``predictor``, on the CPU (the model is moved, not copied)."""
    return Predictor(
        predictor.model.to("cpu"), predictor.meta, torch.device("cpu"), predictor.mode,
        predictor.tta, batch_size=predictor.batch_size, tile_size=predictor.tile_size,
        tile_overlap=predictor.tile_overlap, fuse_bn=False, source=predictor.source,
        channels_last=predictor.memory_format == torch.channels_last, amp=False,
    )


def shrink_step(predictor: Any) -> str | None:
    """Make ``predictor`` use less memory in place; returns what changed, None when it cannot.

    Order: halve the batch size, then (tiled prediction) halve the tile size down to
    ``MIN_TILE``.
    """
    if predictor.batch_size > 1:
        old = predictor.batch_size
        predictor.batch_size = max(1, old // 2)
        return f"batch size {old} -> {predictor.batch_size}"
    if predictor.tiled and predictor.tile_size // 2 >= MIN_TILE:
        old = predictor.tile_size
        predictor.tile_size = old // 2
        predictor.tile_overlap = min(predictor.tile_overlap, predictor.tile_size // 4)
        return f"tile size {old} -> {predictor.tile_size} px"
    return None


class ResilientPredictor:
    """A predictor that survives running out of memory (see the module docstring).

    ``to_cpu`` builds the CPU fallback (tests pass a fake); attributes it does not define are
    those of the wrapped predictor, which :attr:`inner` holds (it changes on a CPU fallback).
    """

    def __init__(self, predictor: Any, notify: Notify | None = None,
                 to_cpu: Callable[[Any], Any] = predictor_on_cpu) -> None:
        self.inner = predictor
        self.notify = notify or (lambda message: log.warning("%s", message))
        self._to_cpu = to_cpu

    def __getattr__(self, name: str) -> Any:  # meta, batch_size, mode, device, ...
        if name == "inner":  # not set yet (unpickling, copy): avoid infinite recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def predict(self, image, *, probs: bool = True) -> Prediction:
        return self._call(lambda p: p.predict(image, probs=probs))

    def predict_batch(self, images: list, *, probs: bool = True, **outputs) -> list[Prediction]:
        return self._call(lambda p: p.predict_batch(images, probs=probs, **outputs))

    def _call(self, run: Callable[[Any], Any]) -> Any:
        while True:
            try:
                return run(self.inner)
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                self._recover(exc)

    def _recover(self, exc: BaseException) -> None:
        free_device_memory()
        device = str(getattr(self.inner, "device", "cpu"))
        change = shrink_step(self.inner)
        if change is not None:
            self.notify(f"Out of memory on {device}: retrying with {change}")
            return
        if torch.device(device).type != "cpu":
            self.inner = self._to_cpu(self.inner)
            self.notify(f"Out of memory on {device} even at the smallest batch: predicting on "
                        "the CPU from now on (slower)")
            return
        raise OutOfMemory(f"out of memory on the CPU with batch size 1: {exc}") from exc


def train_with_oom_fallback(
    train_fn: Callable[..., Iterator[Any]],
    data: Any,
    config: Any,
    cancel: Any = None,
    notify: Notify | None = None,
) -> Iterator[Any]:
    """``train_fn(data, config, cancel)``'s reports; on out of memory, resume smaller or on CPU.

    A retry halves ``config.batch_size`` and sets ``resume=True`` (the run continues from its
    last epoch checkpoint, if it wrote one); at batch size 1 it moves to ``device="cpu"``.
    """
    notify = notify or (lambda message: log.warning("%s", message))
    while True:
        try:
            yield from train_fn(data, config, cancel)
            return
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            free_device_memory()
            device = str(config.device)
            if config.batch_size > 1:
                new_size = config.batch_size // 2
                notify(f"Out of memory while training on {device}: resuming with batch size "
                       f"{new_size} (was {config.batch_size})")
                config = dataclasses.replace(config, batch_size=new_size, resume=True)
            elif device != "cpu":
                notify(f"Out of memory while training on {device} at batch size 1: "
                       "resuming on the CPU (slower)")
                config = dataclasses.replace(config, device="cpu", resume=True)
            else:
                raise OutOfMemory(f"out of memory on the CPU with batch size 1: {exc}") from exc
