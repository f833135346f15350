"""SpatialDropout1D, GaussianNoise and GaussianDropout, as their `keras.layers` namesakes.

Each acts only while training (`training=True`, or `training=None` with the
module in train mode) and passes the mask on; `seed` gives a reproducible
stream of draws, as `Dropout`'s does.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from ..._checks import describe, require_tensor, shape_text
from ..._types import InputShape
from ...core.layer import Layer
from ...core.data_format import standardize as standardize_data_format
from ...core.registry import register_keras_class
from ...seeding import SeededGenerators
from .dense import Dropout


def _unit_interval(value: Any, argument: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{owner}: `{argument}` must be a float in [0, 1], got {value!r}")
    return float(value)


def _spatial_config(layer: Dropout, dropout_config: dict) -> dict:
    """Keras's SpatialDropout config: rate, seed, name and the dtype as its name ("float32"), nothing else."""
    policy = dropout_config["dtype"]
    dtype = policy["config"]["name"] if isinstance(policy, dict) else policy
    return {"rate": layer.rate, "seed": layer.seed, "name": layer.name, "dtype": dtype}


@register_keras_class("SpatialDropout1D")
class SpatialDropout1D(Dropout):
    """Drops whole feature channels of a sequence, as `keras.layers.SpatialDropout1D`.

    For `(batch, steps, features)` inputs one draw per (sample, feature) is
    shared by every step; kept values are scaled by `1 / (1 - rate)`.

    Args:
        rate: fraction of the channels to drop, in [0, 1].
        seed: integer for a reproducible stream of masks (None: PyTorch's
            global RNG).
        name, dtype: see `Layer`.

    >>> SpatialDropout1D(0.5).eval()(torch.ones(1, 3, 2)).sum().item()
    6.0
    """

    def __init__(self, rate: float, seed: int | None = None, **layer_kwargs: Any) -> None:
        super().__init__(rate, noise_shape=(None, 1, None), seed=seed, **layer_kwargs)

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """Drop whole channels of `(batch, steps, features)` inputs while training."""
        require_tensor(inputs, describe(self), "a tensor of shape (batch, steps, features)")
        if inputs.dim() != 3:
            raise ValueError(f"{describe(self)} expects inputs of shape (batch, steps, features), got shape "
                             f"{shape_text(inputs.shape)}")
        return super().forward(inputs, training=training)

    def get_config(self) -> dict:
        return _spatial_config(self, super().get_config())


class _SpatialDropoutND(Dropout):
    """Keras's SpatialDropout2D/3D: one draw per (sample, channel), shared over the spatial axes."""

    rank: int = 2

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **layer_kwargs: Any) -> None:
        data_format = standardize_data_format(data_format, f"{type(self).__name__}")
        ones = (1,) * self.rank
        noise = (None, *ones, None) if data_format == "channels_last" else (None, None, *ones)
        super().__init__(rate, noise_shape=noise, seed=seed, **layer_kwargs)
        self.data_format = data_format

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """Drop whole channels of `(batch, *spatial, channels)` inputs (channels first: `(batch, channels,
        *spatial)`) while training."""
        require_tensor(inputs, describe(self), f"a {self.rank + 2}-D tensor")
        if inputs.dim() != self.rank + 2:
            raise ValueError(f"{describe(self)} expects {self.rank + 2}-D inputs (batch, {self.rank} spatial axes, "
                             f"channels; {self.data_format}), got shape {shape_text(inputs.shape)}")
        return super().forward(inputs, training=training)

    def get_config(self) -> dict:
        return {**_spatial_config(self, super().get_config()), "data_format": self.data_format}


@register_keras_class("SpatialDropout2D")
class SpatialDropout2D(_SpatialDropoutND):
    """Drops whole channels of an image, as `keras.layers.SpatialDropout2D`.

    For `(batch, rows, cols, channels)` inputs (`data_format="channels_first"`: `(batch, channels, rows,
    cols)`) one draw per (sample, channel) is shared by every position; kept values are scaled by
    `1 / (1 - rate)`.

    Args:
        rate: fraction of the channels to drop, in [0, 1].
        data_format: "channels_last" (default) or "channels_first".
        seed: integer for a reproducible stream of masks (None: PyTorch's global RNG).
        name, dtype: see `Layer`.

    >>> out = SpatialDropout2D(0.5, seed=0)(torch.ones(1, 2, 2, 3), training=True)
    >>> bool((out == out[:, :1, :1]).all())      # one draw per channel, shared by every position
    True
    """

    rank = 2


@register_keras_class("SpatialDropout3D")
class SpatialDropout3D(_SpatialDropoutND):
    """Drops whole channels of a volume, as `keras.layers.SpatialDropout3D`.

    For `(batch, dim1, dim2, dim3, channels)` inputs (channels first: `(batch, channels, dim1, dim2,
    dim3)`) one draw per (sample, channel) is shared by every position; kept values are scaled by
    `1 / (1 - rate)`.

    Args:
        rate: fraction of the channels to drop, in [0, 1].
        data_format: "channels_last" (default) or "channels_first".
        seed: integer for a reproducible stream of masks (None: PyTorch's global RNG).
        name, dtype: see `Layer`.

    >>> SpatialDropout3D(0.5).eval()(torch.ones(1, 2, 2, 2, 3)).sum().item()
    24.0
    """

    rank = 3


class _Noise(Layer):
    supports_masking = True

    def __init__(self, seed: int | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.seed = seed
        self._generators = SeededGenerators(seed)

    def _training(self, training: bool | None) -> bool:
        return self.training if training is None else bool(training)

    def _normal(self, inputs: torch.Tensor) -> torch.Tensor:
        noise = torch.empty_like(inputs)
        return noise.normal_(generator=self._generators.get(inputs.device))

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)


@register_keras_class("GaussianNoise")
class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of `stddev` while training, as `keras.layers.GaussianNoise`.

    Args:
        stddev: the noise's standard deviation, in [0, 1] (Keras's bound).
        seed: integer for a reproducible stream of noise (None: PyTorch's global RNG).
        name, device, dtype: see `Layer`.

    >>> GaussianNoise(0.1).eval()(torch.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, stddev: float, seed: int | None = None, **layer_kwargs: Any) -> None:
        super().__init__(seed, **layer_kwargs)
        self.stddev = _unit_interval(stddev, "stddev", describe(self))

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """`inputs + N(0, stddev)` while training; `inputs` otherwise."""
        require_tensor(inputs, describe(self))
        if not self._training(training) or self.stddev == 0:
            return inputs
        return inputs + self.stddev * self._normal(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, stddev={self.stddev}"


@register_keras_class("GaussianDropout")
class GaussianDropout(_Noise):
    """Multiplies by Gaussian noise of mean 1 while training, as `keras.layers.GaussianDropout`.

    The noise's standard deviation is `sqrt(rate / (1 - rate))`.

    Args:
        rate: the drop probability this noise stands for, in [0, 1].
        seed: integer for a reproducible stream of noise (None: PyTorch's global RNG).
        name, device, dtype: see `Layer`.

    >>> GaussianDropout(0.2).eval()(torch.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, rate: float, seed: int | None = None, **layer_kwargs: Any) -> None:
        super().__init__(seed, **layer_kwargs)
        self.rate = _unit_interval(rate, "rate", describe(self))

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """`inputs * N(1, sqrt(rate / (1 - rate)))` while training; `inputs` otherwise."""
        require_tensor(inputs, describe(self))
        if not self._training(training) or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate)) if self.rate < 1 else math.inf
        return inputs * (1.0 + stddev * self._normal(inputs))

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rate={self.rate}"
