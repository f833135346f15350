"""RandomFlip, as `keras.layers.RandomFlip`: images flipped at random while training."""
from __future__ import annotations

from typing import Any

import torch

from ..._checks import describe, one_of
from ..._types import InputShape
from ...core.data_format import standardize as standardize_data_format
from ...core.layer import Layer
from ...core.registry import register_keras_class
from ...seeding import SeededGenerators
from . import _image

MODES = ("horizontal", "vertical", "horizontal_and_vertical")


@register_keras_class("RandomFlip")
class RandomFlip(Layer):
    """Flips images at random while training, as `keras.layers.RandomFlip` (Keras 3.15).

    Takes one image `(height, width, channels)` or a batch (`data_format="channels_first"`: channels
    before the rows). While training (`training=True`, or `training=None` with the module in train mode)
    each image is flipped with probability 1/2, one draw per image: "horizontal" reverses its columns,
    "vertical" its rows, and "horizontal_and_vertical" both at once (one draw for both, as in Keras, so an
    image comes back as it was or turned by 180 degrees). Outside training the images come back unchanged.
    Either way the result is in the layer's float dtype.

    Args:
        mode: "horizontal", "vertical" or "horizontal_and_vertical" (default).
        seed: integer for a reproducible stream of flips (None: PyTorch's global RNG).
        data_format: "channels_last" (default; None means the same) or "channels_first".
        name, device, dtype: see `Layer`.

    >>> RandomFlip("horizontal").eval()(torch.tensor([[[1.0], [2.0]]])).flatten().tolist()
    [1.0, 2.0]
    """

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, data_format: str | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.mode = one_of(mode, MODES, "mode", owner)
        self.data_format = standardize_data_format(data_format, owner)
        self._generators = SeededGenerators(seed)
        self.seed = seed

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """The images, each flipped with probability 1/2 while training; unchanged otherwise."""
        images = _image.checked_images(inputs, describe(self), self.data_format)
        x = images.to(_image.float_dtype(self.factory_kwargs["dtype"]))
        training = self.training if training is None else bool(training)
        if training:
            draws = torch.rand(x.shape[0], 1, 1, 1, generator=self._generators.get(x.device), device=x.device)
            flips = draws <= 0.5
            rows, cols = _image.spatial_axes(self.data_format)
            axes = {"horizontal": [cols], "vertical": [rows], "horizontal_and_vertical": [rows, cols]}[self.mode]
            x = torch.where(flips, x.flip(axes), x)
        return x if inputs.dim() == 4 else x.squeeze(0)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "seed": self.seed, "mode": self.mode}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mode={self.mode!r}, seed={self.seed!r}"
