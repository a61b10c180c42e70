"""DistributedDataParallel plumbing for training under ``torchrun`` (nccl on GPUs, gloo on CPU).

The training code calls :func:`init_distributed` once: without torchrun's environment
(``WORLD_SIZE`` <= 1) it returns a single-process :class:`DistInfo` and every helper here is a
no-op, so one code path serves a laptop and a multi-GPU node.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # this process created the group and must destroy it

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that logs and writes files."""
        return self.rank == 0


def env_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group torchrun describes in the environment (or an existing one)."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0") or 0),
                        dist.get_world_size())
    world = env_world_size()
    if world <= 1:
        return DistInfo()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend)
    return DistInfo(dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0") or 0),
                    dist.get_world_size(), owns_group=True)


def shutdown(info: DistInfo) -> None:
    if info.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum ``tensor`` over all processes, in place; returns it."""
    if info.is_distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def any_process(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every process if ``flag`` is true on any one (stop decisions stay in step)."""
    if not info.is_distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def barrier(info: DistInfo) -> None:
    if info.is_distributed:
        dist.barrier()


def shard(indices: list[int], info: DistInfo) -> list[int]:
    """This process's share of ``indices`` (no padding, unlike DistributedSampler)."""
    return indices[info.rank :: info.world_size]
