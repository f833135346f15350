"""ActivityRegularization and AlphaDropout, as their `keras.layers` namesakes. Both pass the mask on."""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch

from ... import regularizers
from ..._checks import describe, require_tensor, shape_text
from ..._types import InputShape
from ...core.layer import Layer
from ...core.registry import register_keras_class
from ...seeding import SeededGenerators

# SELU's constants (Klambauer et al.): AlphaDropout drops to SELU's negative saturation value.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _factor(value: Any, argument: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"{owner}: `{argument}` must be a number >= 0, got {value!r}")
    return float(value)


@register_keras_class("ActivityRegularization")
class ActivityRegularization(Layer):
    """Passes its inputs on and adds their L1/L2 penalty to the losses, as `keras.layers.ActivityRegularization`.

    The term is `l1 * sum(|x|) + l2 * sum(x**2)`, divided by the batch size, in the layer's (and the
    model's) `losses` after each call.

    Args:
        l1: the L1 factor (0).
        l2: the L2 factor (0).
        name, device, dtype: see `Layer`.

    >>> layer = ActivityRegularization(l1=0.5)
    >>> layer(torch.tensor([[1.0, -3.0]])).tolist(), [float(loss) for loss in layer.losses]
    ([[1.0, -3.0]], [2.0])
    """

    supports_masking = True
    l1: float
    l2: float

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.l1, self.l2 = _factor(l1, "l1", owner), _factor(l2, "l2", owner)
        self.activity_regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs`, unchanged (the regularization term is recorded from them)."""
        require_tensor(inputs, describe(self))
        if not torch.compiler.is_exporting():      # an exported program computes outputs, not losses
            self.record_activity(inputs)
        return inputs

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, l1={self.l1}, l2={self.l2}"


@register_keras_class("AlphaDropout")
class AlphaDropout(Layer):
    """Dropout that keeps SELU's self-normalizing mean and variance, as `keras.layers.AlphaDropout`.

    While training, each entry is set to SELU's negative saturation value `-alpha * scale` with
    probability `rate`, then everything goes through the affine map that keeps the mean and variance of
    unit-normal inputs; outside training the inputs pass unchanged.

    Args:
        rate: the drop probability, in [0, 1].
        noise_shape: the shape of the drop mask (None where the input's axis is taken), broadcast over
            the input, as `Dropout`'s.
        seed: integer for a reproducible stream of masks (None: PyTorch's global RNG).
        name, device, dtype: see `Layer`.

    >>> AlphaDropout(0.5).eval()(torch.ones(2)).tolist()
    [1.0, 1.0]
    """

    supports_masking = True
    rate: float
    noise_shape: tuple[int | None, ...] | None
    seed: int | None
    _generators: SeededGenerators

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None, seed: int | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError(f"{describe(self)}: Invalid value received for argument `rate`. Expected a float value "
                             f"between 0 and 1. Received: rate={rate!r}")
        if noise_shape is not None and not (isinstance(noise_shape, (list, tuple)) and all(
                size is None or (isinstance(size, int) and not isinstance(size, bool)) for size in noise_shape)):
            raise ValueError(f"{describe(self)}: `noise_shape` must be None or a list of ints or None, got "
                             f"{noise_shape!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generators = SeededGenerators(seed)

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """Alpha-dropped `inputs` while training (`training=True`, or None in train mode); `inputs` otherwise."""
        require_tensor(inputs, describe(self))
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0:
            return inputs
        shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
            inputs.shape[axis] if size is None else size for axis, size in enumerate(self.noise_shape))
        if len(shape) != inputs.dim():
            raise ValueError(f"{describe(self)}: noise_shape {self.noise_shape} does not fit inputs of shape "
                             f"{shape_text(inputs.shape)}")
        draws = torch.empty(shape, dtype=torch.float32, device=inputs.device).uniform_(
            generator=self._generators.get(inputs.device))
        kept = (draws >= self.rate).to(inputs.dtype)
        dropped_value = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * dropped_value ** 2)) ** -0.5
        b = -a * dropped_value * self.rate
        return a * (inputs * kept + dropped_value * (1 - kept)) + b

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": noise_shape}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rate={self.rate}"
