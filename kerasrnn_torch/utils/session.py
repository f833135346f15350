"""Keras's `keras.utils` helpers about the framework's own state and tensors.

`clear_session` (the automatic layer names start again), `is_keras_tensor`,
`get_source_inputs` (a symbolic tensor's model inputs) and `standardize_dtype`
(Keras's dtype names).
"""
from __future__ import annotations

import gc
import sys
from typing import Any

import numpy as np
import torch

from .. import _dtypes
from ..core import layer as layer_module
from ..core.symbolic import KerasTensor

# Keras's dtype names (Keras's ALLOWED_DTYPES), and the Python types it maps to them.
_KERAS_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
                 "int64", "bfloat16", "bool", "string", "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
_PYTHON_TYPES: dict[Any, str] = {bool: "bool", int: "int32", float: "float32", str: "string", "int": "int32",
                                 complex: "complex64"}


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


def standardize_dtype(dtype: Any) -> str:
    """Keras's name of a dtype, as `keras.utils.standardize_dtype`: "float32" for None, a torch dtype, a NumPy
    dtype or type, a Python type (`float` -> "float32", `int` -> "int32") or a name.

    An unknown dtype raises a ValueError, as Keras's does.
    """
    if dtype is None:
        return "float32"       # Keras's floatx
    try:
        dtype = _PYTHON_TYPES.get(dtype, dtype)
    except TypeError:          # an unhashable value: no Python type
        pass
    if isinstance(dtype, torch.dtype):
        name = _dtypes.NAMES.get(dtype, str(dtype).split(".")[-1])
    elif isinstance(dtype, np.dtype):
        name = dtype.name
    elif isinstance(dtype, type):
        name = np.dtype(dtype).name if issubclass(dtype, np.generic) else dtype.__name__
    elif isinstance(dtype, str):
        name = dtype
    else:
        name = getattr(dtype, "name", str(dtype))
    if name not in _KERAS_DTYPES:
        raise ValueError(f"standardize_dtype: invalid dtype {dtype!r}; Keras's dtypes are {', '.join(_KERAS_DTYPES)}")
    return str(name)
