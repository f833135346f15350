"""The rules that pick the fused kernel or the cell loop: the only place they live.

`plan(...)` is pure: it takes a layer's configuration and the user's and the
context's wishes, and returns a `Plan`: the path, the reasons that rule the
fused kernel out, and the configuration it was made from (the kernel to run).
A layer consults it through one hook, `RNN.decide()`, once per call (the
recurrent layers keep the answer per configuration), and passes the `Plan` on;
`for_export` adjusts a plan to a call traced by torch.export.

Below the plan, on the CPU, the package's own kernel may run either path's
call (engine/native.py: `native.cell_spec` for the loop, `FUSED_KINDS` and
`torch_layout_serves` for the fused path); that per-call choice leaves the
plan, `last_path` and the reasons here unchanged, and engine/record.py says
which implementation ran.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Literal
from dataclasses import dataclass

import torch

from ...._checks import one_of
from .fused import KERNEL_KINDS

PATHS = ("auto", "fused", "loop")
_forced_path: contextvars.ContextVar[str] = contextvars.ContextVar("kerasrnn_torch_forced_path", default="auto")


@dataclass(frozen=True)
class FusedConfig:
    """The parts of a recurrent layer's configuration the fused kernel cares about."""
    kind: str | None               # the fused kernel the cell's class declares ("lstm", ...); None: none
    activation: str | None         # canonical Keras name, None for an unknown callable
    recurrent_activation: str | None = "sigmoid"
    recurrent_dropout: float = 0.0
    unroll: bool = False
    reset_after: bool = True
    cell: str = "cell"             # the cell's class name, for the reasons


@dataclass(frozen=True)
class Plan:
    """One decision: which path a layer's call takes, and why not the fused kernel."""
    path: str                      # "fused" or "loop"
    reasons: tuple[str, ...]       # why the fused kernel will not run (empty when it will)
    fused_required: bool = False   # use_cudnn=True or force_path("fused") asked for it
    # What it was decided from; None for a layer without a fused kernel (the generic RNN(cell)). On the
    # fused path its `kind` and `activation` name the kernel to run (both set: the rules allow no None).
    config: FusedConfig | None = None

    @property
    def reason(self) -> str | None:
        return "; ".join(self.reasons) if self.reasons else None

    def enforce(self, owner: str) -> None:
        """Raise when the fused kernel was required but cannot run."""
        if self.fused_required and self.path != "fused":
            raise ValueError(f"{owner}: {self.reason}")


def fused_obstacles(config: FusedConfig) -> tuple[str, ...]:
    """Every reason the fused kernel cannot run this configuration, as sentences."""
    if config.kind is None:
        return (f"{config.cell} computes a step of its own (it overrides a step method of the built-in cell "
                "it extends), which no fused kernel computes; a subclass that keeps the built-in math declares "
                'fused_kernel = "lstm" (or "gru", "simple_rnn")',)
    if config.kind not in KERNEL_KINDS:
        return (f"{config.cell} declares fused_kernel={config.kind!r}, but the fused kernels are "
                f"{', '.join(sorted(KERNEL_KINDS))}",)
    reasons = []
    allowed = ("tanh", "relu") if config.kind == "simple_rnn" else ("tanh",)
    if config.activation not in allowed:
        reasons.append(f"activation is {config.activation or 'a custom callable'}, the fused kernel needs "
                       + " or ".join(allowed))
    if config.kind != "simple_rnn" and config.recurrent_activation != "sigmoid":
        reasons.append(f"recurrent_activation is {config.recurrent_activation or 'a custom callable'}, "
                       "the fused kernel needs sigmoid")
    if config.recurrent_dropout:
        reasons.append(f"recurrent_dropout={config.recurrent_dropout} is not supported by the fused kernel")
    if config.unroll:
        reasons.append("unroll=True asks for the step-by-step loop")
    if config.kind == "gru" and not config.reset_after:
        reasons.append("reset_after=False is not the GRU variant the fused kernel computes")
    return tuple(reasons)


def plan(config: FusedConfig | None, *, use_cudnn: bool | Literal["auto"] = "auto",
         forced: str | None = None) -> Plan:
    """Pick the path; pure, never raises (see `Plan.enforce`).

    `config=None` means no fused kernel exists for the layer (the generic
    `RNN(cell)`). `use_cudnn` is the layer's argument; `forced` the
    `force_path` override (read from the context when None), which wins.
    """
    forced = forced if forced is not None else forced_path()
    reasons: tuple[str, ...]
    if config is None:
        reasons = ("the generic RNN(cell) layer always runs the cell loop",)
    else:
        reasons = fused_obstacles(config)
    if forced == "loop":
        return Plan("loop", reasons or ('force_path("loop") is active',), config=config)
    if forced == "auto" and use_cudnn is False:
        return Plan("loop", reasons or ("use_cudnn=False asks for the loop",), config=config)
    required = forced == "fused" or use_cudnn is True
    if reasons:
        source = 'force_path("fused")' if forced == "fused" else "use_cudnn=True"
        prefix: tuple[str, ...] = (f"{source} was given but the fused kernel cannot run: ",) if required else ()
        return Plan("loop", prefix + reasons if not required else (prefix[0] + "; ".join(reasons),), required,
                    config)
    return Plan("fused", (), required, config)


EXPORT_MASK_REASON = ("a masked call under torch.export runs the cell loop: the fused kernel's packing reads the "
                      "mask's values, which an exported graph cannot hold")
EXPORT_TIME_REASON = ("a call with a dynamic time axis under torch.export runs the cell loop (as one scan): the "
                      "fused kernel's exported form fixes the number of timesteps, as torch.nn's layers' does")


def for_export(plan: Plan, *, masked: bool, timesteps) -> Plan:
    """`plan` while torch.export traces: the loop for a masked call (its masked steps read no values) and
    for a symbolic number of `timesteps` (its scan form holds one step); else `plan` as it is."""
    if plan.path != "fused" or not torch.compiler.is_exporting():
        return plan
    if masked:
        reason = EXPORT_MASK_REASON
    elif isinstance(timesteps, torch.SymInt):
        reason = EXPORT_TIME_REASON
    else:
        return plan
    if plan.fused_required:
        return Plan("loop", (f"the fused kernel was required, but {reason}",), True, plan.config)
    return Plan("loop", (reason,), config=plan.config)


@contextlib.contextmanager
def force_path(path: str) -> Iterator[None]:
    """Override every layer's path choice inside the block: "loop", "fused" or "auto".

    The override follows the current context (thread, asyncio task); a thread
    started inside the block does not inherit it.
    """
    global _traced_forced_path
    one_of(path, PATHS, "path", "force_path")
    token = _forced_path.set(path)
    outer, _traced_forced_path = _traced_forced_path, path
    try:
        yield
    finally:
        _forced_path.reset(token)
        _traced_forced_path = outer


# torch.compile cannot trace a ContextVar read (each one is a graph break), so code being compiled
# reads this module-level copy instead; Dynamo guards on it and recompiles when it changes. It is
# shared by every thread: compiling under different force_path blocks in concurrent threads is
# not supported (eager code reads the per-context ContextVar).
_traced_forced_path = "auto"


def forced_path() -> str:
    """The `force_path` override in effect: "auto", "fused" or "loop"."""
    if torch.compiler.is_compiling():
        return _traced_forced_path
    return _forced_path.get()


# `forced_path()` for code that has seen it is not being compiled: the same answer, read without a
# Python call (the recurrent layers' per-call decision reads it on every call).
eager_forced_path = _forced_path.get
