"""MultiHeadAttention, as `keras.layers.MultiHeadAttention` (Transformer-style scaled dot-product attention).

`HeadProjection` is the one job of Keras's EinsumDense sublayers here: a
kernel contracting some trailing axes into others, plus a bias.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ... import activations, constraints, regularizers
from ..._checks import both, check_sizes, describe, rate, require_tensor, shape_text, sizes_equal
from ..._types import ConstraintLike, InitializerLike, InputShape, RegularizerLike
from ...seeding import SeededGenerators
from ..._dtypes import autocast_enabled
from ...core.layer import Layer
from ..core.dense import dropout
from ..core.einsum_dense import EinsumPlan, analyze_einsum, project, trailing_equation
from ...core.registry import register_keras_class


class HeadProjection(Layer):
    """`outputs[..., *out] = sum(inputs[..., *in] * kernel[*in, *out]) + bias[*out]` (Keras's EinsumDense).

    The kernel has shape `in_shape + out_shape` and the bias `out_shape`, as
    the EinsumDense sublayers of Keras's MultiHeadAttention lay them out.
    With a shape not known yet (None: the owner's inputs are not seen), the
    weights are placeholders until `create(in_shape, out_shape)`, so an
    optimizer made before then holds them, as PyTorch's lazy modules do.

    The einsum analysis and computation are EinsumDense's (`analyze_einsum`,
    `project`), for the equation `"...<in>,<in><out>->...<out>"`; the kernel's
    initializer takes its fans from those axes, as in Keras.
    """

    # The weights `add_weight` registers (declared for type checkers; `bias` is None without one).
    kernel: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, in_shape, out_shape, *, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                 bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, activation=None,
                 **layer_kwargs):
        super().__init__(**layer_kwargs)
        self.in_shape = None if in_shape is None else tuple(in_shape)
        self.out_shape = None if out_shape is None else tuple(out_shape)
        self.activation = activations.get(activation)
        self.activity_regularizer = activity_regularizer
        self.use_bias = bool(use_bias)
        self.plan: EinsumPlan | None = None
        self._weight_options = {"kernel_initializer": kernel_initializer, "bias_initializer": bias_initializer,
                                "kernel_regularizer": kernel_regularizer, "bias_regularizer": bias_regularizer,
                                "kernel_constraint": kernel_constraint, "bias_constraint": bias_constraint}
        if not self.use_bias:
            self.register_parameter("bias", None)
        if self.in_shape is not None and self.out_shape is not None:
            self.create(self.in_shape, self.out_shape)
        else:
            self.built = False
            self.declare_weights(self.expected_weights())

    def build(self, input_shape: InputShape) -> None:
        """Make the weights for inputs `(..., features)` (the owner normally calls `create` at its build)."""
        if self.out_shape is None or input_shape[-1] is None:
            raise ValueError(f"{describe(self)}: its owner's build gives this projection its shapes; "
                             f"it cannot build from inputs {shape_text(input_shape)} alone")
        self.create((int(input_shape[-1]),), self.out_shape)

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("kernel", True), ("bias", True)] if self.use_bias else [("kernel", True)]

    def create(self, in_shape: Sequence[int], out_shape: Sequence[int]) -> None:
        """Make (or fill the placeholders of) the kernel `in_shape + out_shape` and the bias `out_shape`."""
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        equation, new = trailing_equation(len(self.in_shape), len(self.out_shape))
        self.plan = plan = analyze_einsum(equation, new if self.use_bias else None, (None, *self.in_shape),
                                          self.out_shape, describe(self))
        options = self._weight_options
        self.add_weight("kernel", plan.kernel_shape, plan.kernel_initializer(options["kernel_initializer"]),
                        regularizer=options["kernel_regularizer"], constraint=options["kernel_constraint"])
        if plan.bias_shape is not None:
            self.add_weight("bias", plan.bias_shape, options["bias_initializer"],
                            regularizer=options["bias_regularizer"], constraint=options["bias_constraint"])
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.plan is None:
            raise ValueError(f"{describe(self)} runs once its owner's build has given it its shapes")
        outputs = self.activation(project(inputs, self.kernel, self.bias, self.plan))
        self.record_activity(outputs)
        return outputs

    def extra_repr(self) -> str:
        if not self.built:
            return f"name={self.name!r}, kernel=(not built)"
        return f"name={self.name!r}, kernel={shape_text(self.kernel.shape)}"


def _argument_int(value: Any, argument: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: the argument `{argument}` must be a positive integer, got {value!r}")
    return int(value)


def _check_value_key(layer, value_shape: Sequence[Any], key_shape: Sequence[Any]) -> None:
    """Keras's rule: value and key agree on every axis but the last."""
    check_sizes(sizes_equal(tuple(value_shape[1:-1]), tuple(key_shape[1:-1])),
                lambda: f"{describe(layer)}: all dimensions of `value` and `key`, except the last one, must be "
                        f"equal; got value {shape_text(value_shape)} and key {shape_text(key_shape)}")


def _and(layer, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    try:
        return a & b
    except RuntimeError:
        raise ValueError(f"{describe(layer)}: masks of shapes {shape_text(a.shape)} and {shape_text(b.shape)} "
                         "cannot be combined (they do not broadcast)") from None


class _HeadLayout:
    """Keras's attention over any axes, as matrix products: a projected tensor `(batch, d1..dn, heads, c)`
    goes to `(batch, free axes..., heads, attention steps, c)` (the attention axes flattened into one)."""

    def __init__(self, rank: int, axes: tuple[int, ...]) -> None:
        inner = range(1, rank - 1)
        self.free = [a for a in inner if a not in axes]
        self.axes = list(axes)
        heads = rank - 1            # the projected tensor has one more axis: heads before the channels
        self.order = [0, *self.free, heads, *self.axes, heads + 1]
        self.inverse = [self.order.index(i) for i in range(len(self.order))]

    def attention_sizes(self, x: torch.Tensor) -> list[int]:
        return [x.shape[a] for a in self.axes]

    def arrange(self, x: torch.Tensor) -> torch.Tensor:
        y = x.permute(self.order)
        return y.reshape(*y.shape[:len(self.free) + 2], -1, y.shape[-1])

    def restore(self, y: torch.Tensor, steps: list[int]) -> torch.Tensor:
        """`(batch, free..., heads, T, c)` back to `(batch, d1..dn, heads, c)`."""
        return y.reshape(*y.shape[:-2], *steps, y.shape[-1]).permute(self.inverse)


def _large_negative(dtype, for_softmax: bool) -> float:
    """What Keras puts at masked scores: -1e9 (-3e4 in float16) in its Softmax layer, -0.7 * max in its SDPA call."""
    if for_softmax:
        return -3e4 if dtype == torch.float16 else -1e9
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


@register_keras_class("MultiHeadAttention")
class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention, as `keras.layers.MultiHeadAttention`.

    `query (batch, T, query_dim)`, `value (batch, S, value_features)` and
    `key (batch, S, key_features)` (default: value) are projected to
    `num_heads` heads of `key_dim` (query, key) and `value_dim` (value)
    features; each head attends with `softmax(q k^T / sqrt(key_dim))`; the
    heads' outputs are projected back to `query_dim` (or `output_shape`).

    Weights, in Keras's order and layout (EinsumDense sublayers "query",
    "key", ["gate",] "value", "attention_output"): kernels
    `(features, num_heads, key_dim or value_dim)` with biases
    `(num_heads, key_dim or value_dim)`, then the output kernel
    `(num_heads, value_dim, *output_shape)` and bias `output_shape`, so
    `set_weights(keras_mha.get_weights())` loads a Keras layer. They are
    created at the first call, by `build(query_shape, value_shape,
    key_shape=None)`, or at construction from `input_shape=(T, features)` /
    `input_dim=features`, which describe the query and assume value and key
    of the same feature size (self-attention).

    Args:
        num_heads, key_dim: number of heads and their query/key size.
        value_dim: size of each head's value (default key_dim).
        dropout: fraction of the attention probabilities dropped while training.
        use_bias: whether the projections have biases.
        output_shape: an int or tuple, the output's trailing shape (default:
            the query's feature size).
        attention_axes: the axes attention runs over (None: every axis between
            the batch and the features; an int or a tuple, negative ones count
            from the end). Inputs may have any rank >= 3: the other inner axes
            are independent "batch" axes, and the softmax runs jointly over the
            key's attention axes, as in Keras.
        sliding_window: None or a positive int w: position i only attends to
            positions j with |i - j| < w (Keras 3.15).
        use_gate: multiply each head's output by `sigmoid` of a further
            projection of the query (Keras 3.15's gated attention).
        flash_attention: accepted for Keras compatibility (False or None; with
            True, Keras's restrictions apply: no dropout, no returned scores).
        kernel_initializer, bias_initializer: as Keras, for every projection.
        kernel_regularizer, bias_regularizer, activity_regularizer: as Keras,
            for every projection (the activity regularizer on each projection's
            output, as in Keras).
        kernel_constraint, bias_constraint: as Keras, for every projection.
        seed: integer seed for the dropout (None: PyTorch's global RNG).
        name, input_shape, input_dim, device, dtype: see `Layer`.

    Call: `mha(query, value, key=None, query_mask=None, value_mask=None,
    key_mask=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False, mask=None)`. Masks are bool:
    `query_mask (batch, T)`, `value_mask`/`key_mask (batch, S)` and
    `attention_mask` (True = attend: `(batch, T, S)`, `(T, S)` or
    `(batch, num_heads, T, S)`, any shape that broadcasts to the scores once
    Keras's missing axes are added before T) are combined with `&`,
    as Keras does with its inputs' `_keras_mask`s and these arguments
    (Keras takes the query's mask only from the tensor; pass it here as
    `query_mask`). `mask=` is the same masks as Keras's functional machinery
    passes them: `[query_mask, value_mask]` or `[query_mask, value_mask,
    key_mask]` (entries may be None), or a single tensor for the query.
    The output's mask (`compute_mask`) is the query mask.

    As in Keras, the returned scores `(batch, num_heads, T, S)` are taken
    before dropout, and a query row with nothing to attend to gives the
    average of the values when the layer has no dropout and scores are not
    returned (Keras's scaled-dot-product path) but zeros before the output
    projection otherwise (Keras's masked-softmax path).

    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> mha(torch.randn(3, 5, 8), torch.randn(3, 7, 6)).shape
    torch.Size([3, 5, 8])
    """

    sequence_input = True        # input_dim= is the query's feature size, any number of steps

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: int | Sequence[int] | None = None,
                 attention_axes: int | Sequence[int] | None = None, sliding_window: int | None = None,
                 flash_attention: bool | None = None, kernel_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", kernel_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 kernel_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 use_gate: bool = False, seed: int | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.num_heads = _argument_int(num_heads, "num_heads", owner)
        self.key_dim = _argument_int(key_dim, "key_dim", owner)
        self.value_dim = self.key_dim if value_dim is None else _argument_int(value_dim, "value_dim", owner)
        self.dropout = rate(dropout, "dropout", owner)
        self.use_bias, self.use_gate = bool(use_bias), bool(use_gate)
        self.output_shape = self._checked_output_shape(output_shape, owner)
        self.attention_axes = self._checked_attention_axes(attention_axes, owner)
        if sliding_window is not None:
            if isinstance(sliding_window, bool) or not isinstance(sliding_window, numbers.Integral) \
                    or sliding_window <= 0:
                raise ValueError(f"{owner}: `sliding_window` must be None or a positive integer, "
                                 f"got {sliding_window!r}")
            sliding_window = int(sliding_window)
        self.sliding_window = sliding_window
        self.flash_attention = bool(flash_attention)
        if self.flash_attention and self.dropout > 0:
            raise ValueError(f"{owner}: Dropout is not supported when flash attention is enabled "
                             "(flash_attention=True does not allow dropout, as in Keras); "
                             f"got dropout={self.dropout}")
        self.seed = seed
        self._generators = SeededGenerators(seed)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self._given = {"kernel_regularizer": kernel_regularizer, "bias_regularizer": bias_regularizer,
                       "activity_regularizer": activity_regularizer, "kernel_constraint": kernel_constraint,
                       "bias_constraint": bias_constraint}
        self._projection_kwargs = {
            "use_bias": self.use_bias, "kernel_initializer": kernel_initializer,
            "bias_initializer": bias_initializer, "kernel_regularizer": regularizers.get(kernel_regularizer),
            "bias_regularizer": regularizers.get(bias_regularizer),
            "activity_regularizer": regularizers.get(activity_regularizer),
            "kernel_constraint": constraints.get(kernel_constraint),
            "bias_constraint": constraints.get(bias_constraint)}
        self._dims: tuple[int, int, int] | None = None        # (query, value, key) feature sizes once built
        # The projections exist from construction, their weights placeholders until the build gives them
        # their feature sizes: an optimizer made before the first call (or a load) holds every weight.
        heads, common, factory = self.num_heads, self._projection_kwargs, self.factory_kwargs
        self.query_dense = HeadProjection(None, (heads, self.key_dim), name="query", **common, **factory)
        self.key_dense = HeadProjection(None, (heads, self.key_dim), name="key", **common, **factory)
        self.gate_dense: HeadProjection | None = HeadProjection(
            None, (heads, self.value_dim), name="gate", activation="sigmoid", **common, **factory) \
            if self.use_gate else None
        self.value_dense = HeadProjection(None, (heads, self.value_dim), name="value", **common, **factory)
        self.output_dense = HeadProjection(None, None, name="attention_output", **common, **factory)
        if not self.trainable:
            self.trainable = False           # the projections' placeholders take it too
        self.build_from_hint()

    @staticmethod
    def _checked_output_shape(output_shape, owner):
        if not output_shape:
            return None
        shape = (output_shape,) if isinstance(output_shape, numbers.Integral) else output_shape
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
            raise ValueError(f"{owner}: Invalid `output_shape`: expected an int or a tuple of positive ints, "
                             f"got {output_shape!r}")
        shape = tuple(shape)
        if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and int(d) > 0 for d in shape):
            raise ValueError(f"{owner}: Invalid `output_shape`: expected an int or a tuple of positive ints, "
                             f"got {output_shape!r}")
        return tuple(int(d) for d in shape)

    @staticmethod
    def _checked_attention_axes(axes, owner):
        if axes is None:
            return None
        given = (axes,) if isinstance(axes, numbers.Integral) and not isinstance(axes, bool) else axes
        if not isinstance(given, (list, tuple)) or not given or not all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in given):
            raise ValueError(f"{owner}: `attention_axes` must be None, an int, or a list or tuple of ints, "
                             f"got {axes!r}")
        return type(given)(int(a) for a in given)

    def _axes_for(self, rank: int) -> tuple[int, ...]:
        """The attention axes of inputs of `rank` (>= 3), non-negative and sorted, as Keras resolves them."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = sorted(a if a >= 0 else rank + a for a in self.attention_axes)
        if any(not 1 <= a <= rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"{describe(self)}: `attention_axes` {self.attention_axes} must name distinct axes "
                             f"between the batch and the feature axis of the {rank}-D inputs")
        return tuple(axes)

    # ----------------------------------------------------------------- build
    def build(self, query_shape: InputShape, value_shape: InputShape | None = None,
              key_shape: InputShape | None = None) -> None:
        """Create the projections for these input shapes (batch axis first); value and key default to the query's."""
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        _check_value_key(self, value_shape, key_shape)
        for role, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) < 3 or len(shape) != len(query_shape) or shape[-1] is None:
                raise ValueError(f"{describe(self)}: {role} must have shape (batch, steps..., features) with a "
                                 f"known feature size and the query's rank, got query {shape_text(query_shape)}, "
                                 f"{role} {shape_text(shape)}")
        self._axes_for(len(query_shape))
        dims = (int(query_shape[-1]), int(value_shape[-1]), int(key_shape[-1]))
        heads = self.num_heads
        self.query_dense.create((dims[0],), (heads, self.key_dim))
        self.key_dense.create((dims[2],), (heads, self.key_dim))
        if self.gate_dense is not None:
            self.gate_dense.create((dims[0],), (heads, self.value_dim))
        self.value_dense.create((dims[1],), (heads, self.value_dim))
        self.output_dense.create((heads, self.value_dim), self.output_shape or (dims[0],))
        if not self.trainable:
            self.trainable = False
        self._dims = dims
        self.built = True

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Unbuilt, the projections do not exist yet: a state_dict holding them builds them first from
        # their stored kernels' shapes (query/value/key features), so it loads before the first call.
        kernels = [state_dict.get(f"{prefix}{role}_dense.kernel") for role in ("query", "value", "key")]
        if not self.built and all(isinstance(k, torch.Tensor) and k.dim() == 3 for k in kernels):
            self.build(*[(None, None, int(k.shape[0])) for k in kernels])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
    def compute_output_shape(self, query_shape: Any, value_shape: Any = None,
                             key_shape: Any = None) -> tuple:
        """The output's shape for these input shapes (Keras's signature; a list `[query_shape, value_shape
        (, key_shape)]` as the one argument works too): the query's, its last axis `output_shape` if given."""
        if value_shape is None and isinstance(query_shape, (list, tuple)) and query_shape and \
                isinstance(query_shape[0], (list, tuple)):
            query_shape, value_shape, key_shape = (list(query_shape) + [None, None])[:3]
        query_shape, value_shape = tuple(query_shape), tuple(value_shape if value_shape is not None else query_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        _check_value_key(self, value_shape, key_shape)
        return query_shape[:-1] + self.output_shape if self.output_shape else query_shape

    # ---------------------------------------------------------------- checks
    def _check_inputs(self, query, value, key):
        owner = describe(self)
        for role, tensor in (("query", query), ("value", value), ("key", key)):
            require_tensor(tensor, owner, f"a tensor for {role}")
        _check_value_key(self, tuple(value.shape), tuple(key.shape))
        for role, tensor in (("query", query), ("value", value), ("key", key)):
            if tensor.dim() < 3 or tensor.dim() != query.dim():
                raise ValueError(f"{owner}: query, value and key must have one rank >= 3 (batch, steps..., "
                                 f"features), got {role} of shape {shape_text(tensor.shape)} and query of shape "
                                 f"{shape_text(query.shape)}")
            if not tensor.is_floating_point():
                raise TypeError(f"{owner}: {role} must be floating point, got dtype {tensor.dtype}")
        def shapes():         # called only on failure: formatting a traced size would fix it
            return f"query {shape_text(query.shape)}, value {shape_text(value.shape)}, key {shape_text(key.shape)}"
        check_sizes(both(query.shape[0] == value.shape[0], value.shape[0] == key.shape[0]),
                    lambda: f"{owner}: query, value and key must have the same batch size; got {shapes()}")
        if not self.built:
            self.build(tuple(query.shape), tuple(value.shape), tuple(key.shape))
        got = (query.shape[-1], value.shape[-1], key.shape[-1])
        check_sizes(sizes_equal(got, self._dims),
                    lambda: f"{owner} was built for query, value and key feature sizes {self._dims}, got {shapes()}")
        weight_dtype = self.query_dense.kernel.dtype
        if not (query.dtype == value.dtype == key.dtype == weight_dtype) and not autocast_enabled(
                query.device.type):
            raise TypeError(f"{owner} has {weight_dtype} weights; query, value and key must have that dtype, got "
                            f"{query.dtype}, {value.dtype}, {key.dtype}")

    def _split_mask(self, mask, query_mask, value_mask, key_mask):
        """Merge `mask=` (Keras's per-input masks) with the explicit mask arguments."""
        if mask is None:
            return query_mask, value_mask, key_mask
        owner = describe(self)
        if isinstance(mask, torch.Tensor):
            mask = [mask]
        if not isinstance(mask, (list, tuple)) or not 1 <= len(mask) <= 3:
            raise ValueError(f"{owner}: mask must be a bool tensor (the query's mask) or a list [query_mask, "
                             f"value_mask(, key_mask)], got {type(mask).__name__}")
        from_mask = list(mask) + [None] * (3 - len(mask))
        merged = []
        for role, given, listed in zip(("query_mask", "value_mask", "key_mask"),
                                       (query_mask, value_mask, key_mask), from_mask):
            if given is not None and listed is not None:
                raise ValueError(f"{owner}: {role} was given both as an argument and in mask=; pass it once")
            merged.append(given if given is not None else listed)
        return tuple(merged)

    def _checked_mask(self, m, role, expected):
        if m is None:
            return None
        owner = describe(self)
        if not isinstance(m, torch.Tensor):
            raise TypeError(f"{owner}: {role} must be a bool tensor (True = attend), got {type(m).__name__}")
        m = m if m.dtype == torch.bool else m != 0          # Keras casts masks to bool
        if expected is not None:
            check_sizes(sizes_equal(tuple(m.shape), expected),
                        lambda: f"{owner}: {role} must have shape {shape_text(expected)}, got {shape_text(m.shape)}")
        return m

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
        """Keras's `_compute_attention_mask`: every given mask combined with `&` (NumPy broadcasting), or None.

        The query's mask becomes `(..., T, 1)`, the value's and key's `(..., 1, S)`, the causal and
        sliding-window masks `(1, T, S)` over the first inner axis, then `attention_mask & those`."""
        query_mask = self._checked_mask(query_mask, "query_mask", tuple(query.shape[:-1]))
        value_mask = self._checked_mask(value_mask, "value_mask", tuple(value.shape[:-1]))
        key_mask = self._checked_mask(key_mask, "key_mask", tuple(value.shape[:-1]))
        attention_mask = self._checked_mask(attention_mask, "attention_mask", None)
        parts = []
        if query_mask is not None:
            parts.append(query_mask.unsqueeze(-1))
        for m in (value_mask, key_mask):
            if m is not None:
                parts.append(m.unsqueeze(-2))
        rows = torch.arange(query.shape[1], device=query.device).unsqueeze(-1)
        cols = torch.arange(value.shape[1], device=query.device)
        if use_causal_mask:
            parts.append((rows >= cols).unsqueeze(0))
        if self.sliding_window is not None:
            parts.append(((rows - cols).abs() < self.sliding_window).unsqueeze(0))
        combined = None
        for part in parts:
            combined = part if combined is None else _and(self, combined, part)
        if attention_mask is not None:
            combined = attention_mask if combined is None else _and(self, attention_mask, combined)
        return combined

    def _scores_mask(self, allowed: torch.Tensor, scores_shape: tuple, attention_rank: int) -> torch.Tensor:
        """The combined mask laid out as Keras's scores `(batch, free axes..., heads, T axes..., S axes...)`:
        Keras adds the missing axes just before the T axes, then it must broadcast."""
        while allowed.dim() < len(scores_shape):
            allowed = allowed.unsqueeze(-2 * attention_rank - 1)
        try:
            return allowed.expand(scores_shape)
        except RuntimeError:
            raise ValueError(f"{describe(self)}: the attention mask of shape {shape_text(allowed.shape)} (with "
                             f"attention_mask and the masks of query, value and key combined) does not broadcast "
                             f"to the attention scores' shape {shape_text(scores_shape)}; attention_mask may be "
                             "(batch, T, S), (T, S) or (batch, num_heads, T, S)") from None

    # --------------------------------------------------------------- forward
    def forward(self, query: torch.Tensor, value: torch.Tensor, key: torch.Tensor | None = None,
                query_mask: torch.Tensor | None = None, value_mask: torch.Tensor | None = None,
                key_mask: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                return_attention_scores: bool = False, training: bool | None = None, use_causal_mask: bool = False,
                mask: torch.Tensor | Sequence[torch.Tensor | None] | None = None
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Attend from `query` `(batch, T..., dim)` to `value` (and `key`, default `value`) `(batch, S..., dim)`.

        Masks: `query_mask`, `value_mask`, `key_mask` (bool, per step), `attention_mask` (`(batch, T, S)`,
        `(T, S)` or `(batch, heads, T, S)`), `use_causal_mask`, or `mask=[query_mask, value_mask(, key_mask)]`;
        `training` turns dropout on; `return_attention_scores` also returns the per-head scores.
        """
        training = self.training if training is None else bool(training)
        key = value if key is None else key
        self._check_inputs(query, value, key)
        if self.flash_attention and return_attention_scores:
            raise ValueError(f"{describe(self)}: Returning attention scores is not supported when flash attention "
                             "is enabled. Please disable flash attention to access attention scores.")
        query_mask, value_mask, key_mask = self._split_mask(mask, query_mask, value_mask, key_mask)
        causal_only = (use_causal_mask and query_mask is None and value_mask is None and key_mask is None
                       and attention_mask is None and self.sliding_window is None)
        allowed = self._attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                                       use_causal_mask)

        gate = self.gate_dense(query) if self.gate_dense is not None else None
        q, k, v = self.query_dense(query), self.key_dense(key), self.value_dense(value)   # (batch, ..., heads, dim)
        scale = 1.0 / math.sqrt(self.key_dim)
        axes = self._axes_for(query.dim())
        scores = None
        if self.dropout == 0.0 and not return_attention_scores and query.dim() == 3:
            # Keras's scaled_dot_product_attention path: masked scores get a huge additive penalty.
            bias = None
            if allowed is not None and not causal_only:     # causal alone: SDPA's own causal kernel, as Keras
                allowed = self._scores_mask(allowed, (q.shape[0], self.num_heads, q.shape[1], k.shape[1]), 1)
                bias = torch.zeros(allowed.shape, dtype=q.dtype, device=q.device).masked_fill(
                    ~allowed, _large_negative(q.dtype, False))
            attended = F.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=bias,
                is_causal=bool(causal_only), scale=scale).transpose(1, 2)
        else:
            # Keras's masked-softmax path: masked scores set to -1e9, probabilities at masked places zeroed.
            layout = _HeadLayout(query.dim(), axes)
            qa, ka, va = layout.arrange(q * scale), layout.arrange(k), layout.arrange(v)
            scores = torch.matmul(qa, ka.transpose(-1, -2))                 # (batch, free..., heads, T, S)
            query_steps, value_steps = layout.attention_sizes(q), layout.attention_sizes(k)
            keras_shape = (*scores.shape[:-2], *query_steps, *value_steps)
            if allowed is not None:
                allowed = self._scores_mask(allowed, keras_shape, len(axes)).reshape(scores.shape)
                scores = scores.masked_fill(~allowed, _large_negative(scores.dtype, True))
            scores = torch.softmax(scores, dim=-1)
            if allowed is not None:
                scores = torch.where(allowed, scores, torch.zeros((), dtype=scores.dtype, device=scores.device))
            weights = scores
            if training and self.dropout > 0:
                weights = dropout(scores, self.dropout, generator=self._generators.get(scores.device))
            attended = layout.restore(torch.matmul(weights, va), query_steps)
            scores = scores.reshape(keras_shape)
        if gate is not None:
            attended = attended * gate
        outputs = self.output_dense(attended)
        if return_attention_scores:
            assert scores is not None      # returning them takes the softmax path, which computes them
            return outputs, scores
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """The query's mask (Keras keeps the first input's mask on the output)."""
        if isinstance(mask, (list, tuple)):
            return mask[0] if mask else None
        return mask

    def get_config(self) -> dict:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "output_shape": self.output_shape, "attention_axes": self.attention_axes,
                "sliding_window": self.sliding_window, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer, **self._given, "seed": self.seed}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, num_heads={self.num_heads}, key_dim={self.key_dim}, "
                f"value_dim={self.value_dim}, dropout={self.dropout}")
