"""`keras.ops`'s NumPy-style functions, computed as Keras's torch backend computes them.

Each function takes torch tensors, NumPy arrays or Python numbers (see
`core.tensor` for how they become tensors) and returns torch tensors; on
KerasTensors it records Keras's operation of the same class name instead
(`Add`, `Mean`, `Reshape`, ...; see `operation.py`).
"""
from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import torch

from .core import DTypeLike, as_float, floatx, result_type, tensor, to_dtype
from .operation import operation

Axis = Any      # None, an int, or a tuple/list of ints


def _axes(axis: Axis) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def _promoted(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Both as tensors of Keras's `result_type` (Python numbers weak, 64-bit types narrowed)."""
    first = x1 if isinstance(x1, (int, float)) else tensor(x1)
    second = x2 if isinstance(x2, (int, float)) else tensor(x2)
    dtype = result_type(first, second)
    return tensor(x1, dtype), tensor(x2, dtype)


# ------------------------------------------------------------------ arithmetic
@operation("Add")
def add(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 + x2`, as `keras.ops.add`."""
    return torch.add(tensor(x1), tensor(x2))


@operation("Subtract")
def subtract(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 - x2`, as `keras.ops.subtract` (a bool operand takes the other's dtype)."""
    a, b = tensor(x1), tensor(x2)
    if a.dtype == torch.bool:
        a = a.to(b.dtype)
    if b.dtype == torch.bool:
        b = b.to(a.dtype)
    return torch.subtract(a, b)


@operation("Multiply")
def multiply(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 * x2`, as `keras.ops.multiply`."""
    return torch.multiply(tensor(x1), tensor(x2))


def _divide(x1: Any, x2: Any) -> torch.Tensor:
    """True division; a Python number stays a number (torch promotes it weakly), as Keras's torch backend."""
    first_number = isinstance(x1, (int, float)) and not isinstance(x1, bool)
    second_number = isinstance(x2, (int, float)) and not isinstance(x2, bool)
    if first_number and not second_number:
        return x1 / tensor(x2)
    if second_number and not first_number:
        return tensor(x1) / x2
    return torch.divide(tensor(x1), tensor(x2))


@operation("Divide")
def divide(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 / x2`, as `keras.ops.divide` (true division: ints give floats)."""
    return _divide(x1, x2)


@operation("TrueDivide")
def true_divide(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 / x2`, as `keras.ops.true_divide`."""
    return _divide(x1, x2)


@operation("FloorDivide")
def floor_divide(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 // x2`, as `keras.ops.floor_divide`."""
    a, b = _promoted(x1, x2)
    return torch.floor_divide(a, b)


@operation("Mod")
def mod(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 % x2` (the divisor's sign), as `keras.ops.mod`."""
    a, b = tensor(x1), tensor(x2)
    if a.dtype == torch.bool and b.dtype == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return torch.remainder(a, b)


@operation("Power")
def power(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 ** x2`, as `keras.ops.power`."""
    return torch.pow(tensor(x1), tensor(x2))


@operation("Negative")
def negative(x: Any) -> torch.Tensor:
    """`-x`, as `keras.ops.negative`."""
    return torch.negative(tensor(x))


@operation("Absolute")
def absolute(x: Any) -> torch.Tensor:
    """`|x|`, as `keras.ops.absolute` (bools stay bools)."""
    x = tensor(x)
    return x if x.dtype == torch.bool else torch.abs(x)


def abs(x: Any) -> torch.Tensor:      # noqa: A001 (Keras's name)
    """`|x|`, as `keras.ops.abs` (Keras's operation `Absolute`)."""
    return absolute(x)


@operation("Sqrt")
def sqrt(x: Any) -> torch.Tensor:
    """The square root, as `keras.ops.sqrt` (ints give floats)."""
    return torch.sqrt(as_float(tensor(x)))


@operation("Square")
def square(x: Any) -> torch.Tensor:
    """`x * x`, as `keras.ops.square` (bools give int32)."""
    x = tensor(x)
    return torch.square(x.to(torch.int32) if x.dtype == torch.bool else x)


@operation("Exp")
def exp(x: Any) -> torch.Tensor:
    """`e ** x`, as `keras.ops.exp`."""
    return torch.exp(as_float(tensor(x)))


@operation("Log")
def log(x: Any) -> torch.Tensor:
    """The natural logarithm, as `keras.ops.log`."""
    return torch.log(as_float(tensor(x)))


@operation("Maximum")
def maximum(x1: Any, x2: Any) -> torch.Tensor:
    """The element-wise maximum, as `keras.ops.maximum`."""
    a, b = _promoted(x1, x2)
    return torch.maximum(a, b)


@operation("Minimum")
def minimum(x1: Any, x2: Any) -> torch.Tensor:
    """The element-wise minimum, as `keras.ops.minimum`."""
    a, b = _promoted(x1, x2)
    return torch.minimum(a, b)


@operation("Clip", config=("x_min", "x_max"))
def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    """`x` limited to [x_min, x_max], as `keras.ops.clip` (bools give int32)."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.clip(x, min=tensor(x_min), max=tensor(x_max))


# ------------------------------------------------------------------ reductions
@operation("Sum", config=("axis", "keepdims"))
def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:    # noqa: A001
    """The sum over `axis` (all axes: None), as `keras.ops.sum` (bools and small ints give int32)."""
    x = tensor(x)
    if axis == () or axis == []:
        return x
    dtype = torch.int32 if x.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16) else x.dtype
    result = torch.sum(x) if axis is None else torch.sum(x, dim=_axes(axis), keepdim=keepdims)
    return result.to(dtype)


@operation("Mean", config=("axis", "keepdims"))
def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The mean over `axis`, as `keras.ops.mean` (ints give float32; float16 computed in float32)."""
    x = tensor(x)
    if axis == () or axis == []:
        return x
    result_dtype = x.dtype if x.dtype.is_floating_point else floatx()
    compute = x.to(torch.promote_types(x.dtype, torch.float32) if x.dtype.is_floating_point else floatx())
    axes = None if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    result = torch.mean(compute) if axes is None and not keepdims else torch.mean(compute, axes, keepdims)
    return result.to(result_dtype)


def _extreme(x: Any, axis: Axis, keepdims: bool, initial: Any, largest: bool) -> torch.Tensor:
    x = tensor(x)
    if 0 in x.shape:
        if initial is None:
            raise ValueError(f"kr.ops.{'max' if largest else 'min'}: cannot take it of an empty tensor "
                             "without `initial`")
        return torch.full((1,) * x.ndim if keepdims else (), initial)
    reduce = torch.amax if largest else torch.amin
    result = reduce(x) if axis is None else reduce(x, dim=_axes(axis), keepdim=keepdims)
    if axis is None and keepdims:
        result = result.reshape((1,) * x.ndim)
    if initial is not None:
        bound = torch.full(result.shape, initial, dtype=result.dtype)
        result = torch.maximum(result, bound) if largest else torch.minimum(result, bound)
    return result


@operation("Max", config=("axis", "keepdims", "initial"))
def max(x: Any, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:   # noqa: A001
    """The maximum over `axis`, as `keras.ops.max`."""
    return _extreme(x, axis, keepdims, initial, largest=True)


@operation("Min", config=("axis", "keepdims", "initial"))
def min(x: Any, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:   # noqa: A001
    """The minimum over `axis`, as `keras.ops.min`."""
    return _extreme(x, axis, keepdims, initial, largest=False)


@operation("Prod", config=("axis", "keepdims", "dtype"))
def prod(x: Any, axis: Axis = None, keepdims: bool = False, dtype: DTypeLike = None) -> torch.Tensor:
    """The product over `axis`, as `keras.ops.prod` (bools and small ints give int32)."""
    x = tensor(x)
    wanted = to_dtype(dtype, "kr.ops.prod")
    if wanted is None:
        wanted = torch.int32 if x.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16) else x.dtype
    compute = torch.float32 if wanted == torch.float16 and x.device.type == "cpu" else wanted
    if axis is None:
        result = torch.prod(x, dtype=compute).to(wanted)
        return result.reshape((1,) * x.ndim) if keepdims else result
    axes = [axis] if isinstance(axis, int) else list(axis)
    axes = sorted((a % x.ndim for a in axes), reverse=True)
    for a in axes:
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=compute).to(wanted)
    return x


@operation("Any", config=("axis", "keepdims"))
def any(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:     # noqa: A001
    """Whether any element along `axis` is true (non-zero), as `keras.ops.any`."""
    x = tensor(x)
    if axis == () or axis == []:
        return x.to(torch.bool)
    result = torch.any(x) if axis is None else torch.any(x, dim=_axes(axis), keepdim=keepdims)
    if axis is None and keepdims:
        result = result.reshape((1,) * x.ndim)
    return result.to(torch.bool)


@operation("All", config=("axis", "keepdims"))
def all(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:     # noqa: A001
    """Whether every element along `axis` is true (non-zero), as `keras.ops.all`."""
    x = tensor(x)
    if axis == () or axis == []:
        return x.to(torch.bool)
    result = torch.all(x) if axis is None else torch.all(x, dim=_axes(axis), keepdim=keepdims)
    if axis is None and keepdims:
        result = result.reshape((1,) * x.ndim)
    return result.to(torch.bool)


@operation("Argmax", config=("axis", "keepdims"))
def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """The index of the maximum along `axis` (of the flattened tensor: None), int32, as `keras.ops.argmax`."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.argmax(x, dim=axis, keepdim=keepdims).to(torch.int32)


@operation("Argmin", config=("axis", "keepdims"))
def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """The index of the minimum along `axis`, int32, as `keras.ops.argmin`."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.argmin(x, dim=axis, keepdim=keepdims).to(torch.int32)


@operation("Std", config=("axis", "keepdims"))
def std(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The standard deviation (no Bessel correction, as NumPy), as `keras.ops.std`."""
    x = as_float(tensor(x))
    return torch.std(x, dim=_axes(axis), keepdim=keepdims, correction=0)


@operation("Var", config=("axis", "keepdims"))
def var(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The variance (no Bessel correction), as `keras.ops.var`."""
    x = tensor(x)
    result_dtype = x.dtype if x.dtype.is_floating_point else floatx()
    if axis == () or axis == []:
        return torch.zeros_like(x, dtype=result_dtype)
    compute = x.to(torch.promote_types(x.dtype, torch.float32) if x.dtype.is_floating_point else floatx())
    return torch.var(compute, dim=_axes(axis), keepdim=keepdims, correction=0).to(result_dtype)


# ------------------------------------------------------------------ shapes
@operation("Reshape", config=("newshape",))
def reshape(x: Any, newshape: Any) -> torch.Tensor:
    """`x` in `newshape` (one -1 allowed), as `keras.ops.reshape`."""
    if not isinstance(newshape, (list, tuple)):
        newshape = (newshape,)
    return torch.reshape(tensor(x), tuple(newshape))


@operation("Transpose", config=("axes",))
def transpose(x: Any, axes: Sequence[int] | None = None) -> torch.Tensor:
    """`x` with its axes permuted (reversed: None), as `keras.ops.transpose`."""
    x = tensor(x)
    return torch.permute(x, tuple(axes)) if axes is not None else torch.permute(x, tuple(range(x.ndim))[::-1])


@operation("ExpandDims", config=("axis",))
def expand_dims(x: Any, axis: Axis) -> torch.Tensor:
    """`x` with size-1 axes inserted at `axis`, as `keras.ops.expand_dims`."""
    x = tensor(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    ndim = x.ndim + len(axes)
    for a in sorted(a % ndim for a in axes):
        x = torch.unsqueeze(x, a)
    return x


@operation("Squeeze", config=("axis",))
def squeeze(x: Any, axis: Axis = None) -> torch.Tensor:
    """`x` without its size-1 axes (those of `axis`), as `keras.ops.squeeze`."""
    x = tensor(x)
    if axis is None:
        return torch.squeeze(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"kr.ops.squeeze: axis {a} of a tensor of shape {tuple(x.shape)} has size "
                             f"{x.shape[a]}, not 1")
    return torch.squeeze(x, dim=tuple(axes))


@operation("Concatenate", config=("axis",))
def concatenate(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """The tensors of `xs` joined along `axis`, as `keras.ops.concatenate`."""
    return torch.cat([tensor(x) for x in xs], dim=axis)


@operation("Stack", config=("axis",))
def stack(x: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """The tensors of `x` stacked along a new `axis`, as `keras.ops.stack`."""
    return torch.stack([tensor(item) for item in x], dim=axis)


@operation("Split", config=("indices_or_sections", "axis"))
def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """`x` cut along `axis` into equal sections (an int) or at indices (a list), as `keras.ops.split`."""
    x = tensor(x)
    size = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if size % indices_or_sections:
            raise ValueError(f"kr.ops.split: axis {axis} of a tensor of shape {tuple(x.shape)} has size {size}, "
                             f"which {indices_or_sections} sections do not divide")
        return list(torch.split(x, size // indices_or_sections, dim=axis))
    bounds = [0, *(int(i) for i in indices_or_sections), size]
    return list(torch.split(x, [bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1)], dim=axis))


@operation("Tile", config=("repeats",))
def tile(x: Any, repeats: Any) -> torch.Tensor:
    """`x` repeated `repeats` times per axis, as `keras.ops.tile`."""
    if isinstance(repeats, int):
        repeats = (repeats,)
    return torch.tile(tensor(x), tuple(repeats))


@operation("Repeat", config=("repeats", "axis"))
def repeat(x: Any, repeats: Any, axis: int | None = None) -> torch.Tensor:
    """Each element of `x` repeated `repeats` times along `axis` (flattened: None), as `keras.ops.repeat`."""
    x = tensor(x)
    if not isinstance(repeats, int):
        repeats = tensor(repeats, torch.int64)
    return torch.repeat_interleave(x, repeats, dim=axis)


@operation("BroadcastTo", config=("shape",))
def broadcast_to(x: Any, shape: Sequence[int]) -> torch.Tensor:
    """`x` broadcast to `shape`, as `keras.ops.broadcast_to`."""
    return torch.broadcast_to(tensor(x), tuple(shape))


def _fill_mode(x: torch.Tensor, indices: Any, size: int) -> torch.Tensor:
    indices = tensor(indices).long()
    return torch.where(indices < 0, indices + size, indices)


@operation("Take", config=("axis",))
def take(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """The entries of `x` at `indices` along `axis` (of the flattened `x`: None), as `keras.ops.take`."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    indices = _fill_mode(x, indices, x.shape[axis])
    picked = torch.index_select(x, axis, indices.reshape(-1))
    return picked.reshape(x.shape[:axis] + indices.shape + x.shape[axis + 1:])


@operation("TakeAlongAxis", config=("axis",))
def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """The entries of `x` at `indices` along `axis`, as `keras.ops.take_along_axis`."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    indices = _fill_mode(x, indices, x.shape[axis])
    return torch.take_along_dim(x, indices, dim=axis)


@operation("Where")
def where(condition: Any, x1: Any = None, x2: Any = None) -> torch.Tensor:
    """`x1` where `condition` holds, else `x2`, as `keras.ops.where` (the indices where it holds, alone)."""
    condition = tensor(condition, torch.bool)
    if x1 is None and x2 is None:
        return torch.stack(torch.where(condition), dim=0)
    if x1 is None or x2 is None:
        raise ValueError("kr.ops.where: give both x1 and x2, or neither")
    return torch.where(condition, tensor(x1), tensor(x2))


@operation("GetItem")
def get_item(x: Any, key: Any) -> torch.Tensor:
    """`x[key]`, as Keras's `GetItem` (what `x[:, -1]` on a KerasTensor records); a list key is a tuple."""
    if isinstance(key, list):
        key = tuple(key)
    if isinstance(key, tuple):
        key = tuple(tensor(k) if isinstance(k, torch.Tensor) else k for k in key)
    return tensor(x)[key]


# ------------------------------------------------------------------ new tensors
def zeros(shape: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """Zeros of `shape` (default dtype float32), as `keras.ops.zeros`."""
    return torch.zeros(_shape(shape), dtype=to_dtype(dtype) or floatx())


def ones(shape: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """Ones of `shape`, as `keras.ops.ones`."""
    return torch.ones(_shape(shape), dtype=to_dtype(dtype) or floatx())


def full(shape: Any, fill_value: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """`fill_value` everywhere in `shape`, as `keras.ops.full` (float32 by default)."""
    value = tensor(fill_value, to_dtype(dtype) or floatx())
    return torch.broadcast_to(value, _shape(shape)).clone()


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


@operation("ZerosLike", config=("dtype",))
def zeros_like(x: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """Zeros of `x`'s shape (and dtype), as `keras.ops.zeros_like`."""
    x = tensor(x)
    return torch.zeros_like(x, dtype=to_dtype(dtype) or x.dtype)


@operation("OnesLike", config=("dtype",))
def ones_like(x: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """Ones of `x`'s shape (and dtype), as `keras.ops.ones_like`."""
    x = tensor(x)
    return torch.ones_like(x, dtype=to_dtype(dtype) or x.dtype)


@operation("FullLike", config=("dtype",))
def full_like(x: Any, fill_value: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """`fill_value` in `x`'s shape (and dtype), as `keras.ops.full_like`."""
    x = tensor(x)
    return torch.full_like(x, tensor(fill_value).item(), dtype=to_dtype(dtype) or x.dtype)


def arange(start: Any, stop: Any = None, step: Any = None, dtype: DTypeLike = None) -> torch.Tensor:
    """`start, start + step, ...` below `stop`, as `keras.ops.arange` (int32 for ints, float32 for floats)."""
    wanted = to_dtype(dtype)
    if wanted is None:
        values = [v for v in (start, stop, step) if v is not None]
        wanted = torch.int32 if builtins.all(isinstance(v, int) for v in values) else floatx()
    if stop is None:
        start, stop = 0, start
    return torch.arange(start, stop, 1 if step is None else step, dtype=wanted)


def eye(N: int, M: int | None = None, k: int = 0, dtype: DTypeLike = None) -> torch.Tensor:  # noqa: N803
    """An `N` x `M` matrix with ones on diagonal `k`, as `keras.ops.eye`."""
    wanted = to_dtype(dtype) or floatx()
    M = N if M is None else M
    if k == 0:
        return torch.eye(N, M, dtype=wanted)
    return _eye_offset(N, M, k, wanted)


def _eye_offset(n: int, m: int, k: int, dtype: torch.dtype) -> torch.Tensor:
    rows = torch.arange(n).unsqueeze(1)
    columns = torch.arange(m).unsqueeze(0)
    return (columns - rows == k).to(dtype)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: DTypeLike = None, axis: int = 0) -> Any:
    """`num` evenly spaced numbers from `start` to `stop`, as `keras.ops.linspace` (scalar ends)."""
    if axis != 0:
        raise ValueError(f"kr.ops.linspace: axis must be 0 (as in Keras's torch backend), got {axis}")
    wanted = to_dtype(dtype) or floatx()
    start_value, stop_value = float(start), float(stop)
    step = float("nan")
    if endpoint:
        if num > 1:
            step = (stop_value - start_value) / (num - 1)
    else:
        if num > 0:
            step = (stop_value - start_value) / num
        if num > 1:
            stop_value = stop_value - (stop_value - start_value) / num
    result = torch.linspace(start_value, stop_value, num, dtype=wanted)
    return (result, torch.tensor(step)) if retstep else result


def _spaced_setup(start: Any, stop: Any, num: int, dtype: DTypeLike, axis: int, owner: str
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.dtype]:
    """`start` and `stop` broadcast, in the dtype to compute in, and the result's dtype (Keras's: the given one,
    else float16/bfloat16 where the ends are, else the default float)."""
    if axis != 0:
        raise ValueError(f"kr.ops.{owner}: axis must be 0 (as in Keras's torch backend), got {axis}")
    if isinstance(num, bool) or not isinstance(num, int) or num < 0:
        raise ValueError(f"kr.ops.{owner}: num must be a non-negative int, got {num!r}")
    first = start if isinstance(start, (int, float)) else tensor(start)
    last = stop if isinstance(stop, (int, float)) else tensor(stop)
    wanted = to_dtype(dtype, f"kr.ops.{owner}")
    if wanted is None:
        promoted = result_type(first, last)
        wanted = promoted if promoted in (torch.float16, torch.bfloat16) else floatx()
    # float16/bfloat16 computed in float32, as Keras's torch backend does on the CPU; ints in float64, then cast.
    compute = torch.float64 if wanted == torch.float64 or not wanted.is_floating_point else torch.float32
    device = next((v.device for v in (first, last) if isinstance(v, torch.Tensor)), None)
    a, b = tensor(start, compute), tensor(stop, compute)
    if device is not None:          # a number's end goes where the other end's tensor is
        a, b = a.to(device), b.to(device)
    a, b = torch.broadcast_tensors(a, b)
    return a, b, wanted


def _spaced_exponents(a: torch.Tensor, b: torch.Tensor, num: int, endpoint: bool) -> torch.Tensor:
    """`num` evenly spaced values from `a` to `b` (`b` itself left out unless `endpoint`) on a new first axis."""
    divisions = num - 1 if endpoint else num
    fraction = torch.arange(num, dtype=a.dtype, device=a.device)
    if divisions > 0:
        fraction = fraction / divisions
    fraction = fraction.reshape((num,) + (1,) * a.ndim)
    return a + fraction * (b - a)


@operation("Logspace", config=("num", "endpoint", "base", "dtype", "axis"), first_axis_probed=True)
def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10, dtype: DTypeLike = None,
             axis: int = 0) -> torch.Tensor:
    """`base ** e` for `num` exponents `e` evenly spaced from `start` to `stop`, as `keras.ops.logspace` (float32
    by default; tensor ends give one sequence per element, on a new first axis; `axis` must be 0, as on Keras's
    torch backend). With `num=1` it is `[base ** start]` (NumPy's; Keras's torch backend gives NaN for tensor
    ends); an integer `dtype` truncates the float values, as NumPy does.

    >>> logspace(0, 3, num=4)
    tensor([   1.,   10.,  100., 1000.])
    """
    a, b, wanted = _spaced_setup(start, stop, num, dtype, axis, "logspace")
    if isinstance(base, torch.Tensor):
        base = base.item()
    return torch.pow(base, _spaced_exponents(a, b, num, endpoint)).to(wanted)


@operation("Geomspace", config=("num", "endpoint", "dtype", "axis"), first_axis_probed=True)
def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: DTypeLike = None,
              axis: int = 0) -> torch.Tensor:
    """`num` numbers in geometric progression from `start` to `stop`, as `keras.ops.geomspace` (float32 by
    default; tensor ends give one sequence per element, on a new first axis; the sign is `start`'s; `axis` must
    be 0, as on Keras's torch backend). With `num=1` it is `[start]` (NumPy's; Keras's torch backend gives NaN);
    an integer `dtype` truncates the float values, as NumPy does.

    >>> geomspace(1, 1000, num=4)
    tensor([   1.,   10.,  100., 1000.])
    """
    a, b, wanted = _spaced_setup(start, stop, num, dtype, axis, "geomspace")
    exponents = _spaced_exponents(torch.log10(torch.abs(a)), torch.log10(torch.abs(b)), num, endpoint)
    return (torch.pow(10.0, exponents) * torch.sign(a)).to(wanted)


# ------------------------------------------------------------------ linear algebra
@operation("Matmul")
def matmul(x1: Any, x2: Any) -> torch.Tensor:
    """The matrix product (batched over leading axes), as `keras.ops.matmul` (`x1 @ x2`)."""
    a, b = tensor(x1), tensor(x2)
    if a.dtype == torch.int8 and b.dtype == torch.int8:
        result = torch.int32
    else:
        result = result_type(a, b)
    compute = result
    if result == torch.bool or (not result.is_floating_point and a.device.type != "cpu"):
        compute = floatx()
    if result == torch.float16 and a.device.type == "cpu":
        compute = torch.float32
    return torch.matmul(a.to(compute), b.to(compute)).to(result)


@operation("Dot")
def dot(x1: Any, x2: Any) -> torch.Tensor:
    """NumPy's dot (matmul, or a product with a scalar), as `keras.ops.dot`."""
    a, b = tensor(x1), tensor(x2)
    result = result_type(a, b)
    compute = result if result.is_floating_point else floatx()
    if compute == torch.float16 and a.device.type == "cpu":
        compute = torch.float32
    a, b = a.to(compute), b.to(compute)
    out = torch.multiply(a, b) if a.ndim == 0 or b.ndim == 0 else torch.matmul(a, b)
    return out.to(result)


@operation("Einsum", config=("subscripts",))
def einsum(subscripts: str, *operands: Any) -> torch.Tensor:
    """Einstein summation, as `keras.ops.einsum` (int8 operands give int32)."""
    tensors = [tensor(operand) for operand in operands]
    if tensors and builtins.all(t.dtype == torch.int8 for t in tensors):
        return torch.einsum(subscripts, *[t.to(torch.int32) for t in tensors]).to(torch.int32)
    return torch.einsum(subscripts, *tensors)


@operation("Tensordot", config=("axes",))
def tensordot(x1: Any, x2: Any, axes: Any = 2) -> torch.Tensor:
    """The sum of products over `axes` (a count, or the two tensors' axes), as `keras.ops.tensordot`."""
    a, b = tensor(x1), tensor(x2)
    result = result_type(a, b)
    compute = result if result.is_floating_point else floatx()
    if compute == torch.float16 and a.device.type == "cpu":
        compute = torch.float32
    if isinstance(axes, (list, tuple)):
        first, second = axes
        axes = ([first] if isinstance(first, int) else list(first), [second] if isinstance(second, int) else
                list(second))
    return torch.tensordot(a.to(compute), b.to(compute), dims=axes).to(result)


# ------------------------------------------------------------------ comparisons and logic
def _compared(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    return tensor(x1), tensor(x2)


@operation("Equal")
def equal(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 == x2` element by element, as `keras.ops.equal`."""
    return torch.eq(*_compared(x1, x2))


@operation("NotEqual")
def not_equal(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 != x2`, as `keras.ops.not_equal`."""
    return torch.ne(*_compared(x1, x2))


@operation("Greater")
def greater(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 > x2`, as `keras.ops.greater`."""
    return torch.greater(*_compared(x1, x2))


@operation("GreaterEqual")
def greater_equal(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 >= x2`, as `keras.ops.greater_equal`."""
    return torch.greater_equal(*_compared(x1, x2))


@operation("Less")
def less(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 < x2`, as `keras.ops.less`."""
    return torch.less(*_compared(x1, x2))


@operation("LessEqual")
def less_equal(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 <= x2`, as `keras.ops.less_equal`."""
    return torch.less_equal(*_compared(x1, x2))


@operation("LogicalAnd")
def logical_and(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 and x2` element by element, as `keras.ops.logical_and`."""
    return torch.logical_and(*_compared(x1, x2))


@operation("LogicalOr")
def logical_or(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 or x2`, as `keras.ops.logical_or`."""
    return torch.logical_or(*_compared(x1, x2))


@operation("LogicalNot")
def logical_not(x: Any) -> torch.Tensor:
    """`not x`, as `keras.ops.logical_not`."""
    return torch.logical_not(tensor(x))


@operation("Tanh")
def tanh(x: Any) -> torch.Tensor:
    """The hyperbolic tangent, as `keras.ops.tanh`."""
    return torch.tanh(as_float(tensor(x)))
