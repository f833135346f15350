"""TimeDistributed: one module applied to every timestep, as `keras.layers.TimeDistributed`."""
from __future__ import annotations

import inspect

import torch
from torch import nn
from torch.utils import _pytree as pytree

from ..._checks import describe, shape_text
from ...core.layer import Layer
from ...core.config import deserialize_layer, serialize_layer
from typing import Any
from ..._types import InputShape
from ...core.layer import LayerT
from ...core.registry import register_keras_class
from ...core.keras_arguments import read_wrapper


@register_keras_class("TimeDistributed", reader=read_wrapper, sublayers=("layer",))
class TimeDistributed(Layer):
    """Applies `layer` to every timestep of `(batch, time, ...)` inputs, as `keras.layers.TimeDistributed`.

    Time is folded into the batch, so the wrapped module runs once on
    `(batch * time, ...)`; outputs come back as `(batch, time, ...)`. Any
    `nn.Module` works (a kerasrnn_torch layer is built from the first input or
    an `input_shape=` hint, which includes the time axis). The weights,
    `get_weights`, `set_weights` and `count_params` are the wrapped module's.

    Masks: the mask passes on unchanged (Keras's rule). When the wrapped
    module's `forward` takes `mask`, it gets each step's slice, folded like
    the input, as Keras does: `(batch * time,)` for a `(batch, time)` mask,
    `(batch * time, inner_time)` for a `(batch, time, inner_time)` mask (a
    wrapped recurrent layer). `training` is passed on when accepted.

    Args:
        layer: the module to apply (e.g. `Dense(8)` or `nn.Linear(4, 8)`).
        name, input_shape, device, dtype: see `Layer`.

    >>> layer = TimeDistributed(Dense(8))
    >>> layer(torch.randn(2, 10, 4)).shape
    torch.Size([2, 10, 8])
    """

    def __init__(self, layer: nn.Module, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        if not isinstance(layer, nn.Module):
            raise TypeError(f"{describe(self)}: `layer` must be an nn.Module (e.g. Dense(8) or nn.Linear(4, 8)), "
                            f"got {type(layer).__name__}")
        self.layer = layer
        self._layer_takes = _keyword_arguments(layer)
        self.build_from_hint()

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], f"{cls.__name__} {config.get('name')!r}")
        return super().from_config(config)

    # The wrapped module owns every weight, so this wrapper is built when it is.
    @property
    def built(self) -> bool:
        layer = self._modules.get("layer")
        return layer is not None and (not isinstance(layer, Layer) or layer.built)

    @built.setter
    def built(self, value: bool) -> None:
        pass

    def build(self, input_shape: InputShape) -> None:
        self._check_rank(len(input_shape), input_shape)
        if isinstance(self.layer, Layer):
            self.layer.maybe_build((None, *input_shape[2:]))

    def _check_rank(self, rank: int, shape):
        if rank < 3:
            raise ValueError(f"{describe(self)} expects inputs of shape (batch, time, ...) with at least 3 axes, "
                             f"got a {rank}-D input of shape {shape_text(shape)}")

    # Returns the wrapped layer's outputs (a tensor or a structure of them) with the time axis put back.
    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None, training: bool | None = None) -> Any:
        """Apply the wrapped layer to every step of `(batch, timesteps, ...)` inputs; `mask` reaches a layer that
        takes one, step by step; `training` reaches a layer that takes it."""
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"{describe(self)} expects a tensor of shape (batch, time, ...), "
                            f"got {type(inputs).__name__}")
        self._check_rank(inputs.dim(), inputs.shape)
        batch, time = inputs.shape[:2]
        kwargs: dict[str, Any] = {}
        if mask is not None:
            self._check_mask(mask, inputs)
            if "mask" in self._layer_takes:
                # Keras gives each step its slice of the mask: (batch,) for a (batch, time) mask.
                kwargs["mask"] = mask.flatten(0, 1)
        if "training" in self._layer_takes:
            kwargs["training"] = self.training if training is None else bool(training)
        outputs = self.layer(inputs.flatten(0, 1), **kwargs)
        return pytree.tree_map(lambda t: t.unflatten(0, (batch, time)) if isinstance(t, torch.Tensor) else t,
                               outputs)

    def _check_mask(self, mask: torch.Tensor | None, inputs: torch.Tensor):
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            got = f"dtype {mask.dtype}" if isinstance(mask, torch.Tensor) else type(mask).__name__
            raise TypeError(f"{describe(self)}: mask must be a bool tensor (True = use the step), got {got}")
        if mask.dim() < 2 or tuple(mask.shape[:2]) != tuple(inputs.shape[:2]):
            raise ValueError(f"{describe(self)}: mask must start with (batch, time) = "
                             f"({inputs.shape[0]}, {inputs.shape[1]}), got {shape_text(mask.shape)}")

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """The incoming mask, unchanged (Keras 3)."""
        return mask

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _keyword_arguments(module) -> set[str]:
    """Which of `mask` and `training` the module's forward accepts by name."""
    try:
        parameters = inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name in ("mask", "training") if name in parameters}
