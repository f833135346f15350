"""`keras.ops`'s activation functions beyond the first set (`leaky_relu`, `selu`, `hard_sigmoid`, `glu`, ...).

Each computes as Keras's torch backend does (mostly torch.nn.functional's own function).
"""
from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional

from .. import activations
from .core import tensor
from .operation import operation


@operation("LeakyRelu", config=("negative_slope",), module="nn")
def leaky_relu(x: Any, negative_slope: float = 0.2) -> torch.Tensor:
    """`x` if positive else `negative_slope * x`, as `keras.ops.leaky_relu`."""
    return functional.leaky_relu(tensor(x), negative_slope=negative_slope)


@operation("Relu6", module="nn")
def relu6(x: Any) -> torch.Tensor:
    """`min(max(x, 0), 6)`, as `keras.ops.relu6`."""
    return functional.relu6(tensor(x))


@operation("Selu", module="nn")
def selu(x: Any) -> torch.Tensor:
    """The scaled exponential linear unit, as `keras.ops.selu`."""
    return functional.selu(tensor(x))


@operation("Celu", config=("alpha",), module="nn")
def celu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """The continuously differentiable exponential linear unit, as `keras.ops.celu`."""
    return functional.celu(tensor(x), alpha=alpha)


@operation("Softsign", module="nn")
def softsign(x: Any) -> torch.Tensor:
    """`x / (1 + |x|)`, as `keras.ops.softsign`."""
    return functional.softsign(tensor(x))


@operation("HardSigmoid", module="nn")
def hard_sigmoid(x: Any) -> torch.Tensor:
    """`relu6(x + 3) / 6`, as `keras.ops.hard_sigmoid`."""
    return functional.hardsigmoid(tensor(x))


@operation("HardSilu", module="nn")
def hard_silu(x: Any) -> torch.Tensor:
    """`x * hard_sigmoid(x)`, as `keras.ops.hard_silu` (also `hard_swish`)."""
    return functional.hardswish(tensor(x))


def hard_swish(x: Any) -> torch.Tensor:
    """`x * hard_sigmoid(x)`, as `keras.ops.hard_swish` (Keras's operation `HardSilu`)."""
    return hard_silu(x)


@operation("LogSigmoid", module="nn")
def log_sigmoid(x: Any) -> torch.Tensor:
    """`log(sigmoid(x))`, computed stably, as `keras.ops.log_sigmoid`."""
    return functional.logsigmoid(tensor(x))


@operation("Glu", config=("axis",), module="nn")
def glu(x: Any, axis: int = -1) -> torch.Tensor:
    """The gated linear unit: `a * sigmoid(b)` of `x`'s two halves along `axis`, as `keras.ops.glu`."""
    x = tensor(x)
    if x.shape[axis] % 2:
        raise ValueError(f"kr.ops.glu: axis {axis} of x (shape {tuple(x.shape)}) must have an even size")
    return functional.glu(x, dim=axis)


@operation("HardTanh", module="nn")
def hard_tanh(x: Any) -> torch.Tensor:
    """`x` clipped to [-1, 1], as `keras.ops.hard_tanh`."""
    return functional.hardtanh(tensor(x), min_val=-1.0, max_val=1.0)


@operation("SoftShrink", config=("threshold",), module="nn")
def soft_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """`x` moved `threshold` toward 0 (0 within it), as `keras.ops.soft_shrink`."""
    return functional.softshrink(tensor(x), lambd=threshold)


@operation("HardShrink", config=("threshold",), module="nn")
def hard_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """`x` where `|x| > threshold`, else 0, as `keras.ops.hard_shrink`."""
    return functional.hardshrink(tensor(x), lambd=threshold)


@operation("TanhShrink", module="nn")
def tanh_shrink(x: Any) -> torch.Tensor:
    """`x - tanh(x)`, as `keras.ops.tanh_shrink`."""
    return functional.tanhshrink(tensor(x))


@operation("Squareplus", config=("b",), module="nn")
def squareplus(x: Any, b: float = 4) -> torch.Tensor:
    """`(x + sqrt(x ** 2 + b)) / 2`, as `keras.ops.squareplus`."""
    x = tensor(x)
    return (x + torch.sqrt(x ** 2 + tensor(b))) / 2


@operation("SparsePlus", module="nn")
def sparse_plus(x: Any) -> torch.Tensor:
    """0 below -1, `(x + 1) ** 2 / 4` up to 1, `x` above, as `keras.ops.sparse_plus`."""
    return activations.sparse_plus(tensor(x))


@operation("Sparsemax", config=("axis",), module="nn")
def sparsemax(x: Any, axis: int = -1) -> torch.Tensor:
    """The Euclidean projection of `x` onto the probability simplex along `axis`, as `keras.ops.sparsemax`
    (`kr.activations.sparsemax`: Keras's corrected threshold, keras-team/keras#23469)."""
    return activations.sparsemax(tensor(x), axis=axis)


@operation("Threshold", config=("threshold", "default_value"), module="nn")
def threshold(x: Any, threshold: float, default_value: float) -> torch.Tensor:
    """`x` where `x > threshold`, else `default_value`, as `keras.ops.threshold`."""
    return functional.threshold(tensor(x), threshold=threshold, value=default_value)


@operation("SparseSigmoid", module="nn")
def sparse_sigmoid(x: Any) -> torch.Tensor:
    """0 below -1, `(x + 1) / 2` up to 1, 1 above, as `keras.ops.sparse_sigmoid`."""
    x = tensor(x)
    return torch.where(x <= -1, torch.zeros((), dtype=x.dtype), torch.where(x >= 1, torch.ones((), dtype=x.dtype),
                                                                            0.5 * (x + 1)))
