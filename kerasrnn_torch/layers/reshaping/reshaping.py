"""Layers that only rearrange their input: RepeatVector, Flatten, Reshape, Permute, as in `keras.layers`.

None of them supports masking in Keras 3, so each drops an incoming mask
(`compute_mask` returns None), as Keras does when a layer without mask support
receives one.
"""
from __future__ import annotations

import math
import numbers

from ..._checks import describe, require_static_axes, require_tensor, shape_text, tracing
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
import torch
from collections.abc import Sequence
from typing import Any
from ...core.registry import register_keras_class
from ...core.symbolic import build_shape


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class _Rearrange(Layer):
    """A weightless layer that drops the mask (Keras's `supports_masking = False`)."""

    supports_masking = False

    def __init__(self, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """Always None: this layer does not support masking in Keras, so the mask stops here."""
        return None

    def _tensor(self, inputs: torch.Tensor, expected: str):
        return require_tensor(inputs, describe(self), expected)


@register_keras_class("RepeatVector")
class RepeatVector(_Rearrange):
    """Repeats a `(batch, features)` input `n` times along a new axis, as `keras.layers.RepeatVector`.

    The output has shape `(batch, n, features)`: e.g. an encoder's final
    state handed to a decoder at every step.

    Args:
        n: the number of repetitions (a positive integer).
        name, device, dtype: see `Layer`.

    >>> RepeatVector(3)(torch.randn(2, 5)).shape
    torch.Size([2, 3, 5])
    """

    def __init__(self, n: int, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        if not _is_int(n):
            raise TypeError(f"{describe(self)}: Expected an integer value for `n`, got {n!r} ({type(n).__name__})")
        if n <= 0:
            raise ValueError(f"{describe(self)}: `n` should be a positive integer, got n={n!r}")
        self.n = int(n)
        self.built = True

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`(batch, features)` -> `(batch, n, features)`: the input repeated `n` times."""
        inputs = self._tensor(inputs, "a tensor of shape (batch, features)")
        if inputs.dim() != 2:
            raise ValueError(f"{describe(self)} expects inputs of shape (batch, features), "
                             f"got shape {shape_text(inputs.shape)}")
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, n={self.n}"


@register_keras_class("Flatten")
class Flatten(_Rearrange):
    """Flattens every axis but the batch axis, as `keras.layers.Flatten`.

    `(batch, d1, d2, ...)` becomes `(batch, d1 * d2 * ...)`, and a
    `(batch,)` input becomes `(batch, 1)`. With `data_format="channels_first"`
    the channel axis (axis 1) is moved last before flattening, so the order of
    the values matches a channels-last model's.

    Args:
        data_format: "channels_last" or "channels_first"; None means
            "channels_last" (Keras's default; kerasrnn_torch does not read
            `~/.keras/keras.json`).
        name, device, dtype: see `Layer`.

    >>> Flatten()(torch.randn(2, 3, 4)).shape
    torch.Size([2, 12])
    """

    def __init__(self, data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.data_format = standardize_data_format(data_format, describe(self))
        self.built = True

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Every axis but the batch one flattened into one."""
        inputs = self._tensor(inputs, "a tensor of shape (batch, ...)")
        if inputs.dim() < 1:
            raise ValueError(f"{describe(self)} expects inputs with a batch axis, got a 0-D tensor")
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.flatten(1) if inputs.dim() > 1 else inputs.reshape(-1, 1)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, data_format={self.data_format!r}"


@register_keras_class("Reshape")
class Reshape(_Rearrange):
    """Reshapes each sample to `target_shape`, as `keras.layers.Reshape`.

    The output has shape `(batch, *target_shape)`; one entry may be -1, to be
    inferred from the sample's size.

    Args:
        target_shape: the shape of one sample (a tuple of non-negative
            integers, with at most one -1), without the batch axis.
        name, device, dtype: see `Layer`.

    >>> Reshape((-1, 2))(torch.randn(3, 12)).shape
    torch.Size([3, 6, 2])
    """

    def __init__(self, target_shape: Sequence[int], **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if isinstance(target_shape, (str, bytes)) or not hasattr(target_shape, "__iter__"):
            raise TypeError(f"{owner}: `target_shape` must be a tuple of integers, got {target_shape!r}")
        target_shape = tuple(target_shape)
        if not all(_is_int(d) and d >= -1 for d in target_shape):
            raise ValueError(f"{owner}: each size in `target_shape` must be a non-negative integer or -1 "
                             f"(one unknown size), got target_shape={target_shape!r}")
        if target_shape.count(-1) > 1:
            raise ValueError(f"{owner}: `target_shape` may have at most one unknown dimension (-1), "
                             f"got target_shape={target_shape!r}")
        self.target_shape = tuple(int(d) for d in target_shape)
        self.built = True

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}

    def _resolved(self, sample_shape) -> tuple:
        size = math.prod(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            fits = known != 0 and size % known == 0
            resolved = tuple(size // known if fits and d == -1 else d for d in self.target_shape)
        else:
            fits, resolved = known == size, self.target_shape
        if not fits:
            raise ValueError(f"{describe(self)} cannot reshape samples of shape {shape_text(sample_shape)} "
                             f"({size} values) to target_shape {shape_text(self.target_shape)}")
        return resolved

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` reshaped to `(batch, *target_shape)` (one -1 inferred)."""
        inputs = self._tensor(inputs, "a tensor of shape (batch, ...)")
        if inputs.dim() < 1:
            raise ValueError(f"{describe(self)} expects inputs with a batch axis, got a 0-D tensor")
        if tracing():
            if -1 in self.target_shape:      # torch infers the -1 from symbolic sizes (and checks that they fit)
                return inputs.reshape(inputs.shape[0], *self.target_shape)
            require_static_axes(self, inputs, range(1, inputs.dim()), f"target_shape {shape_text(self.target_shape)} "
                                "fixes the number of values per sample (a -1 in it lets the axis vary)")
        if -1 not in self.target_shape and None in build_shape(inputs)[1:]:
            # A symbolic call on an input with an unknown axis after the batch one: as in Keras, the output
            # has the target shape (the sizes the probe made up for that axis need not fit it).
            return inputs.new_zeros((inputs.shape[0], *self.target_shape))
        return inputs.reshape(inputs.shape[0], *self._resolved(tuple(inputs.shape[1:])))

    def extra_repr(self) -> str:
        return f"name={self.name!r}, target_shape={self.target_shape}"


@register_keras_class("Permute")
class Permute(_Rearrange):
    """Reorders the axes after the batch axis, as `keras.layers.Permute`.

    `dims` counts from 1 (the axis after the batch axis), as in Keras:
    `Permute((2, 1))` turns `(batch, steps, features)` into
    `(batch, features, steps)`. Inputs must have `len(dims) + 1` axes.

    Args:
        dims: a permutation of 1, 2, ..., n.
        name, device, dtype: see `Layer`.

    >>> Permute((2, 1))(torch.randn(4, 10, 3)).shape
    torch.Size([4, 3, 10])
    """

    def __init__(self, dims: Sequence[int], **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__"):
            raise TypeError(f"{owner}: `dims` must be a tuple of integers, got {dims!r}")
        dims = tuple(dims)
        if not all(_is_int(d) for d in dims) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"{owner}: Invalid permutation argument `dims`: it must be a permutation of 1, ..., n "
                             f"(1 is the axis after the batch axis), got dims={dims!r}")
        self.dims = tuple(int(d) for d in dims)
        self.built = True

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` with the axes after the batch one permuted as `dims` says (counting from 1)."""
        inputs = self._tensor(inputs, f"a tensor with {len(self.dims) + 1} axes")
        if inputs.dim() != len(self.dims) + 1:
            raise ValueError(f"{describe(self)} with dims={self.dims} expects inputs with {len(self.dims) + 1} "
                             f"axes (batch first), got shape {shape_text(inputs.shape)}")
        return inputs.permute(0, *self.dims)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, dims={self.dims}"

