"""The shared machinery of the N-D convolutions (Conv2D, Conv3D, the transposed and depthwise ones).

Arguments are read as Keras's `BaseConv` reads them; the weights keep
Keras's layout (`kernel (*kernel_size, in // groups, filters)`), and every call
runs PyTorch's own convolution on a permuted view of that kernel (no copy made
by us; the kernel itself stays in Keras's order for files and `get_weights`).
"""
from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ... import activations, constraints, regularizers
from ..._checks import (check_sizes, describe, one_of, positive_int, require_float_input, require_tensor,
                       require_weight_dtype, shape_text, strictly_positive)
from ..._types import ActivationLike, ConstraintLike, InitializerLike, InputShape, RegularizerLike
from ...core.layer import Layer
from ..._conv_geometry import int_tuple, same_padding

_CONVOLUTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def spatial_names(rank: int) -> str:
    return {1: "steps", 2: "rows, cols", 3: "dim1, dim2, dim3"}[rank]


class ConvBase(Layer):
    """Keras's arguments, checks, weights and mask rule shared by the convolutions of one `rank`.

    Subclasses say `rank`, and may override `kernel_shape`, `torch_forward` and
    `output_size` (the transposed convolutions do).
    """

    rank = 2
    supports_masking = False
    allowed_paddings: tuple[str, ...] = ("valid", "same")
    # Keras's BaseConv refuses strides > 1 with dilation > 1; its depthwise and separable layers take both.
    strides_with_dilation = False
    kernel: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 groups: int = 1, activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        rank = self.rank
        self.filters = strictly_positive(filters, "filters", owner)
        self.kernel_size = int_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = int_tuple(strides, rank, "strides", owner)
        self.dilation_rate = int_tuple(dilation_rate, rank, "dilation_rate", owner)
        if isinstance(groups, int) and not isinstance(groups, bool) and groups <= 0:
            raise ValueError(f"{owner}: The number of groups must be a positive integer. Received: groups={groups}.")
        self.groups = positive_int(groups, "groups", owner)
        padding = padding.lower() if isinstance(padding, str) else padding
        self.padding = one_of(padding, self.allowed_paddings, "padding", owner)
        self.data_format = one_of("channels_last" if data_format is None else str(data_format).lower(),
                                  ("channels_last", "channels_first"), "data_format", owner)
        if self.filters % self.groups:
            raise ValueError(f"{owner}: The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={self.groups}, filters={self.filters}.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1 and not self.strides_with_dilation:
            raise ValueError(f"{owner}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
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

    def finish_init(self) -> None:
        """Read `input_dim=` as the channels, then build from a shape hint if one was given."""
        if self.input_shape_hint is not None and len(self.input_shape_hint) == 1:
            channels = self.input_shape_hint[0]
            spatial = (None,) * self.rank
            self.input_shape_hint = ((*spatial, channels) if self.data_format == "channels_last"
                                     else (channels, *spatial))
        self.build_from_hint()

    @property
    def channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def layout_text(self) -> str:
        names = spatial_names(self.rank)
        return f"(batch, {names}, channels)" if self.data_format == "channels_last" else f"(batch, channels, {names})"

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("kernel", True)] + ([("bias", True)] if self.use_bias else [])

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        """Keras's kernel shape for `channels` input channels."""
        if channels % self.groups:
            raise ValueError(f"{describe(self)}: the input's {channels} channels must be divisible by `groups` "
                             f"({self.groups})")
        return (*self.kernel_size, channels // self.groups, self.filters)

    def build(self, input_shape: InputShape) -> None:
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{describe(self)} expects inputs of shape {self.layout_text()}, got a "
                             f"{len(input_shape)}-D shape {shape_text(input_shape)}")
        channels = input_shape[self.channel_axis]
        if channels is None:
            raise ValueError(f"{describe(self)}: the channel axis of input shape {shape_text(input_shape)} "
                             "must have a known size")
        self.create_weights(int(channels))
        self.input_channels = int(channels)
        self.built = True

    def create_weights(self, channels: int) -> None:
        """Add the weights for `channels` input channels, in Keras's order: `kernel`, then `bias`."""
        self.add_weight("kernel", self.kernel_shape(channels), self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.add_bias()

    def add_bias(self) -> None:
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)
        else:
            self.register_parameter("bias", None)

    def check_input(self, inputs: torch.Tensor) -> None:
        owner = describe(self)
        require_tensor(inputs, owner, f"a tensor of shape {self.layout_text()}")
        if not self.built:
            self.build(tuple(inputs.shape))
        if inputs.dim() != self.rank + 2 or inputs.shape[self.channel_axis] != self.input_channels:
            raise ValueError(f"{owner} was built for {self.rank + 2}-D inputs {self.layout_text()} with "
                             f"{self.input_channels} channels, got input of shape {shape_text(inputs.shape)}")
        require_float_input(inputs, owner)
        require_weight_dtype(inputs, self.torch_weight().dtype, owner)

    def warn_mask(self, mask: Any) -> None:
        if mask is not None:
            warnings.warn(f"{describe(self)} received a mask, but {type(self).__name__} does not support masking "
                          "(as in Keras): the mask stops here and later layers will not see it", stacklevel=3)

    def torch_weight(self) -> torch.Tensor:
        """The kernel as PyTorch's convolutions take it, `(out, in // groups, *kernel_size)`: a view."""
        rank = self.rank
        return self.kernel.permute(rank + 1, rank, *range(rank))

    def _given_layout(self, shape: Sequence[int]) -> tuple[int, ...]:
        """A channels-first shape in the layer's `data_format` (as the user gave the input)."""
        shape = tuple(shape)
        return (shape[0], *shape[2:], shape[1]) if self.data_format == "channels_last" else shape

    def torch_forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve a channels-first `x` (no bias, no activation)."""
        spatial = x.shape[2:]
        pads = [(0, 0)] * self.rank
        if self.padding == "same":
            pads = [same_padding(n, k, s, d) for n, k, s, d in
                    zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
        elif self.padding == "causal":
            pads = [(self.dilation_rate[0] * (self.kernel_size[0] - 1), 0)]
        for n, (left, right), k, d in zip(spatial, pads, self.kernel_size, self.dilation_rate):
            span = (k - 1) * d + 1
            check_sizes(n + left + right >= span,
                        lambda: f"{describe(self)}: Computed output size would be zero or negative: a spatial "
                                f"size of {n} in input shape {shape_text(self._given_layout(x.shape))} is "
                                f"smaller than the kernel's span of {span} with padding={self.padding!r}")
        if all(isinstance(left, int) and isinstance(right, int) and left == right for left, right in pads):
            padding: Any = tuple(left for left, _ in pads)
        else:
            x = F.pad(x, [p for pair in reversed(pads) for p in pair])
            padding = 0
        return _CONVOLUTIONS[self.rank](x, self.torch_weight(), None, self.strides, padding, self.dilation_rate,
                                        self.groups)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Convolve `inputs` in `data_format`'s layout; a mask stops here with a warning (as in Keras)."""
        self.check_input(inputs)
        self.warn_mask(mask)
        channels_last = self.data_format == "channels_last"
        x = inputs.movedim(-1, 1) if channels_last else inputs
        outputs = self.torch_forward(x)
        if self.bias is not None:
            outputs = outputs + self.bias.view(-1, *([1] * self.rank))
        if channels_last:
            outputs = outputs.movedim(1, -1)
        outputs = self.activation(outputs)
        self.record_activity(outputs)
        return outputs

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """None: Keras's convolutions do not support masking, so a mask stops here."""
        return None

    def get_config(self) -> dict:
        activation = activations.canonical_name(self.activation) or self._given_activation
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups, "activation": activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer, **self._given}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, filters={self.filters}, kernel_size={self.kernel_size}, "
                f"strides={self.strides}, padding={self.padding!r}, data_format={self.data_format!r}, "
                f"activation={activations.describe(self.activation)}")
