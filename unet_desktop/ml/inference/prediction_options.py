"""How predictions are made: one frozen value, made on the UI thread and handed to each job.

The window's :class:`~unet_desktop.gui.model.model_controller.ModelController` owns the current
:class:`PredictionOptions`; a job that loads or reconfigures a model receives the value it must
use, so it never reads options that the UI thread may be changing (torch is not imported here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODES = ("resize", "tile")  # resize: at the model's training scale; tile: native resolution


@dataclass(frozen=True)
class PredictionOptions:
    mode: str = "resize"
    tta: bool = False  # every prediction averaged over flips (steadier, 3x the work)
    device: str = "auto"  # what pick_device accepts: auto, cuda:N, mps, cpu

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        object.__setattr__(self, "tta", bool(self.tta))

    def apply(self, predictor: Any) -> None:
        """Set the output options (mode, flip averaging) of a predictor (worker thread)."""
        predictor.mode = self.mode
        predictor.tta = self.tta
