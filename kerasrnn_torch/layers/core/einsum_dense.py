"""EinsumDense, as `keras.layers.EinsumDense`, and the einsum analysis MultiHeadAttention's projections share.

`analyze_einsum` reads an equation such as `"abc,cde->abde"` with the
input's shape and the layer's partial `output_shape`: it gives the kernel's
and the bias's shapes, the full output shape, and which kernel axes face the
input and which the output (the fans Keras's variance-scaling initializers
use for an einsum kernel). `project` computes `einsum(equation, x, kernel) +
bias`, as one matrix product when the kernel contracts the input's trailing
axes (a Dense over several axes, as every MultiHeadAttention projection is).
"""
from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ..._checks import describe, require_float_input, require_tensor, require_weight_dtype, shape_text
from ..._types import ActivationLike, ConstraintLike, InitializerLike, InputShape, RegularizerLike
from ...core.config import activity_regularizer, serialize_activation, weight_options, without_quantization
from ...core.keras_arguments import options_reader
from ...core.layer import Layer, LayerT
from ...core.registry import register_keras_class

# "...", the input's letters, the kernel's letters, "->", "...", the output's letters (each "..." optional).
_EQUATION = re.compile(r"(\.\.\.)?([a-zA-Z]+)(\.\.\.)?,([a-zA-Z]+)->(\.\.\.)?([a-zA-Z]+)(\.\.\.)?")
_FORMS = "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]..."


@dataclass(frozen=True)
class EinsumPlan:
    """What an einsum equation makes of one input shape (batch axis first).

    `kernel_shape`, `bias_shape` (None without bias axes), the full
    `output_shape`; `input_axes` / `output_axes`: the kernel axes contracted
    with the input and those kept in the output (the initializer's fans);
    `fixed_axes`: the input axes (negative, from the end) whose sizes the
    weights hold; `trailing`: how many of the input's last axes the kernel
    contracts when the einsum is a plain product over them (None otherwise).
    """

    equation: str
    kernel_shape: tuple[int, ...]
    bias_shape: tuple[int, ...] | None
    output_shape: tuple[int | None, ...]
    input_axes: tuple[int, ...]
    output_axes: tuple[int, ...]
    input_rank: int | None             # None: any rank (an equation with "...")
    min_rank: int
    fixed_axes: tuple[tuple[int, int], ...]
    trailing: int | None

    def kernel_initializer(self, initializer: InitializerLike) -> Any:
        """`initializer` with this kernel's fans, as Keras gives its variance-scaling initializers."""
        resolved = initializers.get(initializer)
        if isinstance(resolved, initializers.VarianceScaling) and (
                resolved.input_axes is None or resolved.output_axes is None):
            config = {**resolved.get_config(), "input_axes": list(self.input_axes),
                      "output_axes": list(self.output_axes)}
            return type(resolved).from_config(config)
        return resolved


def checked_output_shape(output_shape: Any, owner: str) -> tuple[int | None, ...]:
    """Keras's `output_shape` argument (an int, or a sequence of ints and None) as a tuple."""
    if isinstance(output_shape, numbers.Integral) and not isinstance(output_shape, bool):
        output_shape = (output_shape,)
    if isinstance(output_shape, (str, bytes)) or not isinstance(output_shape, Sequence):
        raise ValueError(f"{owner}: `output_shape` must be an int or a tuple of ints and None (the output's shape "
                         f"without the batch axis and the '...' axes), got {output_shape!r}")
    for size in output_shape:
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0):
            raise ValueError(f"{owner}: `output_shape` entries must be positive ints or None, got {output_shape!r}")
    return tuple(None if size is None else int(size) for size in output_shape)


def _split(equation: Any, owner: str) -> tuple[str, str, str, str]:
    """(form, input letters, kernel letters, output letters); form is "", "left" or "right" (where "..." is)."""
    match = _EQUATION.fullmatch(equation) if isinstance(equation, str) else None
    if match is not None:
        in_left, x, in_right, w, out_left, z, out_right = match.groups()
        if not (in_left or in_right or out_left or out_right):
            return "", x, w, z
        if in_left and out_left and not (in_right or out_right):
            return "left", x, w, z
        if in_right and out_right and not (in_left or out_left) and len(x) >= 2:
            return "right", x, w, z
    raise ValueError(f"{owner}: Invalid einsum equation {equation!r}. Equations must be in the form {_FORMS} "
                     "(letters only; in the last form the input names at least 2 axes)")


