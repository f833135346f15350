"""SeparableConv1D and SeparableConv2D: a depthwise convolution, then a 1x1 one mixing the channels,
as their `keras.layers` namesakes.

Weights in Keras's order and layout: `depthwise_kernel (*kernel_size,
channels, depth_multiplier)`, `pointwise_kernel (1, ..., channels *
depth_multiplier, filters)`, `bias (filters,)`. The call runs the depthwise
step as a grouped PyTorch convolution (strides, dilation and padding apply
there) and the pointwise step as a 1x1 convolution, as Keras's torch backend.
"""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ... import constraints, regularizers
from ..._checks import describe, strictly_positive
from ..._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike
from ...core.layer import unique_name
from ...core.registry import register_keras_class
from .base_conv import ConvBase
from .depthwise_conv import depthwise_torch_weight, rename_kernel_keys

_CONVOLUTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class SeparableConvBase(ConvBase):
    """Keras's `BaseSeparableConv`: a depthwise convolution, then a pointwise one to `filters` channels."""

    strides_with_dilation = True
    depthwise_kernel: torch.Tensor
    pointwise_kernel: torch.Tensor

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 depth_multiplier: int = 1, activation: ActivationLike = None, use_bias: bool = True,
                 depthwise_initializer: InitializerLike = "glorot_uniform",
                 pointwise_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", depthwise_regularizer: RegularizerLike = None,
                 pointwise_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, depthwise_constraint: ConstraintLike = None,
                 pointwise_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **layer_kwargs)
        self.depth_multiplier = strictly_positive(depth_multiplier, "depth_multiplier", describe(self))
        self.pointwise_initializer = pointwise_initializer
        self._given.update(pointwise_regularizer=pointwise_regularizer, pointwise_constraint=pointwise_constraint)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.finish_init()

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("depthwise_kernel", True), ("pointwise_kernel", True)] + ([("bias", True)] if self.use_bias else [])

    def create_weights(self, channels: int) -> None:
        self.groups = channels
        self.add_weight("depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
                        self.kernel_initializer, regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint)
        self.add_weight("pointwise_kernel", (*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
                        self.pointwise_initializer, regularizer=self.pointwise_regularizer,
                        constraint=self.pointwise_constraint)
        self.add_bias()

    def torch_weight(self) -> torch.Tensor:
        return depthwise_torch_weight(self.depthwise_kernel)

    def torch_forward(self, x: torch.Tensor) -> torch.Tensor:
        rank = self.rank
        depthwise = super().torch_forward(x)
        pointwise = self.pointwise_kernel.permute(rank + 1, rank, *range(rank))
        return _CONVOLUTIONS[rank](depthwise, pointwise)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["groups"]
        config = rename_kernel_keys(config, "depthwise")
        return {**config, "depth_multiplier": self.depth_multiplier,
                "pointwise_initializer": self.pointwise_initializer}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, depth_multiplier={self.depth_multiplier}"


@register_keras_class("SeparableConv1D")
class SeparableConv1D(SeparableConvBase):
    """Depthwise separable 1-D convolution, as `keras.layers.SeparableConv1D`.

    `(batch, steps, channels) -> (batch, new_steps, filters)` (channels
    first with `data_format="channels_first"`): each channel convolved on its
    own (`depth_multiplier` times), then a 1x1 convolution to `filters`.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an integer or a 1-tuple (strides
            and dilation above 1 may be combined, as in Keras).
        padding: "valid" or "same" (Keras's "same": an odd extra at the end).
        depth_multiplier: depthwise outputs per input channel (default 1).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        activation, use_bias, bias_initializer: as `Dense`.
        depthwise_initializer, pointwise_initializer: for the two kernels.
        depthwise_regularizer, pointwise_regularizer: for the two kernels, as `Dense`'s.
        bias_regularizer, activity_regularizer: as `Dense`'s.
        depthwise_constraint, pointwise_constraint, bias_constraint: as `Dense`'s.
        name, input_shape, input_dim, device, dtype: see `Layer` (`input_dim`: the channels).

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> SeparableConv1D(8, 3, padding="same", strides=2)(torch.randn(2, 9, 4)).shape
    torch.Size([2, 5, 8])
    """

    rank = 1

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 depth_multiplier: int = 1, activation: ActivationLike = None, use_bias: bool = True,
                 depthwise_initializer: InitializerLike = "glorot_uniform",
                 pointwise_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", depthwise_regularizer: RegularizerLike = None,
                 pointwise_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, depthwise_constraint: ConstraintLike = None,
                 pointwise_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("separable_conv1d")
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **layer_kwargs)


@register_keras_class("SeparableConv2D")
class SeparableConv2D(SeparableConvBase):
    """Depthwise separable 2-D convolution, as `keras.layers.SeparableConv2D`.

    `(batch, rows, cols, channels) -> (batch, new_rows, new_cols, filters)`;
    weights `depthwise_kernel (*kernel_size, channels, depth_multiplier)`,
    `pointwise_kernel (1, 1, channels * depth_multiplier, filters)`, `bias`.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an integer or a tuple of 2.
        padding, depth_multiplier, data_format, activation, use_bias: as
            `SeparableConv1D`.
        depthwise_initializer, pointwise_initializer, bias_initializer: as
            `SeparableConv1D`.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer: as `SeparableConv1D`.
        activity_regularizer: as `Dense`.
        depthwise_constraint, pointwise_constraint, bias_constraint: as `SeparableConv1D`.
        name, input_shape, input_dim, device, dtype: see `Layer`.

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> SeparableConv2D(4, 3, depth_multiplier=2)(torch.randn(1, 5, 6, 3)).shape
    torch.Size([1, 3, 4, 4])
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: int | Sequence[int] = (1, 1), depth_multiplier: int = 1,
                 activation: ActivationLike = None, use_bias: bool = True,
                 depthwise_initializer: InitializerLike = "glorot_uniform",
                 pointwise_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", depthwise_regularizer: RegularizerLike = None,
                 pointwise_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, depthwise_constraint: ConstraintLike = None,
                 pointwise_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("separable_conv2d")
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **layer_kwargs)
