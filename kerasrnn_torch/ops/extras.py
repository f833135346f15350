"""More of `keras.ops`'s NumPy-style functions: cube roots and NaN-aware extremes, bit operations,
integer gcd/lcm, and splits and stacks by axis name (`vsplit`, `dstack`, `append`, ...), as Keras's
torch backend computes them."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .arrays import _quantile, cumprod, cumsum
from .numpy import argmax, argmin, prod
from .core import DTypeLike, as_float, floatx, result_type, tensor
from .operation import operation

Axis = Any


def _float_of(*values: Any) -> torch.dtype:
    dtype = result_type(*values)
    return dtype if dtype.is_floating_point else floatx()


# ------------------------------------------------------------------ element-wise
@operation("Cbrt")
def cbrt(x: Any) -> torch.Tensor:
    """The cube root (negative for negatives), as `keras.ops.cbrt`."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    elif x.dtype == torch.int64:
        x = x.to(torch.float64)
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


@operation("Fabs")
def fabs(x: Any) -> torch.Tensor:
    """`|x|` as a float, as `keras.ops.fabs`."""
    return torch.abs(as_float(tensor(x)))


def _weak_pair(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    first = x1 if isinstance(x1, (int, float)) else tensor(x1)
    second = x2 if isinstance(x2, (int, float)) else tensor(x2)
    dtype = result_type(first, second)
    return tensor(x1, dtype), tensor(x2, dtype)


@operation("Fmax")
def fmax(x1: Any, x2: Any) -> torch.Tensor:
    """The element-wise maximum ignoring NaNs, as `keras.ops.fmax`."""
    return torch.fmax(*_weak_pair(x1, x2))


@operation("Fmin")
def fmin(x1: Any, x2: Any) -> torch.Tensor:
    """The element-wise minimum ignoring NaNs, as `keras.ops.fmin`."""
    return torch.fmin(*_weak_pair(x1, x2))


@operation("Isneginf")
def isneginf(x: Any) -> torch.Tensor:
    """Where `x` is -inf, as `keras.ops.isneginf`."""
    return torch.isneginf(tensor(x))


@operation("Isposinf")
def isposinf(x: Any) -> torch.Tensor:
    """Where `x` is +inf, as `keras.ops.isposinf`."""
    return torch.isposinf(tensor(x))


@operation("Signbit")
def signbit(x: Any) -> torch.Tensor:
    """Where the sign bit is set (negatives, -0.0), as `keras.ops.signbit`."""
    return torch.signbit(tensor(x))


@operation("Sinc")
def sinc(x: Any) -> torch.Tensor:
    """`sin(pi x) / (pi x)` (1 at 0), as `keras.ops.sinc`."""
    return torch.sinc(tensor(x))


@operation("Erfc", module="math")
def erfc(x: Any) -> torch.Tensor:
    """`1 - erf(x)`, accurate for large x, as `keras.ops.erfc`."""
    return torch.erfc(tensor(x))


@operation("Logaddexp2")
def logaddexp2(x1: Any, x2: Any) -> torch.Tensor:
    """`log2(2 ** x1 + 2 ** x2)`, computed stably, as `keras.ops.logaddexp2`."""
    a, b = tensor(x1), tensor(x2)
    dtype = _float_of(a, b)
    return torch.logaddexp2(a.to(dtype), b.to(dtype))


@operation("Gcd")
def gcd(x1: Any, x2: Any) -> torch.Tensor:
    """The greatest common divisor of integers, as `keras.ops.gcd`."""
    return torch.gcd(tensor(x1), tensor(x2))


@operation("Lcm")
def lcm(x1: Any, x2: Any) -> torch.Tensor:
    """The least common multiple of integers, as `keras.ops.lcm`."""
    return torch.lcm(tensor(x1), tensor(x2))


_INTS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


@operation("Ldexp")
def ldexp(x1: Any, x2: Any) -> torch.Tensor:
    """`x1 * 2 ** x2` for an integer `x2`, as `keras.ops.ldexp`."""
    a, b = tensor(x1), tensor(x2)
    if b.dtype not in _INTS:
        raise TypeError(f"kr.ops.ldexp: the exponent x2 must be an integer tensor, got {b.dtype}")
    return torch.ldexp(a, b).to(_float_of(a, b))


@operation("Nextafter")
def nextafter(x1: Any, x2: Any) -> torch.Tensor:
    """The next representable number after `x1` toward `x2` (found in float64, as Keras's torch backend), as
    `keras.ops.nextafter`."""
    a, b = tensor(x1), tensor(x2)
    return torch.nextafter(a.to(torch.float64), b.to(torch.float64)).to(_float_of(a, b))


@operation("I0")
def i0(x: Any) -> torch.Tensor:
    """The modified Bessel function of the first kind, order 0, as `keras.ops.i0`."""
    x = tensor(x)
    if x.dtype in (torch.int64, torch.float64):
        dtype = torch.float64
    elif x.dtype in (torch.bfloat16, torch.float16):
        dtype = x.dtype
    else:
        dtype = floatx()
    return torch.i0(x.to(dtype))


# ------------------------------------------------------------------ bits
@operation("BitwiseAnd")
def bitwise_and(x: Any, y: Any) -> torch.Tensor:
    """`x & y` on ints and bools, as `keras.ops.bitwise_and`."""
    return torch.bitwise_and(tensor(x), tensor(y))


@operation("BitwiseOr")
def bitwise_or(x: Any, y: Any) -> torch.Tensor:
    """`x | y`, as `keras.ops.bitwise_or`."""
    return torch.bitwise_or(tensor(x), tensor(y))


@operation("BitwiseXor")
def bitwise_xor(x: Any, y: Any) -> torch.Tensor:
    """`x ^ y`, as `keras.ops.bitwise_xor`."""
    return torch.bitwise_xor(tensor(x), tensor(y))


@operation("BitwiseInvert")
def bitwise_invert(x: Any) -> torch.Tensor:
    """`~x`, as `keras.ops.bitwise_invert`."""
    return torch.bitwise_not(tensor(x))


@operation("BitwiseNot")
def bitwise_not(x: Any) -> torch.Tensor:
    """`~x`, as `keras.ops.bitwise_not`."""
    return torch.bitwise_not(tensor(x))


def _shift_amount(y: Any) -> Any:
    return y if isinstance(y, int) and not isinstance(y, bool) else tensor(y)


@operation("BitwiseLeftShift")
def bitwise_left_shift(x: Any, y: Any) -> torch.Tensor:
    """`x << y`, as `keras.ops.bitwise_left_shift`."""
    return torch.bitwise_left_shift(tensor(x), _shift_amount(y))


@operation("BitwiseRightShift")
def bitwise_right_shift(x: Any, y: Any) -> torch.Tensor:
    """`x >> y`, as `keras.ops.bitwise_right_shift`."""
    return torch.bitwise_right_shift(tensor(x), _shift_amount(y))


@operation("LeftShift")
def left_shift(x: Any, y: Any) -> torch.Tensor:
    """`x << y`, as `keras.ops.left_shift`."""
    return torch.bitwise_left_shift(tensor(x), _shift_amount(y))


@operation("RightShift")
def right_shift(x: Any, y: Any) -> torch.Tensor:
    """`x >> y`, as `keras.ops.right_shift`."""
    return torch.bitwise_right_shift(tensor(x), _shift_amount(y))


# ------------------------------------------------------------------ NaN-aware reductions
def _nan_extreme(x: Any, axis: Axis, keepdims: bool, largest: bool) -> torch.Tensor:
    x = tensor(x)
    axis = tuple(axis) if isinstance(axis, list) else axis
    reduce = torch.amax if largest else torch.amin
    if not x.dtype.is_floating_point:
        return reduce(x, dim=axis, keepdim=keepdims) if axis is not None else \
            reduce(x, dim=tuple(range(x.ndim)), keepdim=keepdims)
    if axis == ():
        return x
    dims = tuple(range(x.ndim)) if axis is None else axis
    nan = torch.isnan(x)
    clean = torch.where(nan, float("-inf") if largest else float("inf"), x)
    out = reduce(clean, dim=dims, keepdim=keepdims)
    all_nan = nan.all(dim=dims, keepdim=keepdims) if isinstance(dims, int) else \
        nan.to(torch.uint8).amin(dim=dims, keepdim=keepdims).to(torch.bool)
    return torch.where(all_nan, torch.tensor(float("nan"), dtype=x.dtype), out)


@operation("Nanmax", config=("axis", "keepdims"))
def nanmax(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The maximum over `axis` ignoring NaNs (NaN where all are), as `keras.ops.nanmax`."""
    return _nan_extreme(x, axis, keepdims, largest=True)


@operation("Nanmin", config=("axis", "keepdims"))
def nanmin(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The minimum over `axis` ignoring NaNs, as `keras.ops.nanmin`."""
    return _nan_extreme(x, axis, keepdims, largest=False)


@operation("Nancumsum", config=("axis", "dtype"))
def nancumsum(x: Any, axis: int | None = None, dtype: DTypeLike = None) -> torch.Tensor:
    """The running sum counting NaNs as 0, as `keras.ops.nancumsum`."""
    return cumsum.spec.function(torch.nan_to_num(tensor(x)), axis, dtype)    # type: ignore[attr-defined]


@operation("Nancumprod", config=("axis", "dtype"))
def nancumprod(x: Any, axis: int | None = None, dtype: DTypeLike = None) -> torch.Tensor:
    """The running product counting NaNs as 1, as `keras.ops.nancumprod`."""
    return cumprod.spec.function(torch.nan_to_num(tensor(x), nan=1.0), axis, dtype)   # type: ignore[attr-defined]


def _nan_axes(axis: Axis) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


@operation("Nanvar", config=("axis", "keepdims"))
def nanvar(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The variance over `axis` ignoring NaNs, as `keras.ops.nanvar`."""
    x = as_float(tensor(x))
    if axis == () or axis == []:
        return torch.where(torch.isnan(x), x, torch.zeros((), dtype=x.dtype))
    dims = _nan_axes(axis)
    valid = ~torch.isnan(x)
    mean = torch.nanmean(x, dim=dims, keepdim=True)
    centered = torch.where(valid, x - mean, torch.zeros_like(x)).square()
    return centered.sum(dim=dims, keepdim=keepdims) / valid.sum(dim=dims, keepdim=keepdims)


@operation("Nanstd", config=("axis", "keepdims"))
def nanstd(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The standard deviation over `axis` ignoring NaNs, as `keras.ops.nanstd`."""
    return torch.sqrt(nanvar.spec.function(x, axis, keepdims))     # type: ignore[attr-defined]


@operation("Nanprod", config=("axis", "keepdims"))
def nanprod(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The product over `axis` counting NaNs as 1, as `keras.ops.nanprod`."""
    x = tensor(x)
    if axis == () or axis == []:
        return torch.nan_to_num(x, nan=1)
    if x.dtype.is_floating_point:
        x = torch.where(torch.isnan(x), torch.ones((), dtype=x.dtype), x)
    return prod.spec.function(x, axis, keepdims)     # type: ignore[attr-defined]


@operation("IsIn", config=("assume_unique", "invert"))
def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> torch.Tensor:
    """Where the entries of `x1` occur in `x2` (not, with `invert`), as `keras.ops.isin`."""
    a, b = tensor(x1), tensor(x2)
    if result_type(a, b) == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    if a.dtype == torch.bool:
        a = a.to(b.dtype)
    if b.dtype == torch.bool:
        b = b.to(a.dtype)
    return torch.isin(a, b, assume_unique=assume_unique, invert=invert)


@operation("Nanquantile", config=("axis", "method", "keepdims"))
def nanquantile(x: Any, q: Any, axis: Axis = None, method: str = "linear", keepdims: bool = False
                ) -> torch.Tensor:
    """The `q`-th quantiles (0 to 1) over `axis` ignoring NaNs, as `keras.ops.nanquantile`."""
    return _quantile(x, q, axis, method, keepdims, skip_nans=True)


@operation("Nanpercentile", config=("axis", "method", "keepdims"))
def nanpercentile(x: Any, q: Any, axis: Axis = None, method: str = "linear", keepdims: bool = False
                  ) -> torch.Tensor:
    """The `q`-th percentiles (0 to 100) over `axis` ignoring NaNs, as `keras.ops.nanpercentile`."""
    return _quantile(x, tensor(q, floatx()) / 100.0, axis, method, keepdims, skip_nans=True)


@operation("Nanmedian", config=("axis", "keepdims"))
def nanmedian(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The median over `axis` ignoring NaNs, as `keras.ops.nanmedian`."""
    if axis == () or axis == []:
        return tensor(x)
    return _quantile(x, 0.5, axis, "linear", keepdims, skip_nans=True)


def _nan_arg(x: Any, axis: int | None, keepdims: bool, largest: bool) -> torch.Tensor:
    x = tensor(x)
    pick = argmax if largest else argmin
    if not x.dtype.is_floating_point:
        return pick.spec.function(x, axis, keepdims)     # type: ignore[attr-defined]
    nan = torch.isnan(x)
    clean = torch.where(nan, float("-inf") if largest else float("inf"), x)
    all_nan = nan.all() if axis is None else nan.all(dim=axis, keepdim=keepdims)
    return torch.where(all_nan, torch.tensor(-1, dtype=torch.int32),
                       pick.spec.function(clean, axis, keepdims))     # type: ignore[attr-defined]


@operation("Nanargmax", config=("axis", "keepdims"))
def nanargmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """The index of the maximum along `axis` ignoring NaNs (-1 where all are NaN), as `keras.ops.nanargmax`."""
    return _nan_arg(x, axis, keepdims, largest=True)


@operation("Nanargmin", config=("axis", "keepdims"))
def nanargmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """The index of the minimum along `axis` ignoring NaNs (-1 where all are NaN), as `keras.ops.nanargmin`."""
    return _nan_arg(x, axis, keepdims, largest=False)


# ------------------------------------------------------------------ complex parts
def _complex_ready(x: Any) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))


@operation("Real")
def real(x: Any) -> torch.Tensor:
    """The real part, as `keras.ops.real`."""
    return torch.real(_complex_ready(x))


@operation("Imag")
def imag(x: Any) -> torch.Tensor:
    """The imaginary part, as `keras.ops.imag` (torch has none for real tensors, as Keras's torch backend)."""
    return torch.imag(_complex_ready(x))


@operation("Conjugate")
def conjugate(x: Any) -> torch.Tensor:
    """The complex conjugate, as `keras.ops.conjugate`."""
    return torch.conj(_complex_ready(x)).resolve_conj()


def conj(x: Any) -> torch.Tensor:
    """The complex conjugate, as `keras.ops.conj` (Keras's operation `Conjugate`)."""
    return conjugate(x)


@operation("Isreal")
def isreal(x: Any) -> torch.Tensor:
    """Where the imaginary part is 0 (everywhere for real tensors), as `keras.ops.isreal`."""
    return torch.isreal(tensor(x))


# ------------------------------------------------------------------ more arrays
@operation("Vander", config=("N", "increasing"))
def vander(x: Any, N: int | None = None, increasing: bool = False) -> torch.Tensor:  # noqa: N803 (Keras's name)
    """The Vandermonde matrix of the 1-D `x` (powers decreasing unless `increasing`), as `keras.ops.vander`."""
    x = tensor(x)
    return torch.vander(x, N=N, increasing=increasing).to(result_type(x))


@operation("UnravelIndex", config=("shape",))
def unravel_index(indices: Any, shape: Sequence[int]) -> tuple[torch.Tensor, ...]:
    """The coordinates in `shape` of flat `indices`, as `keras.ops.unravel_index`."""
    indices = tensor(indices)
    dtype = result_type(indices)
    return tuple(part.to(dtype) for part in torch.unravel_index(indices, tuple(shape)))


@operation("Corrcoef")
def corrcoef(x: Any) -> torch.Tensor:
    """The Pearson correlation coefficients of the rows of `x`, as `keras.ops.corrcoef`."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(floatx())
    elif x.dtype == torch.int64:
        x = x.to(torch.float64)
    return torch.corrcoef(x)


# ------------------------------------------------------------------ splits, stacks, flips
@operation("Vdot")
def vdot(x1: Any, x2: Any) -> torch.Tensor:
    """The dot product of the flattened tensors, as `keras.ops.vdot`."""
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a, b)
    compute = dtype if dtype.is_floating_point else floatx()
    if compute == torch.float16 and a.device.type == "cpu":
        compute = torch.float32
    return torch.vdot(a.reshape(-1).to(compute), b.reshape(-1).to(compute)).to(dtype)


@operation("Dstack")
def dstack(xs: Sequence[Any]) -> torch.Tensor:
    """The tensors joined along their third axis, as `keras.ops.dstack`."""
    return torch.dstack([tensor(x) for x in xs])


def _sections(indices_or_sections: Any) -> Any:
    if isinstance(indices_or_sections, int):
        return indices_or_sections
    return tensor(indices_or_sections).tolist()


@operation("Vsplit", config=("indices_or_sections",))
def vsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """`x` cut along its first axis, as `keras.ops.vsplit`."""
    return list(torch.vsplit(tensor(x), _sections(indices_or_sections)))


@operation("Hsplit", config=("indices_or_sections",))
def hsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """`x` cut along its second axis (the first for 1-D), as `keras.ops.hsplit`."""
    return list(torch.hsplit(tensor(x), _sections(indices_or_sections)))


@operation("Dsplit", config=("indices_or_sections",))
def dsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """`x` cut along its third axis, as `keras.ops.dsplit`."""
    return list(torch.dsplit(tensor(x), _sections(indices_or_sections)))


@operation("ArraySplit", config=("indices_or_sections", "axis"))
def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """`x` cut along `axis` into nearly equal sections (or at indices), as `keras.ops.array_split`."""
    return list(torch.tensor_split(tensor(x), indices_or_sections, dim=axis))


@operation("Diagflat", config=("k",))
def diagflat(x: Any, k: int = 0) -> torch.Tensor:
    """A matrix with the flattened `x` on diagonal `k`, as `keras.ops.diagflat`."""
    return torch.diagflat(tensor(x), offset=k)


@operation("Append", config=("axis",))
def append(x1: Any, x2: Any, axis: int | None = None) -> torch.Tensor:
    """`x2` joined after `x1` along `axis` (both flattened: None), as `keras.ops.append`."""
    a, b = tensor(x1), tensor(x2)
    if axis is None:
        return torch.cat((a.flatten(), b.flatten()))
    return torch.cat((a, b), dim=axis)


@operation("Fliplr")
def fliplr(x: Any) -> torch.Tensor:
    """`x` reversed along its second axis, as `keras.ops.fliplr`."""
    return torch.fliplr(tensor(x))


@operation("Flipud")
def flipud(x: Any) -> torch.Tensor:
    """`x` reversed along its first axis, as `keras.ops.flipud`."""
    return torch.flipud(tensor(x))


__all__ = ["ldexp", "nextafter", "i0", "cbrt", "fabs", "fmax", "fmin", "isneginf", "isposinf", "signbit", "sinc",
           "erfc", "logaddexp2", "gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_invert",
           "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift", "nanmax",
           "nanmin", "nancumsum", "nancumprod", "nanvar", "nanstd", "nanprod", "isin", "nanquantile",
           "nanpercentile", "nanmedian", "nanargmax", "nanargmin", "real", "imag", "conjugate", "conj", "isreal",
           "vander", "unravel_index", "corrcoef", "vdot", "dstack", "vsplit", "hsplit", "dsplit", "array_split",
           "diagflat", "append", "fliplr", "flipud"]
