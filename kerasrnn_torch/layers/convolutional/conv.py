"""Conv2D and Conv3D: spatial convolutions, as `keras.layers.Conv2D` and `keras.layers.Conv3D`."""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

from ..._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike
from ...core.layer import unique_name
from ...core.registry import register_keras_class
from .base_conv import ConvBase


@register_keras_class("Conv2D")
class Conv2D(ConvBase):
    """2-D convolution, as `keras.layers.Conv2D`.

    `(batch, rows, cols, channels) -> (batch, new_rows, new_cols, filters)`
    (channels second with `data_format="channels_first"`). The kernel has
    Keras's layout `(*kernel_size, channels // groups, filters)`, the bias
    `(filters,)`; the call runs `torch.nn.functional.conv2d` on a permuted
    view of the kernel (cuDNN on a GPU).

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an integer or a tuple of 2. Strides
            and dilation above 1 cannot be combined (as in Keras).
        padding: "valid" (none) or "same" (output size `ceil(size / strides)`;
            when the total padding is odd the extra row/column goes at the
            end, as in Keras).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        groups: split the channels into this many independent convolutions.
        activation, use_bias, kernel_initializer, bias_initializer: as `Dense`.
        kernel_regularizer, bias_regularizer, activity_regularizer: as `Dense`.
        kernel_constraint, bias_constraint: as `Dense`.
        name, input_shape, input_dim, device, dtype: see `Layer` (`input_dim`: the channels).

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> Conv2D(4, 3, padding="same", strides=2)(torch.randn(1, 7, 6, 3)).shape
    torch.Size([1, 4, 3, 4])
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: int | Sequence[int] = (1, 1), groups: int = 1, activation: ActivationLike = None,
                 use_bias: bool = True, kernel_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", kernel_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 kernel_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("conv2d")
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **layer_kwargs)
        self.finish_init()


@register_keras_class("Conv3D")
class Conv3D(ConvBase):
    """3-D convolution, as `keras.layers.Conv3D` (e.g. over (frames, rows, cols) of a video).

    `(batch, dim1, dim2, dim3, channels) -> (batch, new1, new2, new3, filters)`
    (channels second with `data_format="channels_first"`). Kernel
    `(*kernel_size, channels // groups, filters)` as Keras keeps it; the call
    runs `torch.nn.functional.conv3d`.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an integer or a tuple of 3. Strides
            and dilation above 1 cannot be combined (as in Keras).
        padding: "valid" or "same" (Keras's padding: the odd extra at the end).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        groups: split the channels into this many independent convolutions.
        activation, use_bias, kernel_initializer, bias_initializer: as `Dense`.
        kernel_regularizer, bias_regularizer, activity_regularizer: as `Dense`.
        kernel_constraint, bias_constraint: as `Dense`.
        name, input_shape, input_dim, device, dtype: see `Layer` (`input_dim`: the channels).

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> Conv3D(2, 3, padding="same")(torch.randn(1, 4, 5, 5, 1)).shape
    torch.Size([1, 4, 5, 5, 2])
    """

    rank = 3

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = (1, 1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: int | Sequence[int] = (1, 1, 1), groups: int = 1, activation: ActivationLike = None,
                 use_bias: bool = True, kernel_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", kernel_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 kernel_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("conv3d")
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **layer_kwargs)
        self.finish_init()
