"""DepthwiseConv1D and DepthwiseConv2D: one convolution per input channel, as their `keras.layers` namesakes.

Keras keeps the kernel as `(*kernel_size, channels, depth_multiplier)`; read
as `(*kernel_size, 1, channels * depth_multiplier)` it is the weight of a
grouped convolution with one group per channel (output channel
`c * depth_multiplier + m` comes from input channel `c`), which is how
Keras's torch backend runs it and how the call here runs it (a view, no copy).
"""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import torch

from ..._checks import describe, strictly_positive
from ..._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike
from ...core.layer import unique_name
from ...core.registry import register_keras_class
from .base_conv import ConvBase


def depthwise_torch_weight(kernel: torch.Tensor) -> torch.Tensor:
    """Keras's `(*kernel_size, channels, multiplier)` depthwise kernel as PyTorch's grouped weight
    `(channels * multiplier, 1, *kernel_size)`: a view."""
    rank = kernel.dim() - 2
    flat = kernel.reshape(*kernel.shape[:rank], 1, kernel.shape[-2] * kernel.shape[-1])
    return flat.permute(rank + 1, rank, *range(rank))


def rename_kernel_keys(config: dict, prefix: str) -> dict:
    """ConvBase's `kernel_*` config keys under Keras's `<prefix>_*` names (depthwise and separable layers)."""
    for part in ("initializer", "regularizer", "constraint"):
        config[f"{prefix}_{part}"] = config.pop(f"kernel_{part}")
    return config


class DepthwiseConvBase(ConvBase):
    """Keras's `BaseDepthwiseConv`: `depth_multiplier` filters per input channel, no mixing of channels."""

    strides_with_dilation = True

    def __init__(self, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 activation: ActivationLike = None, use_bias: bool = True,
                 depthwise_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", depthwise_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 depthwise_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 **layer_kwargs: Any) -> None:
        # `filters` and `groups` are set at build time from the input's channels.
        super().__init__(1, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
                         depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **layer_kwargs)
        self.depth_multiplier = strictly_positive(depth_multiplier, "depth_multiplier", describe(self))
        self.finish_init()

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, channels, self.depth_multiplier)

    def create_weights(self, channels: int) -> None:
        self.groups, self.filters = channels, channels * self.depth_multiplier
        super().create_weights(channels)

    def torch_weight(self) -> torch.Tensor:
        return depthwise_torch_weight(self.kernel)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["filters"], config["groups"]
        return {**rename_kernel_keys(config, "depthwise"), "depth_multiplier": self.depth_multiplier}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, depth_multiplier={self.depth_multiplier}, kernel_size={self.kernel_size}, "
                f"strides={self.strides}, padding={self.padding!r}, data_format={self.data_format!r}")


@register_keras_class("DepthwiseConv1D")
class DepthwiseConv1D(DepthwiseConvBase):
    """Depthwise 1-D convolution, as `keras.layers.DepthwiseConv1D`.

    `(batch, steps, channels) -> (batch, new_steps, channels * depth_multiplier)`
    (channels first with `data_format="channels_first"`); kernel
    `(kernel_size, channels, depth_multiplier)`, bias
    `(channels * depth_multiplier,)`, as Keras keeps them.

    Args:
        kernel_size, strides, dilation_rate: an integer or a tuple of 1
            (strides and dilation above 1 may be combined, as in Keras).
        padding: "valid" or "same" (Keras's "same": an odd extra at the end).
        depth_multiplier: outputs per input channel (default 1).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        activation, use_bias, bias_initializer: as `Dense`.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint:
            for the kernel, as `Dense`'s `kernel_*`.
        bias_regularizer, activity_regularizer, bias_constraint: as `Dense`.
        name, input_shape, input_dim, device, dtype: see `Layer` (`input_dim`: the channels).

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> DepthwiseConv1D(3, depth_multiplier=2)(torch.randn(2, 9, 4)).shape
    torch.Size([2, 7, 8])
    """

    rank = 1

    def __init__(self, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 activation: ActivationLike = None, use_bias: bool = True,
                 depthwise_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", depthwise_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 depthwise_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("depthwise_conv1d")
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **layer_kwargs)


@register_keras_class("DepthwiseConv2D")
class DepthwiseConv2D(DepthwiseConvBase):
    """Depthwise 2-D convolution, as `keras.layers.DepthwiseConv2D`.

    `(batch, rows, cols, channels) -> (batch, new_rows, new_cols,
    channels * depth_multiplier)`; kernel `(*kernel_size, channels,
    depth_multiplier)`, as Keras keeps it.

    Args:
        kernel_size, strides, dilation_rate: an integer or a tuple of 2
            (strides and dilation above 1 may be combined, as in Keras).
        padding: "valid" or "same" (Keras's "same": an odd extra at the end).
        depth_multiplier: outputs per input channel (default 1).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        activation, use_bias, bias_initializer: as `Dense`.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint:
            for the kernel, as `Dense`'s `kernel_*`.
        bias_regularizer, activity_regularizer, bias_constraint: as `Dense`.
        name, input_shape, input_dim, device, dtype: see `Layer` (`input_dim`: the channels).

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> DepthwiseConv2D(3, padding="same")(torch.randn(1, 5, 6, 3)).shape
    torch.Size([1, 5, 6, 3])
    """

    rank = 2

    def __init__(self, kernel_size: int | Sequence[int], strides: int | Sequence[int] = (1, 1),
                 padding: str = "valid", depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: int | Sequence[int] = (1, 1), activation: ActivationLike = None,
                 use_bias: bool = True, depthwise_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", depthwise_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 depthwise_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("depthwise_conv2d")
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **layer_kwargs)
