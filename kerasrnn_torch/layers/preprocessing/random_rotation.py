"""RandomRotation, as `keras.layers.RandomRotation`: images turned about their centre at random while training."""
from __future__ import annotations

import math
from typing import Any

import torch

from ..._checks import describe
from ...core.registry import register_keras_class
from . import _sampling
from ._geometric import RandomGeometric, factor_range


@register_keras_class("RandomRotation")
class RandomRotation(RandomGeometric):
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
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **layer_kwargs)
        self.factor = factor_range(factor, "factor", describe(self))

    def transform(self, images: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
        """Each image turned about its centre by 360 times its draw, in degrees."""
        height, width = images.shape[rows], images.shape[cols]
        angles = self.draw(self.factor, images.shape[0], images.device) * (2.0 * math.pi)
        cos, sin = torch.cos(angles), torch.sin(angles)
        centre_col, centre_row = 0.5 * (width - 1), 0.5 * (height - 1)
        # Input column = cos * j - sin * i + col_shift; input row = sin * j + cos * i + row_shift (Keras's matrix
        # for a turn about the centre).
        col_shift = centre_col - centre_col * cos + centre_row * sin
        row_shift = centre_row - centre_col * sin - centre_row * cos
        i = torch.arange(height, dtype=torch.float32, device=images.device).reshape(1, -1, 1)
        j = torch.arange(width, dtype=torch.float32, device=images.device).reshape(1, 1, -1)
        per_image = (-1, 1, 1)
        row_coordinates = i * cos.reshape(per_image) + j * sin.reshape(per_image) + row_shift.reshape(per_image)
        col_coordinates = i * -sin.reshape(per_image) + j * cos.reshape(per_image) + col_shift.reshape(per_image)
        return _sampling.sample_plane(images, rows, row_coordinates, col_coordinates, self.interpolation,
                                      self.fill_mode, float(self.fill_value))

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, factor={self.factor!r}, fill_mode={self.fill_mode!r}"
