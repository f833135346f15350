"""Pooling over the steps of a sequence: GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D, as in Keras 3."""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ..._conv_geometry import same_padding
from ..._checks import describe, require_tensor, shape_text, tracing
from ...core.layer import Layer
from ...core.data_format import standardize as standardize_data_format
from typing import Any
from collections.abc import Sequence
from ...core.registry import register_keras_class


class _GlobalPooling1D(Layer):
    """Shared arguments and checks of the global 1D poolings; both pass no mask on."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.data_format = standardize_data_format(data_format, describe(self))
        self.keepdims = bool(keepdims)

    @property
    def steps_axis(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """Always None: the steps axis is pooled away."""
        return None

    def _checked(self, inputs: torch.Tensor):
        return checked_steps_input(self, inputs)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, data_format={self.data_format!r}, keepdims={self.keepdims}"


@register_keras_class("GlobalAveragePooling1D")
class GlobalAveragePooling1D(_GlobalPooling1D):
    """Averages over the steps axis, as `keras.layers.GlobalAveragePooling1D`.

    `(batch, steps, features)` becomes `(batch, features)` (or
    `(batch, 1, features)` with `keepdims=True`). With a `(batch, steps)`
    mask only the unmasked steps are averaged; a sample with every step
    masked gives nan (0 / 0), as in Keras. No mask is passed on.

    Args:
        data_format: "channels_last" (inputs `(batch, steps, features)`) or
            "channels_first" (`(batch, features, steps)`); None means
            "channels_last".
        keepdims: keep the pooled axis with size 1.
        name, device, dtype: see `Layer`.

    >>> x = torch.tensor([[[1.0], [3.0], [100.0]]])
    >>> GlobalAveragePooling1D()(x, mask=torch.tensor([[True, True, False]]))
    tensor([[2.]])
    """

    supports_masking = True

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Average over the steps of `(batch, steps, features)` inputs; with `mask`, over the used steps only."""
        inputs = self._checked(inputs)
        axis = self.steps_axis
        if mask is None:
            return inputs.mean(dim=axis, keepdim=self.keepdims)
        expected = (inputs.shape[0], inputs.shape[axis])
        if tuple(mask.shape) != expected:
            raise ValueError(f"{describe(self)} expects a mask of shape (batch, steps) = {shape_text(expected)}, "
                             f"got {shape_text(mask.shape)}")
        keep = mask.to(torch.bool).unsqueeze(3 - axis)      # a size-1 features axis
        summed = torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))
        counts = keep.to(inputs.dtype).sum(dim=axis, keepdim=self.keepdims)
        return summed.sum(dim=axis, keepdim=self.keepdims) / counts


@register_keras_class("GlobalMaxPooling1D")
class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over the steps axis, as `keras.layers.GlobalMaxPooling1D`.

    `(batch, steps, features)` becomes `(batch, features)` (or
    `(batch, 1, features)` with `keepdims=True`). As in Keras 3 this layer
    does not support masking: it takes no mask, padded steps count like any
    other, and an incoming mask stops here. Put a `Masking`-aware layer
    before it, or use `GlobalAveragePooling1D`, when padding matters.

    Args:
        data_format: "channels_last" (inputs `(batch, steps, features)`) or
            "channels_first" (`(batch, features, steps)`); None means
            "channels_last".
        keepdims: keep the pooled axis with size 1.
        name, device, dtype: see `Layer`.

    >>> GlobalMaxPooling1D()(torch.tensor([[[1.0], [3.0], [2.0]]]))
    tensor([[3.]])
    """

    supports_masking = False

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Maximum over the steps of `(batch, steps, features)` inputs (a mask is not used, as in Keras 3)."""
        inputs = self._checked(inputs)
        if inputs.shape[self.steps_axis] == 0:
            raise ValueError(f"{describe(self)} cannot take the maximum over 0 steps "
                             f"(input shape {shape_text(inputs.shape)})")
        return torch.amax(inputs, dim=self.steps_axis, keepdim=self.keepdims)


