"""Tensors in, the dtype rules, and Keras's `keras.ops` core functions (`cast`, `convert_to_tensor`, `slice`, ...).

Keras's torch backend turns every argument into a tensor first: a Python
int becomes int32 (int64 beyond int32's range), a float the default float
dtype (float32), a bool a bool; NumPy arrays keep their dtype. torch's
promotion then does the rest, as it does for Keras (0-d tensors, as those
numbers become, do not raise a tensor's dtype within its kind).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import builtins

import numpy as np
import torch

from .. import _dtypes
from ..core.symbolic import KerasTensor
from .operation import operation

DTypeLike = Any       # a torch dtype, Keras's name ("float32"), or None


def to_dtype(dtype: DTypeLike, owner: str = "kr.ops") -> torch.dtype | None:
    """A torch dtype from a torch dtype, Keras's name, a NumPy dtype or Python type; None stays None."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if dtype is bool:
        return torch.bool
    if dtype is int:
        return torch.int32
    if dtype is float:
        return torch.get_default_dtype()
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    return _dtypes.from_name(name, owner)


def dtype_name(dtype: torch.dtype) -> str:
    """A torch dtype's name as Keras writes it ("float32"), for messages."""
    return str(dtype).replace("torch.", "")


def floatx() -> torch.dtype:
    return torch.get_default_dtype()


def tensor(x: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """`x` as a torch tensor by Keras's torch backend's rules (see the module's docstring)."""
    wanted = to_dtype(dtype)
    if isinstance(x, torch.Tensor):
        return x if wanted is None or x.dtype == wanted else x.to(wanted)
    if isinstance(x, bool):
        return torch.tensor(x, dtype=wanted or torch.bool)
    if isinstance(x, int):
        return torch.tensor(x, dtype=wanted or (torch.int32 if -2 ** 31 <= x < 2 ** 31 else torch.int64))
    if isinstance(x, float):
        return torch.tensor(x, dtype=wanted or floatx())
    if isinstance(x, (list, tuple)) and any(isinstance(item, torch.Tensor) for item in x):
        return torch.stack([tensor(item, dtype) for item in x])
    if isinstance(x, (list, tuple)):
        flat = np.asarray(x).ravel().tolist()
        if wanted is None:
            wanted = torch.bool if flat and all(isinstance(v, bool) for v in flat) else \
                torch.int32 if all(isinstance(v, int) for v in flat) else floatx()
        return torch.as_tensor(np.asarray(x).tolist(), dtype=wanted)
    array = np.asarray(x)
    if array.dtype == np.uint32:
        array = array.astype(np.int64)
    result = torch.from_numpy(np.ascontiguousarray(array))
    return result if wanted is None else result.to(wanted)


_NARROWED = {torch.int64: torch.int32, torch.float64: torch.float32}


def result_type(*values: Any) -> torch.dtype:
    """Keras's `result_type` of tensors, dtypes and Python numbers: torch's promotion (numbers weak), then
    64-bit types narrowed to 32 bits, as Keras's JAX-style rules give (`maximum`, `matmul` and others use it)."""
    dtype: torch.dtype | None = None
    numbers = []
    for value in values:
        if isinstance(value, (bool, int, float)):
            numbers.append(value)
            continue
        other = value if isinstance(value, torch.dtype) else value.dtype
        dtype = other if dtype is None else torch.promote_types(dtype, other)
    if dtype is None:
        dtype = tensor(numbers[0]).dtype if numbers else floatx()
    for number in numbers:
        dtype = torch.result_type(torch.empty((1,), dtype=dtype), number)
    return _NARROWED.get(dtype, dtype)


def is_float(x: torch.Tensor) -> bool:
    return x.dtype.is_floating_point


def as_float(x: torch.Tensor) -> torch.Tensor:
    """Ints and bools in the default float dtype (Keras computes their mean, sqrt, exp there)."""
    return x if x.dtype.is_floating_point or x.dtype.is_complex else x.to(floatx())


# ------------------------------------------------------------------ keras.ops core
@operation("Cast", config=("dtype",), module="core")
def cast(x: Any, dtype: DTypeLike) -> torch.Tensor:
    """`x` in `dtype`, as `keras.ops.cast`."""
    return tensor(x).to(to_dtype(dtype, "kr.ops.cast"))


@operation("ConvertToTensor", config=("dtype", "sparse", "ragged"), module="core")
def convert_to_tensor(x: Any, dtype: DTypeLike = None, sparse: bool | None = None,
                      ragged: bool | None = None) -> torch.Tensor:
    """A torch tensor from a tensor, NumPy array, list or number, as `keras.ops.convert_to_tensor`."""
    if sparse or ragged:
        raise ValueError("kr.ops.convert_to_tensor: sparse=True and ragged=True are not supported with torch "
                         "(as in Keras's torch backend)")
    return tensor(x, dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """A NumPy array of `x`'s values, as `keras.ops.convert_to_numpy` (bfloat16 comes back as float32)."""
    if isinstance(x, KerasTensor):
        raise TypeError(f"kr.ops.convert_to_numpy: {x!r} is symbolic and has no values; call the model on data")
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy()
    return np.asarray(x)


def shape(x: Any) -> tuple[int | None, ...]:
    """`x`'s shape as a tuple (None where a symbolic tensor's size is unknown), as `keras.ops.shape`."""
    if isinstance(x, KerasTensor):
        return x.shape
    return tuple(int(d) for d in tensor(x).shape)


def is_tensor(x: Any) -> bool:
    """Whether `x` is a torch tensor, as `keras.ops.is_tensor`."""
    return isinstance(x, torch.Tensor)


@operation("Slice", config=("shape",), module="core")
def slice(inputs: Any, start_indices: Any, shape: Sequence[int]) -> torch.Tensor:   # noqa: A001 (Keras's name)
    """The block of `shape` from `start_indices` on, as `keras.ops.slice`."""
    inputs = tensor(inputs)
    starts = [int(i) for i in (start_indices.tolist() if isinstance(start_indices, torch.Tensor)
                               else start_indices)]
    index = tuple(builtins.slice(start, start + size) for start, size in zip(starts, shape))
    return inputs[index]

