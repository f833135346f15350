"""`dry_run`: call a module on a dummy input without leaving a trace.

`summary()` finds output shapes this way, `Sequential.build` builds its
layers, and a layer called on `kr.Input` tensors runs its probes.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

# Per-call records a forward writes on kerasrnn_torch modules, put back after a dry run.
_CALL_RECORDS = ("last_path", "_activity_losses", "_fallback_logged", "_last_input", "_mask_cache")


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
    modules = list(module.modules())
    modes = [(m, m.training) for m in modules]
    saved = [(m, _save_call_records(m)) for m in modules]
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, training in modes:
            m.training = training
        for m, records in saved:
            _restore_call_records(m, records)


def _save_call_records(module):
    """Keep what a call may change; a stateful RNN also forgets its states until the dry run ends."""
    records = {name: module.__dict__[name] for name in _CALL_RECORDS if name in module.__dict__}
    if "_state_spec" in module.__dict__:
        # The dummy batch starts a stateful RNN from zero states, whatever batch size the held ones have.
        records["_state_spec"] = module.__dict__["_state_spec"]
        records["_state_leaves"] = module.__dict__["_state_leaves"]
        module._restore_states(None)
    return records


def _restore_call_records(module, records):
    module.__dict__.update(records)
