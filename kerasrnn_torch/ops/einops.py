"""`keras.ops.rearrange`: einops-style axis rearrangement (`"b h w c -> b (h w) c"`), as Keras's.

A pattern names the input's axes on the left of `->` and the output's on
the right. A parenthesised group on the left splits one axis into several
(the sizes of all but one of them given as keyword arguments, the last one
inferred); on the right it merges several axes into one; `()` is an axis of
size 1. Every name appears once on each side. Like Keras, `...` is not
supported. On symbolic tensors (`kr.Input`) it records Keras's `Rearrange`
operation, with the pattern and the sizes as the call's arguments, as Keras
writes it in a file.
"""
from __future__ import annotations

import math
import re
from typing import Any

import torch

from ..core.symbolic import has_symbolic
from .core import tensor as as_tensor
from .operation import Operation, operation

_TOKEN = re.compile(r"\(([^()]*)\)|([^\s()]+)|(\S)")
_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _side(text: str, which: str, pattern: str) -> list[list[str]]:
    """One side of a pattern as its axes, each a list of elementary names (a group has several, `()` none)."""
    axes: list[list[str]] = []
    for match in _TOKEN.finditer(text):
        group, name, stray = match.groups()
        if stray is not None:
            raise ValueError(f"kr.ops.rearrange: unbalanced parenthesis {stray!r} on the {which} side of the "
                             f"pattern {pattern!r}; expected axis names and (groups of names)")
        names = group.split() if group is not None else [name]
        for item in names:
            if item == "..." or "." in item:
                raise ValueError(f"kr.ops.rearrange: the pattern {pattern!r} uses an ellipsis ('...'), which "
                                 "keras.ops.rearrange does not support; name every axis")
            if not _NAME.match(item):
                raise ValueError(f"kr.ops.rearrange: {item!r} on the {which} side of the pattern {pattern!r} is "
                                 "not an axis name; expected identifiers such as 'b', 'h1' or 'width'")
        axes.append(names)
    flat = [item for names in axes for item in names]
    repeated = sorted({item for item in flat if flat.count(item) > 1})
    if repeated:
        raise ValueError(f"kr.ops.rearrange: the {which} side of the pattern {pattern!r} names {repeated} more "
                         "than once; expected each axis once")
    return axes


def parse(pattern: Any) -> tuple[list[list[str]], list[list[str]]]:
    """The input and output axes of an einops pattern, checked (the names on both sides the same)."""
    if not isinstance(pattern, str):
        raise TypeError(f"kr.ops.rearrange: pattern must be a string such as 'b h w c -> b c h w', got "
                        f"{type(pattern).__name__} {pattern!r}")
    sides = pattern.split("->")
    if len(sides) != 2:
        raise ValueError(f"kr.ops.rearrange: the pattern must have the form 'input axes -> output axes' (one "
                         f"'->'), got {pattern!r}")
    left, right = _side(sides[0], "left", pattern), _side(sides[1], "right", pattern)
    names_in = {item for names in left for item in names}
    names_out = {item for names in right for item in names}
    if names_in != names_out:
        raise ValueError(f"kr.ops.rearrange: the two sides of the pattern {pattern!r} must name the same axes; "
                         f"only on the left: {sorted(names_in - names_out)}, only on the right: "
                         f"{sorted(names_out - names_in)}")
    return left, right


def _sizes(left: list[list[str]], shape: tuple[int, ...], axes_lengths: dict[str, Any],
           pattern: str) -> dict[str, int]:
    """Each elementary axis's size, from the input's shape and the sizes given by keyword."""
    if len(left) != len(shape):
        raise ValueError(f"kr.ops.rearrange: the left side of the pattern {pattern!r} names {len(left)} axes, "
                         f"but the tensor has {len(shape)} (shape {shape})")
    names = {item for group in left for item in group}
    unknown = sorted(set(axes_lengths) - names)
    if unknown:
        raise ValueError(f"kr.ops.rearrange: sizes were given for {unknown}, which the pattern {pattern!r} does "
                         f"not name on its left side (it names {sorted(names)})")
    given: dict[str, int] = {}
    for key, value in axes_lengths.items():
        size = int(value.item()) if isinstance(value, torch.Tensor) else value
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"kr.ops.rearrange: the size of axis {key!r} must be a positive int, got {value!r}")
        given[key] = size
    sizes: dict[str, int] = {}
    for group, dim in zip(left, shape):
        missing = [item for item in group if item not in given]
        if len(missing) > 1:
            raise ValueError(f"kr.ops.rearrange: the group ({' '.join(group)}) of the pattern {pattern!r} leaves "
                             f"{missing} unsized; give the sizes of all but one of them as keyword arguments")
        known = math.prod(given[item] for item in group if item in given)
        if missing:
            if dim % known:
                raise ValueError(f"kr.ops.rearrange: the axis of size {dim} cannot split into ({' '.join(group)}) "
                                 f"with the given sizes {({k: given[k] for k in group if k in given})}: "
                                 f"{dim} is not a multiple of {known}")
            sizes[missing[0]] = dim // known
        elif known != dim:
            expected = " * ".join(str(given[item]) for item in group) or "1"
            raise ValueError(f"kr.ops.rearrange: the axis ({' '.join(group)}) has size {dim}, but the given "
                             f"sizes make it {expected} = {known}")
        sizes.update({item: given[item] for item in group if item in given})
    return sizes


def rearrange(tensor: Any, pattern: str, **axes_lengths: Any) -> Any:
    """`tensor`'s axes split, reordered and merged as the einops `pattern` says, as `keras.ops.rearrange`
    (sizes of split axes by keyword: `rearrange(x, "b (h p) c -> b h p c", p=2)`).

    >>> rearrange(torch.arange(6).reshape(2, 3), "a b -> b a").shape
    torch.Size([3, 2])
    >>> rearrange(torch.zeros(2, 4, 6), "b t (c d) -> b (t c) d", d=2).shape
    torch.Size([2, 12, 2])
    """
    parse(pattern)
    if has_symbolic((tensor,), axes_lengths):
        return Operation(_rearrange.spec)(tensor, pattern, **axes_lengths)  # type: ignore[attr-defined]
    return _rearrange(tensor, pattern, **axes_lengths)


@operation("Rearrange", module="einops")
def _rearrange(tensor: Any, pattern: str, **axes_lengths: Any) -> torch.Tensor:
    x = as_tensor(tensor)
    left, right = parse(pattern)
    sizes = _sizes(left, tuple(x.shape), axes_lengths, pattern)
    elementary = [item for group in left for item in group]
    x = x.reshape([sizes[item] for item in elementary])
    order = [elementary.index(item) for group in right for item in group]
    if order != sorted(order):
        x = x.permute(order)
    return x.reshape([math.prod(sizes[item] for item in group) for group in right])
