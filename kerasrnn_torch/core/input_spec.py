"""`InputSpec`: what a layer says about the inputs it accepts, checked at every call, as Keras's.

A layer sets `self.input_spec = InputSpec(ndim=3, axes={-1: 8})` (or a list of them, one per input
tensor of its first argument) and each call, on real tensors or on `kr.Input` tensors, checks the
first argument against it before running: the rank (`ndim`, `min_ndim`, `max_ndim`), the dtype,
fixed sizes of some axes (`axes`) or of every axis (`shape`, None for any size). A mismatch is a
ValueError naming the layer, the input, what was expected and what came. A layer whose
`input_spec` is None (every built-in layer) pays one attribute test per call.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils import _pytree as pytree

from .. import _dtypes
from .._checks import shape_text


def _dtype_name(dtype: Any) -> str:
    """Keras's name of a dtype given as a torch dtype, a NumPy dtype or a name."""
    if isinstance(dtype, torch.dtype):
        return _dtypes.NAMES.get(dtype, str(dtype).replace("torch.", ""))
    if isinstance(dtype, str) and dtype in _dtypes.BY_NAME:
        return dtype
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"InputSpec: `dtype` must be a torch dtype or a dtype name such as 'float32', "
                         f"got {dtype!r}") from None


def _shape(shape: Any) -> tuple[int | None, ...]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"InputSpec: `shape` must be a tuple of sizes (None for any size), got {shape!r}") from None
    for dim in dims:
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 0):
            raise ValueError(f"InputSpec: `shape` must hold sizes >= 0 or None, got {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


class InputSpec:
    """What a layer accepts as the tensor(s) of its first call argument: rank, dtype, sizes.

    Args:
        dtype: the dtype the input must have (a torch dtype or Keras's name).
        shape: the whole shape, batch axis first, None for any size on an
            axis; it sets `ndim`.
        ndim: the rank the input must have.
        max_ndim, min_ndim: bounds on the rank.
        axes: {axis: size} for axes whose size is fixed (negative axes count
            from the end), e.g. `{-1: 8}`.
        allow_last_axis_squeeze: `shape` also matches with a trailing axis
            of size 1 added or dropped, on the input's or the spec's side.
        name: the key of this input in a dict of inputs.
        optional: None may be given for this input.

    >>> spec = InputSpec(ndim=3, axes={-1: 8})
    >>> spec
    InputSpec(ndim=3, axes={-1: 8})
    """

    def __init__(self, dtype: Any = None, shape: Sequence[int | None] | None = None, ndim: int | None = None,
                 max_ndim: int | None = None, min_ndim: int | None = None, axes: Mapping[Any, int | None] | None = None,
                 allow_last_axis_squeeze: bool = False, name: str | None = None, optional: bool = False) -> None:
        self.dtype = _dtype_name(dtype) if dtype is not None else None
        if shape is not None:
            self.shape: tuple[int | None, ...] | None = _shape(shape)
            self.ndim: int | None = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            given = axes or {}
            self.axes: dict[int, int | None] = {int(k): given[k] for k in given}
        except (ValueError, TypeError):
            raise TypeError(f"InputSpec: `axes` must be a dict with integer keys (axis -> size), got axes={axes!r}") \
                from None
        top = self.ndim if self.ndim is not None else self.max_ndim
        if self.axes and top is not None and max(self.axes) > top - 1:
            raise ValueError(f"InputSpec: axis {max(self.axes)} in `axes` is greater than the largest axis of an "
                             f"input of rank {top}, which is {top - 1}")

    def __repr__(self) -> str:
        parts = [f"{key}={value}" for key, value in (
            ("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim), ("max_ndim", self.max_ndim),
            ("min_ndim", self.min_ndim), ("axes", self.axes)) if value]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self) -> dict[str, Any]:
        """Keras's configuration of the spec (`InputSpec.from_config` makes an equal one)."""
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes, "optional": self.optional}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> InputSpec:
        return cls(**config)


def _specs(input_spec: Any) -> list[InputSpec | None]:
    return pytree.tree_leaves(input_spec, is_leaf=lambda v: v is None or isinstance(v, InputSpec))


