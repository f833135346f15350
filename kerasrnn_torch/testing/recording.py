"""Forward hooks that record one run of a model: every submodule's outputs, in the order the calls
finish, and for every recurrent layer the path it took and why it did not run the fused kernel."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import torch
from torch import nn

from .differences import named_tensors
from .snapshot import PATH_LAYERS, RNN


@dataclass
class Call:
    """One call of one submodule."""
    name: str                                  # its path in the model (named_modules)
    layer: str                                 # its class
    number: int                                # 1 for its first call in the run, 2 for the second, ...
    outputs: list[tuple[str, torch.Tensor]]    # (place in the result, detached copy)


@dataclass
class PathTaken:
    """One call of one recurrent layer: the path it ran and, when not fused, why."""
    path: str | None
    reason: str | None


@dataclass
class Recording:
    calls: list[Call] = field(default_factory=list)
    paths: dict[str, list[PathTaken]] = field(default_factory=dict)

    def by_key(self) -> dict[tuple[str, int], Call]:
        return {(call.name, call.number): call for call in self.calls}


def _inside_recurrent_layer(name: str, recurrent_names: set[str]) -> bool:
    """A cell or a random stream of an RNN: called per step on the loop path only, so never compared."""
    if "" in recurrent_names:
        return True                 # the model itself is one
    parts = name.split(".")
    return any(".".join(parts[:i]) in recurrent_names for i in range(1, len(parts)))


def _mask_argument(module: nn.Module, args, kwargs):
    try:
        bound = inspect.signature(module.forward).bind_partial(*args, **kwargs)
    except TypeError:
        return None
    mask = bound.arguments.get("mask")
    return mask if isinstance(mask, torch.Tensor) else None


class Recorder:
    """`with Recorder(model) as recording: model(...)` fills `recording`; the hooks go at the end."""

    def __init__(self, model: nn.Module, keep_outputs: bool = True):
        self.model = model
        self.keep_outputs = keep_outputs
        self.recording = Recording()
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> Recording:
        rnn_names = {name for name, module in self.model.named_modules() if isinstance(module, RNN)}
        seen = set()
        for name, module in self.model.named_modules():
            if id(module) in seen or (name and _inside_recurrent_layer(name, rnn_names)):
                continue
            seen.add(id(module))
            if isinstance(module, PATH_LAYERS):
                self._handles.append(module.register_forward_pre_hook(self._before_path_layer(name),
                                                                      with_kwargs=True))
            # The model's own outputs are compared as such; its path, when it is a recurrent layer, is recorded.
            if name or isinstance(module, PATH_LAYERS):
                self._handles.append(module.register_forward_hook(self._after(name, module, record=bool(name))))
        return self.recording

    def __exit__(self, *exc_info):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _before_path_layer(self, name):
        def hook(module, args, kwargs):
            reason = module.dispatch_reason(_mask_argument(module, args, kwargs))
            self.recording.paths.setdefault(name, []).append(PathTaken(None, reason))
        return hook

    def _after(self, name, module, record: bool):
        counts = {"calls": 0}

        def hook(_module, _args, output):
            counts["calls"] += 1
            if isinstance(module, PATH_LAYERS):
                self.recording.paths[name][-1].path = module.last_path
            if self.keep_outputs and record:
                outputs = [(place, tensor.detach().clone()) for place, tensor in named_tensors(output)]
                self.recording.calls.append(Call(name, type(module).__name__, counts["calls"], outputs))
        return hook
