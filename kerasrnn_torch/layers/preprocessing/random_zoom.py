"""RandomZoom, as `keras.layers.RandomZoom`: images zoomed in or out about their centre at random while
training."""
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


def zoom_range(value: Any, argument: str, owner: str) -> tuple[float, float]:
    """Keras's zoom factor: a number f in (-1, 1] means [-|f|, |f|]; a pair of them is (lower, upper) in any order."""
    def fraction(number: Any) -> float:
        if isinstance(number, bool) or not isinstance(number, numbers.Real) or not -1.0 < float(number) <= 1.0:
            raise ValueError(f"{owner}: `{argument}` must be a number in (-1, 1] or a pair of them, got {value!r}")
        return float(number)
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{owner}: `{argument}` must be a number in (-1, 1] or a pair of them, got {value!r}")
        low, high = sorted(fraction(number) for number in value)
        return low, high
    magnitude = abs(fraction(value))
    return -magnitude, magnitude


@register_keras_class("RandomZoom")
class RandomZoom(Layer):
    """Zooms images about their centre at random while training, as `keras.layers.RandomZoom` on torch.

    Takes one image `(height, width, channels)` or a batch (`data_format="channels_first"`: channels
    before the rows). While training (`training=True`, or `training=None` with the module in train mode)
    output row i of an image reads input row `c + (i - c) * (1 + u)` (c the centre row), `u` drawn
    uniformly from `height_factor`'s range, one per image, and the columns likewise with `width_factor`
    (None: the rows' draw, keeping the aspect ratio): a positive `u` zooms out, a negative one in. The
    positions that fall outside the image are filled by `fill_mode`. Outside training the images come back
    unchanged. Either way the result is in the layer's float dtype.

    Args:
        height_factor: a number f in (-1, 1] (the range [-|f|, |f|]) or a pair (lower, upper).
        width_factor: the same for the columns, or None (default) for the rows' zoom.
        fill_mode: "reflect" (default; the edge pixel repeated, then the image mirrored), "wrap",
            "constant" (`fill_value`) or "nearest" (the edge pixel).
        interpolation: "bilinear" (default) or "nearest".
        seed: integer for a reproducible stream of zooms (None: PyTorch's global RNG).
        fill_value: the "constant" fill (0).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> zoom_out = RandomZoom((1.0, 1.0), fill_mode="constant", interpolation="nearest")
    >>> zoom_out(torch.arange(1.0, 4.0).reshape(3, 1, 1), training=True).flatten().tolist()
    [0.0, 2.0, 0.0]
    """

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.height_range = zoom_range(height_factor, "height_factor", owner)
        self.width_range = None if width_factor is None else zoom_range(width_factor, "width_factor", owner)
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
        return (1.0 + low) + (high - low) * draws

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """The images, each zoomed at random while training; unchanged otherwise."""
        images = _image.checked_images(inputs, describe(self), self.data_format)
        x = images.to(_image.float_dtype(self.factory_kwargs["dtype"]))
        training = self.training if training is None else bool(training)
        if training:
            rows, cols = _image.spatial_axes(self.data_format)
            row_zoom = self._draw(self.height_range, x.shape[0], x.device)
            col_zoom = row_zoom if self.width_range is None else self._draw(self.width_range, x.shape[0], x.device)
            fill = float(self.fill_value)
            for axis, zoom in ((rows, row_zoom), (cols, col_zoom)):
                offset = (x.shape[axis] - 1.0) / 2.0 * (1.0 - zoom)
                x = _sampling.sample_axis(x, axis, zoom, offset, self.interpolation, self.fill_mode, fill)
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
