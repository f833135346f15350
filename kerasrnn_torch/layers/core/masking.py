"""Masking: skip timesteps whose features all equal a padding value, as `keras.layers.Masking`."""
from __future__ import annotations

import weakref

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
        self._memo: tuple[Any, int, torch.Tensor] | None = None     # (weak input, its version, its kept steps)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_memo"] = None               # a weak reference does not pickle; the memo is rebuilt on use
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("_memo", None)     # pickles made before the memo existed

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}

    def keras_mask_sources(self, inputs: list, masks: list) -> tuple:
        """Keras's mask is `any(not_equal(inputs, mask_value))`: two operations on the input."""
        return ((inputs[0].node, 3),)

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """True where some feature differs from `mask_value` (the incoming mask is replaced, as in Keras)."""
        return self._kept_steps(inputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` with the steps whose features all equal `mask_value` set to zero; see `compute_mask`."""
        require_tensor(inputs, describe(self), "a tensor of shape (batch, timesteps, features)")
        self.maybe_build(inputs.shape)
        keep = self._kept_steps(inputs).unsqueeze(-1)
        if self._zero_value(inputs):
            # A masked step holds only zeros already (of either sign): the output is the inputs, copied, or their
            # product with the mask where a gradient flows back (none reaches a masked step, as in Keras). Both
            # are several times cheaper than a selection.
            return inputs * keep if inputs.requires_grad and torch.is_grad_enabled() else inputs.clone()
        # Keras selects rather than multiplies: with mask_value=inf a masked step gives zeros, not nan.
        return torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))

    def _zero_value(self, inputs: torch.Tensor) -> bool:
        return type(self.mask_value) in (int, float) and self.mask_value == 0 \
            and inputs.dtype in (torch.float32, torch.float64) and inputs.dim() > 0

    def _kept_steps(self, inputs: torch.Tensor) -> torch.Tensor:
        """`any(inputs != mask_value, axis=-1)`, computed once per input tensor: a functional model asks for it
        twice per call (the output and the mask), and it costs more than the multiplication."""
        memo = self._memo
        if memo is not None and memo[0]() is inputs and memo[1] == inputs._version:
            return memo[2]
        if self._zero_value(inputs):
            # The sum of the features' absolute values is zero exactly when every one is (NaN and inf
            # included), and a product with ones is several times cheaper than a comparison and a reduction
            # over a short last axis. The values are scaled by 2**60 first, so that subnormal ones (which a
            # BLAS may read as zeros) become normal; a value that overflows is inf, still not zero.
            plain = inputs.detach()
            scaled = plain.abs().mul_(2.0 ** 60)
            keep = scaled @ torch.ones(plain.shape[-1], dtype=plain.dtype, device=plain.device) != 0
        else:
            keep = (inputs != self.mask_value).any(dim=-1)
        if not torch.compiler.is_compiling():
            self._memo = (weakref.ref(inputs), inputs._version, keep)
        return keep

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mask_value={self.mask_value!r}"