@register_keras_class("MaxPooling1D")
class MaxPooling1D(Layer):
    """Maximum over sliding windows of steps, as `keras.layers.MaxPooling1D`.

    Windows of `pool_size` steps, `strides` apart. "valid" padding keeps only
    whole windows (`(steps - pool_size) // strides + 1` outputs); "same"
    gives `ceil(steps / strides)` outputs, padding as Keras's torch backend
    does (the extra step, if odd, at the end). As in Keras 3 this layer does
    not support masking: an incoming mask stops here.

    Args:
        pool_size: window length (an integer or a 1-tuple; default 2).
        strides: step between windows (an integer or a 1-tuple); None means
            `pool_size`.
        padding: "valid" or "same" (any case; kept as given in the config).
        data_format: "channels_last" (inputs `(batch, steps, features)`) or
            "channels_first" (`(batch, features, steps)`); None means
            "channels_last".
        name, device, dtype: see `Layer`.

    >>> MaxPooling1D()(torch.tensor([[[1.0], [4.0], [2.0], [3.0]]])).flatten().tolist()
    [4.0, 3.0]
    """

    supports_masking = False

    def __init__(self, pool_size: int = 2, strides: int | Sequence[int] | None = None, padding: str = "valid",
                 data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.pool_size = _one_int_tuple(pool_size, "pool_size", owner)
        self.strides = self.pool_size if strides is None else _one_int_tuple(strides, "strides", owner)
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{owner}: `padding` must be 'valid' or 'same', got {padding!r}")
        self.padding = padding
        self.data_format = standardize_data_format(data_format, owner)

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """Always None: this layer does not support masking in Keras."""
        return None

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Maximum over windows of `pool_size` steps, every `strides` steps."""
        checked_steps_input(self, inputs)
        x = inputs.transpose(1, 2) if self.data_format == "channels_last" else inputs
        (size,), (stride,) = self.pool_size, self.strides
        steps = x.shape[-1]
        if self.padding.lower() == "same":
            left, right = same_padding(steps, size, stride, 1)
            if not isinstance(left, int) or not isinstance(right, int) or left or right:
                x = F.pad(x, (left, right), mode="replicate")
        elif steps < size:
            raise ValueError(f"{describe(self)}: pool_size {size} is longer than the {steps} steps of the input "
                             f"(shape {shape_text(inputs.shape)}); use padding='same' or a shorter pool")
        if tracing():    # torch's max_pool1d fixes a traced length to the example's; the 2-D pool keeps it
            output = F.max_pool2d(x.unsqueeze(-2), kernel_size=(1, size), stride=(1, stride)).squeeze(-2)
        else:
            output = F.max_pool1d(x, kernel_size=size, stride=stride)
        return output.transpose(1, 2) if self.data_format == "channels_last" else output

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, pool_size={self.pool_size}, strides={self.strides}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}")


def checked_steps_input(layer, inputs: torch.Tensor):
    """A 3-D `(batch, steps, features)` input (features first with channels_first), or an error naming the layer."""
    layout = "(batch, steps, features)" if layer.data_format == "channels_last" else "(batch, features, steps)"
    require_tensor(inputs, describe(layer), f"a tensor of shape {layout}")
    if inputs.dim() != 3:
        raise ValueError(f"{describe(layer)} expects inputs of shape {layout}, got shape {shape_text(inputs.shape)}")
    return inputs


def _one_int_tuple(value: Any, argument: str, owner: str) -> tuple:
    """Keras's standardize_tuple for one spatial axis: an int or a 1-sequence of positive ints."""
    items = (value,) if isinstance(value, numbers.Integral) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if len(items) != 1 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) > 0
                                  for v in items):
        raise ValueError(f"{owner}: `{argument}` must be a positive integer or a tuple of 1 positive integer, "
                         f"got {value!r}")
    return (int(items[0]),)
