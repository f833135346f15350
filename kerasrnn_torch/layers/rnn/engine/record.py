"""What ran the latest recurrent call in each thread: the package's CPU kernel, PyTorch's kernel or a loop.

The engine's entry points note it as they run (`note`); `last_run` reads it.
A record per thread, so that concurrent calls never see each other's.
"""
from __future__ import annotations

import threading

import torch

__all__ = ["RAN", "last_run", "note"]


class _Record(threading.local):
    kernel: str | None = None
    reason: str | None = None


# The record itself: hot paths set its two attributes directly (outside tracing), saving a call.
RAN = _record = _Record()


def note(kernel: str, reason: str | None = None) -> None:
    """Record what ran the latest recurrent call in this thread (see `last_run`); nothing while tracing."""
    if not torch.compiler.is_compiling():
        _record.kernel, _record.reason = kernel, reason


def last_run() -> tuple[str | None, str | None]:
    """`(kernel, reason)` of the latest recurrent call in this thread: kernel is "cpu_kernel" (the package's
    CPU kernel), "torch" (PyTorch's fused kernel), "bptt" (the Python loop with a hand-written backward) or
    "loop" (the cell loop, step by step); reason says why the CPU kernel did not run it (None when it did,
    or where it never serves that path)."""
    return _record.kernel, _record.reason
