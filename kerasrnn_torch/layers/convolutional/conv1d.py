"""Conv1D: temporal convolution, as `keras.layers.Conv1D` (the shared `ConvBase` with one spatial axis)."""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

from ..._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike
from ...core.layer import unique_name
from ...core.registry import register_keras_class
from .base_conv import ConvBase


@register_keras_class("Conv1D")
class Conv1D(ConvBase):
    """1-D convolution over time, as `keras.layers.Conv1D`.

    `(batch, steps, channels) -> (batch, new_steps, filters)` (or
    channels-first with `data_format="channels_first"`). The kernel has
    Keras's layout `(kernel_size, channels // groups, filters)`, the bias
    `(filters,)`; both are created from the first input or `input_shape=`.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: integers (or 1-tuples). Strides
            and dilation above 1 cannot be combined (as in Keras).
        padding: "valid" (none), "same" (output length `ceil(steps / strides)`,
            padded as Keras and TensorFlow do: when the total padding is odd
            the extra step goes at the end) or "causal" (left padding of
            `dilation_rate * (kernel_size - 1)`, so output t sees inputs <= t).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        groups: split the channels into this many independent convolutions.
        activation, use_bias, kernel_initializer, bias_initializer: as `Dense`.
        kernel_regularizer, bias_regularizer, activity_regularizer: as `Dense`.
        kernel_constraint, bias_constraint: as `Dense`.
        input_shape: `(steps, channels)` (steps may be None).
        input_dim: the number of input channels.
        name, device, dtype: see `Layer`.

    Masks: Keras's Conv1D does not support masking, so a mask stops here
    (`compute_mask` gives None) and a call that receives one warns, as Keras
    warns that the layer destroys it.

    >>> Conv1D(8, 3, padding="same", strides=2)(torch.randn(2, 9, 4)).shape
    torch.Size([2, 5, 8])
    """

    rank = 1
    allowed_paddings = ("valid", "same", "causal")

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 groups: int = 1, activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("conv1d")      # Keras's automatic name, not "conv1_d"
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **layer_kwargs)
        self.finish_init()
