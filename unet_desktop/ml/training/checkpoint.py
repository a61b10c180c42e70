"""Training checkpoints for resuming after a crash: one safetensors file, no pickle.

Tensors (current and best weights, optimizer moments, RNG state) are stored flat under
``model/``, ``best/``, ``optim/<param>/<name>`` and ``rng/`` prefixes; everything else
(epoch, step, elapsed time, best score, optimizer hyper-parameters, a fingerprint of the run)
is JSON in the header. Written atomically at the end of each epoch, beside the output model as
``<out stem>.ckpt``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.io.atomic import atomic_write_bytes

FORMAT = "unet-desktop-checkpoint"
_HEADER_KEY = "checkpoint"


@dataclass
class TrainingState:
    epoch: int  # epochs completed
    global_step: int
    elapsed_s: float
    model: dict[str, torch.Tensor]
    optimizer: dict  # optimizer.state_dict()
    best_model: dict[str, torch.Tensor] | None = None
    scaler: dict = field(default_factory=dict)
    rng: dict[str, torch.Tensor] = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # JSON-able: best score, history, fingerprint...


def checkpoint_path(out: str | os.PathLike) -> Path:
    """Where training to ``out`` keeps its resumable checkpoint."""
    return Path(out).with_suffix(".ckpt")


def capture_rng(device: torch.device) -> dict[str, torch.Tensor]:
    rng = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    return rng


def restore_rng(rng: dict[str, torch.Tensor], device: torch.device) -> None:
    if "torch" in rng:
        torch.set_rng_state(rng["torch"])
    if device.type == "cuda" and "cuda" in rng:
        torch.cuda.set_rng_state(rng["cuda"], device)


def _cpu(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().to("cpu").contiguous().clone()


def _flatten_optimizer(state_dict: dict, tensors: dict[str, torch.Tensor]) -> dict:
    """Move the optimizer's tensors into ``tensors``; return the JSON-able rest."""
    plain: dict[str, dict] = {}
    for param_id, entries in state_dict["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{param_id}/{name}"] = _cpu(value)
            else:
                plain.setdefault(str(param_id), {})[name] = value
    return {"param_groups": state_dict["param_groups"], "plain_state": plain}


def _unflatten_optimizer(info: dict, tensors: dict[str, torch.Tensor]) -> dict:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, param_id, name = key.split("/", 2)
            state.setdefault(int(param_id), {})[name] = value
    for param_id, entries in info.get("plain_state", {}).items():
        state.setdefault(int(param_id), {}).update(entries)
    return {"state": state, "param_groups": info["param_groups"]}


def save_checkpoint(path: str | os.PathLike, state: TrainingState) -> None:
    tensors: dict[str, torch.Tensor] = {f"model/{k}": _cpu(v) for k, v in state.model.items()}
    if state.best_model is not None:
        tensors.update({f"best/{k}": _cpu(v) for k, v in state.best_model.items()})
    tensors.update({f"rng/{k}": _cpu(v) for k, v in state.rng.items()})
    header = {
        "format": FORMAT,
        "epoch": state.epoch,
        "global_step": state.global_step,
        "elapsed_s": state.elapsed_s,
        "optimizer": _flatten_optimizer(state.optimizer, tensors),
        "scaler": state.scaler,
        "info": state.info,
    }
    data = save(tensors, metadata={_HEADER_KEY: json.dumps(header)})
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise ModelFileError(path, f"cannot write the checkpoint: {exc.strerror or exc}") from exc


def load_checkpoint(path: str | os.PathLike) -> TrainingState:
    """Read a checkpoint written by :func:`save_checkpoint` (``ModelFileError`` if unusable)."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(path, f"not a readable checkpoint ({exc})") from exc
    try:
        header = json.loads(metadata[_HEADER_KEY])
        if header.get("format") != FORMAT:
            raise ValueError("wrong format tag")
        optimizer = _unflatten_optimizer(header["optimizer"], tensors)
        epoch, step = int(header["epoch"]), int(header["global_step"])
        elapsed = float(header["elapsed_s"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(path, f"not a unet-desktop training checkpoint ({exc})") from exc

    def group(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    best = group("best/")
    return TrainingState(
        epoch=epoch,
        global_step=step,
        elapsed_s=elapsed,
        model=group("model/"),
        optimizer=optimizer,
        best_model=best or None,
        scaler=header.get("scaler", {}),
        rng=group("rng/"),
        info=header.get("info", {}),
    )
