"""Pick the torch device: CUDA, then Apple MPS, then CPU, or what the user names."""

from __future__ import annotations

import os

import torch


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.

    Under torchrun ``auto``/``cuda`` take the GPU of ``LOCAL_RANK``. Raises ``ValueError`` when
    the named device does not exist on this machine.
    """
    name = (name or "auto").strip().lower()
    local_rank = int(os.environ.get("LOCAL_RANK", "0") or 0)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("mps") if mps_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r} (auto, cpu, cuda, cuda:N or mps)") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available here")
        count = torch.cuda.device_count()
        index = local_rank % count if device.index is None else device.index
        if index >= count:
            raise ValueError(f"device {name!r}: only {count} CUDA device(s)")
        return torch.device("cuda", index)
    if device.type == "mps" and not mps_available():
        raise ValueError("device 'mps' requested but Apple MPS is not available here")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unsupported device {name!r} (auto, cpu, cuda, cuda:N or mps)")
    return device
