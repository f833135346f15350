"""Keras activation names -> callables on tensors.

`get(name_or_callable)` resolves what a user passes; `canonical_name(fn)` tells
the dispatcher which well-known function a callable is (so that `torch.tanh`
counts as "tanh" for the fused-kernel rules, as it does in Keras).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F


def linear(x: torch.Tensor) -> torch.Tensor:
    return x


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    # Keras 3's definition: relu6(x + 3) / 6 (Keras 2 used 0.2 * x + 0.5).
    return F.relu6(x + 3.0) / 6.0


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    return x * hard_sigmoid(x)


def exponential(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x)


def softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(x, dim=-1)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    # Keras's default negative slope is 0.2.
    return F.leaky_relu(x, negative_slope=0.2)


def gelu(x: torch.Tensor) -> torch.Tensor:
    # keras.activations.gelu is the exact (erf) form by default.
    return F.gelu(x)


def celu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Keras's `celu`: `x` above 0, `alpha * (exp(x / alpha) - 1)` below."""
    return F.celu(x, alpha=alpha)


def glu(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Keras's gated linear unit: `x` split in two halves `a, b` along `axis` (of even size), `a * sigmoid(b)`."""
    if x.shape[axis] % 2:
        raise ValueError(f"glu: the axis {axis} of the input must have an even size (it is split in two halves), "
                         f"got shape {tuple(x.shape)}")
    return F.glu(x, dim=axis)


def hard_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Keras's `hard_shrink`: `x` where `|x| > threshold`, else 0."""
    return F.hardshrink(x, lambd=threshold)


def hard_tanh(x: torch.Tensor) -> torch.Tensor:
    """Keras's `hard_tanh`: `x` clipped to [-1, 1]."""
    return F.hardtanh(x, min_val=-1.0, max_val=1.0)


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras's `log_sigmoid`: `log(sigmoid(x))`, computed stably."""
    return F.logsigmoid(x)


def soft_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Keras's `soft_shrink`: `x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0."""
    return F.softshrink(x, lambd=threshold)


def sparse_plus(x: torch.Tensor) -> torch.Tensor:
    """Keras's `sparse_plus`: 0 up to -1, `(x + 1)**2 / 4` between -1 and 1, `x` from 1 on."""
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def sparse_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras's `sparse_sigmoid`: 0 up to -1, `(x + 1) / 2` between -1 and 1, 1 from 1 on."""
    return torch.clamp(0.5 * (x + 1), min=0.0, max=1.0)


def sparsemax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Keras's `sparsemax`: the Euclidean projection of `x` onto the probability simplex along `axis` (like
    softmax, the values along `axis` sum to 1, but small inputs get exactly 0).

    The threshold is Martins and Astudillo's: `(sum of the k largest - 1) / k` for the support's size `k`, as
    Keras has it since keras-team/keras#23469 (Keras 3.15 summed the support's running sums instead, which
    agrees where one value is in the support and gives values that do not sum to 1 elsewhere).
    """
    ordered = torch.sort(x, dim=axis, descending=True).values
    running = torch.cumsum(ordered, dim=axis)
    shape = [1] * x.dim()
    shape[axis] = -1
    rank = torch.arange(1, x.shape[axis] + 1, device=x.device, dtype=x.dtype).view(shape)
    in_support = ordered * rank > running - 1          # the k largest values with 1 + k * z_k > sum of them
    size = in_support.sum(dim=axis, keepdim=True)
    total = torch.gather(running, axis, size - 1)      # the sum of the k largest values
    tau = (total - 1) / size.to(x.dtype)
    return torch.clamp(x - tau, min=0.0)


def squareplus(x: torch.Tensor, b: float = 4) -> torch.Tensor:
    """Keras's `squareplus`: `(x + sqrt(x**2 + b)) / 2`, a smooth relu (`b` >= 0 sets the curve near 0)."""
    return (x + torch.sqrt(x * x + b)) / 2


def tanh_shrink(x: torch.Tensor) -> torch.Tensor:
    """Keras's `tanh_shrink`: `x - tanh(x)`."""
    return F.tanhshrink(x)


