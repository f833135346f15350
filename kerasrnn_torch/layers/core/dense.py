"""Dense (a kernel on the last axis) and Dropout, as `keras.layers.Dense` and `keras.layers.Dropout`.

`dropout(...)` is the one place inputs are dropped the Keras way; `Attention`
uses it too.
"""
from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from ... import activations, constraints, regularizers
from ..._checks import (describe, positive_int, require_float_input, require_tensor, require_weight_dtype,
                       shape_text)
from ...seeding import SeededGenerators
from ...core.layer import Layer
from ...core.config import activity_regularizer, serialize_activation, weight_options, without_quantization
from ..._types import ActivationLike, ConstraintLike, InitializerLike, InputShape, RegularizerLike
from typing import Any
from collections.abc import Sequence
from ...core.layer import LayerT
from ...core.registry import register_keras_class
from ...core.keras_arguments import options_reader


def dropout(inputs: torch.Tensor, rate: float, *, noise_shape=None, generator=None) -> torch.Tensor:
    """Keras's dropout: zero a `rate` fraction, scale the rest by 1 / (1 - rate).

    `noise_shape` (with `None` for "as the input") shares one draw along its
    size-1 axes. Like Keras's torch backend, the unseeded full-shape case uses
    PyTorch's own dropout and the others a Bernoulli mask.
    """
    if rate == 0.0:
        return inputs
    if rate == 1.0:
        return torch.zeros_like(inputs)
    if generator is None and noise_shape is None:
        return F.dropout(inputs, p=rate, training=True)
    keep = 1.0 - rate
    shape = tuple(inputs.shape) if noise_shape is None else tuple(
        size if wanted is None else wanted for size, wanted in zip(inputs.shape, noise_shape))
    kept = torch.empty(shape, device=inputs.device, dtype=torch.float32).bernoulli_(keep, generator=generator)
    return torch.where(kept.bool(), inputs / keep, torch.zeros((), dtype=inputs.dtype, device=inputs.device))


