"""`keras.ops`'s element-wise math beyond arithmetic (`sin`, `floor`, `erf`, `isnan`, `hypot`, ...).

Each computes as Keras's torch backend does, with its dtype rules: most
give floats for ints and bools (torch's own rule), and float16 on the CPU
is computed in float32 where torch lacks the kernel.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .core import as_float, floatx, result_type, tensor
from .operation import operation

_SMALL_INTS = (torch.int8, torch.int16, torch.int32, torch.uint8)


def _cpu_half(x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """`fn(x)` in `x`'s dtype; float16 on the CPU computed in float32."""
    if x.dtype == torch.float16 and x.device.type == "cpu":
        return fn(x.float()).to(torch.float16)
    return fn(x)


def _float_of(*values: Any) -> torch.dtype:
    """Keras's `result_type(..., float)`: the operands' type if it is a float, else the default float."""
    dtype = result_type(*values)
    return dtype if dtype.is_floating_point else floatx()


# ------------------------------------------------------------------ trigonometric and hyperbolic
@operation("Sin")
def sin(x: Any) -> torch.Tensor:
    """The sine, as `keras.ops.sin`."""
    return torch.sin(tensor(x))


@operation("Cos")
def cos(x: Any) -> torch.Tensor:
    """The cosine, as `keras.ops.cos`."""
    return torch.cos(tensor(x))


@operation("Tan")
def tan(x: Any) -> torch.Tensor:
    """The tangent, as `keras.ops.tan`."""
    return torch.tan(tensor(x))


@operation("Arcsin")
def arcsin(x: Any) -> torch.Tensor:
    """The inverse sine, as `keras.ops.arcsin`."""
    return torch.arcsin(tensor(x))


@operation("Arccos")
def arccos(x: Any) -> torch.Tensor:
    """The inverse cosine, as `keras.ops.arccos`."""
    return torch.arccos(tensor(x))


@operation("Arctan")
def arctan(x: Any) -> torch.Tensor:
    """The inverse tangent, as `keras.ops.arctan`."""
    return torch.arctan(tensor(x))


@operation("Arctan2")
def arctan2(x1: Any, x2: Any) -> torch.Tensor:
    """The angle of the point (x2, x1), quadrant-aware, as `keras.ops.arctan2`."""
    a, b = tensor(x1), tensor(x2)
    dtype = _float_of(a, b)
    compute = torch.float32 if dtype == torch.float16 and a.device.type == "cpu" else dtype
    return torch.arctan2(a.to(compute), b.to(compute)).to(dtype)


@operation("Sinh")
def sinh(x: Any) -> torch.Tensor:
    """The hyperbolic sine, as `keras.ops.sinh`."""
    return torch.sinh(tensor(x))


@operation("Cosh")
def cosh(x: Any) -> torch.Tensor:
    """The hyperbolic cosine, as `keras.ops.cosh`."""
    return torch.cosh(tensor(x))


@operation("Arcsinh")
def arcsinh(x: Any) -> torch.Tensor:
    """The inverse hyperbolic sine, as `keras.ops.arcsinh`."""
    return torch.arcsinh(tensor(x))


@operation("Arccosh")
def arccosh(x: Any) -> torch.Tensor:
    """The inverse hyperbolic cosine, as `keras.ops.arccosh`."""
    return torch.arccosh(tensor(x))


@operation("Arctanh")
def arctanh(x: Any) -> torch.Tensor:
    """The inverse hyperbolic tangent, as `keras.ops.arctanh`."""
    return torch.arctanh(tensor(x))


@operation("Deg2rad")
def deg2rad(x: Any) -> torch.Tensor:
    """Degrees in radians, as `keras.ops.deg2rad` (int64 gives float64, as Keras)."""
    x = tensor(x)
    result = torch.deg2rad(x)
    return result.to(torch.float64) if x.dtype == torch.int64 else result


@operation("Rad2deg")
def rad2deg(x: Any) -> torch.Tensor:
    """Radians in degrees, as `keras.ops.rad2deg` (int64 gives float64, as Keras)."""
    x = tensor(x)
    result = torch.rad2deg(x)
    return result.to(torch.float64) if x.dtype == torch.int64 else result


