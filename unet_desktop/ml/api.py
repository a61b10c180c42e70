"""The public scripting API: ``unet_desktop.load_model(path).predict(image)``."""

from __future__ import annotations

import os

import torch

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.io.paths import default_model_path
from unet_desktop.ml.inference.predictor import Predictor


def load_model(
    path: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    **predictor_options,
) -> Predictor:
    """Load a model file (None = the shipped default model) as a ready :class:`Predictor`.

    ``predictor.predict(image)`` takes an H x W or H x W x 3 uint8 array and returns a
    :class:`~unet_desktop.ml.inference.predictor.Prediction` with ``.labels``, ``.probs``,
    ``.uncertainty`` and ``.score``. Raises :class:`ModelFileError` when the file cannot be used.
    """
    if path is None:
        path = default_model_path()
        if not path.is_file():
            raise ModelFileError(path, "the default model is not installed; pass a model file")
    return Predictor.from_file(path, device=device, **predictor_options)