@register_keras_class("Dense", reader=options_reader("units", "use_bias"))
class Dense(Layer):
    """Densely connected layer on the last axis, as `keras.layers.Dense`.

    `output = activation(inputs @ kernel + bias)` for inputs of any rank >= 2,
    `(batch, ..., input_dim) -> (batch, ..., units)`. Weights are Keras-layout
    `kernel (input_dim, units)` and `bias (units,)`, created from the first
    input's last axis or from `input_dim=` / `input_shape=`. The incoming mask
    passes through unchanged, as in Keras.

    Args:
        units: size of the output's last axis.
        activation: Keras name or callable; None means linear.
        use_bias: whether to add `bias`.
        kernel_initializer, bias_initializer: Keras name or callable
            (defaults "glorot_uniform" and "zeros").
        kernel_regularizer, bias_regularizer, activity_regularizer: as Keras
            (None by default).
        kernel_constraint, bias_constraint: as Keras (None by default).
        name, input_shape, input_dim, device, dtype: see `Layer`.

    >>> layer = Dense(4, activation="relu")
    >>> layer(torch.randn(2, 10, 3)).shape
    torch.Size([2, 10, 4])
    """

    kernel: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, units: int, activation: ActivationLike = None, use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.units = positive_int(units, "units", describe(self))
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_dim: int | None = None
        self.build_from_hint()

    def get_config(self) -> dict:
        config = {**super().get_config(), "units": self.units,
                  "activation": serialize_activation(self.activation, describe(self)), "use_bias": self.use_bias,
                  **weight_options(self, ("kernel", "bias")), "quantization_config": None}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = activity_regularizer(self)
        return config

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        return super().from_config(without_quantization(config, f"{cls.__name__} {config.get('name')!r}"))

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("kernel", True)] + ([("bias", True)] if self.use_bias else [])

    def build(self, input_shape: InputShape) -> None:
        if len(input_shape) < 2:
            raise ValueError(f"{describe(self)} expects inputs of shape (batch, ..., features), "
                             f"got a {len(input_shape)}-D shape {shape_text(input_shape)}")
        self.input_dim = input_dim = int(input_shape[-1])
        self.add_weight("kernel", (input_dim, self.units), self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.register_parameter("bias", None)
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`activation(inputs @ kernel + bias)` on the last axis of `(batch, ..., features)` inputs."""
        # The common call (a built layer, a tensor of the weights' dtype that fits) costs a few comparisons;
        # any other goes through the checks, which build the layer or say what does not fit.
        if not self.built or type(inputs) is not torch.Tensor or inputs.dim() < 2 \
                or inputs.shape[-1] != self.input_dim or inputs.dtype != self.kernel.dtype:
            self._check_inputs(inputs)
        kernel, bias = self.kernel, self.bias
        if inputs.dim() == 2:       # F.linear's own product for 2-D inputs, without the kernel's transposed view
            outputs = torch.mm(inputs, kernel) if bias is None else torch.addmm(bias, inputs, kernel)
        else:
            outputs = F.linear(inputs, kernel.t(), bias)
        if self.activation is not None:         # Keras's `layer.activation = None` after construction: linear
            outputs = self.activation(outputs)
        self.record_activity(outputs)
        return outputs

    def _check_inputs(self, inputs: Any) -> None:
        require_tensor(inputs, describe(self), "a tensor of shape (..., features)")
        if not self.built:
            self.build(tuple(inputs.shape))
        if inputs.dim() < 2 or inputs.shape[-1] != self.input_dim:
            raise ValueError(f"{describe(self)}: input of shape {shape_text(inputs.shape)} is incompatible with the "
                             f"layer, which was built for {self.input_dim} input features on the last axis")
        require_float_input(inputs, describe(self))
        require_weight_dtype(inputs, self.kernel.dtype, describe(self))

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, units={self.units}, activation={activations.describe(self.activation)}, "
                f"use_bias={self.use_bias}")


@register_keras_class("Dropout", reader=options_reader("rate", "noise_shape", "seed"))
class Dropout(Layer):
    """Randomly zeroes inputs while training, as `keras.layers.Dropout`.

    Kept values are scaled by `1 / (1 - rate)`; outside training the input
    comes back unchanged. `training=None` means the module's own
    `self.training` (PyTorch's `train()` / `eval()`). No weights; the incoming
    mask passes through.

    Args:
        rate: fraction of the inputs to drop, in [0, 1].
        noise_shape: shape of the dropout mask, broadcast over the input;
            `None` entries take the input's size, e.g. `(None, 1, None)`
            drops the same features at every timestep.
        seed: integer for a reproducible stream of masks (None: PyTorch's
            global RNG).
        name, device, dtype: see `Layer`.

    >>> layer = Dropout(0.5).eval()
    >>> layer(torch.ones(2, 3)).sum().item()
    6.0
    """

    rate: float
    noise_shape: tuple[int | None, ...] | None
    seed: int | None
    _generators: SeededGenerators

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None, seed: int | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"{owner}: Invalid value received for argument `rate`. Expected a float value between "
                             f"0 and 1, got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = _checked_noise_shape(noise_shape, owner)
        self.seed = seed
        self._generators = SeededGenerators(seed)

    def get_config(self) -> dict:
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": noise_shape}

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """Drop a `rate` fraction of `inputs` while training (`training=None`: `self.training`), else pass them."""
        if not self.built:
            self.build(tuple(inputs.shape))
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is not None:
            self._check_noise_shape(inputs)
        return dropout(inputs, self.rate, noise_shape=self.noise_shape,
                       generator=self._generators.get(inputs.device))

    def _check_noise_shape(self, inputs: torch.Tensor):
        noise_shape = self.noise_shape
        assert noise_shape is not None      # checked by the caller
        fits = len(noise_shape) == inputs.dim() and all(
            wanted is None or wanted == 1 or wanted == size for size, wanted in zip(inputs.shape, noise_shape))
        if not fits:
            raise ValueError(f"{describe(self)}: noise_shape {self.noise_shape} does not broadcast to the input of "
                             f"shape {shape_text(inputs.shape)}; give one entry per axis, each None, 1 or the "
                             "input's size")

    def extra_repr(self) -> str:
        extra = "" if self.noise_shape is None else f", noise_shape={self.noise_shape}"
        return f"name={self.name!r}, rate={self.rate}{extra}"


def _checked_noise_shape(noise_shape: Any, owner: str) -> tuple[int | None, ...] | None:
    if noise_shape is None:
        return None
    if isinstance(noise_shape, (str, bytes)) or not hasattr(noise_shape, "__iter__"):
        raise ValueError(f"{owner}: Invalid value received for argument `noise_shape`. Expected a tuple or list of "
                         f"integers, got {noise_shape!r}")
    noise_shape = tuple(noise_shape)
    for dim in noise_shape:
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, numbers.Integral)):
            raise ValueError(f"{owner}: Invalid value received for argument `noise_shape`. Expected all elements "
                             f"to be integers or None, got {noise_shape!r}")
        if dim is not None and dim <= 0:
            raise ValueError(f"{owner}: Invalid value received for argument `noise_shape`. Expected all dimensions "
                             f"to be positive integers or None, got {noise_shape!r}")
    return tuple(None if dim is None else int(dim) for dim in noise_shape)
