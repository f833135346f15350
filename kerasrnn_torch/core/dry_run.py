"""`dry_run`: call a module on a dummy input without leaving a trace.

`summary()` finds output shapes this way, `Sequential.build` builds its
layers, and a layer called on `kr.Input` tensors runs its probes.
"""
from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn

@contextlib.contextmanager
def dry_run(module: nn.Module):
    """Run `module` inside the block without leaving a trace, beyond building unbuilt layers.

    Inside: eval mode everywhere (no dropout drawn, no batch-norm statistics
    updated), no autograd graph, and stateful layers start from zero states
    (a dummy batch must not meet the batch size of the states they hold).
    On exit, every submodule's train/eval flag, the stateful layers' states
    and the per-call records (`last_path`, activity losses, ...) are put
    back. Weights created by a lazy build stay, as Keras's
    `model.build(input_shape)` keeps them.
    """
    # Duck-typed: any module with these methods (a Layer or not) takes part, so they are looked up by name.
    modules: list[Any] = list(module.modules())
    modes = [(m, m.training) for m in modules]
    saved = [(m, m.save_call_records()) for m in modules if callable(getattr(m, "save_call_records", None))]
    # The dummy batch starts a stateful RNN from zero states, whatever batch size the held ones have.
    held = [(m, m.snapshot_states()) for m in modules if callable(getattr(m, "snapshot_states", None))]
    for m, _ in held:
        m.restore_states(None)
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, training in modes:
            m.training = training
        for m, records in saved:
            m.restore_call_records(records)
        for m, states in held:
            m.restore_states(states)
