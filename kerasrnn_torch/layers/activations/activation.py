"""Activation: apply an activation function as a layer, as `keras.layers.Activation`."""
from __future__ import annotations

from ... import activations
from ..._checks import describe, require_tensor
from ...core.layer import Layer
import torch
from ..._types import ActivationLike
from typing import Any
from ...core.registry import register_keras_class


@register_keras_class("Activation")
class Activation(Layer):
    """Applies an activation function to its input, as `keras.layers.Activation`.

    The incoming mask passes through unchanged (Keras's Activation supports
    masking). No weights.

    Args:
        activation: a Keras activation name ("relu", "tanh", "softmax", ...),
            None (linear) or a callable on tensors.
        name, device, dtype: see `Layer`.

    `get_config()["activation"]` is Keras's name of the function ("swish"
    comes back as "silu", None as "linear", `torch.tanh` as "tanh"); a
    callable Keras has no name for comes back as the callable itself, so a
    `from_config` round trip works within one Python session.

    >>> Activation("relu")(torch.tensor([-3.0, -1.0, 0.0, 2.0]))
    tensor([0., 0., 0., 2.])
    """

    supports_masking = True

    def __init__(self, activation: ActivationLike, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.activation = activations.get(activation)

    def get_config(self) -> dict:
        name = activations.canonical_name(self.activation)
        return {**super().get_config(), "activation": self.activation if name is None else name}

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`activation(inputs)`, any shape; the incoming mask passes on."""
        require_tensor(inputs, describe(self))
        return self.activation(inputs)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, activation={activations.describe(self.activation)}"
