"""Keep freed memory in the process during CPU training, instead of handing it back each step.

glibc's malloc serves large blocks (over 128 KiB by default, a threshold that adapts upwards)
with fresh ``mmap`` pages and returns them on free, and trims the heap's top; a training step
allocates and frees hundreds of megabytes of activations, so every step page-faults them in
again and the kernel zeroes them. Raising the mmap threshold to its maximum (32 MiB) and the
trim threshold keeps that memory for the next step. Measured on this project's 2-core CPU, one
training step of the EfficientNet-Lite U-Net (8 x 256 px): system time 0.4-0.6 s -> under 0.1 s
and page faults 5-10x fewer per step; wall time 1.07 -> 0.84 s in one A/B pair, within the noise
in another. The cost: the process keeps its peak heap until it exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's largest on 64-bit
TRIM_THRESHOLD = 1 << 30
TOP_PAD = 1 << 30

_applied = False


def keep_freed_memory() -> bool:
    """Tune glibc malloc as above (once per process); False where there is no glibc."""
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = all(mallopt(param, value) == 1 for param, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (M_TOP_PAD, TOP_PAD)))
    _applied = ok
    return ok
