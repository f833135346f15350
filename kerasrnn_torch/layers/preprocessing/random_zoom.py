"""RandomZoom, as `keras.layers.RandomZoom`: images zoomed in or out about their centre at random while
training."""
from __future__ import annotations

from typing import Any

import torch

from ..._checks import describe
from ...core.registry import register_keras_class
from . import _sampling
from ._geometric import RandomGeometric, factor_range


@register_keras_class("RandomZoom")
class RandomZoom(RandomGeometric):
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
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **layer_kwargs)
        owner = describe(self)
        self.height_range = factor_range(height_factor, "height_factor", owner, open_below=True)
        self.width_range = None if width_factor is None else \
            factor_range(width_factor, "width_factor", owner, open_below=True)
        self.height_factor, self.width_factor = height_factor, width_factor

    def transform(self, images: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
        """Each image zoomed about its centre by 1 + its draws (the columns by the rows' draw without a width factor)."""
        row_zoom = 1.0 + self.draw(self.height_range, images.shape[0], images.device)
        col_zoom = row_zoom if self.width_range is None else \
            1.0 + self.draw(self.width_range, images.shape[0], images.device)
        fill = float(self.fill_value)
        for axis, zoom in ((rows, row_zoom), (cols, col_zoom)):
            offset = (images.shape[axis] - 1.0) / 2.0 * (1.0 - zoom)
            images = _sampling.sample_axis(images, axis, zoom, offset, self.interpolation, self.fill_mode, fill)
        return images

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, height_factor={self.height_factor!r}, width_factor={self.width_factor!r}, "
                f"fill_mode={self.fill_mode!r}")