def _trailing(x: str, w: str, z: str) -> int | None:
    """k when the kernel is `x[-k:] + new` and the output `x[:-k] + new`: a matrix product over k axes."""
    if len(set(x)) != len(x) or len(set(w)) != len(w) or len(set(z)) != len(z):
        return None
    for k in range(1, min(len(x), len(w)) + 1):
        contracted, new = x[len(x) - k:], w[k:]
        if w[:k] == contracted and z == x[:len(x) - k] + new and not set(new) & set(x):
            return k
    return None


def analyze_einsum(equation: str, bias_axes: str | None, input_shape: Sequence[int | None],
                   output_shape: Sequence[int | None], owner: str) -> EinsumPlan:
    """The weights' and the output's shapes for inputs of `input_shape` (batch first), as Keras's EinsumDense.

    `output_shape` is the output's shape without its first axis (the batch) and the axes "..." stands for.
    """
    form, x, w, z = _split(equation, owner)
    input_shape = tuple(None if d is None else int(d) for d in input_shape)
    rank = len(input_shape)
    if (form == "" and rank != len(x)) or rank < len(x):
        wanted = f"rank {len(x)}" if form == "" else f"rank >= {len(x)}"
        raise ValueError(f"{owner}: the equation {equation!r} takes inputs of {wanted} (batch axis included), "
                         f"got the shape {shape_text(input_shape)}")
    partial = tuple(output_shape)
    expected = len(z) - (0 if form == "left" else 1)
    if len(partial) != expected:
        raise ValueError(f"{owner}: `output_shape` {partial} must give {expected} size{'' if expected == 1 else 's'} "
                         f"for the equation {equation!r}: one for each output axis after "
                         f"{'the ...' if form == 'left' else 'the first (the batch axis)'}")
    elided = rank - len(x)
    # Where each letter sits in the input and in the full output (batch first).
    if form == "left":
        input_at = {letter: elided + i for i, letter in enumerate(x)}
        full = list(input_shape[:elided]) + list(partial)
        output_at = {letter: elided + i for i, letter in enumerate(z)}
    else:
        input_at = {letter: i for i, letter in enumerate(x)}
        full = [input_shape[0], *partial, *input_shape[len(x):]]
        output_at = {letter: i for i, letter in enumerate(z)}
    for letter, at in output_at.items():
        if letter in input_at:
            given, size = full[at], input_shape[input_at[letter]]
            if given is not None and size is not None and given != size:
                raise ValueError(f"{owner}: Input shape and output shape do not match at shared dimension "
                                 f"'{letter}'. Input shape is {size}, and output shape is {given}.")
            if given is None:
                full[at] = size             # Keras leaves None here; the einsum gives the input's size
        elif letter not in w:
            raise ValueError(f"{owner}: Dimension '{letter}' was specified in the output '{z}' but has no "
                             f"corresponding dim in the input spec '{x}' or weight spec '{w}'")

    def size_of(letter: str, what: str) -> int:
        size = full[output_at[letter]] if letter in output_at else input_shape[input_at[letter]]
        if size is None:
            raise ValueError(f"{owner}: the {what} axis '{letter}' of {equation!r} has no known size: give it in "
                             f"`output_shape` or in the input's shape (got input {shape_text(input_shape)}, "
                             f"output_shape {partial})")
        return size

    kernel_shape: list[int] = []
    input_axes: list[int] = []
    output_axes: list[int] = []
    for i, letter in enumerate(w):
        if letter not in output_at and letter not in input_at:
            raise ValueError(f"{owner}: Weight dimension '{letter}' did not have a match in either the input spec "
                             f"'{x}' or the output spec '{z}'. For this layer, the weight must be fully specified.")
        kernel_shape.append(size_of(letter, "kernel"))
        (output_axes if letter in output_at else input_axes).append(i)
    bias_shape = None
    if bias_axes:
        for letter in bias_axes:
            if letter not in z:
                raise ValueError(f"{owner}: Bias dimension '{letter}' was requested, but is not part of the output "
                                 f"spec '{z}'")
        first = min(z.index(letter) for letter in bias_axes)
        bias_shape = tuple([size_of(letter, "bias") if letter in bias_axes else 1 for letter in z[first:]]
                           + [1] * (elided if form == "right" else 0))
    fixed = tuple(sorted({(input_at[letter] - rank, int(input_shape[input_at[letter]]))  # type: ignore[arg-type]
                          for letter in x if (letter in w or letter in (bias_axes or ""))
                          and input_shape[input_at[letter]] is not None}))
    return EinsumPlan(equation=equation, kernel_shape=tuple(kernel_shape), bias_shape=bias_shape,
                      output_shape=tuple(full), input_axes=tuple(input_axes), output_axes=tuple(output_axes),
                      input_rank=rank if form == "" else None, min_rank=len(x), fixed_axes=fixed,
                      trailing=None if form == "right" else _trailing(x, w, z))


