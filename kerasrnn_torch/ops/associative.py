"""`keras.ops.associative_scan`: the prefix combinations `[a, f(a, b), f(f(a, b), c), ...]` of an associative
`f`, computed in parallel over the scanned axis (Blelloch's odd/even recursion, `f` called O(log n) times on
whole slices), as Keras's torch backend computes them.

On symbolic tensors (`kr.Input`) it records Keras's `AssociativeScan` operation, as Keras does: the model runs
`f`, but no Keras file can hold it (saving such a model raises, as Keras cannot load its own file of it).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .control import _flatten, _pack, require_callable
from .core import tensor
from .operation import operation


def _part(x: torch.Tensor, axis: int, start: int, stop: int | None = None, step: int = 1) -> torch.Tensor:
    """`x[start:stop:step]` along `axis`."""
    index = [slice(None)] * x.dim()
    index[axis] = slice(start, stop, step)
    return x[tuple(index)]


def _interleave(even: torch.Tensor, odd: torch.Tensor, axis: int) -> torch.Tensor:
    """`even[0], odd[0], even[1], odd[1], ...` along `axis` (`even` as long as `odd` or one longer)."""
    n = odd.shape[axis]
    dtype = torch.promote_types(even.dtype, odd.dtype)
    paired = torch.stack([even.narrow(axis, 0, n).to(dtype), odd.to(dtype)], dim=axis + 1).flatten(axis, axis + 1)
    if even.shape[axis] > n:
        paired = torch.cat([paired, even.narrow(axis, n, 1).to(dtype)], dim=axis)
    return paired


def associative_scan(f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """The running combinations of `elems` (a tensor or a nested list, tuple or dict of them, all as long along
    `axis`) by the associative `f(a, b)`, which takes and returns `elems`'s structure and combines element-wise
    along `axis`; from the end with `reverse=True`. As `keras.ops.associative_scan`.

    The result keeps the dtypes `f` gives (Keras's torch backend returns float32 whatever the inputs: its
    integer, float64 and bool scans differ there, the bool ones raise).

    >>> associative_scan(lambda a, b: a + b, torch.arange(5))
    tensor([ 0,  1,  3,  6, 10])
    """
    if not callable(f):
        raise TypeError(f"kr.ops.associative_scan: f must be a callable f(a, b), got {f!r}")
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"kr.ops.associative_scan: axis must be an int, got {axis!r}")
    return _associative_scan(f, elems, reverse=bool(reverse), axis=axis)


@operation("AssociativeScan", config=("reverse", "axis"), module="core")
def _associative_scan(f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    require_callable(f, "associative_scan", "f")
    leaves = [tensor(leaf) for leaf in _flatten(elems)]
    if not leaves:
        raise ValueError(f"kr.ops.associative_scan: elems holds no tensors, got {elems!r}")
    axes = []
    for leaf in leaves:
        if not -leaf.dim() <= axis < leaf.dim():
            raise ValueError(f"kr.ops.associative_scan: axis {axis} is out of range for an element of shape "
                             f"{tuple(leaf.shape)}")
        axes.append(axis % leaf.dim())
    lengths = {leaf.shape[a] for leaf, a in zip(leaves, axes)}
    if len(lengths) != 1:
        raise ValueError(f"kr.ops.associative_scan: every tensor in elems must have the same size along axis "
                         f"{axis}, got shapes {[tuple(leaf.shape) for leaf in leaves]}")
    if reverse:
        leaves = [leaf.flip(a) for leaf, a in zip(leaves, axes)]

    def combine(a: list[torch.Tensor], b: list[torch.Tensor]) -> list[torch.Tensor]:
        result = [tensor(leaf) for leaf in _flatten(f(_pack(elems, a), _pack(elems, b)))]
        if len(result) != len(a):
            raise ValueError(f"kr.ops.associative_scan: f must return the structure of elems ({len(a)} "
                             f"tensors), got {len(result)}")
        return result

    def scan(xs: list[torch.Tensor]) -> list[torch.Tensor]:
        n = xs[0].shape[axes[0]]
        if n < 2:
            return xs
        # Combine neighbouring pairs, scan those (the results at odd positions), then fill in the even ones.
        pairs = combine([_part(x, a, 0, -1, 2) for x, a in zip(xs, axes)],
                        [_part(x, a, 1, None, 2) for x, a in zip(xs, axes)])
        odd = scan(pairs)
        before = odd if n % 2 else [_part(x, a, 0, -1) for x, a in zip(odd, axes)]
        rest = combine(before, [_part(x, a, 2, None, 2) for x, a in zip(xs, axes)])
        even = [torch.cat([_part(x, a, 0, 1), r], dim=a) for x, r, a in zip(xs, rest, axes)]
        return [_interleave(e, o, a) for e, o, a in zip(even, odd, axes)]

    results = scan(leaves)
    if reverse:
        results = [r.flip(a) for r, a in zip(results, axes)]
    return _pack(elems, results)
