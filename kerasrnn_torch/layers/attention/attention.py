"""Attention (dot-product, Luong-style) and AdditiveAttention (Bahdanau-style), as `keras.layers.Attention` and
`keras.layers.AdditiveAttention`.

AdditiveAttention only changes the scores and its weight; input and mask
checks, masking, softmax and dropout are Attention's.
"""
from __future__ import annotations

import torch

from ..._checks import both, check_sizes, describe, rate, shape_text, sizes_equal
from ..._dtypes import autocast_enabled
from ...core.layer import Layer
from ...seeding import SeededGenerators
from ..core.dense import dropout
from collections.abc import Sequence
from typing import Any
from ..._types import InputShape
from ...core.registry import register_keras_class


@register_keras_class("Attention")
class Attention(Layer):
    """Dot-product attention (Luong-style), as `keras.layers.Attention`.

    Called on `[query, value]` or `[query, value, key]` (key defaults to
    value), shapes `(batch, Tq, dim)`, `(batch, Tv, value_dim)`,
    `(batch, Tv, dim)`; returns `(batch, Tq, value_dim)`, plus the attention
    distribution `(batch, Tq, Tv)` with `return_attention_scores=True`.

    Args:
        use_scale: learn a scalar `scale` (starts at 1) multiplying the scores
            (for "concat": the sum inside the tanh).
        score_mode: "dot" (`query @ key^T`) or "concat"
            (`concat_score_weight * sum(tanh(query + key))`, with a learned
            scalar starting at 1).
        dropout: fraction of the attention distribution dropped while training.
        seed: integer seed for the dropout (None: PyTorch's global RNG).
        name, device, dtype: see `Layer`.

    Call: `attention(inputs, mask=None, training=None,
    return_attention_scores=False, use_causal_mask=False)`, where `mask` is
    `[query_mask, value_mask]` (bool `(batch, Tq)` and `(batch, Tv)`, either
    may be None): value positions that are False get no attention, query
    positions that are False give zeros. `use_causal_mask=True` stops
    position i from attending to positions j > i. As in Keras, the returned
    scores are the distribution after dropout, and masked scores are lowered
    by 1e9 (65504 in float16) rather than set to minus infinity, so a fully
    masked row attends uniformly instead of producing nan.

    >>> attention = Attention()
    >>> attention([torch.randn(2, 5, 8), torch.randn(2, 7, 8)]).shape
    torch.Size([2, 5, 8])
    """

    # The weights `build` makes (declared for type checkers; None when the layer has none).
    scale: torch.Tensor | None
    concat_score_weight: torch.Tensor | None

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed: int | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.use_scale = bool(use_scale)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{owner}: Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}, "
                             f"got {score_mode!r}")
        self.score_mode = score_mode
        self.dropout = rate(dropout, "dropout", owner)
        self.seed = seed
        self._generators = SeededGenerators(seed)
        if type(self).build is Attention.build:
            self.build(None)    # a subclass's own build runs at the first call, with the input shapes

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}

    def build(self, input_shape: InputShape | None = None) -> None:
        # Scalars only, so the weights need no input shape (Keras creates them at the first call).
        if self.built:
            return
        if self.use_scale:
            self.add_weight("scale", (), "ones")
        else:
            self.register_parameter("scale", None)
        if self.score_mode == "concat":
            self.add_weight("concat_score_weight", (), "ones")
        else:
            self.register_parameter("concat_score_weight", None)
        self.built = True

    # ---------------------------------------------------------------- checks
    def _check_lists(self, inputs: Any, mask: Any = None) -> None:
        """Keras's checks of the call's structure: inputs a list of 2 or 3, mask None or a list of 2 or 3."""
        owner = describe(self)
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{owner} must be called on a list [query, value] or [query, value, key], got "
                             f"{type(inputs).__name__}")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{owner} takes an inputs list of length 2 or 3 ([query, value] or "
                             f"[query, value, key]), got a {type(inputs).__name__} of length {len(inputs)}")
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"{owner}: the layer mask must be a list [query_mask, value_mask] (either may be "
                                 f"None), got {type(mask).__name__}")
            if not 2 <= len(mask) <= 3:
                raise ValueError(f"{owner} takes a mask list of length 2 or 3 ([query_mask, value_mask]), got "
                                 f"one of length {len(mask)}")

    def _split_inputs(self, inputs: Sequence[torch.Tensor]):
        owner = describe(self)
        self._check_lists(inputs)
        if not all(isinstance(t, torch.Tensor) for t in inputs):
            raise TypeError(f"{owner}: query, value and key must be tensors, "
                            f"got [{', '.join(type(t).__name__ for t in inputs)}]")
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        for role, tensor in (("query", query), ("value", value), ("key", key)):
            if tensor.dim() < 3:
                raise ValueError(f"{owner}: {role} must have shape (batch, steps, features), "
                                 f"got {shape_text(tensor.shape)}")
            if not tensor.is_floating_point():
                raise TypeError(f"{owner}: {role} must be floating point, got dtype {tensor.dtype}")
        if not query.dtype == value.dtype == key.dtype and not autocast_enabled(query.device.type):
            raise TypeError(f"{owner}: query, value and key must share one dtype, got query {query.dtype}, "
                            f"value {value.dtype}, key {key.dtype}")
        def shapes():         # called only on failure: formatting a traced size would fix it
            return f"query {shape_text(query.shape)}, value {shape_text(value.shape)}, key {shape_text(key.shape)}"
        check_sizes(query.shape[-1] == key.shape[-1],
                    lambda: f"{owner}: query and key must have the same feature size; got {shapes()}")
        check_sizes(key.shape[-2] == value.shape[-2],
                    lambda: f"{owner}: key and value must have the same number of steps Tv; got {shapes()}")
        check_sizes(both(sizes_equal(query.shape[:-2], key.shape[:-2]), sizes_equal(key.shape[:-2], value.shape[:-2])),
                    lambda: f"{owner}: query, value and key must share the batch axes; got {shapes()}")
        return query, value, key

    def _split_mask(self, mask: Sequence[torch.Tensor | None] | None, query, value: Any):
        """`(query_mask, value_mask)`, each None or a checked bool tensor."""
        if mask is None:
            return None, None
        owner = describe(self)
        self._check_lists([query, value], mask)
        checked = []
        for role, m, steps_of in (("query_mask", mask[0], query), ("value_mask", mask[1], value)):
            expected = (*steps_of.shape[:-1],)
            if m is not None:
                if not isinstance(m, torch.Tensor) or m.dtype != torch.bool:
                    got = f"dtype {m.dtype}" if isinstance(m, torch.Tensor) else type(m).__name__
                    raise TypeError(f"{owner}: {role} must be a bool tensor (True = use the step), got {got}")
                check_sizes(sizes_equal(tuple(m.shape), expected),
                            lambda: f"{owner}: {role} must have shape {shape_text(expected)}, "
                                    f"got {shape_text(m.shape)}")
            checked.append(m)
        return checked[0], checked[1]

    # --------------------------------------------------------------- forward
    def _scores(self, query, key):
        """Unnormalised scores `(batch, Tq, Tv)`."""
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores * self.scale if self.scale is not None else scores
        pairs = query.unsqueeze(-2) + key.unsqueeze(-3)         # (batch, Tq, Tv, dim)
        if self.scale is not None:
            pairs = self.scale * pairs
        weight = self.concat_score_weight
        assert weight is not None        # build makes it in "concat" mode
        return weight * torch.tanh(pairs).sum(dim=-1)

    def forward(self, inputs: Sequence[torch.Tensor], mask: Sequence[torch.Tensor | None] | None = None,
                training: bool | None = None,
                return_attention_scores: bool = False, use_causal_mask: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Attend: `inputs` is `[query, value]` or `[query, value, key]`; `mask` is `[query_mask, value_mask]`
        (either may be None); `training` turns dropout on (None: `self.training`); `return_attention_scores`
        also returns the distribution; `use_causal_mask` stops step i from attending to later steps."""
        training = self.training if training is None else bool(training)
        query, value, key = self._split_inputs(inputs)
        if not self.built:
            self.build([tuple(t.shape) for t in inputs])
        query_mask, value_mask = self._split_mask(mask, query, value)
        scores = self._scores(query, key)

        allowed = None if value_mask is None else value_mask.unsqueeze(-2)    # (batch, 1, Tv)
        if use_causal_mask:
            causal = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril()
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:
            # Keras subtracts a large number (not -inf) so fully masked rows stay finite.
            big = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            scores = torch.where(allowed, scores, scores - big)

        distribution = torch.softmax(scores, dim=-1)
        if training and self.dropout > 0:
            distribution = dropout(distribution, self.dropout, generator=self._generators.get(scores.device))
        outputs = torch.matmul(distribution, value)
        if query_mask is not None:
            outputs = torch.where(query_mask.unsqueeze(-1), outputs,
                                  torch.zeros((), dtype=outputs.dtype, device=outputs.device))
        return (outputs, distribution) if return_attention_scores else outputs

    def compute_mask(self, inputs: Sequence[torch.Tensor], mask: Sequence[torch.Tensor | None] | None = None) -> Any:
        """The query mask (Keras): None when no mask or no query mask was given."""
        self._check_lists(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return torch.as_tensor(mask[0])

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, use_scale={self.use_scale}, score_mode={self.score_mode!r}, "
                f"dropout={self.dropout}")


@register_keras_class("AdditiveAttention")
class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention, as `keras.layers.AdditiveAttention`.

    Scores are `sum(scale * tanh(query + key), axis=-1)` for every
    (query step, key step) pair, with `scale` a learned vector of the feature
    size (glorot-uniform initialised, created from the first query or from
    `input_dim=` / `input_shape=(Tq, dim)`); without `use_scale` the plain sum.
    Everything else (inputs, masks, causal mask, dropout, returned scores,
    `compute_mask`) is `Attention`'s.

    Args:
        use_scale: learn the `scale` vector (default True).
        dropout: fraction of the attention distribution dropped while training.
        seed: integer seed for the dropout (None: PyTorch's global RNG).
        name, input_shape, input_dim, device, dtype: see `Layer`.

    >>> attention = AdditiveAttention()
    >>> attention([torch.randn(2, 5, 8), torch.randn(2, 7, 8)]).shape
    torch.Size([2, 5, 8])
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **layer_kwargs)
        self.build_from_hint()

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("scale", True)] if self.use_scale else []

    def build(self, input_shape: InputShape | None = None) -> None:
        # Keras sizes `scale` from the query's last axis, so it waits for the shapes [query, value(, key)].
        if self.built or input_shape is None:
            return
        query_shape = input_shape[0] if isinstance(input_shape[0], (list, tuple)) else input_shape
        dim = query_shape[-1]
        if dim is None:
            raise ValueError(f"{describe(self)}: the query's feature size must be known, got shape "
                             f"{shape_text(query_shape)}")
        if self.use_scale:
            self.add_weight("scale", (int(dim),), "glorot_uniform")
        else:
            self.register_parameter("scale", None)
        self.register_parameter("concat_score_weight", None)
        self.dim = int(dim)
        self.built = True

    def _scores(self, query, key):
        if query.shape[-1] != self.dim:
            raise ValueError(f"{describe(self)} was built for {self.dim} query features, got query of shape "
                             f"{shape_text(query.shape)}")
        tanh = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))            # (batch, Tq, Tv, dim)
        return (tanh * self.scale if self.scale is not None else tanh).sum(dim=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, use_scale={self.use_scale}, dropout={self.dropout}"
