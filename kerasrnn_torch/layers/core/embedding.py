"""Embedding: integer ids -> rows of a learned matrix, as `keras.layers.Embedding`."""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ... import constraints, regularizers
from ..._checks import describe, positive_int, shape_text
from ...core.layer import Layer
from ...core.config import activity_regularizer, weight_options, without_quantization
from collections.abc import Sequence
from typing import Any
from ..._types import ConstraintLike, InitializerLike, InputShape, RegularizerLike, ShapeLike
from ...core.layer import LayerT
from ...core.registry import register_keras_class
from ...core.keras_arguments import options_reader


@register_keras_class("Embedding", reader=options_reader("input_dim", "output_dim", "mask_zero", "input_length"))
class Embedding(Layer):
    """Turns integer ids in [0, input_dim) into dense vectors, as `keras.layers.Embedding`.

    `(batch, ...)` integer ids -> `(batch, ..., output_dim)`. The weight
    `embeddings (input_dim, output_dim)` exists from construction, since its
    shape is known.

    Args:
        input_dim: vocabulary size (largest id + 1). Unlike other layers, this
            is not the feature-size hint.
        output_dim: size of each embedding vector.
        embeddings_initializer: Keras name or callable (default "uniform",
            U(-0.05, 0.05)).
        embeddings_regularizer, embeddings_constraint, activity_regularizer:
            as Keras (None by default).
        mask_zero: if True, id 0 is padding: `compute_mask(ids)` returns
            `ids != 0` for the layers downstream.
        weights: optional initial matrix `(input_dim, output_dim)` (or a list
            holding it), as Keras.
        input_length: Keras 2's sequence-length hint; kept, like
            `input_shape=`, only to describe the input (e.g. in `summary`).
        name, input_shape, device, dtype: see `Layer`.

    Ids must be integers (a float tensor raises TypeError) inside
    [0, input_dim) (else ValueError naming the id; checking costs one
    device-to-host copy per call, which spares CUDA users a device-side assert).

    >>> embed = Embedding(1000, 64, mask_zero=True)
    >>> ids = torch.tensor([[5, 7, 0]])
    >>> embed(ids).shape, embed.compute_mask(ids)
    (torch.Size([1, 3, 64]), tensor([[ True,  True, False]]))
    """

    embeddings: torch.Tensor

    # The documented positional order (mask_zero fourth); Keras 3 puts the regularizer and constraint first.
    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: InitializerLike = "uniform",
                 mask_zero: bool = False, embeddings_regularizer: RegularizerLike = None,
                 embeddings_constraint: ConstraintLike = None, weights: Sequence[Any] | None = None, *,
                 activity_regularizer: RegularizerLike = None, input_length: int | None = None,
                 input_shape: ShapeLike | None = None,
                 **layer_kwargs: Any) -> None:
        input_shape = _input_shape_hint(input_length, input_shape, type(self).__name__)
        super().__init__(input_shape=input_shape, **layer_kwargs)
        owner = describe(self)
        self.input_dim = positive_int(input_dim, "input_dim", owner)
        self.output_dim = positive_int(output_dim, "output_dim", owner)
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero      # as Keras: only an Embedding that masks supports masking
        self.input_length = input_length
        self.build(None)
        if weights is not None:
            self.set_weights(weights if isinstance(weights, (list, tuple)) else [weights])

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                **weight_options(self, ("embeddings",)), "activity_regularizer": activity_regularizer(self),
                "mask_zero": self.mask_zero, "quantization_config": None}

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        for argument in ("input_dim", "output_dim"):    # Keras raises TypeError for these in a configuration
            value = config.get(argument)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise TypeError(f"{cls.__name__} {config.get('name')!r}: `{argument}` must be a positive integer, "
                                f"got {value!r} in the configuration")
        return super().from_config(without_quantization(config, f"{cls.__name__} {config.get('name')!r}"))

    def build(self, input_shape: InputShape | None = None) -> None:
        if self.built:
            return
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                        regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Look up integer ids `(batch, ...)` -> `(batch, ..., output_dim)`; `compute_mask(ids)` gives the mask."""
        ids = self._checked_ids(inputs)
        outputs = F.embedding(ids, self.embeddings)
        self.record_activity(outputs)
        return outputs

    def _checked_ids(self, inputs: torch.Tensor) -> torch.Tensor:
        owner = describe(self)
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"{owner} expects a tensor of integer ids, got {type(inputs).__name__}")
        if inputs.is_complex() or inputs.dtype == torch.bool:
            raise TypeError(f"{owner} expects integer ids (torch.long or torch.int), got dtype {inputs.dtype}; "
                            "convert them with ids.long()")
        if torch.compiler.is_compiling():
            # The checks below read the ids' values, which a compiled or exported graph cannot:
            # traced, the ids go to the lookup unchecked (an out-of-range id fails in torch's own lookup).
            return inputs if inputs.dtype in (torch.int32, torch.int64) else inputs.long()
        if inputs.is_floating_point():
            # Keras casts float ids (keras.Input's default dtype is float32); only whole numbers are ids.
            fractional = inputs[inputs != inputs.round()]
            if fractional.numel():
                raise TypeError(f"{owner} expects integer ids (torch.long or torch.int), got dtype {inputs.dtype} "
                                f"with the non-integer value {fractional[0].item()!r}; ids are whole numbers")
            inputs = inputs.long()
        if inputs.numel():
            lowest, highest = (int(v) for v in torch.stack([inputs.min(), inputs.max()]).cpu())
            bad = lowest if lowest < 0 else highest if highest >= self.input_dim else None
            if bad is not None:
                raise ValueError(f"{owner} got id {bad} in input of shape {shape_text(inputs.shape)}; ids must lie "
                                 f"in [0, input_dim) = [0, {self.input_dim})")
        return inputs if inputs.dtype in (torch.int32, torch.int64) else inputs.long()

    def compute_output_shape(self, input_shape: InputShape) -> tuple[Any, ...]:
        return (*tuple(input_shape), self.output_dim)

    def keras_mask_sources(self, inputs: list, masks: list) -> tuple:
        """Keras's mask is one `not_equal` on the ids."""
        return ((inputs[0].node, 2),)

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        """`inputs != 0` when `mask_zero=True`, else None (the incoming mask is not kept, as in Keras)."""
        if not self.mask_zero:
            return None
        return inputs != 0

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, input_dim={self.input_dim}, output_dim={self.output_dim}"
                + (", mask_zero=True" if self.mask_zero else ""))


def _input_shape_hint(input_length, input_shape: ShapeLike | None, owner: str):
    """Keras 2's `input_length` is the sequence length, i.e. `input_shape=(input_length,)`."""
    if input_length is None:
        return input_shape
    if isinstance(input_length, bool) or not isinstance(input_length, numbers.Integral) or input_length <= 0:
        raise ValueError(f"{owner}: `input_length` must be a positive integer or None, got {input_length!r}")
    if input_shape is not None and tuple(input_shape) != (input_length,):
        raise ValueError(f"{owner}: input_length={input_length} disagrees with input_shape={tuple(input_shape)}; "
                         "pass one of them")
    return (int(input_length),)