def threshold(x: torch.Tensor, threshold: float, default_value: float) -> torch.Tensor:
    """Keras's `threshold`: `x` where `x > threshold`, else `default_value`."""
    return F.threshold(x, threshold, default_value)


_BY_NAME: dict[str, Callable[..., torch.Tensor]] = {
    "linear": linear,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "relu6": F.relu6,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "silu": F.silu,
    "swish": F.silu,
    "gelu": gelu,
    "mish": F.mish,
    "exponential": exponential,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "leaky_relu": leaky_relu,
    "celu": celu,
    "glu": glu,
    "hard_shrink": hard_shrink,
    "hard_tanh": hard_tanh,
    "log_sigmoid": log_sigmoid,
    "soft_shrink": soft_shrink,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "sparsemax": sparsemax,
    "squareplus": squareplus,
    "tanh_shrink": tanh_shrink,
    "threshold": threshold,
}

# Callables that are the same function as a Keras name (checked by identity).
_ALIASES = {
    torch.tanh: "tanh", F.tanh: "tanh", torch.Tensor.tanh: "tanh",
    torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.Tensor.sigmoid: "sigmoid",
    torch.relu: "relu", F.relu: "relu", torch.Tensor.relu: "relu",
}


# Function -> its primary Keras name (the first name listed wins over later aliases).
_NAME_OF = dict(_ALIASES)
for _name, _fn in reversed(list(_BY_NAME.items())):
    _NAME_OF[_fn] = _name


def get(identifier: str | Callable[[torch.Tensor], torch.Tensor] | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Resolve a Keras activation name, `None` (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            known = ", ".join(sorted(_BY_NAME))
            raise ValueError(f"Unknown activation {identifier!r}; expected one of: {known}, or a callable") from None
    if callable(identifier):
        return identifier
    raise TypeError(f"An activation must be a Keras name, None or a callable; got {identifier!r}")


def serialize(activation: str | Callable[..., Any] | None) -> str:
    """Keras's serialized form of an activation: its Keras name ("relu"); None is "linear"."""
    fn = get(activation)
    name = canonical_name(fn)
    if name is None:
        raise ValueError(f"Cannot serialize the activation {describe(fn)}: it has no Keras name")
    return name


def deserialize(config: str | dict[str, Any]) -> Callable[[torch.Tensor], torch.Tensor]:
    """An activation from its Keras name, or Keras's `{"class_name": "function", "config": name}`."""
    if isinstance(config, dict):
        config = config.get("config")    # type: ignore[assignment]
    if not isinstance(config, str):
        raise ValueError(f"A serialized activation is a Keras name, got {config!r}")
    return get(config)


def canonical_name(fn: Callable[..., Any]) -> str | None:
    """The Keras name of a resolved activation, or None for an unknown callable."""
    try:
        return _NAME_OF.get(fn)
    except TypeError:  # an unhashable callable
        return None


def is_elementwise(fn: Callable[..., Any]) -> bool:
    """Whether `fn` is a known function that acts on each element alone (softmax does not)."""
    name = canonical_name(fn)
    return name is not None and name not in ("softmax", "log_softmax", "glu", "sparsemax")


def describe(fn: Callable[..., Any]) -> str:
    name = canonical_name(fn)
    if name:
        return name
    fallback: str = getattr(fn, "__name__", repr(fn))
    return fallback


# Keras's names as functions of this module (`kr.activations.relu`), the same callables `get` gives.
tanh = _BY_NAME["tanh"]
sigmoid = _BY_NAME["sigmoid"]
relu = _BY_NAME["relu"]
relu6 = _BY_NAME["relu6"]
elu = _BY_NAME["elu"]
selu = _BY_NAME["selu"]
softplus = _BY_NAME["softplus"]
softsign = _BY_NAME["softsign"]
silu = _BY_NAME["silu"]
swish = _BY_NAME["swish"]
hard_swish = _BY_NAME["hard_swish"]
mish = _BY_NAME["mish"]
