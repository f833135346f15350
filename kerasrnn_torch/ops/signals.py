"""`keras.ops`'s functions of sampled signals: `trapezoid` (integrals), `correlate` (cross-correlation of 1-D
signals) and `histogram` (counts in equal bins), as Keras's torch backend computes them, with their dtype rules.
"""
from __future__ import annotations

import builtins
from typing import Any

import torch
from torch.nn import functional

from .core import as_float, dtype_name, floatx, tensor
from .operation import operation


@operation("Trapezoid", config=("x", "dx", "axis"))
def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> torch.Tensor:
    """The integral of `y` along `axis` by the trapezoidal rule, at sample points `x` (a 1-D tensor as long as
    that axis, or one that broadcasts with `y`) or spaced `dx` apart, as `keras.ops.trapezoid` (ints and bools
    give float32; floats keep their dtype).

    >>> trapezoid(torch.tensor([[1, 2, 3], [4, 5, 6]]))
    tensor([ 4., 10.])
    """
    values = as_float(tensor(y))
    if values.dim() == 0:
        raise ValueError(f"kr.ops.trapezoid: y must have at least one axis, got a scalar ({values!r})")
    if not -values.dim() <= axis < values.dim():
        raise ValueError(f"kr.ops.trapezoid: axis {axis} is out of range for y of shape {tuple(values.shape)}")
    if x is None:
        spacing = dx.item() if isinstance(dx, torch.Tensor) else dx
        return torch.trapezoid(values, dx=spacing, dim=axis)
    points = tensor(x)
    if points.dim() == 1 and points.shape[0] != values.shape[axis]:
        raise ValueError(f"kr.ops.trapezoid: x must hold one sample point per value along axis {axis} "
                         f"({values.shape[axis]}), got {points.shape[0]}")
    return torch.trapezoid(values, points, dim=axis)


@operation("Correlate", config=("mode",), first_axis_probed=True)
def correlate(x1: Any, x2: Any, mode: str = "valid") -> torch.Tensor:
    """The cross-correlation `sum_n x1[n + k] * x2[n]` of two 1-D tensors, as `keras.ops.correlate` (NumPy's
    `correlate`): "valid" gives the `max(M, N) - min(M, N) + 1` values where they overlap fully, "same"
    `max(M, N)` values, "full" all `M + N - 1`. float16 and bfloat16 stay; other dtypes give float32.

    Two differences from Keras's torch backend, which disagrees there with Keras's own documented shapes (and
    NumPy): "same" with `x1` shorter than `x2` gives `max(M, N)` values (Keras's torch backend: `M`), and a
    single value comes back as shape `(1,)` (Keras's torch backend: a scalar).

    >>> correlate(torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1.0, 0.5]))
    tensor([2.0000, 3.5000, 5.0000])
    """
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"kr.ops.correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    a, v = tensor(x1), tensor(x2)
    for name, value in (("x1", a), ("x2", v)):
        if value.dim() != 1 or value.shape[0] == 0:
            raise ValueError(f"kr.ops.correlate: {name} must be a non-empty 1-D tensor, got shape "
                             f"{tuple(value.shape)}")
    if a.dtype.is_complex or v.dtype.is_complex:   # Keras's torch backend drops the imaginary parts
        a, v = (a.real if a.dtype.is_complex else a), (v.real if v.dtype.is_complex else v)
    promoted = torch.promote_types(a.dtype, v.dtype)
    dtype = promoted if promoted in (torch.float16, torch.bfloat16) else floatx()
    a, v = a.to(dtype), v.to(dtype)
    m, n = a.shape[0], v.shape[0]
    compute = torch.float32 if dtype in (torch.float16, torch.bfloat16) and a.device.type == "cpu" else dtype
    full = functional.conv1d(a.to(compute).reshape(1, 1, m), v.to(compute).reshape(1, 1, n), padding=n - 1)
    full = full.reshape(m + n - 1).to(dtype)
    if mode == "full":
        return full
    short = builtins.min(m, n)
    if mode == "valid":
        start, length = short - 1, builtins.max(m, n) - short + 1
    else:
        # NumPy centres "same" on the longer input: with x1 the shorter one it correlates the other way round.
        start = (short - 1) // 2 if m >= n else (m - 1) - (m - 1) // 2
        length = builtins.max(m, n)
    return full[start:start + length]


def histogram(x: Any, bins: int = 10, range: tuple[float, float] | None = None  # noqa: A002 (Keras's name)
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """The counts of `x`'s values in `bins` equal bins over `range` (default: from `x`'s minimum to its
    maximum) and the `bins + 1` bin edges, as `keras.ops.histogram` (torch's `histogram`: counts and edges in
    `x`'s float dtype; computed on the CPU, as torch has it nowhere else, and returned on `x`'s device).

    >>> histogram(torch.tensor([0.0, 0.5, 0.6, 1.0]), bins=2)
    (tensor([1., 3.]), tensor([0.0000, 0.5000, 1.0000]))
    """
    if isinstance(bins, bool) or not isinstance(bins, int):
        raise TypeError(f"kr.ops.histogram: bins must be an int, got {type(bins).__name__} {bins!r}")
    if range is not None and not (isinstance(range, tuple) and len(range) == 2):
        raise ValueError(f"kr.ops.histogram: range must be a tuple of two numbers (lower, upper), got {range!r}")
    return _histogram(x, bins=bins, range=range)


# Keras's `Histogram` takes `bins` and `range` as its config; a file holds `range` as a list.
@operation("Histogram", config=("bins", "range"), first_axis_probed=True)
def _histogram(x: Any, bins: int = 10, range: Any = None) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: A002
    if bins <= 0:
        raise ValueError(f"kr.ops.histogram: bins must be a positive int, got {bins}")
    if range is not None and range[1] < range[0]:
        raise ValueError(f"kr.ops.histogram: range must be (lower, upper) with lower <= upper, got {tuple(range)}")
    values = tensor(x)
    if values.dim() > 1:
        raise ValueError(f"kr.ops.histogram: x must be a 1-D tensor, got shape {tuple(values.shape)}")
    if not values.dtype.is_floating_point:
        raise TypeError(f"kr.ops.histogram: x must be a float tensor (torch's histogram counts floats only), got "
                        f"{dtype_name(values.dtype)}; cast it first")
    bounds = None if range is None else (float(range[0]), float(range[1]))
    compute = values.detach().cpu()
    if compute.dtype in (torch.float16, torch.bfloat16):        # counted in float32, returned in x's dtype
        compute = compute.float()
    counts, edges = torch.histogram(compute, bins=bins, range=bounds)
    return counts.to(values.device, values.dtype), edges.to(values.device, values.dtype)
