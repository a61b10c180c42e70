"""A fine-tuning run without Qt; the training dock and ``unet-desktop train`` both run it:
``ml.training.train`` with the out-of-memory fallbacks, and (in the window) the saved model file named
after its version id, so that the file name and the version the app shows are the same (issue 18,
item 5)."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_STAMPED = re.compile(r"(?P<stem>.+)-\d{8}-\d{6}(-\d+)?")  # what the window names a new file


def run_finetune(data: Any, config: Any, cancel: Any = None,
                 notify: Callable[[str], None] | None = None, *,
                 name_after_version: bool = True) -> Iterator[Any]:
    """``ml.training.train``'s reports for ``config`` with the fields it leaves to the few-image recipe
    filled in (``ml.training.few_image_recipe``); with ``name_after_version`` the final one names the file renamed
    after the model's version (:func:`named_after_version`), else the file is ``config.out``.

    Out of memory: a smaller batch, then the CPU (``notify`` says so); not under torchrun, where
    one process cannot change its batch alone: the run stops with the error there.
    """
    from unet_desktop.ml.inference.oom import train_with_oom_fallback
    from unet_desktop.ml.reports import FinalReport
    from unet_desktop.ml.training.dataset import SampleSet, training_entries
    from unet_desktop.ml.training.distributed import env_world_size
    from unet_desktop.ml.training.few_image_recipe import resolve
    from unet_desktop.ml.training.train import train

    images = (len(data.samples) if isinstance(data, SampleSet)
              else len(training_entries(data, config.all_masks, config.only)))
    config = resolve(config, images)  # the few-image recipe, before any out-of-memory retry
    reports = (train(data, config, cancel) if env_world_size() > 1
               else train_with_oom_fallback(train, data, config, cancel, notify))
    for report in reports:
        if name_after_version and isinstance(report, FinalReport) \
                and report.model_path is not None:
            report = dataclasses.replace(report, model_path=named_after_version(report.model_path))
        yield report


def named_after_version(path: Path) -> Path:
    """Rename ``<name>-<time>.safetensors`` to ``<name>-<version>.safetensors`` (the version id
    starts with the time it was made); returns the new path (the old one if taken). A file named
    otherwise keeps its name: a task's models are named after the task (``cells-v3``)."""
    from unet_desktop.ml.models.modelfile import read_meta

    match = _STAMPED.fullmatch(path.stem)
    if match is None:
        return path
    stem = match.group("stem")
    target = path.with_name(f"{stem}-{read_meta(path).version}{path.suffix}")
    if target == path or target.exists():
        return path
    os.replace(path, target)
    return target
