"""`keras.ops`'s neural-network functions (`relu`, `softmax`, `one_hot`, `normalize`, ...), as Keras's torch backend."""
from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional

from .core import DTypeLike, as_float, floatx, tensor, to_dtype
from .operation import operation

EPSILON = 1e-7      # keras.config.epsilon()


@operation("Relu", module="nn")
def relu(x: Any) -> torch.Tensor:
    """`max(x, 0)`, as `keras.ops.relu`."""
    return functional.relu(tensor(x))


@operation("Sigmoid", module="nn")
def sigmoid(x: Any) -> torch.Tensor:
    """`1 / (1 + exp(-x))`, as `keras.ops.sigmoid`."""
    return torch.sigmoid(as_float(tensor(x)))


def _in_float32_on_cpu(x: torch.Tensor, fn: Any) -> torch.Tensor:
    """`fn(x)` in `x`'s dtype; float16 on the CPU computed in float32, as Keras's torch backend."""
    if x.dtype == torch.float16 and x.device.type == "cpu":
        return fn(x.float()).to(torch.float16)
    return fn(x)


@operation("Softmax", config=("axis",), module="nn")
def softmax(x: Any, axis: int | None = -1) -> torch.Tensor:
    """The softmax along `axis` (over all elements: None), as `keras.ops.softmax`."""
    x = tensor(x)
    if axis is None:
        return _in_float32_on_cpu(x, lambda t: functional.softmax(t.reshape(-1), dim=-1).reshape(t.shape))
    return _in_float32_on_cpu(x, lambda t: functional.softmax(t, dim=axis))


@operation("LogSoftmax", config=("axis",), module="nn")
def log_softmax(x: Any, axis: int | None = -1) -> torch.Tensor:
    """The log of the softmax along `axis`, as `keras.ops.log_softmax`."""
    x = tensor(x)
    if axis is None:
        return _in_float32_on_cpu(x, lambda t: functional.log_softmax(t.reshape(-1), dim=-1).reshape(t.shape))
    return _in_float32_on_cpu(x, lambda t: functional.log_softmax(t, dim=axis))


@operation("Gelu", config=("approximate",), module="nn")
def gelu(x: Any, approximate: bool = True) -> torch.Tensor:
    """The Gaussian error linear unit (tanh approximation by default, as Keras), as `keras.ops.gelu`."""
    return functional.gelu(tensor(x), approximate="tanh" if approximate else "none")


@operation("Silu", module="nn")
def silu(x: Any) -> torch.Tensor:
    """`x * sigmoid(x)`, as `keras.ops.silu` (also `swish`)."""
    return functional.silu(tensor(x))


def swish(x: Any) -> torch.Tensor:
    """`x * sigmoid(x)`, as `keras.ops.swish` (Keras's operation `Silu`)."""
    return silu(x)


@operation("Elu", config=("alpha",), module="nn")
def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """The exponential linear unit, as `keras.ops.elu`."""
    return functional.elu(tensor(x), alpha)


@operation("Softplus", module="nn")
def softplus(x: Any) -> torch.Tensor:
    """`log(1 + exp(x))`, as `keras.ops.softplus`."""
    return functional.softplus(tensor(x))


@operation("OneHot", config=("num_classes", "axis", "dtype", "sparse"), module="nn")
def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: DTypeLike = None, sparse: bool = False) -> torch.Tensor:
    """One-hot rows for the ids of `x` (negative ids: all zeros), as `keras.ops.one_hot` (float32 by default)."""
    if sparse:
        raise ValueError("kr.ops.one_hot: sparse=True is not supported with torch (as in Keras's torch backend)")
    ids = tensor(x).long()
    output = functional.one_hot(torch.clamp(ids, min=0), num_classes)
    output = torch.where(ids.unsqueeze(-1) >= 0, output, torch.zeros((), dtype=output.dtype))
    output = output.to(to_dtype(dtype, "kr.ops.one_hot") or floatx())
    dims = output.dim()
    if axis != -1 and axis != dims:
        order = list(range(dims))
        order[axis] = -1
        for a in range(axis + 1, dims):
            order[a] -= 1
        output = output.permute(order)
    return output


@operation("Logsumexp", config=("axis", "keepdims"), module="math")
def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """`log(sum(exp(x)))` over `axis`, computed stably, as `keras.ops.logsumexp`."""
    x = tensor(x)
    dims = tuple(range(x.dim())) if axis is None else tuple(axis) if isinstance(axis, list) else axis
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


@operation("Normalize", config=("axis", "order", "epsilon"), module="nn")
def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> torch.Tensor:
    """`x` divided by its `order`-norm along `axis` (at least `epsilon`), as `keras.ops.normalize`."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"kr.ops.normalize: `order` must be an int >= 1, got {order!r}")
    x = tensor(x)
    if x.dim() == 0:
        x = x.unsqueeze(0)
    epsilon = EPSILON if epsilon is None else epsilon
    if order == 2:
        square_sum = torch.sum(torch.square(x), dim=axis, keepdim=True)
        inverse = torch.rsqrt(square_sum)
        inverse = torch.minimum(inverse, torch.tensor(1.0 / epsilon, dtype=inverse.dtype, device=inverse.device))
        return x * inverse
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return torch.divide(x, torch.maximum(norm, torch.tensor(epsilon, dtype=norm.dtype, device=norm.device)))
