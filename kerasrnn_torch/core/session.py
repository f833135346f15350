"""The framework's global state and symbolic tensors, for Keras's `keras.utils` names.

`clear_session` (the automatic layer names start again), `is_keras_tensor` and
`get_source_inputs` (a symbolic tensor's model inputs); `kr.utils` gives them
under Keras's names.
"""
from __future__ import annotations

import gc
import sys
from typing import Any

from . import layer as layer_module
from .symbolic import KerasTensor


def clear_session(free_memory: bool = True) -> None:
    """Reset the framework's global state, as `keras.utils.clear_session`.

    The automatic layer names start again ("dense", "dense_1", ... after it: the next `Dense()` is "dense"),
    torch.compile's caches are dropped (where torch._dynamo was loaded), and with `free_memory` Python's
    garbage collector runs. Layers and models already made keep their names and weights.
    """
    layer_module._name_counters.clear()
    dynamo = sys.modules.get("torch._dynamo")
    if dynamo is not None:
        dynamo.reset()
    if free_memory:
        gc.collect()


def is_keras_tensor(x: Any) -> bool:
    """Whether `x` is a symbolic tensor of a functional model (what `kr.Input` and layer calls on it give),
    as `keras.utils.is_keras_tensor`; a torch tensor is not."""
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor: Any) -> Any:
    """The model inputs (`kr.Input` tensors) a symbolic tensor is computed from, in order, each once, as
    `keras.utils.get_source_inputs`; anything other than a symbolic tensor is returned as it is."""
    if not isinstance(tensor, KerasTensor):
        return tensor
    sources: list[KerasTensor] = []
    seen: set[int] = set()
    pending = [tensor]
    while pending:      # depth first, arguments in order, as Keras's recursion walks the graph
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.node.is_input:
            if all(current is not found for found in sources):
                sources.append(current)
        else:
            pending.extend(reversed(current.node.inputs))
    return sources
