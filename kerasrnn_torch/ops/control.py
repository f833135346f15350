"""`keras.ops`'s core functions: gradients, scatters, slice updates, saturating casts and control flow
(`cond`, `switch`, `while_loop`, `fori_loop`, `scan`, `map`, `vectorized_map`), as Keras's torch backend.

The control-flow functions take Python callables and run eagerly: call them
inside a layer's `call` (or `forward`), where the tensors are real. On
KerasTensors they raise a `ValueError` saying so, since a functional graph
cannot hold (or save) a Python callable.
"""
from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..core.symbolic import has_symbolic
from .core import DTypeLike, tensor, to_dtype
from .operation import operation


def _eager_only(name: str, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> None:
    if has_symbolic(args, kwargs or {}):
        raise ValueError(f"kr.ops.{name} takes Python callables, which a functional graph cannot record or save; "
                         f"call it inside a layer's call() (a kr.Layer subclass or kr.Lambda), where the tensors "
                         f"are real, not on kr.Input / KerasTensors")


def require_callable(value: Any, owner: str, what: str) -> None:
    """A clear error where an operation's function is not a callable (a Keras file holds only its name)."""
    if callable(value):
        return
    if isinstance(value, dict) and value.get("class_name") == "function":
        raise TypeError(f"kr.ops.{owner}: the model's file names the function {value.get('config')!r} but cannot "
                        f"hold it (Keras cannot load such a file either); build the model in code instead")
    raise TypeError(f"kr.ops.{owner}: {what} must be a callable, got {value!r}")


# ------------------------------------------------------------------ gradients, dtypes, updates
@operation("StopGradient", module="core")
def stop_gradient(variable: Any) -> torch.Tensor:
    """`variable`'s values with no gradient flowing back, as `keras.ops.stop_gradient`."""
    value = getattr(variable, "value", variable)
    return tensor(value).detach()


def dtype(x: Any) -> str:
    """Keras's name of `x`'s dtype (`"float32"`, `"int64"`, ...), as `keras.ops.dtype`."""
    value = getattr(x, "dtype", None)
    if value is None:
        value = tensor(x).dtype
    return str(value).replace("torch.", "") if isinstance(value, torch.dtype) else str(value)


def _limits(dtype: torch.dtype) -> tuple[float, float]:
    if dtype == torch.bool:
        return 0, 1
    info: Any = torch.finfo(dtype) if dtype.is_floating_point else torch.iinfo(dtype)
    return info.min, info.max


@operation("SaturateCast", config=("dtype",), module="core")
def saturate_cast(x: Any, dtype: DTypeLike) -> torch.Tensor:
    """`x` clipped to `dtype`'s range, then cast, as `keras.ops.saturate_cast` (no wrap-around)."""
    x = tensor(x)
    wanted = to_dtype(dtype, "kr.ops.saturate_cast")
    assert wanted is not None
    in_min, in_max = _limits(x.dtype)
    out_min, out_max = _limits(wanted)
    np_dtype = np.dtype(np.float32) if x.dtype == torch.bfloat16 else torch.empty((), dtype=x.dtype).numpy().dtype
    low = np.asarray(builtins.max(in_min, out_min)).astype(np_dtype)
    if low < out_min:
        low = np.nextafter(low, np_dtype.type(0), dtype=np_dtype)
    high = np.asarray(builtins.min(in_max, out_max)).astype(np_dtype)
    if high > out_max:
        high = np.nextafter(high, np_dtype.type(0), dtype=np_dtype)
    if x.dtype == torch.bool:
        return x.to(wanted)
    return torch.clip(x, torch.tensor(low.item(), dtype=x.dtype), torch.tensor(high.item(), dtype=x.dtype)).to(wanted)


@operation("Scatter", config=("shape",), module="core")
def scatter(indices: Any, values: Any, shape: Sequence[int]) -> torch.Tensor:
    """A zero tensor of `shape` with `values` added at `indices` (repeats add up), as `keras.ops.scatter`."""
    index = tensor(indices).long()
    values = tensor(values)
    shape = tuple(int(d) for d in shape)
    depth = index.shape[-1]
    index = index.reshape(-1, depth)
    values = values.reshape((-1, *shape[depth:]))
    out = torch.zeros(shape, dtype=values.dtype)
    out.index_put_(tuple(index.T), values, accumulate=True)
    return out


@operation("ScatterUpdate", config=("reduction",), module="core")
def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None) -> torch.Tensor:
    """A copy of `inputs` with `updates` written at `indices` (or added, maxed, mined, multiplied in with
    `reduction`), as `keras.ops.scatter_update`."""
    inputs = tensor(inputs)
    index = tensor(indices).long()
    updates = tensor(updates, inputs.dtype)
    out = torch.clone(inputs)
    where = tuple(index.T)
    if reduction is None:
        out[where] = updates
    elif reduction == "add":
        out.index_put_(where, updates, accumulate=True)
    elif reduction in ("max", "min", "mul"):
        combine = {"max": torch.maximum, "min": torch.minimum, "mul": torch.multiply}[reduction]
        for i, row in enumerate(index):
            at = tuple(row.tolist())
            out[at] = combine(out[at], updates[i])
    else:
        raise ValueError(f"kr.ops.scatter_update: `reduction` must be None, 'add', 'max', 'min' or 'mul', "
                         f"got {reduction!r}")
    return out


