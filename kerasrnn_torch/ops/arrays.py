"""`keras.ops`'s array functions beyond the first set: flips and rolls, padding, triangles and diagonals,
cumulative sums, sorting, counting, quantiles, segment reductions and new tensors.

Each computes as Keras's torch backend does, with its dtype rules.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.nn import functional

from .core import DTypeLike, as_float, dtype_name, floatx, result_type, tensor, to_dtype
from .operation import operation

Axis = Any      # None, an int, or a tuple/list of ints

_SMALL = (torch.bool, torch.uint8, torch.int8, torch.int16)


def _axes(axis: Axis) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


# ------------------------------------------------------------------ rearranging
@operation("Flip", config=("axis",))
def flip(x: Any, axis: Axis = None) -> torch.Tensor:
    """`x` reversed along `axis` (all axes: None), as `keras.ops.flip`."""
    x = tensor(x)
    dims = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    return torch.flip(x, dims=dims)


@operation("Roll", config=("shift", "axis"))
def roll(x: Any, shift: Any, axis: Axis = None) -> torch.Tensor:
    """`x` shifted cyclically by `shift` along `axis` (flattened: None), as `keras.ops.roll`."""
    x = tensor(x)
    if axis is None:
        return torch.roll(x, shift)
    return torch.roll(x, _axes(shift), dims=_axes(axis))


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> torch.Tensor:
    """`x` padded by `pad_width` (a (before, after) pair per axis), as `keras.ops.pad`.

    Modes: "constant" (with `constant_values`, 0 by default), "reflect", "symmetric" (torch's
    "replicate", as Keras's torch backend) and "circular"."""
    return _pad(x, constant_values, pad_width=pad_width, mode=mode)


# Keras's `Pad` takes `pad_width` and `mode` as its config and `constant_values` as a call argument: the
# operation's function lists its call arguments first, as the recorded node calls it.
@operation("Pad", config=("pad_width", "mode"))
def _pad(x: Any, constant_values: Any = None, *, pad_width: Any, mode: str = "constant") -> torch.Tensor:
    x = tensor(x)
    if constant_values is not None and mode != "constant":
        raise ValueError(f"kr.ops.pad: `constant_values` goes with mode='constant' only, got mode={mode!r}")
    width = [(int(w), int(w)) if isinstance(w, int) else (int(w[0]), int(w[1]))
             for w in (pad_width if isinstance(pad_width, (list, tuple)) else [pad_width])]
    if len(width) == 1 and x.ndim > 1:
        width = width * x.ndim
    if len(width) != x.ndim:
        raise ValueError(f"kr.ops.pad: `pad_width` needs one (before, after) pair per axis of x (shape "
                         f"{tuple(x.shape)}), got {pad_width!r}")
    if mode == "constant":
        flat = [n for pair in reversed(width) for n in pair]
        return functional.pad(x, flat, value=0 if constant_values is None else constant_values)
    torch_mode = {"reflect": "reflect", "symmetric": "replicate", "circular": "circular"}.get(mode)
    if torch_mode is None:
        raise ValueError(f"kr.ops.pad: `mode` must be 'constant', 'reflect', 'symmetric' or 'circular' (as in "
                         f"Keras's torch backend), got {mode!r}")
    # torch pads the last axes of a batched tensor: pad the axes that need it, as Keras's torch backend does.
    needed = [i for i, pair in enumerate(width) if pair != (0, 0)]
    if not needed:
        return x
    first = needed[0]
    flat = [n for pair in reversed(width[first:]) for n in pair]
    dtype = x.dtype
    work = x if dtype.is_floating_point else x.to(floatx())
    lead = work.shape[:first]
    work = work.reshape((-1, *work.shape[first:])) if first > 0 else work.unsqueeze(0)
    work = functional.pad(work.unsqueeze(0), flat, mode=torch_mode).squeeze(0)
    return work.reshape((*lead, *work.shape[1:]) if first > 0 else work.shape[1:]).to(dtype)


@operation("Moveaxis", config=("source", "destination"))
def moveaxis(x: Any, source: Any, destination: Any) -> torch.Tensor:
    """`x` with axes `source` moved to `destination`, as `keras.ops.moveaxis`."""
    return torch.moveaxis(tensor(x), _axes(source), _axes(destination))


@operation("Swapaxes", config=("axis1", "axis2"))
def swapaxes(x: Any, axis1: int, axis2: int) -> torch.Tensor:
    """`x` with two axes exchanged, as `keras.ops.swapaxes`."""
    return torch.swapaxes(tensor(x), axis1, axis2)


@operation("View", config=("dtype",))
def view(x: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """`x`'s bytes read as `dtype` (None: `x`'s own), as `keras.ops.view`: a wider or narrower dtype changes the
    last axis's size by the ratio of the item sizes (NumPy's and torch's `view`).

    >>> view(torch.tensor([1.0]), "int32")
    tensor([1065353216], dtype=torch.int32)
    """
    x = tensor(x)
    wanted = to_dtype(dtype, "kr.ops.view") or x.dtype
    old_size, new_size = x.element_size(), torch.empty((), dtype=wanted).element_size()
    if old_size != new_size:
        if x.dim() == 0:
            raise ValueError(f"kr.ops.view: a scalar cannot be viewed as a dtype of another item size "
                             f"({dtype_name(x.dtype)} to {dtype_name(wanted)})")
        if (x.shape[-1] * old_size) % new_size:
            raise ValueError(f"kr.ops.view: x of shape {tuple(x.shape)} and dtype "
                             f"{dtype_name(x.dtype)} cannot be viewed as "
                             f"{dtype_name(wanted)}: the last axis's {x.shape[-1] * old_size} "
                             f"bytes are not a multiple of its item size {new_size}")
        if not x.is_contiguous() or x.storage_offset() % new_size:     # torch's view needs aligned, packed rows
            x = x.clone(memory_format=torch.contiguous_format)
    return x.view(wanted)


@operation("Ravel")
def ravel(x: Any) -> torch.Tensor:
    """`x` flattened, as `keras.ops.ravel`."""
    return torch.ravel(tensor(x))


@operation("Rot90", config=("k", "axes"))
def rot90(array: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> torch.Tensor:
    """`array` turned by 90 degrees `k` times in the plane of `axes`, as `keras.ops.rot90`."""
    array = tensor(array)
    if array.ndim < 2:
        raise ValueError(f"kr.ops.rot90: the array needs at least 2 axes, got shape {tuple(array.shape)}")
    if len(axes) != 2 or axes[0] % array.ndim == axes[1] % array.ndim:
        raise ValueError(f"kr.ops.rot90: `axes` must be two different axes, got {axes!r}")
    return torch.rot90(array, k, dims=tuple(axes))


@operation("Hstack")
def hstack(xs: Sequence[Any]) -> torch.Tensor:
    """The tensors joined along their second axis (the first for 1-D), as `keras.ops.hstack`."""
    return torch.hstack([tensor(x) for x in xs])


@operation("Vstack")
def vstack(xs: Sequence[Any]) -> torch.Tensor:
    """The tensors joined along their first axis (1-D ones as rows), as `keras.ops.vstack`."""
    return torch.vstack([tensor(x) for x in xs])


@operation("Unstack", config=("num", "axis"), module="core")
def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[torch.Tensor]:
    """`x` cut into its slices along `axis`, as `keras.ops.unstack`."""
    x = tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"kr.ops.unstack: num={num} but axis {axis} of x (shape {tuple(x.shape)}) has size "
                         f"{x.shape[axis]}")
    return list(torch.unbind(x, axis))


@operation("Meshgrid", config=("indexing",))
def meshgrid(*x: Any, indexing: str = "xy") -> list[torch.Tensor]:
    """Coordinate grids of the 1-D tensors `x`, as `keras.ops.meshgrid` ("xy" or "ij" indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"kr.ops.meshgrid: `indexing` must be 'xy' or 'ij', got {indexing!r}")
    return list(torch.meshgrid([tensor(item) for item in x], indexing=indexing))


# ------------------------------------------------------------------ triangles and diagonals
@operation("Tril", config=("k",))
def tril(x: Any, k: int = 0) -> torch.Tensor:
    """The lower triangle of the last two axes (from diagonal `k` down), as `keras.ops.tril`."""
    return torch.tril(tensor(x), diagonal=k)


@operation("Triu", config=("k",))
def triu(x: Any, k: int = 0) -> torch.Tensor:
    """The upper triangle of the last two axes (from diagonal `k` up), as `keras.ops.triu`."""
    return torch.triu(tensor(x), diagonal=k)


@operation("Diag", config=("k",))
def diag(x: Any, k: int = 0) -> torch.Tensor:
    """A 1-D tensor's diagonal matrix, or a matrix's diagonal `k`, as `keras.ops.diag`."""
    return torch.diag(tensor(x), diagonal=k)


@operation("Diagonal", config=("offset", "axis1", "axis2"))
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """The diagonal `offset` of the plane of `axis1` and `axis2` (last axis), as `keras.ops.diagonal`."""
    return torch.diagonal(tensor(x), offset=offset, dim1=axis1, dim2=axis2)


@operation("Trace", config=("offset", "axis1", "axis2"))
def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """The sum of a diagonal, as `keras.ops.trace` (bools and small ints give int32)."""
    x = tensor(x)
    dtype = torch.int32 if x.dtype in _SMALL else x.dtype
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: DTypeLike = None) -> torch.Tensor:  # noqa: N803
    """An `N` x `M` matrix of ones on and below diagonal `k`, as `keras.ops.tri`."""
    wanted = to_dtype(dtype, "kr.ops.tri") or floatx()
    return torch.tril(torch.ones((N, M or N), dtype=wanted), diagonal=k)


def identity(n: int, dtype: DTypeLike = None) -> torch.Tensor:
    """The `n` x `n` identity matrix, as `keras.ops.identity`."""
    return torch.eye(n, dtype=to_dtype(dtype, "kr.ops.identity") or floatx())


# ------------------------------------------------------------------ cumulative and differences
def _cumulative(x: Any, axis: int | None, dtype: DTypeLike, fn: Any) -> torch.Tensor:
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    wanted = to_dtype(dtype) or x.dtype
    wanted = {torch.int64: torch.int32, torch.float64: torch.float32}.get(wanted, wanted) if dtype is None \
        else wanted
    if wanted == torch.bool:
        wanted = torch.int32
    if wanted == torch.float16 and x.device.type == "cpu":
        return fn(x, dim=axis, dtype=torch.float32).to(torch.float16)
    return fn(x, dim=axis, dtype=wanted)


@operation("Cumsum", config=("axis", "dtype"))
def cumsum(x: Any, axis: int | None = None, dtype: DTypeLike = None) -> torch.Tensor:
    """The running sum along `axis` (flattened: None), as `keras.ops.cumsum` (bools give int32)."""
    return _cumulative(x, axis, dtype, torch.cumsum)


@operation("Cumprod", config=("axis", "dtype"))
def cumprod(x: Any, axis: int | None = None, dtype: DTypeLike = None) -> torch.Tensor:
    """The running product along `axis`, as `keras.ops.cumprod` (bools give int32)."""
    return _cumulative(x, axis, dtype, torch.cumprod)


@operation("Diff", config=("n", "axis"))
def diff(a: Any, n: int = 1, axis: int = -1) -> torch.Tensor:
    """The `n`-th difference along `axis`, as `keras.ops.diff`."""
    return torch.diff(tensor(a), n=n, dim=axis)


# ------------------------------------------------------------------ sorting and searching
@operation("Sort", config=("axis",))
def sort(x: Any, axis: int | None = -1) -> torch.Tensor:
    """`x` sorted along `axis` (flattened: None), as `keras.ops.sort`."""
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.dtype == torch.bool:
        return torch.sort(x.to(torch.uint8), dim=axis).values.to(torch.bool)
    return torch.sort(x, dim=axis).values


@operation("Argsort", config=("axis",))
def argsort(x: Any, axis: int | None = -1) -> torch.Tensor:
    """The indices that sort `x` along `axis` (stable), int32, as `keras.ops.argsort`."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        x, axis = x.reshape(-1), -1
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


@operation("Argpartition", config=("kth", "axis"))
def argpartition(x: Any, kth: int, axis: int | None = -1) -> torch.Tensor:
    """Indices (int32) that put `x`'s `kth` smallest value along `axis` (flattened: None) in its sorted place,
    the smaller ones before it and the larger ones after, as `keras.ops.argpartition`.

    Unlike Keras's torch backend, which compares the values cast to int32, it compares the values themselves
    (the indices come from a stable sort, one of the partitions NumPy allows).

    >>> argpartition(torch.tensor([3.0, 1.0, 2.0]), 1)
    tensor([1, 2, 0], dtype=torch.int32)
    """
    if isinstance(kth, bool) or not isinstance(kth, int):
        raise ValueError(f"kr.ops.argpartition: kth must be an int, got {type(kth).__name__} {kth!r}")
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.dim() == 0:
        raise ValueError("kr.ops.argpartition: x must have at least one axis, got a scalar")
    size = x.shape[axis]
    if not -size <= kth < size:
        raise ValueError(f"kr.ops.argpartition: kth {kth} is out of range for axis {axis} of size {size}")
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


@operation("TopK", config=("k", "sorted"), module="math")
def top_k(x: Any, k: int, sorted: bool = True) -> Any:     # noqa: A002 (Keras's name)
    """The `k` largest entries of the last axis and their indices, as `keras.ops.top_k`."""
    return torch.topk(tensor(x), k, sorted=sorted)


@operation("InTopK", config=("k",), module="math")
def in_top_k(targets: Any, predictions: Any, k: int) -> torch.Tensor:
    """Whether each target's prediction is among its row's `k` largest, as `keras.ops.in_top_k`."""
    targets = tensor(targets).long()[:, None]
    predictions = tensor(predictions)
    kth = torch.topk(predictions, k).values
    picked = torch.take_along_dim(predictions, targets, dim=-1)
    return torch.any(picked >= kth, dim=-1)


@operation("SearchSorted", config=("side",))
def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> torch.Tensor:
    """Where `values` go in the 1-D `sorted_sequence` to keep it sorted, int32, as `keras.ops.searchsorted`."""
    sequence = tensor(sorted_sequence)
    if sequence.ndim != 1:
        raise ValueError(f"kr.ops.searchsorted: the sorted sequence must be 1-D, got shape {tuple(sequence.shape)}")
    return torch.searchsorted(sequence, tensor(values), side=side, out_int32=True)


@operation("Digitize")
def digitize(x: Any, bins: Any) -> torch.Tensor:
    """The index of the bin of `bins` each value falls in, int32, as `keras.ops.digitize`."""
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.bucketize(x, tensor(bins), right=True).to(torch.int32)


# ------------------------------------------------------------------ counting and statistics
@operation("CountNonzero", config=("axis",))
def count_nonzero(x: Any, axis: Axis = None) -> torch.Tensor:
    """The number of non-zero entries along `axis`, int32, as `keras.ops.count_nonzero`."""
    x = tensor(x)
    if axis == () or axis == []:
        return torch.ne(x, 0).to(torch.int32)
    return torch.count_nonzero(x, dim=_axes(axis)).to(torch.int32)


@operation("Amax", config=("axis", "keepdims"))
def amax(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The maximum over `axis`, as `keras.ops.amax`."""
    x = tensor(x)
    if axis is None:
        return torch.amax(x)
    if axis == () or axis == []:
        return x
    return torch.amax(x, dim=_axes(axis), keepdim=keepdims)


@operation("Amin", config=("axis", "keepdims"))
def amin(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The minimum over `axis`, as `keras.ops.amin`."""
    x = tensor(x)
    if axis is None:
        return torch.amin(x)
    if axis == () or axis == []:
        return x
    return torch.amin(x, dim=_axes(axis), keepdim=keepdims)


@operation("Ptp", config=("axis", "keepdims"))
def ptp(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The range (maximum - minimum) over `axis`, as `keras.ops.ptp`."""
    x = tensor(x)
    if axis is None:
        return x.max() - x.min()
    if axis == () or axis == []:
        return torch.zeros_like(x)
    return torch.amax(x, dim=_axes(axis), keepdim=keepdims) - torch.amin(x, dim=_axes(axis), keepdim=keepdims)


def average(x: Any, axis: Axis = None, weights: Any = None) -> torch.Tensor:
    """The (weighted) mean over `axis`, as `keras.ops.average`."""
    return _average(x, weights, axis=axis)


@operation("Average", config=("axis",))
def _average(x: Any, weights: Any = None, *, axis: Axis = None) -> torch.Tensor:
    x = tensor(x)
    w = None if weights is None else tensor(weights)
    dtype = result_type(x, 0.0) if w is None else result_type(x, w, 0.0)
    x = x.to(dtype)
    if axis == () or axis == []:
        return x
    if w is None:
        return torch.mean(x) if axis is None else torch.mean(x, _axes(axis))
    w = w.to(dtype)
    if axis is None:
        return torch.sum(x * w) / torch.sum(w)
    return torch.sum(x * w, dim=_axes(axis)) / torch.sum(w, dim=-1)


def _quantile(x: Any, q: Any, axis: Axis, method: str, keepdims: bool, skip_nans: bool = False) -> torch.Tensor:
    x = tensor(x)
    result = x.dtype if x.dtype.is_floating_point else floatx()
    compute = torch.promote_types(x.dtype, torch.float32) if x.dtype.is_floating_point else torch.float32
    x = x.to(compute)
    q = tensor(q, compute)
    axes = None if axis is None else [axis] if isinstance(axis, int) else list(axis)
    if axes is None:
        y = x.reshape(-1)
    else:
        axes = [a % x.ndim for a in axes]
        others = [d for d in range(x.ndim) if d not in axes]
        y = x.permute(others + axes).reshape([x.shape[d] for d in others] + [-1])
    y = (torch.nanquantile if skip_nans else torch.quantile)(y, q, dim=-1, interpolation=method)
    if keepdims:
        if axes is None:
            y = y.reshape(y.shape + (1,) * x.ndim) if q.ndim > 0 else y.reshape((1,) * x.ndim)
        else:
            for a in sorted(axes):
                y = y.unsqueeze(a + 1 if q.ndim > 0 else a)
    return y.to(result)


@operation("Quantile", config=("axis", "method", "keepdims"))
def quantile(x: Any, q: Any, axis: Axis = None, method: str = "linear", keepdims: bool = False) -> torch.Tensor:
    """The `q`-th quantiles (0 to 1) over `axis`, as `keras.ops.quantile`."""
    return _quantile(x, q, axis, method, keepdims)


@operation("Percentile", config=("axis", "method", "keepdims"))
def percentile(x: Any, q: Any, axis: Axis = None, method: str = "linear", keepdims: bool = False) -> torch.Tensor:
    """The `q`-th percentiles (0 to 100) over `axis`, as `keras.ops.percentile`."""
    return _quantile(x, tensor(q) / 100.0, axis, method, keepdims)


@operation("Median", config=("axis", "keepdims"))
def median(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The median over `axis` (mean of the middle two for even counts), as `keras.ops.median`."""
    return _quantile(x, 0.5, axis, "linear", keepdims)


@operation("Nanmean", config=("axis", "keepdims"))
def nanmean(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The mean over `axis` ignoring NaNs, as `keras.ops.nanmean`."""
    x = tensor(x)
    if axis == () or axis == []:
        return x
    return torch.nanmean(as_float(x), dim=_axes(axis), keepdim=keepdims)


@operation("Nansum", config=("axis", "keepdims"))
def nansum(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The sum over `axis` counting NaNs as 0, as `keras.ops.nansum` (bools and small ints give int32)."""
    x = tensor(x)
    dtype = torch.int32 if x.dtype in _SMALL else x.dtype
    if axis == () or axis == []:
        return torch.nan_to_num(x, nan=0).to(dtype)
    return torch.nansum(x, dim=_axes(axis), keepdim=keepdims).to(dtype)


# ------------------------------------------------------------------ products
@operation("Outer")
def outer(x1: Any, x2: Any) -> torch.Tensor:
    """The outer product of the flattened tensors, as `keras.ops.outer`."""
    return torch.outer(tensor(x1).flatten(), tensor(x2).flatten())


@operation("Inner")
def inner(x1: Any, x2: Any) -> torch.Tensor:
    """The sum of products over the last axes, as `keras.ops.inner`."""
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a, b)
    compute = dtype if dtype.is_floating_point else floatx()
    if compute == torch.float16 and a.device.type == "cpu":
        compute = torch.float32
    return torch.inner(a.to(compute), b.to(compute)).to(dtype)


@operation("Cross", config=("axisa", "axisb", "axisc", "axis"))
def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
          ) -> torch.Tensor:
    """The cross product of 3-vectors along `axis` (the last), as `keras.ops.cross`."""
    if axisa != -1 or axisb != -1 or axisc != -1:
        raise ValueError(f"kr.ops.cross: axisa, axisb and axisc are not supported with torch (as in Keras's torch "
                         f"backend); use `axis`. Got axisa={axisa}, axisb={axisb}, axisc={axisc}")
    a, b = tensor(x1), tensor(x2)
    dtype = result_type(a, b)
    compute = torch.float32 if dtype == torch.float16 and a.device.type == "cpu" else dtype
    return torch.linalg.cross(a.to(compute), b.to(compute), dim=-1 if axis is None else axis).to(dtype)


@operation("Kron")
def kron(x1: Any, x2: Any) -> torch.Tensor:
    """The Kronecker product, as `keras.ops.kron`."""
    return torch.kron(tensor(x1), tensor(x2))


# ------------------------------------------------------------------ small facts and new tensors
@operation("Ndim")
def ndim(x: Any) -> Any:
    """The number of axes of `x`, as `keras.ops.ndim`."""
    return tensor(x).ndim


@operation("Size")
def size(x: Any) -> torch.Tensor:
    """The number of elements of `x`, as `keras.ops.size`."""
    return torch.prod(tensor(tuple(tensor(x).shape)))


@operation("Copy")
def copy(x: Any) -> torch.Tensor:
    """A copy of `x`, as `keras.ops.copy`."""
    return torch.clone(tensor(x))


@operation("Array", config=("dtype",))
def array(x: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """A tensor of `x`, as `keras.ops.array`."""
    return tensor(x, dtype)


def empty(shape: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """An uninitialized tensor of `shape`, as `keras.ops.empty`."""
    shape = (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)
    return torch.empty(shape, dtype=to_dtype(dtype, "kr.ops.empty") or floatx())


@operation("EmptyLike", config=("dtype",))
def empty_like(x: Any, dtype: DTypeLike = None) -> torch.Tensor:
    """An uninitialized tensor of `x`'s shape (and dtype), as `keras.ops.empty_like`."""
    x = tensor(x)
    return torch.empty_like(x, dtype=to_dtype(dtype, "kr.ops.empty_like") or x.dtype)


@operation("Nonzero")
def nonzero(x: Any) -> torch.Tensor:
    """The indices of the non-zero entries, one int32 row per axis, as `keras.ops.nonzero` on torch."""
    return torch.nonzero(tensor(x)).T.to(torch.int32)


@operation("Select")
def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> torch.Tensor:
    """The entry of the first choice whose condition holds (else `default`), as `keras.ops.select`."""
    out = tensor(default)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        out = torch.where(tensor(condition), tensor(choice), out)
    return out


@operation("Bincount", config=("minlength", "sparse"))
def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> torch.Tensor:
    """How often each non-negative int occurs in `x` (per row for 2-D), as `keras.ops.bincount`."""
    if sparse:
        raise ValueError("kr.ops.bincount: sparse=True is not supported with torch (as in Keras's torch backend)")
    x = tensor(x)
    w = None if weights is None else tensor(weights)
    dtype = torch.int32 if w is None else result_type(x, w)
    if x.ndim == 2:
        rows = [torch.bincount(row, None if w is None else w[i], minlength) for i, row in enumerate(x)]
        return torch.stack(rows).to(dtype)
    return torch.bincount(x, w, minlength).to(dtype)


# ------------------------------------------------------------------ segment reductions
def _segment(data: Any, segment_ids: Any, num_segments: int | None, how: str) -> torch.Tensor:
    data = tensor(data)
    ids = tensor(segment_ids).long()
    count = int(num_segments) if num_segments else int(ids.max()) + 1
    ids = torch.where((ids >= 0) & (ids < count), ids, count)        # out of range: a row dropped at the end
    ids = ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand(data.shape)
    start = {"amax": -float("inf"), "amin": float("inf"), "prod": 1.0, "sum": 0.0}[how]
    result = torch.full((count + 1, *data.shape[1:]), start, dtype=torch.float32)
    result = result.scatter_reduce(0, ids, data.float(), how)
    return result[:-1].to(data.dtype)


@operation("SegmentSum", config=("num_segments", "sorted"), module="math")
def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False  # noqa: A002
                ) -> torch.Tensor:
    """The sum of `data`'s rows per segment id, as `keras.ops.segment_sum`."""
    return _segment(data, segment_ids, num_segments, "sum")


@operation("SegmentMax", config=("num_segments", "sorted"), module="math")
def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False  # noqa: A002
                ) -> torch.Tensor:
    """The maximum of `data`'s rows per segment id, as `keras.ops.segment_max`."""
    return _segment(data, segment_ids, num_segments, "amax")


@operation("SegmentMin", config=("num_segments", "sorted"), module="math")
def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False  # noqa: A002
                ) -> torch.Tensor:
    """The minimum of `data`'s rows per segment id, as `keras.ops.segment_min`."""
    return _segment(data, segment_ids, num_segments, "amin")


@operation("SegmentProd", config=("num_segments", "sorted"), module="math")
def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False  # noqa: A002
                 ) -> torch.Tensor:
    """The product of `data`'s rows per segment id, as `keras.ops.segment_prod`."""
    return _segment(data, segment_ids, num_segments, "prod")


NAMES = ["flip", "roll", "pad", "moveaxis", "swapaxes", "ravel", "rot90", "hstack", "vstack", "unstack", "meshgrid",
         "tril", "triu", "diag", "diagonal", "trace", "tri", "identity", "cumsum", "cumprod", "diff", "sort",
         "argsort", "top_k", "in_top_k", "searchsorted", "digitize", "count_nonzero", "amax", "amin", "ptp",
         "average", "quantile", "percentile", "median", "nanmean", "nansum", "outer", "inner", "cross", "kron",
         "ndim", "size", "copy", "array", "empty", "empty_like", "nonzero", "select", "bincount", "segment_sum",
         "segment_max", "segment_min", "segment_prod"]
