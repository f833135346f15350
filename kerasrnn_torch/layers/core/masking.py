"""Masking: skip timesteps whose features all equal a padding value, as `keras.layers.Masking`."""
from __future__ import annotations

import torch

from ..._checks import describe, require_tensor
from ...core.layer import Layer
from typing import Any
from ...core.registry import register_keras_class
from ...core.keras_arguments import options_reader


@register_keras_class("Masking", reader=options_reader("mask_value"))
class Masking(Layer):
    """Masks the steps whose every feature equals `mask_value`, as `keras.layers.Masking`.

    `compute_mask(inputs)` is True where any feature on the last axis differs
    from `mask_value` (`(batch, timesteps)` for `(batch, timesteps, features)`
    inputs); the forward pass returns the inputs with the masked steps set to
    zero. No weights.

    Args:
        mask_value: the padding value (default 0.0).
        name, device, dtype: see `Layer`.

    >>> x = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]])
    >>> Masking()(x).shape, Masking().compute_mask(x)
    (torch.Size([1, 2, 2]), tensor([[ True, False]]))
    """

    def __init__(self, mask_value: float = 0.0, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.mask_value = mask_value

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}

    def keras_mask_sources(self, inputs: list, masks: list) -> tuple:
        """Keras's mask is `any(not_equal(inputs, mask_value))`: two operations on the input."""
        return ((inputs[0].node, 3),)

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """True where some feature differs from `mask_value` (the incoming mask is replaced, as in Keras)."""
        return (inputs != self.mask_value).any(dim=-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` with the steps whose features all equal `mask_value` set to zero; see `compute_mask`."""
        require_tensor(inputs, describe(self), "a tensor of shape (batch, timesteps, features)")
        self.maybe_build(inputs.shape)
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        # Keras selects rather than multiplies: with mask_value=inf a masked step gives zeros, not nan.
        return torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mask_value={self.mask_value!r}"