@operation("SliceUpdate", module="core")
def slice_update(inputs: Any, start_indices: Any, updates: Any) -> torch.Tensor:
    """A copy of `inputs` with the block `updates` written from `start_indices` on, as
    `keras.ops.slice_update`."""
    inputs = tensor(inputs)
    updates = tensor(updates)
    starts = [int(s) for s in (start_indices.tolist() if isinstance(start_indices, torch.Tensor)
                               else start_indices)]
    out = torch.clone(inputs)
    out[tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))] = updates.to(inputs.dtype)
    return out


# ------------------------------------------------------------------ control flow (eager)
def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """`true_fn()` if `pred` holds, else `false_fn()`, as `keras.ops.cond` (eager: call it in a layer)."""
    _eager_only("cond", (pred,))
    return true_fn() if bool(pred) else false_fn()


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """`branches[index](*operands)`, the index clamped into range, as `keras.ops.switch`."""
    _eager_only("switch", (index, *operands))
    chosen = builtins.min(builtins.max(int(tensor(index, torch.int32)), 0), len(branches) - 1)
    return branches[chosen](*operands)


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    """`loop_vars = body(*loop_vars)` while `cond(*loop_vars)` (at most `maximum_iterations` times), as
    `keras.ops.while_loop`."""
    _eager_only("while_loop", (loop_vars,))
    many = isinstance(loop_vars, (tuple, list))
    values = tuple(tensor(v) for v in loop_vars) if many else (tensor(loop_vars),)
    count = 0
    while bool(cond(*values)) and (maximum_iterations is None or count < maximum_iterations):
        result = body(*values)
        values = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        count += 1
    return values if many else values[0]


def fori_loop(lower: int, upper: int, body_fun: Callable[[int, Any], Any], init_val: Any) -> Any:
    """`val = body_fun(i, val)` for i from `lower` to `upper` - 1, as `keras.ops.fori_loop`."""
    _eager_only("fori_loop", (init_val,))
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def _flatten(tree: Any) -> list[Any]:
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _flatten(item)]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _flatten(tree[key])]
    return [tree]


def _pack(tree: Any, leaves: list[Any]) -> Any:
    """`leaves` in `tree`'s structure (the inverse of `_flatten`)."""
    it = iter(leaves)

    def build(node: Any) -> Any:
        if isinstance(node, (list, tuple)):
            return type(node)(build(item) for item in node)
        if isinstance(node, dict):
            return {key: build(node[key]) for key in sorted(node)}
        return next(it)
    return build(tree)


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: int | bool = 1) -> tuple[Any, Any]:
    """`carry, y = f(carry, x)` over the first axis of `xs`; returns the last carry and the stacked ys, as
    `keras.ops.scan`."""
    _eager_only("scan", (init, xs))
    if not callable(f):
        raise TypeError(f"kr.ops.scan: `f` must be a callable, got {f!r}")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"kr.ops.scan: `unroll` must be a positive int or a bool, got {unroll!r}")
    if xs is None and length is None:
        raise ValueError("kr.ops.scan: give `xs` to scan over, or `length`")
    xs_leaves = [] if xs is None else [tensor(x) for x in _flatten(xs)]
    steps = int(length) if length is not None else xs_leaves[0].shape[0]
    carry = _pack(init, [tensor(v) for v in _flatten(init)])
    ys: list[Any] = []
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for i in order:
        x = None if xs is None else _pack(xs, [leaf[i] for leaf in xs_leaves])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or builtins.all(y is None for y in ys):
        stacked = _pack(init, [torch.zeros((steps, *tensor(v).shape), dtype=tensor(v).dtype)
                               for v in _flatten(init)]) if ys else None
        return carry, stacked
    leaves = [_flatten(y) for y in ys]
    stacked = _pack(ys[0], [torch.stack([tensor(step[j]) for step in leaves]) for j in range(len(leaves[0]))])
    return carry, stacked


def map(f: Callable[[Any], Any], xs: Any) -> Any:    # noqa: A001 (Keras's name)
    """`f` on each slice of `xs` along its first axis, stacked, as `keras.ops.map`."""
    _eager_only("map", (xs,))
    return scan(lambda carry, x: (carry, f(x)), (), xs)[1]


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    """`function` on each slice of `elements` along the first axis, batched with torch.vmap, as
    `keras.ops.vectorized_map`."""
    _eager_only("vectorized_map", (elements,))
    return torch.vmap(function)(elements)
