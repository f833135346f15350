"""`keras.ops.unique`: the distinct values (or rows along an axis) of a tensor, as Keras's torch backend computes
them, with Keras 3.15's `size` for a fixed output length."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .core import tensor
from .operation import operation


def _symbolic_shapes(config: dict[str, Any], inputs: list[tuple]) -> list[tuple]:
    """Keras's shapes on symbolic inputs: the number of distinct values is `size`, or unknown (None)."""
    shape, size, axis = inputs[0], config.get("size"), config.get("axis")
    if axis is None:
        values, inverse = (size,), shape
    else:
        values, inverse = shape[:axis % len(shape)] + (size,) + shape[axis % len(shape) + 1:], (shape[axis],)
    extras = (["index"] * bool(config.get("return_index")) + ["inverse"] * bool(config.get("return_inverse"))
              + ["counts"] * bool(config.get("return_counts")))
    return [values] + [inverse if kind == "inverse" else (size,) for kind in extras]


def _first_indices(inverse: torch.Tensor, count: int) -> torch.Tensor:
    """For each distinct value, where (in `inverse`'s flattened order) it first occurs."""
    flat = inverse.reshape(-1)
    positions = torch.arange(flat.numel(), dtype=flat.dtype, device=flat.device)
    return flat.new_full((count,), flat.numel()).scatter_reduce(0, flat, positions, reduce="amin")


def _resized(values: torch.Tensor, dim: int, size: int, fill: Any) -> torch.Tensor:
    """`values` cut or padded (with `fill`) to `size` along `dim`."""
    count = values.shape[dim]
    if count >= size:
        return values.narrow(dim, 0, size)
    pads = [0, 0] * (values.dim() - 1 - dim) + [0, size - count]
    return F.pad(values, pads, value=fill)


@operation("Unique", config=("sorted", "return_index", "return_inverse", "return_counts", "axis", "size",
                             "fill_value"), symbolic_shapes=_symbolic_shapes)
def unique(x: Any, sorted: bool = True, return_index: bool = False, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, axis: int | None = None, size: int | None = None,
           fill_value: Any = None) -> Any:
    """The distinct values of `x` (flattened), or its distinct slices along `axis`, as `keras.ops.unique`.

    With `return_index`, `return_inverse`, `return_counts` it also returns
    (in that order) where each first occurs, the position in the result of
    each of `x`'s values, and how often each occurs (int64, as on Keras's
    torch backend). `size` fixes the result's length: cut, or padded with
    `fill_value` (0 by default; indices pad with 1 and counts with 0, as
    Keras's torch backend does), so the shape is known on `kr.Input`.

    >>> unique(torch.tensor([3, 1, 2, 1, 3]))
    tensor([1, 2, 3])
    >>> unique(torch.tensor([3, 1, 2, 1]), size=5, return_counts=True)
    (tensor([1, 2, 3, 0, 0]), tensor([2, 1, 1, 0, 0]))
    """
    x = tensor(x)
    if axis is not None and not -x.dim() <= axis < x.dim():
        raise ValueError(f"kr.ops.unique: axis {axis} is out of range for a tensor of {x.dim()} axes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ValueError(f"kr.ops.unique: `size` must be None or a non-negative integer, got {size!r}")
    dim = 0 if axis is None else axis % x.dim()
    found = torch.unique(x, sorted=sorted, return_inverse=True, return_counts=True, dim=axis)
    values, inverse, counts = found
    index = _first_indices(inverse, values.shape[dim]) if return_index else None
    if size is not None:
        values = _resized(values, dim, size, 0 if fill_value is None else fill_value)
        counts = _resized(counts, 0, size, 0)
        index = None if index is None else _resized(index, 0, size, 1)
    outputs = [values]
    if index is not None:
        outputs.append(index)
    if return_inverse:
        outputs.append(inverse)
    if return_counts:
        outputs.append(counts)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)