def trailing_equation(in_rank: int, out_rank: int) -> tuple[str, str]:
    """`("...ab,abcd->...cd", "cd")`: the equation (and its output letters) of a kernel contracting the input's
    last `in_rank` axes into `out_rank` new ones, as Keras's MultiHeadAttention writes its projections."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    contracted, new = letters[:in_rank], letters[in_rank:in_rank + out_rank]
    return f"...{contracted},{contracted}{new}->...{new}", new


def project(inputs: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None, plan: EinsumPlan) -> torch.Tensor:
    """`einsum(plan.equation, inputs, kernel) + bias`; one `F.linear` when the kernel contracts trailing axes."""
    k = plan.trailing
    if k is None:
        outputs = torch.einsum(plan.equation, inputs, kernel)
        return outputs if bias is None else outputs + bias
    lead, new = inputs.shape[:inputs.dim() - k], plan.kernel_shape[k:]
    flat_in, flat_out = math.prod(plan.kernel_shape[:k]), math.prod(new)
    fused = bias is not None and tuple(bias.shape) == tuple(new)
    outputs = F.linear(inputs.reshape(*lead, flat_in), kernel.reshape(flat_in, flat_out).t(),
                       bias.reshape(flat_out) if fused else None).reshape(*lead, *new)  # type: ignore[union-attr]
    return outputs + bias if bias is not None and not fused else outputs


@register_keras_class("EinsumDense", reader=options_reader("equation", "output_shape", "bias_axes", "lora_rank",
                                                           "lora_alpha"))
class EinsumDense(Layer):
    """A kernel applied by an einsum equation, as `keras.layers.EinsumDense`.

    `output = activation(einsum(equation, inputs, kernel) + bias)`. The
    equation is `"X,Y->Z"`, `"...X,Y->...Z"` or `"X...,Y->Z..."` (X, Y, Z:
    letters naming the input's, the kernel's and the output's axes); every
    kernel axis is named in the input or in the output, and takes its size
    from there. `"ab,bc->ac"` with `output_shape=64` is a `Dense(64)`;
    `"abc,cde->abde"` projects each step's features to a matrix.

    Weights, in Keras's layout and order: `kernel` (the axes of Y) and, with
    `bias_axes`, `bias` (the output axes from the first bias axis on, size 1
    on those not in `bias_axes`), so `set_weights(keras_layer.get_weights())`
    loads a Keras layer. They are created at the first call, by `build`, or
    at construction from `input_shape=` (without the batch axis). As in Keras
    3.15, variance-scaling initializers ("glorot_uniform", "he_normal", ...)
    take their fans from the kernel axes facing the input and the output.

    Args:
        equation: the einsum equation, as above.
        output_shape: an int or a tuple: the output's shape without the batch
            axis (the first output axis) and the axes "..." stands for; None
            for a size the input gives.
        activation: Keras name or callable; None means linear.
        bias_axes: the output letters the bias runs along (None: no bias).
        kernel_initializer, bias_initializer: Keras name or callable
            (defaults "glorot_uniform" and "zeros").
        kernel_regularizer, bias_regularizer, activity_regularizer: as Keras.
        kernel_constraint, bias_constraint: as Keras.
        lora_rank, lora_alpha: Keras's LoRA fine-tuning; not supported (a
            `lora_rank` raises NotImplementedError).
        name, input_shape, device, dtype: see `Layer`.

    `compute_output_shape` gives the shape the call returns, where Keras's
    leaves None for a size the input gives (say "b" of `"abc,cd->abd"` with
    `output_shape=(None, 64)`) or lists 3 or more "..." axes in reverse.

    >>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")
    >>> layer(torch.randn(3, 5, 6)).shape
    torch.Size([3, 5, 2, 4])
    """

    kernel: torch.Tensor
    bias: torch.Tensor | None
    supports_masking = False        # as Keras: the incoming mask stops here

    def __init__(self, equation: str, output_shape: int | Sequence[int | None], activation: ActivationLike = None,
                 bias_axes: str | None = None, kernel_initializer: InitializerLike = "glorot_uniform",
                 bias_initializer: InitializerLike = "zeros", kernel_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 kernel_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 lora_rank: int | None = None, lora_alpha: float | None = None,
                 gptq_unpacked_column_size: int | None = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        _split(equation, owner)
        self.equation = equation
        self.partial_output_shape = checked_output_shape(output_shape, owner)
        if bias_axes is not None and (not isinstance(bias_axes, str) or not bias_axes.isalpha()):
            raise ValueError(f"{owner}: `bias_axes` must be None or a string of output letters, got {bias_axes!r}")
        self.bias_axes = bias_axes or None
        if lora_rank:
            raise NotImplementedError(f"{owner}: lora_rank={lora_rank!r}: LoRA (Keras's `lora_rank` and "
                                      "`enable_lora`) is not supported by kerasrnn_torch's EinsumDense; merge the "
                                      "LoRA factors into the kernel before loading (Keras's saved files hold the "
                                      "merged kernel), and build the layer without lora_rank")
        if gptq_unpacked_column_size:
            raise ValueError(f"{owner}: quantized Keras layers are not supported (gptq_unpacked_column_size="
                             f"{gptq_unpacked_column_size!r})")
        self.activation = activations.get(activation)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.plan: EinsumPlan | None = None
        self.build_from_hint()

    def get_config(self) -> dict:
        return {**super().get_config(), "output_shape": self.partial_output_shape, "equation": self.equation,
                "activation": serialize_activation(self.activation, describe(self)), "bias_axes": self.bias_axes,
                **weight_options(self, ("kernel", "bias")), "activity_regularizer": activity_regularizer(self),
                "quantization_config": None}

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        return super().from_config(without_quantization(config, f"{cls.__name__} {config.get('name')!r}"))

    def analyze(self, input_shape: InputShape) -> EinsumPlan:
        """The einsum's plan for inputs of `input_shape` (batch axis first)."""
        return analyze_einsum(self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape,
                              describe(self))

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("kernel", True)] + ([("bias", True)] if self.bias_axes else [])

    def build(self, input_shape: InputShape) -> None:
        self.plan = plan = self.analyze(input_shape)
        self.add_weight("kernel", plan.kernel_shape, plan.kernel_initializer(self.kernel_initializer),
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if plan.bias_shape is not None:
            self.add_weight("bias", plan.bias_shape, self.bias_initializer, regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)
        else:
            self.register_parameter("bias", None)
        self.built = True

    def compute_output_shape(self, input_shape: InputShape) -> tuple:
        """The output's shape for inputs of `input_shape` (batch axis first)."""
        return self.analyze(input_shape).output_shape

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`activation(einsum(equation, inputs, kernel) + bias)`."""
        require_tensor(inputs, describe(self), "a tensor")
        if not self.built:
            self.build(tuple(inputs.shape))
        plan = self.plan
        assert plan is not None          # set by build
        self._check_input(inputs, plan)
        require_float_input(inputs, describe(self))
        require_weight_dtype(inputs, self.kernel.dtype, describe(self))
        outputs = project(inputs, self.kernel, self.bias, plan)
        if self.activation is not None:
            outputs = self.activation(outputs)
        self.record_activity(outputs)
        return outputs

    def _check_input(self, inputs: torch.Tensor, plan: EinsumPlan) -> None:
        rank = inputs.dim()
        fits = rank == plan.input_rank if plan.input_rank is not None else rank >= plan.min_rank
        if fits:
            fits = all(inputs.shape[axis] == size for axis, size in plan.fixed_axes)
        if not fits:
            raise ValueError(f"{describe(self)}: input of shape {shape_text(inputs.shape)} is incompatible with the "
                             f"layer, built for {plan.equation!r} with a kernel {shape_text(plan.kernel_shape)}"
                             + ("" if plan.bias_shape is None else f" and a bias {shape_text(plan.bias_shape)}"))

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, equation={self.equation!r}, output_shape={self.partial_output_shape}, "
                f"bias_axes={self.bias_axes!r}, activation={activations.describe(self.activation)}")
