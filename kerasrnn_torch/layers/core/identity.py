"""Identity: returns its input, as `keras.layers.Identity`."""
from __future__ import annotations

from typing import Any

from ...core.layer import Layer
from ...core.registry import register_keras_class


@register_keras_class("Identity")
class Identity(Layer):
    """Returns its input unchanged (a tensor or a nested structure of them), as `keras.layers.Identity`.

    The incoming mask passes on. No weights.

    Args:
        name, device, dtype: see `Layer`.

    >>> Identity()(torch.ones(2)).tolist()
    [1.0, 1.0]
    """

    supports_masking = True

    def __init__(self, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)

    def forward(self, inputs: Any) -> Any:
        """`inputs`, as they are."""
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape
