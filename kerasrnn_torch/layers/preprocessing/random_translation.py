"""RandomTranslation, as `keras.layers.RandomTranslation`: images moved by a random fraction of their size
while training."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ..._checks import describe, one_of
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class
from ...seeding import SeededGenerators
from . import _image, _sampling


def factor_range(value: Any, argument: str, owner: str) -> tuple[float, float]:
    """Keras's factor: a number f in [-1, 1] means [-|f|, |f|]; a pair in [-1, 1] is (lower, upper) in any order."""
    def fraction(number: Any) -> float:
        if isinstance(number, bool) or not isinstance(number, numbers.Real) or not -1.0 <= float(number) <= 1.0:
            raise ValueError(f"{owner}: `{argument}` must be a number in [-1, 1] or a pair of them, got {value!r}")
        return float(number)
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{owner}: `{argument}` must be a number in [-1, 1] or a pair of them, got {value!r}")
        low, high = sorted(fraction(number) for number in value)
        return low, high
    magnitude = abs(fraction(value))
    return -magnitude, magnitude


@register_keras_class("RandomTranslation")
class RandomTranslation(Layer):
    """Moves images at random while training, as `keras.layers.RandomTranslation` on Keras's torch backend.

    Takes one image `(height, width, channels)` or a batch (`data_format="channels_first"`: channels
    before the rows). While training (`training=True`, or `training=None` with the module in train mode)
    each image moves down by `height * u` rows and right by `width * v` columns, `u` and `v` drawn
    uniformly from the factors' ranges (one pair per image; negative moves go up and left); the
    positions it leaves are filled by `fill_mode`. Outside training the images come back unchanged.
    Either way the result is in the layer's float dtype.

    Args:
        height_factor, width_factor: a number f in [-1, 1] (the range [-|f|, |f|]) or a pair (lower, upper).
        fill_mode: "reflect" (default; the edge pixel repeated, then the image mirrored), "wrap",
            "constant" (`fill_value`) or "nearest" (the edge pixel).
        interpolation: "bilinear" (default) or "nearest".
        seed: integer for a reproducible stream of moves (None: PyTorch's global RNG).
        fill_value: the "constant" fill (0).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> move = RandomTranslation((0.5, 0.5), 0.0, fill_mode="constant")
    >>> move(torch.tensor([[[1.0], [2.0]], [[3.0], [4.0]]]), training=True).flatten().tolist()
    [0.0, 0.0, 1.0, 2.0]
    """

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.height_range = factor_range(height_factor, "height_factor", owner)
        self.width_range = factor_range(width_factor, "width_factor", owner)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.fill_mode = one_of(fill_mode, _sampling.FILL_MODES, "fill_mode", owner)
        self.interpolation = one_of(interpolation, ("bilinear", "nearest"), "interpolation", owner)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)):
            raise ValueError(f"{owner}: `fill_value` must be a number, got {fill_value!r}")
        self.fill_value = fill_value
        self.data_format = standardize_data_format(data_format, owner)
        self._generators = SeededGenerators(seed)
        self.seed = seed

    def _draw(self, low_high: tuple[float, float], count: int, device: torch.device) -> torch.Tensor:
        low, high = low_high
        draws = torch.rand(count, generator=self._generators.get(device), device=device)
        return low + (high - low) * draws

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """The images, each moved at random while training; unchanged otherwise."""
        images = _image.checked_images(inputs, describe(self), self.data_format)
        x = images.to(_image.float_dtype(self.factory_kwargs["dtype"]))
        training = self.training if training is None else bool(training)
        if training:
            rows, cols = _image.spatial_axes(self.data_format)
            down = self._draw(self.height_range, x.shape[0], x.device) * x.shape[rows]
            right = self._draw(self.width_range, x.shape[0], x.device) * x.shape[cols]
            ones = torch.ones_like(down)
            fill = float(self.fill_value)
            x = _sampling.sample_axis(x, rows, ones, -down, self.interpolation, self.fill_mode, fill)
            x = _sampling.sample_axis(x, cols, ones, -right, self.interpolation, self.fill_mode, fill)
        return x if inputs.dim() == 4 else x.squeeze(0)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, height_factor={self.height_factor!r}, width_factor={self.width_factor!r}, "
                f"fill_mode={self.fill_mode!r}")
