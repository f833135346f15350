"""Tensors in nested results, named by where they sit, and the largest difference between two of them."""
from __future__ import annotations

from dataclasses import dataclass

import torch


def named_tensors(value, prefix: str = "") -> list[tuple[str, torch.Tensor]]:
    """Every tensor in a tensor, tuple, list or dict, with its place: `[0]`, `[1]['h']`, ... (others skipped)."""
    if isinstance(value, torch.Tensor):
        return [(prefix, value)]
    if isinstance(value, (tuple, list)):
        return [pair for i, item in enumerate(value) for pair in named_tensors(item, f"{prefix}[{i}]")]
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in named_tensors(item, f"{prefix}[{key!r}]")]
    return []


def map_tensors(function, value):
    """The same structure with `function` applied to every tensor (tuples, lists and dicts rebuilt)."""
    if isinstance(value, torch.Tensor):
        return function(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):          # a named tuple
        return type(value)(*(map_tensors(function, item) for item in value))
    if isinstance(value, (tuple, list)):
        return type(value)(map_tensors(function, item) for item in value)
    if isinstance(value, dict):
        return {key: map_tensors(function, item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Difference:
    """How far two tensors are apart: the largest absolute difference and where it is."""
    largest: float
    index: tuple = ()
    fused_value: float | None = None
    loop_value: float | None = None
    problem: str | None = None            # a mismatch of shape or dtype, instead of a number

    def describe(self) -> str:
        if self.problem is not None:
            return self.problem
        where = f" at index {self.index}" if self.index else ""
        return (f"largest difference {self.largest:.3g}{where} "
                f"(fused path {self.fused_value:.9g}, loop path {self.loop_value:.9g})")


def difference(fused: torch.Tensor, loop: torch.Tensor) -> Difference:
    """The largest absolute difference of two tensors; NaN in both at one place counts as equal."""
    if tuple(fused.shape) != tuple(loop.shape):
        return Difference(float("inf"), problem=f"shapes differ: {tuple(fused.shape)} on the fused path, "
                                                f"{tuple(loop.shape)} on the loop path")
    if fused.dtype != loop.dtype:
        return Difference(float("inf"), problem=f"dtypes differ: {fused.dtype} on the fused path, "
                                                f"{loop.dtype} on the loop path")
    if fused.numel() == 0:
        return Difference(0.0)
    a = fused.detach().to("cpu", torch.float64)
    b = loop.detach().to("cpu", torch.float64)
    gap = (a - b).abs()
    both_nan = a.isnan() & b.isnan()
    gap = torch.where(both_nan | (a == b), torch.zeros_like(gap), gap)   # equal infinities give nan, too
    gap = torch.where(gap.isnan(), torch.full_like(gap, float("inf")), gap)
    flat = int(gap.argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), gap.shape)) if gap.dim() else ()
    return Difference(float(gap.reshape(-1)[flat]), index, float(a.reshape(-1)[flat]), float(b.reshape(-1)[flat]))
