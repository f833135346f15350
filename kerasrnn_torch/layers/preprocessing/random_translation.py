"""RandomTranslation, as `keras.layers.RandomTranslation`: images moved by a random fraction of their size
while training."""
from __future__ import annotations

from typing import Any

import torch

from ..._checks import describe
from ...core.registry import register_keras_class
from . import _sampling
from ._geometric import RandomGeometric, factor_range


@register_keras_class("RandomTranslation")
class RandomTranslation(RandomGeometric):
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
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **layer_kwargs)
        owner = describe(self)
        self.height_range = factor_range(height_factor, "height_factor", owner)
        self.width_range = factor_range(width_factor, "width_factor", owner)
        self.height_factor, self.width_factor = height_factor, width_factor

    def transform(self, images: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
        """Each image moved down and right by its draws' fractions of its size."""
        down = self.draw(self.height_range, images.shape[0], images.device) * images.shape[rows]
        right = self.draw(self.width_range, images.shape[0], images.device) * images.shape[cols]
        ones = torch.ones_like(down)
        fill = float(self.fill_value)
        images = _sampling.sample_axis(images, rows, ones, -down, self.interpolation, self.fill_mode, fill)
        return _sampling.sample_axis(images, cols, ones, -right, self.interpolation, self.fill_mode, fill)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, height_factor={self.height_factor!r}, width_factor={self.width_factor!r}, "
                f"fill_mode={self.fill_mode!r}")
