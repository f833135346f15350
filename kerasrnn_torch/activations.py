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


_BY_NAME: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
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
    return name is not None and name not in ("softmax", "log_softmax")


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