def _inputs(inputs: Any) -> list[Any]:
    return pytree.tree_leaves(inputs, is_leaf=lambda v: v is None or not isinstance(v, (list, tuple, dict)))


def check_inputs(input_spec: Any, inputs: Any, layer_name: str, *, float_dtype: torch.dtype | None = None,
                 shape_of: Any = None) -> None:
    """Raise a ValueError where `inputs` (a call's first argument) does not meet `input_spec` (an
    InputSpec, or a list or nested structure of them, one per input tensor).

    `float_dtype`: the dtype a NumPy float array will be converted to (what its dtype is checked as).
    `shape_of(value)`: the shape to check for a tensor (None sizes unknown); default its own shape.
    """
    specs = _specs(input_spec)
    if not specs:
        return
    if isinstance(inputs, dict):
        names = [spec.name if spec is not None else None for spec in specs]
        if all(names):
            missing = [name for name in names if name not in inputs]
            if missing:
                raise ValueError(f'Missing data for input "{missing[0]}" of layer "{layer_name}". You passed a data '
                                 f"dictionary with keys {list(inputs)}. Expected the following keys: {names}")
            inputs = [inputs[name] for name in names]
    values = _inputs(inputs)
    if len(values) != len(specs):
        names = [spec.name for spec in specs if spec is not None]
        if len(names) == len(specs) and all(names):
            keys = ", ".join(f"'{name}': ..." for name in names)
            raise ValueError(f'Layer "{layer_name}" expects {len(specs)} named input(s) with keys {names}, but it '
                             f"received {len(values)} input tensors. Pass them as a dict: `layer({{{keys}}})`")
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(values)} input '
                         "tensors")
    for index, (value, spec) in enumerate(zip(values, specs)):
        if spec is None or (value is None and spec.optional):
            continue
        _check_one(spec, value, index, layer_name, float_dtype, shape_of)


def _check_one(spec: InputSpec, value: Any, index: int, layer_name: str, float_dtype: torch.dtype | None,
               shape_of: Any) -> None:
    if not hasattr(value, "shape"):
        raise ValueError(f"Inputs to a layer should be tensors: layer '{layer_name}' got {value!r} (of type "
                         f"{type(value).__name__}) as its input {index}")
    shape = tuple(shape_of(value) if shape_of is not None else value.shape)
    shape = tuple(None if d is None else int(d) for d in shape)
    ndim = len(shape)
    named = f" with name '{spec.name}'" if spec.name is not None else ""
    where = f"Input {index}{named} of layer '{layer_name}' is incompatible with the layer"
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(f"{where}: expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: "
                         f"{shape_text(shape)}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{where}: expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(f"{where}: expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: "
                         f"{shape_text(shape)}")
    if spec.dtype is not None:
        dtype = value.dtype
        if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f" and float_dtype is not None:
            dtype = float_dtype          # the layer converts it to this dtype before computing
        found = _dtype_name(dtype)
        if found != spec.dtype:
            raise ValueError(f"{where}: expected dtype={spec.dtype}, found dtype={found}")
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if not -ndim <= axis < ndim:
            raise ValueError(f"{where}: expected axis {axis} of input shape to have value {size}, but received "
                             f"input with shape {shape_text(shape)}, which has no axis {axis}")
        if shape[axis] not in (size, None):
            raise ValueError(f"{where}: expected axis {axis} of input shape to have value {size}, but received "
                             f"input with shape {shape_text(shape)}")
    if spec.shape is not None:
        wanted, found_shape = spec.shape, shape
        if spec.allow_last_axis_squeeze:
            if found_shape and found_shape[-1] == 1:
                found_shape = found_shape[:-1]
            if wanted and wanted[-1] == 1:
                wanted = wanted[:-1]
        for want, got in zip(wanted, found_shape):
            if want is not None and got is not None and want != got:
                raise ValueError(f"{where}: expected shape={shape_text(spec.shape)}, found "
                                 f"shape={shape_text(found_shape)}")