# ------------------------------------------------------------------ rounding
def _rounded(x: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """`fn` (floor, ceil) of `x` as a float: int64 in the default float, others by `result_type(x, float)`."""
    x = tensor(x)
    dtype = x.dtype if x.dtype.is_floating_point else floatx()
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return _cpu_half(x, fn).to(dtype)


@operation("Floor")
def floor(x: Any) -> torch.Tensor:
    """The largest integer not above `x` (as a float), as `keras.ops.floor`."""
    return _rounded(x, torch.floor)


@operation("Ceil")
def ceil(x: Any) -> torch.Tensor:
    """The smallest integer not below `x` (as a float), as `keras.ops.ceil`."""
    return _rounded(x, torch.ceil)


@operation("Round", config=("decimals",))
def round(x: Any, decimals: int = 0) -> torch.Tensor:      # noqa: A001 (Keras's name)
    """`x` rounded half to even to `decimals` places, as `keras.ops.round` (ints stay ints)."""
    x = tensor(x)
    if not x.dtype.is_floating_point and x.dtype != torch.bool:
        return torch.round(x.to(floatx()), decimals=decimals).to(x.dtype)
    return torch.round(x, decimals=decimals)


@operation("Trunc")
def trunc(x: Any) -> torch.Tensor:
    """`x` rounded toward zero, as `keras.ops.trunc` (dtype kept)."""
    x = tensor(x)
    return x if x.dtype == torch.bool else torch.trunc(x)


@operation("Sign")
def sign(x: Any) -> torch.Tensor:
    """-1, 0 or 1 by the sign of `x`, as `keras.ops.sign`."""
    return torch.sign(tensor(x))


# ------------------------------------------------------------------ exponentials and logarithms
@operation("Log1p")
def log1p(x: Any) -> torch.Tensor:
    """`log(1 + x)`, accurate near 0, as `keras.ops.log1p`."""
    return torch.log1p(tensor(x))


@operation("Log2")
def log2(x: Any) -> torch.Tensor:
    """The base-2 logarithm, as `keras.ops.log2`."""
    return torch.log2(tensor(x))


@operation("Log10")
def log10(x: Any) -> torch.Tensor:
    """The base-10 logarithm, as `keras.ops.log10`."""
    return torch.log10(tensor(x))


@operation("Expm1")
def expm1(x: Any) -> torch.Tensor:
    """`exp(x) - 1`, accurate near 0, as `keras.ops.expm1`."""
    return torch.expm1(tensor(x))


@operation("Exp2")
def exp2(x: Any) -> torch.Tensor:
    """`2 ** x`, as `keras.ops.exp2` (ints and bools give the default float)."""
    return torch.exp2(as_float(tensor(x)))


@operation("Reciprocal")
def reciprocal(x: Any) -> torch.Tensor:
    """`1 / x`, as `keras.ops.reciprocal`."""
    return torch.reciprocal(tensor(x))


@operation("Rsqrt", module="math")
def rsqrt(x: Any) -> torch.Tensor:
    """`1 / sqrt(x)`, as `keras.ops.rsqrt`."""
    return torch.rsqrt(tensor(x))


@operation("Erf", module="math")
def erf(x: Any) -> torch.Tensor:
    """The error function, as `keras.ops.erf`."""
    return torch.erf(tensor(x))


@operation("Erfinv", module="math")
def erfinv(x: Any) -> torch.Tensor:
    """The inverse error function, as `keras.ops.erfinv`."""
    return torch.erfinv(tensor(x))


@operation("Logaddexp")
def logaddexp(x1: Any, x2: Any) -> torch.Tensor:
    """`log(exp(x1) + exp(x2))`, computed stably, as `keras.ops.logaddexp`."""
    a, b = tensor(x1), tensor(x2)
    dtype = _float_of(a, b)
    compute = torch.float32 if dtype == torch.float16 and a.device.type == "cpu" else dtype
    return torch.logaddexp(a.to(compute), b.to(compute)).to(dtype)


# ------------------------------------------------------------------ two operands
def _float_pair(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Both in their common type; small ints in the default float, int64 in float64 (as Keras's hypot)."""
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a, b)
    if dtype in _SMALL_INTS:
        dtype = floatx()
    elif dtype == torch.int64:
        dtype = torch.float64
    return a.to(dtype), b.to(dtype)


@operation("Hypot")
def hypot(x1: Any, x2: Any) -> torch.Tensor:
    """`sqrt(x1 ** 2 + x2 ** 2)`, as `keras.ops.hypot`."""
    return torch.hypot(*_float_pair(x1, x2))


@operation("Heaviside")
def heaviside(x1: Any, x2: Any) -> torch.Tensor:
    """0 where `x1 < 0`, `x2` where `x1 == 0`, 1 where `x1 > 0`, as `keras.ops.heaviside`."""
    return torch.heaviside(*_float_pair(x1, x2))


@operation("Fmod")
def fmod(x1: Any, x2: Any) -> torch.Tensor:
    """The remainder with the dividend's sign (C's fmod), as `keras.ops.fmod`."""
    a, b = tensor(x1), tensor(x2)
    if result_type(a, b) == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return torch.fmod(a, b)


@operation("DivideNoNan")
def divide_no_nan(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 / x2`, 0 where `x2` is 0, as `keras.ops.divide_no_nan`."""
    dtype = _float_of(x1 if isinstance(x1, (int, float)) else tensor(x1),
                      x2 if isinstance(x2, (int, float)) else tensor(x2))
    a, b = tensor(x1, dtype), tensor(x2, dtype)
    zero = b == 0
    return torch.where(zero, torch.zeros((), dtype=dtype), a / torch.where(zero, torch.ones((), dtype=dtype), b))


@operation("LogicalXor")
def logical_xor(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 xor x2` element by element, as `keras.ops.logical_xor`."""
    return torch.logical_xor(tensor(x1), tensor(x2))


# ------------------------------------------------------------------ special values
@operation("Isnan")
def isnan(x: Any) -> torch.Tensor:
    """Where `x` is NaN, as `keras.ops.isnan`."""
    return torch.isnan(tensor(x))


@operation("Isinf")
def isinf(x: Any) -> torch.Tensor:
    """Where `x` is infinite, as `keras.ops.isinf`."""
    return torch.isinf(tensor(x))


@operation("Isfinite")
def isfinite(x: Any) -> torch.Tensor:
    """Where `x` is neither infinite nor NaN, as `keras.ops.isfinite`."""
    return torch.isfinite(tensor(x))


def _close_pair(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a, b)
    return a.to(dtype), b.to(dtype)


@operation("Isclose", config=("equal_nan",))
def isclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> torch.Tensor:
    """Where `|x1 - x2| <= atol + rtol * |x2|` (ints: equal), as `keras.ops.isclose`."""
    a, b = _close_pair(x1, x2)
    if a.dtype.is_floating_point:
        return torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return torch.eq(a, b)


@operation("AllClose", config=("rtol", "atol", "equal_nan"))
def allclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> torch.Tensor:
    """Whether `isclose` holds everywhere (a bool tensor), as `keras.ops.allclose`."""
    return torch.all(isclose.spec.function(x1, x2, rtol, atol, equal_nan))   # type: ignore[attr-defined]


@operation("NanToNum", config=("nan", "posinf", "neginf"))
def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> torch.Tensor:
    """`x` with NaN, +inf and -inf replaced (by default 0 and the dtype's extremes), as `keras.ops.nan_to_num`."""
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


__all__ = ["sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "arcsinh", "arccosh",
           "arctanh", "deg2rad", "rad2deg", "floor", "ceil", "round", "trunc", "sign", "log1p", "log2", "log10",
           "expm1", "exp2", "reciprocal", "rsqrt", "erf", "erfinv", "logaddexp", "hypot", "heaviside", "fmod",
           "divide_no_nan", "logical_xor", "isnan", "isinf", "isfinite", "isclose", "allclose", "nan_to_num"]
