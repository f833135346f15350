"""Conv1D: temporal convolution, as `keras.layers.Conv1D`."""
from __future__ import annotations

import numbers
import warnings

import torch
import torch.nn.functional as F

from ... import activations, constraints, regularizers
from ..._checks import (describe, one_of, positive_int, require_float_input, require_tensor, require_weight_dtype,
                       shape_text)
from ...core.layer import Layer, unique_name
from .conv_geometry import same_padding
from ..._types import ActivationLike, ConstraintLike, InitializerLike, InputShape, RegularizerLike
from typing import Any
from collections.abc import Sequence
from ...core.registry import register_keras_class


def _one_int(value: Any, argument: str, owner: str) -> int:
    """A positive int given as `n` or `(n,)`, as Keras's `standardize_tuple` for one spatial axis."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{owner}: `{argument}` must be an integer or a tuple of 1 integer, got {value!r}")
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: `{argument}` must be a positive integer (or a tuple of one), got {value!r}")
    return int(value)


@register_keras_class("Conv1D")
class Conv1D(Layer):
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

    kernel: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] | None = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 groups: int = 1, activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        if layer_kwargs.get("name") is None:
            layer_kwargs["name"] = unique_name("conv1d")      # Keras's automatic name, not "conv1_d"
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.filters = positive_int(filters, "filters", owner)
        self.kernel_size = _one_int(kernel_size, "kernel_size", owner)
        self.strides = _one_int(strides, "strides", owner)
        self.dilation_rate = _one_int(dilation_rate, "dilation_rate", owner)
        self.groups = positive_int(groups, "groups", owner)
        padding = padding.lower() if isinstance(padding, str) else padding
        self.padding = one_of(padding, ("valid", "same", "causal"), "padding", owner)
        self.data_format = one_of("channels_last" if data_format is None else data_format,
                                  ("channels_last", "channels_first"), "data_format", owner)
        if self.filters % self.groups:
            raise ValueError(f"{owner}: `filters` ({self.filters}) must be divisible by `groups` ({self.groups})")
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError(f"{owner}: strides > 1 cannot be combined with dilation_rate > 1; got "
                             f"strides={self.strides}, dilation_rate={self.dilation_rate}")
        self._given_activation = activation
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self._given = {"kernel_regularizer": kernel_regularizer, "bias_regularizer": bias_regularizer,
                       "activity_regularizer": activity_regularizer, "kernel_constraint": kernel_constraint,
                       "bias_constraint": bias_constraint}
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_channels: int | None = None
        if self.input_shape_hint is not None and len(self.input_shape_hint) == 1:   # input_dim: the channels
            channels = self.input_shape_hint[0]
            self.input_shape_hint = (None, channels) if self.data_format == "channels_last" else (channels, None)
        self.build_from_hint()

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("kernel", True)] + ([("bias", True)] if self.use_bias else [])

    def build(self, input_shape: InputShape) -> None:
        if len(input_shape) != 3:
            raise ValueError(f"{describe(self)} expects inputs of shape (batch, steps, channels) "
                             f"({self.data_format}), got a {len(input_shape)}-D shape {shape_text(input_shape)}")
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"{describe(self)}: the channel axis of input shape {shape_text(input_shape)} "
                             "must have a known size")
        if channels % self.groups:
            raise ValueError(f"{describe(self)}: the input's {channels} channels must be divisible by `groups` "
                             f"({self.groups})")
        self.input_channels = input_channels = int(channels)
        self.add_weight("kernel", (self.kernel_size, input_channels // self.groups, self.filters),
                        self.kernel_initializer, regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)
        else:
            self.register_parameter("bias", None)
        self.built = True

    def _check(self, inputs: torch.Tensor):
        owner = describe(self)
        require_tensor(inputs, owner, "a tensor of shape (batch, steps, channels)")
        if not self.built:
            self.build(tuple(inputs.shape))
        if inputs.dim() != 3 or inputs.shape[self._channel_axis] != self.input_channels:
            raise ValueError(f"{owner} was built for 3-D inputs with {self.input_channels} channels "
                             f"({self.data_format}), got input of shape {shape_text(inputs.shape)}")
        require_float_input(inputs, owner)
        require_weight_dtype(inputs, self.kernel.dtype, owner)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Convolve `(batch, steps, channels)` (`(batch, channels, steps)` with channels_first); a mask stops here."""
        self._check(inputs)
        if mask is not None:
            warnings.warn(f"{describe(self)} received a mask, but Conv1D does not support masking (as in "
                          "Keras): the mask stops here and later layers will not see it", stacklevel=2)
        x = inputs.transpose(1, 2) if self.data_format == "channels_last" else inputs   # (batch, channels, steps)
        steps = x.shape[-1]
        if self.padding == "same":
            x = F.pad(x, same_padding(steps, self.kernel_size, self.strides, self.dilation_rate))
        elif self.padding == "causal":
            x = F.pad(x, (self.dilation_rate * (self.kernel_size - 1), 0))
        span = (self.kernel_size - 1) * self.dilation_rate + 1
        if x.shape[-1] < span:
            raise ValueError(f"{describe(self)}: input of shape {shape_text(inputs.shape)} has {steps} steps, fewer "
                             f"than the kernel's span of {span} with padding={self.padding!r}")
        outputs = F.conv1d(x, self.kernel.permute(2, 1, 0), None, stride=self.strides,
                           dilation=self.dilation_rate, groups=self.groups)
        if self.bias is not None:       # added after the convolution, as Keras does: the same float32 rounding
            outputs = outputs + self.bias[:, None]
        if self.data_format == "channels_last":
            outputs = outputs.transpose(1, 2)
        outputs = self.activation(outputs)
        self.record_activity(outputs)
        return outputs

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """None: Conv1D does not carry a mask on (Keras's layer does not support masking)."""
        return None

    def get_config(self) -> dict:
        activation = activations.canonical_name(self.activation) or self._given_activation
        return {**super().get_config(), "filters": self.filters, "kernel_size": (self.kernel_size,),
                "strides": (self.strides,), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": (self.dilation_rate,), "groups": self.groups, "activation": activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer, **self._given}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, filters={self.filters}, kernel_size={self.kernel_size}, "
                f"strides={self.strides}, padding={self.padding!r}, activation="
                f"{activations.describe(self.activation)}")
