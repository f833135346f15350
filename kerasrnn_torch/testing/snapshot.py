"""Take a model's mutable state and put it back: what lets the comparison run the model twice, from the
same start, and leave it as it found it.

What a forward and backward pass can change, and how it comes back:

- non-trainable tensors (buffers, BatchNormalization's moving statistics) and the seeded layers' random
  streams (`SeededGenerators` keep theirs in `state_dict()`): cloned, then loaded back with
  `load_state_dict(strict=False)`;
- stateful recurrent layers' states: `snapshot_states()` / `restore_states(...)` (a layer that holds
  none yet goes back to holding none);
- every layer's call records (`save_call_records()`: `last_path`, activity losses, ...), every
  module's training flag, and the recurrent layers' `use_cudnn`.

Trainable parameters are not copied: the comparison never changes them (gradients come from
`torch.autograd.grad`, so `.grad` is left alone too). Torch's global random state is forked around
each run instead (`torch.random.fork_rng`).
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from ..core.layer import Layer
from ..layers.rnn.bidirectional import Bidirectional
from ..layers.rnn.engine.dispatch import force_path
from ..layers.rnn.rnn import RNN

PATH_LAYERS = (RNN, Bidirectional)


def recurrent_layers(model: nn.Module) -> list[tuple[str, RNN | Bidirectional]]:
    """`(name, layer)` for every recurrent layer (RNN and its subclasses, Bidirectional) in the model."""
    return [(name, module) for name, module in model.named_modules() if isinstance(module, PATH_LAYERS)]


def stateful_layers(model: nn.Module) -> list[tuple[str, RNN]]:
    """`(name, layer)` for every stateful RNN (a stateful Bidirectional's two inner layers count separately)."""
    return [(name, module) for name, module in model.named_modules() if isinstance(module, RNN) and module.stateful]


def non_trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Clones of the `state_dict` entries that are not trainable parameters (buffers, random streams, ...)."""
    return {key: value.detach().clone() for key, value in model.state_dict(keep_vars=True).items()
            if not (isinstance(value, nn.Parameter) and value.requires_grad)}


class ModelSnapshot:
    """What `restore()` puts back: see the module docstring."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.training = [(module, module.training) for module in model.modules()]
        self.tensors = non_trainable_state(model)
        self.states = [(layer, layer.snapshot_states()) for _, layer in stateful_layers(model)]
        self.records = [(module, module.save_call_records()) for module in model.modules()
                        if isinstance(module, Layer)]
        self.attributes = [(layer, "use_cudnn", vars(layer)["use_cudnn"]) for _, layer in recurrent_layers(model)
                           if "use_cudnn" in vars(layer)]

    def restore(self):
        for layer, states in self.states:
            layer.restore_states(states)
        for module, records in self.records:
            module.restore_call_records(records)
        if self.tensors:
            self.model.load_state_dict(self.tensors, strict=False)
        for recurrent, name, value in self.attributes:
            setattr(recurrent, name, value)
        for any_module, training in self.training:
            any_module.training = training


@contextlib.contextmanager
def fused_where_possible(model: nn.Module):
    """Every recurrent layer on `use_cudnn="auto"`, no path forced: each runs the fused kernel where its
    configuration and mask allow, and the cell loop elsewhere (never an error). The settings come back after."""
    changed = [(layer, layer.use_cudnn) for _, layer in recurrent_layers(model)
               if "use_cudnn" in vars(layer) and layer.use_cudnn != "auto"]
    for layer, _ in changed:
        layer.use_cudnn = "auto"
    try:
        with force_path("auto"):
            yield
    finally:
        for layer, value in changed:
            layer.use_cudnn = value


def forked_random_state():
    """`torch.random.fork_rng` over the CPU and every CUDA device already in use."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() and torch.cuda.is_initialized() \
        else []
    return torch.random.fork_rng(devices=devices)
