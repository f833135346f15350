"""What the random geometric image layers (RandomTranslation, RandomZoom, RandomRotation) share: Keras's
factor ranges, the fill and interpolation arguments, one seeded draw per image, and the layers' common
configuration and shape."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ..._checks import describe, one_of
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...seeding import SeededGenerators
from . import _image, _sampling


def factor_range(value: Any, argument: str, owner: str, open_below: bool = False) -> tuple[float, float]:
    """Keras's factor: a number f in [-1, 1] ((-1, 1] with `open_below`, as a zoom's) means [-|f|, |f|]; a pair
    of them is (lower, upper) in any order."""
    interval = "(-1, 1]" if open_below else "[-1, 1]"
    message = f"{owner}: `{argument}` must be a number in {interval} or a pair of them, got {value!r}"

    def fraction(number: Any) -> float:
        if isinstance(number, bool) or not isinstance(number, numbers.Real):
            raise ValueError(message)
        number = float(number)
        if not (-1.0 < number if open_below else -1.0 <= number) or number > 1.0:
            raise ValueError(message)
        return number
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(message)
        low, high = sorted(fraction(number) for number in value)
        return low, high
    magnitude = abs(fraction(value))
    return -magnitude, magnitude


class RandomGeometric(Layer):
    """The base of the random geometric layers: the images as floats, unchanged outside training, else
    `transform(images, rows_axis, cols_axis)` of the subclass. Configuration: `fill_mode`, `interpolation`,
    `seed`, `fill_value`, `data_format` (Keras's names and checks)."""

    def __init__(self, fill_mode: str, interpolation: str, seed: int | None, fill_value: float,
                 data_format: str | None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.fill_mode = one_of(fill_mode, _sampling.FILL_MODES, "fill_mode", owner)
        self.interpolation = one_of(interpolation, ("bilinear", "nearest"), "interpolation", owner)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)):
            raise ValueError(f"{owner}: `fill_value` must be a number, got {fill_value!r}")
        self.fill_value = fill_value
        self.data_format = standardize_data_format(data_format, owner)
        self._generators = SeededGenerators(seed)
        self.seed = seed

    def draw(self, low_high: tuple[float, float], count: int, device: torch.device) -> torch.Tensor:
        """`count` draws, uniform in [low, high], from the layer's stream (seeded, or PyTorch's global RNG)."""
        low, high = low_high
        draws = torch.rand(count, generator=self._generators.get(device), device=device)
        return low + (high - low) * draws

    def transform(self, images: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """The images, each transformed at random while training; unchanged otherwise (in the layer's float
        dtype either way)."""
        images = _image.checked_images(inputs, describe(self), self.data_format)
        x = images.to(_image.float_dtype(self.factory_kwargs["dtype"]))
        training = self.training if training is None else bool(training)
        if training:
            x = self.transform(x, *_image.spatial_axes(self.data_format))
        return x if inputs.dim() == 4 else x.squeeze(0)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed, "fill_value": self.fill_value}
