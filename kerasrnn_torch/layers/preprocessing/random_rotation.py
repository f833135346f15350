"""RandomRotation, as `keras.layers.RandomRotation`: images turned about their centre at random while training."""
from __future__ import annotations

import math
from typing import Any

import torch

from ..._checks import describe, one_of
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class
from ...seeding import SeededGenerators
from . import _image, _sampling
from .random_translation import factor_range


@register_keras_class("RandomRotation")
class RandomRotation(Layer):
    """Turns images about their centre at random while training, as `keras.layers.RandomRotation` on torch.

    Takes one image `(height, width, channels)` or a batch (`data_format="channels_first"`: channels
    before the rows). While training (`training=True`, or `training=None` with the module in train mode)
    each image turns by `360 * u` degrees (positive: counter-clockwise as the image is shown, rows going
    down), `u` drawn uniformly from `factor`'s range, one per image; the corners it uncovers are filled by
    `fill_mode`. Outside training the images come back unchanged. Either way the result is in the layer's
    float dtype.

    Args:
        factor: a number f in [-1, 1] (the range [-|f|, |f|] of full turns) or a pair (lower, upper).
        fill_mode: "reflect" (default; the edge pixel repeated, then the image mirrored), "wrap",
            "constant" (`fill_value`) or "nearest" (the edge pixel).
        interpolation: "bilinear" (default) or "nearest".
        seed: integer for a reproducible stream of turns (None: PyTorch's global RNG).
        fill_value: the "constant" fill (0).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> half_turn = RandomRotation((0.5, 0.5), interpolation="nearest")
    >>> half_turn(torch.tensor([[[1.0], [2.0]], [[3.0], [4.0]]]), training=True).flatten().tolist()
    [4.0, 3.0, 2.0, 1.0]
    """

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format: str | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.factor = factor_range(factor, "factor", owner)
        self.fill_mode = one_of(fill_mode, _sampling.FILL_MODES, "fill_mode", owner)
        self.interpolation = one_of(interpolation, ("bilinear", "nearest"), "interpolation", owner)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)):
            raise ValueError(f"{owner}: `fill_value` must be a number, got {fill_value!r}")
        self.fill_value = fill_value
        self.data_format = standardize_data_format(data_format, owner)
        self._generators = SeededGenerators(seed)
        self.seed = seed

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """The images, each turned at random while training; unchanged otherwise."""
        images = _image.checked_images(inputs, describe(self), self.data_format)
        x = images.to(_image.float_dtype(self.factory_kwargs["dtype"]))
        training = self.training if training is None else bool(training)
        if not training:
            return x if inputs.dim() == 4 else x.squeeze(0)
        rows, cols = _image.spatial_axes(self.data_format)
        height, width = x.shape[rows], x.shape[cols]
        low, high = self.factor
        draws = torch.rand(x.shape[0], generator=self._generators.get(x.device), device=x.device)
        angles = (low * 360.0 + (high * 360.0 - low * 360.0) * draws) * (math.pi / 180.0)
        cos, sin = torch.cos(angles), torch.sin(angles)
        centre_col, centre_row = 0.5 * (width - 1), 0.5 * (height - 1)
        # Input column = cos * j - sin * i + col_shift; input row = sin * j + cos * i + row_shift (Keras's matrix
        # for a turn about the centre).
        col_shift = centre_col - centre_col * cos + centre_row * sin
        row_shift = centre_row - centre_col * sin - centre_row * cos
        i = torch.arange(height, dtype=torch.float32, device=x.device).reshape(1, -1, 1)
        j = torch.arange(width, dtype=torch.float32, device=x.device).reshape(1, 1, -1)
        per_image = (-1, 1, 1)
        row_coordinates = i * cos.reshape(per_image) + j * sin.reshape(per_image) + row_shift.reshape(per_image)
        col_coordinates = i * -sin.reshape(per_image) + j * cos.reshape(per_image) + col_shift.reshape(per_image)
        out = _sampling.sample_plane(x, rows, row_coordinates, col_coordinates, self.interpolation, self.fill_mode,
                                     float(self.fill_value))
        return out if inputs.dim() == 4 else out.squeeze(0)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value, "interpolation": self.interpolation,
                "seed": self.seed}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, factor={self.factor!r}, fill_mode={self.fill_mode!r}"
