"""Read a model file's metadata and label scheme without PyTorch (the UI thread must not
import torch).

A ``.safetensors`` file starts with an 8-byte little-endian header length and a JSON header
whose ``__metadata__`` holds the project's metadata as a JSON string (``ml.models.modelfile``).
"""

from __future__ import annotations

import json
import os
import struct

from unet_desktop.core.labels import LabelScheme

_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit
# A model's training scale (ModelMeta.scale; a task's new model, core.folder.task): fit: trained on crops
# resized to train_size, predicted with the image resized to it ("resize" mode); native: trained
# and predicted at the images' own pixel scale (tiles in both modes).
SCALES = ("fit", "native")
# --turns (train, bench): TrainConfig.without_up for each choice; auto (None): on at native scale
TURNS = {"auto": None, "on": True, "off": False}


def prediction_mode_name(mode: str, scale: str) -> str:
    """How a model of ``scale`` predicts when ``mode`` is asked for (``ml.inference.predictor``): a
    native-scale model goes through tiles whatever the mode."""
    return "tile (native-scale model)" if scale == "native" else mode


def model_metadata(path: str | os.PathLike) -> dict | None:
    """The metadata dict (``ml.models.modelfile.ModelMeta.to_dict()``) of a ``.safetensors`` model
    file; None if it has none or the file cannot be read."""
    try:
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > _MAX_HEADER:
                return None
            header = json.loads(f.read(length))
        meta = json.loads(header["__metadata__"]["meta"])
    except (OSError, struct.error, ValueError, KeyError, TypeError):
        return None
    return meta if isinstance(meta, dict) else None


def model_scheme(path: str | os.PathLike) -> LabelScheme | None:
    """The label scheme recorded in a ``.safetensors`` model file; None if it has none or the
    file cannot be read (the model loader reports such files properly)."""
    meta = model_metadata(path)
    try:
        return LabelScheme.from_dict(meta["scheme"]) if meta is not None else None
    except (ValueError, KeyError, TypeError):
        return None
