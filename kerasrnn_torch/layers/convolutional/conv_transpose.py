"""Conv1DTranspose, Conv2DTranspose and Conv3DTranspose: transposed convolutions, as their `keras.layers` namesakes.

The kernel is Keras's `(*kernel_size, filters, in)`; the call runs PyTorch's
`conv_transpose1d`/`2d`/`3d` with no padding, then crops (or
zero-extends) each spatial axis to Keras's output window, as Keras's torch
backend does, so "same" with odd kernels and `output_padding` give Keras's sizes
and numbers.
"""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..._checks import describe
from ..._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike
from ..._conv_geometry import crop_spatial, output_padding_tuple, transpose_crop
from ...core.layer import unique_name
from ...core.registry import register_keras_class
from .base_conv import ConvBase

_TRANSPOSED = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


class ConvTransposeBase(ConvBase):
    """A transposed convolution of `rank` spatial axes, with Keras's output sizes."""

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", output_padding: int | Sequence[int] | None = None,
                 data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **layer_kwargs)
        self.output_padding = output_padding_tuple(output_padding, self.rank, self.strides, describe(self))
        self.finish_init()

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, self.filters, channels)

    def torch_forward(self, x: torch.Tensor) -> torch.Tensor:
        # PyTorch's transposed weight is (in, out, *kernel_size): the same permutation of Keras's
        # (*kernel_size, out, in) as the forward convolution's.
        outputs = _TRANSPOSED[self.rank](x, self.torch_weight(), None, self.strides, 0, 0, 1,
                                         self.dilation_rate)
        extras = (None,) * self.rank if self.output_padding is None else self.output_padding
        crops = [transpose_crop(k, s, d, self.padding, extra)
                 for k, s, d, extra in zip(self.kernel_size, self.strides, self.dilation_rate, extras)]
        return crop_spatial(outputs, crops)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["groups"]
        padding = None if self.output_padding is None else self.output_padding
        return {**config, "output_padding": padding}


@register_keras_class("Conv1DTranspose")
class Conv1DTranspose(ConvTransposeBase):
    """1-D transposed convolution (upsampling a sequence), as `keras.layers.Conv1DTranspose`.

    `(batch, steps, channels) -> (batch, new_steps, filters)` (channels first
    with `data_format="channels_first"`). Output length, as Keras: "valid":
    `(steps - 1) * strides + max(span, strides)` (`span = (kernel_size - 1) *
    dilation_rate + 1`); "same": `steps * strides`; with `output_padding`:
    `(steps - 1) * strides + span + output_padding` ("valid") or
    `(steps - 1) * strides + span % 2 + output_padding` ("same"). The kernel
    is Keras's `(kernel_size, filters, channels)`.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an integer or a 1-tuple. Strides
            and dilation above 1 cannot be combined (as in Keras).
        padding: "valid" or "same".
        output_padding: None, or the extra length at the end (each value less
            than `strides`).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        activation, use_bias, kernel_initializer, bias_initializer: as `Dense`.
        kernel_regularizer, bias_regularizer, activity_regularizer: as `Dense`.
        kernel_constraint, bias_constraint: as `Dense`.
        name, input_shape, input_dim, device, dtype: see `Layer`.

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> Conv1DTranspose(4, 3, strides=2, padding="same")(torch.randn(2, 5, 3)).shape
    torch.Size([2, 10, 4])
    """

    rank = 1

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", output_padding: int | Sequence[int] | None = None,
                 data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("conv1d_transpose")
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **layer_kwargs)


@register_keras_class("Conv2DTranspose")
class Conv2DTranspose(ConvTransposeBase):
    """2-D transposed convolution, as `keras.layers.Conv2DTranspose`.

    `(batch, rows, cols, channels) -> (batch, new_rows, new_cols, filters)`,
    each new size by `Conv1DTranspose`'s rule. Kernel `(*kernel_size,
    filters, channels)` as Keras keeps it; the call runs
    `torch.nn.functional.conv_transpose2d`.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an integer or a tuple of 2.
        padding: "valid" or "same".
        output_padding: None, an integer or a tuple of 2 (each less than `strides`).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        activation, use_bias, kernel_initializer, bias_initializer: as `Dense`.
        kernel_regularizer, bias_regularizer, activity_regularizer: as `Dense`.
        kernel_constraint, bias_constraint: as `Dense`.
        name, input_shape, input_dim, device, dtype: see `Layer` (`input_dim`: the channels).

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> Conv2DTranspose(2, 3, strides=2, padding="same")(torch.randn(1, 4, 5, 3)).shape
    torch.Size([1, 8, 10, 2])
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = (1, 1),
                 padding: str = "valid", output_padding: int | Sequence[int] | None = None,
                 data_format: str | None = None, dilation_rate: int | Sequence[int] = (1, 1),
                 activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("conv2d_transpose")
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **layer_kwargs)


@register_keras_class("Conv3DTranspose")
class Conv3DTranspose(ConvTransposeBase):
    """3-D transposed convolution, as `keras.layers.Conv3DTranspose`.

    `(batch, dim1, dim2, dim3, channels) -> (batch, new1, new2, new3, filters)`,
    each new size by `Conv1DTranspose`'s rule. Kernel `(*kernel_size,
    filters, channels)` as Keras keeps it; the call runs
    `torch.nn.functional.conv_transpose3d`.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an integer or a tuple of 3.
        padding: "valid" or "same".
        output_padding: None, an integer or a tuple of 3 (each less than `strides`).
        data_format: "channels_last" (default; None means the same) or
            "channels_first".
        activation, use_bias, kernel_initializer, bias_initializer: as `Dense`.
        kernel_regularizer, bias_regularizer, activity_regularizer: as `Dense`.
        kernel_constraint, bias_constraint: as `Dense`.
        name, input_shape, input_dim, device, dtype: see `Layer` (`input_dim`: the channels).

    Masks: not supported, as in Keras: a mask stops here, with a warning.

    >>> Conv3DTranspose(2, 3, strides=2, padding="same")(torch.randn(1, 2, 3, 4, 3)).shape
    torch.Size([1, 4, 6, 8, 2])
    """

    rank = 3

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = (1, 1, 1),
                 padding: str = "valid", output_padding: int | Sequence[int] | None = None,
                 data_format: str | None = None, dilation_rate: int | Sequence[int] = (1, 1, 1),
                 activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("conv3d_transpose")
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **layer_kwargs)
