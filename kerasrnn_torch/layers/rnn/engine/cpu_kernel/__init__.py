"""Building and loading the package's CPU recurrent kernel (recurrent.cpp, shipped as package data).

The kernel is a C++ extension compiled with `torch.utils.cpp_extension.load`
the first time a recurrent layer wants it, and cached on disk per machine,
Python, torch version and source: no user waits for the build twice. A
build that takes longer than `ANNOUNCE_AFTER_S` is announced (a log record
at WARNING, which Python prints when nothing else handles it) with what is
being built and where.

Where there is no compiler, the build fails, or the environment variable
`KERASRNN_TORCH_CPU_KERNEL=0` turns it off, `module()` is None and
`unavailable_reason()` says why; the layers then run the paths they ran
before the kernel existed (PyTorch's fused kernels, the cell loop).
"""
from __future__ import annotations

import contextlib

import hashlib
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import torch

logger = logging.getLogger("kerasrnn_torch")

ENV_SWITCH = "KERASRNN_TORCH_CPU_KERNEL"        # "0", "off", "false", "no": never build or use it
ENV_CACHE = "KERASRNN_TORCH_CACHE"              # where builds are kept (default ~/.cache/kerasrnn_torch)
ANNOUNCE_AFTER_S = 2.0
SOURCE = Path(__file__).with_name("recurrent.cpp")

_lock = threading.Lock()
_state: dict[str, Any] = {}                     # "module" and "reason", once decided (per process)


def disabled_by_environment() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() in ("0", "off", "false", "no")


def _cpu_flags() -> list[str]:
    """Vector instructions for ATen's vector types, where the CPU has them (the build is per machine)."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability == "AVX512":
        return ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma", "-DCPU_CAPABILITY=AVX512",
                "-DCPU_CAPABILITY_AVX512"]
    if capability == "AVX2":
        return ["-mavx2", "-mfma", "-DCPU_CAPABILITY=AVX2", "-DCPU_CAPABILITY_AVX2"]
    return ["-DCPU_CAPABILITY=DEFAULT"]


def build_key(flags: list[str]) -> str:
    """The name of one build: the source, the flags, torch's and Python's versions."""
    digest = hashlib.sha256(SOURCE.read_bytes())
    digest.update(" ".join(flags).encode())
    digest.update(f"{torch.__version__} {sys.version_info[:2]} {sys.platform}".encode())
    return "kerasrnn_cpu_kernel_" + digest.hexdigest()[:16]


def cache_root() -> Path:
    root = os.environ.get(ENV_CACHE)
    return Path(root) if root else Path.home() / ".cache" / "kerasrnn_torch"


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++") or shutil.which("clang++")


def _build() -> Any:
    from torch.utils import cpp_extension

    flags = ["-O3", *_cpu_flags()]
    name = build_key(flags)
    directory = cache_root() / "cpu_kernel" / f"torch-{torch.__version__}" / name
    directory.mkdir(parents=True, exist_ok=True)
    built = any(directory.glob(f"{name}*.so")) or any(directory.glob(f"{name}*.pyd"))
    announce = None
    if not built:
        announce = threading.Timer(ANNOUNCE_AFTER_S, logger.warning, (
            "kerasrnn_torch: compiling its CPU recurrent kernel (%s, a C++ extension) into %s; this happens once "
            "per machine and torch version (set %s=0 to skip it)", SOURCE.name, directory, ENV_SWITCH))
        announce.daemon = True
        announce.start()
    started = time.perf_counter()
    try:
        loaded = cpp_extension.load(name=name, sources=[str(SOURCE)], extra_cflags=flags,
                                    build_directory=str(directory), verbose=False)
    finally:
        if announce is not None:
            announce.cancel()
    elapsed = time.perf_counter() - started
    if announce is not None and elapsed > ANNOUNCE_AFTER_S:
        logger.warning("kerasrnn_torch: its CPU recurrent kernel was built in %.0f s", elapsed)
    return loaded


def _decide() -> None:
    if disabled_by_environment():
        _state.update(module=None, reason=f"the CPU kernel is turned off ({ENV_SWITCH}={os.environ[ENV_SWITCH]})")
        return
    if _compiler() is None:
        _state.update(module=None, reason="the CPU kernel is not built: no C++ compiler was found")
        return
    try:
        _state.update(module=_build(), reason=None)
    except Exception as error:          # no working toolchain, ninja missing, ...: the current paths serve
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        _state.update(module=None, reason=f"the CPU kernel could not be built ({type(error).__name__}: {first_line})")
        logger.info("kerasrnn_torch: the CPU recurrent kernel could not be built; the layers run PyTorch's kernels "
                    "and the cell loop instead", exc_info=True)


def module() -> Any:
    """The loaded extension (building it on first use), or None where it cannot or may not run."""
    if "reason" not in _state:
        with _lock:
            if "reason" not in _state:
                _decide()
    return _state["module"]


def unavailable_reason() -> str | None:
    """None when `module()` is the kernel, else why the layers do without it (a sentence)."""
    if _suspended:
        return "the CPU kernel is set aside for this block (the reference run of the cell loop)"
    if "reason" not in _state:
        module()
    return _state["reason"]


_suspended = 0      # > 0 inside `set_aside()`: the layers run their other paths


@contextlib.contextmanager
def set_aside() -> Iterator[None]:
    """The CPU kernel unused inside the block: the cell loop runs in Python, PyTorch's kernels run fused.

    kr.testing's loop run and `check` use it, so that comparing "fused" with "loop" compares the kernel
    (which serves both paths on the CPU where it applies) with the plain cell loop.
    """
    global _suspended
    _suspended += 1
    try:
        yield
    finally:
        _suspended -= 1


def forget() -> None:
    """Decide afresh at the next use (after changing `KERASRNN_TORCH_CPU_KERNEL`, in tests)."""
    with _lock:
        _state.clear()
