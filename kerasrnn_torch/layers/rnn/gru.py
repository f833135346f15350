"""GRUCell (gates z, r, h; both reset_after forms) and the GRU layer."""
from __future__ import annotations

from typing import Literal

import torch

from ... import activations
from .cell import NO_DROPOUT, DropoutMasks, RecurrentCell
from .recurrent import KerasRecurrentLayer
from ..._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike, Step
from typing import Any
from ...core.registry import register_keras_class
from ...core.keras_arguments import read_cell, read_recurrent


@register_keras_class("GRUCell", reader=read_cell)
class GRUCell(RecurrentCell):
    """One step of a gated recurrent unit, as `keras.layers.GRUCell`.

    Args: as Keras, including `recurrent_activation="sigmoid"` and
    `reset_after=True` (the reset gate applies after the recurrent
    projection, PyTorch's and cuDNN's form; the bias is then `(2, 3*units)`:
    an input row and a recurrent row). Gates z, r, h.

    >>> cell = GRUCell(8, input_dim=3)
    >>> h, [h] = cell(torch.zeros(2, 3), cell.get_initial_state(2))
    """

    gates = 3
    kind = "gru"
    fused_kernel = "gru"
    state_count = 1

    def __init__(self, units: int, activation: ActivationLike = "tanh",
                 recurrent_activation: ActivationLike = "sigmoid", use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, recurrent_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 recurrent_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, reset_after: bool = True,
                 seed: int | None = None, implementation: int = 2, **layer_kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **layer_kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.set_implementation(implementation, (0, 1, 2))
        self.build_from_hint()

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self) -> torch.Tensor | None:
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def make_step(self, masks: DropoutMasks = NO_DROPOUT) -> Step:
        units = self.units
        gate, activation = self.recurrent_activation, self.activation
        recurrent_mask = masks.recurrent
        # The z and r blocks, and h's: cut with split, not slicing, as LSTMCell.make_step says.
        split = [2 * units, units]
        # An elementwise gate runs once over the z and r blocks together.
        if activations.is_elementwise(gate):
            def gates(x_zr, h_zr):
                return gate(x_zr + h_zr).chunk(2, dim=1)
        else:
            def gates(x_zr, h_zr):
                x_z, x_r = x_zr.chunk(2, dim=1)
                h_z, h_r = h_zr.chunk(2, dim=1)
                return gate(x_z + h_z), gate(x_r + h_r)

        if self.reset_after:
            recurrent_kernel = self.recurrent_kernel
            bias = self.bias
            recurrent_bias_of = views_of(lambda: bias[1] if bias is not None else None)

            def step(projected, states):
                h = states[0]
                h_in = h if recurrent_mask is None else h * recurrent_mask
                recurrent_bias = recurrent_bias_of()
                inner = h_in @ recurrent_kernel if recurrent_bias is None \
                    else torch.addmm(recurrent_bias, h_in, recurrent_kernel)
                x_zr, x_h = projected.split_with_sizes(split, dim=1)
                h_zr, h_h = inner.split_with_sizes(split, dim=1)
                z, r = gates(x_zr, h_zr)
                candidate = activation(torch.addcmul(x_h, r, h_h))
                h = torch.lerp(candidate, h, z)   # z * h + (1 - z) * candidate, one kernel
                return h, [h]
        else:
            kernel = self.recurrent_kernel
            kernels = views_of(lambda: (kernel[:, :2 * units], kernel[:, 2 * units:]))

            def step(projected, states):
                h = states[0]
                h_in = h if recurrent_mask is None else h * recurrent_mask
                gates_kernel, candidate_kernel = kernels()
                x_zr, x_h = projected.split_with_sizes(split, dim=1)
                z, r = gates(x_zr, h_in @ gates_kernel)
                candidate = activation(torch.addmm(x_h, r * h_in, candidate_kernel))
                h = torch.lerp(candidate, h, z)   # z * h + (1 - z) * candidate, one kernel
                return h, [h]

        return step


@register_keras_class("GRU", reader=read_recurrent)
class GRU(KerasRecurrentLayer):
    """Gated recurrent unit layer, as `keras.layers.GRU`.

    Runs PyTorch's fused `torch.nn.GRU` kernel when the configuration allows
    (tanh, sigmoid, reset_after=True, no recurrent_dropout, no unroll; any
    mask, with or without bias), else the cell loop.
    `return_state=True` returns `(output, h)`.

    Args:
        units: size of the output and of the state h.
        activation, recurrent_activation: Keras names or callables (defaults
            "tanh" and "sigmoid", the only ones the fused kernel computes).
        use_bias: whether to add `bias`.
        reset_after: apply the reset gate after the recurrent projection
            (default True: Keras 3's, cuDNN's and PyTorch's form; the bias is
            then `(2, 3*units)`). False is Keras's older form, loop only.
        kernel_initializer, recurrent_initializer, bias_initializer: Keras
            names or callables (defaults "glorot_uniform", "orthogonal", "zeros").
        kernel_regularizer, recurrent_regularizer, bias_regularizer: as Keras
            (None by default).
        activity_regularizer: as Keras (None by default).
        kernel_constraint, recurrent_constraint, bias_constraint: as Keras
            (None by default).
        dropout, recurrent_dropout: fractions of the inputs and of the
            recurrent state dropped while training (one mask per call, as in
            Keras); `recurrent_dropout > 0` keeps the layer on the loop path.
        seed: integer seed for the dropout masks (None: PyTorch's global RNG).
        return_sequences, return_state, go_backwards, stateful, unroll: as
            Keras; `unroll=True` changes no number, it only selects the loop.
        use_cudnn: "auto" (the fused kernel when allowed), True (the fused
            kernel or a ValueError saying why not) or False (always the loop).
        implementation: Keras's 0, 1 or 2; accepted and kept, the numbers are the same
            (Keras 3 sets it to 1 when recurrent_dropout is used, and so does this).
        name, input_shape, input_dim, device, dtype: see `Layer`.

    >>> layer = GRU(32, return_state=True)
    >>> output, h = layer(torch.randn(2, 7, 4))
    """

    cell_class = GRUCell

    def __init__(self, units: int, activation: ActivationLike = "tanh",
                 recurrent_activation: ActivationLike = "sigmoid", use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, recurrent_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 kernel_constraint: ConstraintLike = None, recurrent_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, reset_after: bool = True,
                 use_cudnn: bool | Literal["auto"] = "auto", implementation: int = 2, **layer_kwargs: Any) -> None:
        cell_kwargs = dict(activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                           kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                           kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                           reset_after=reset_after, seed=seed, implementation=implementation)
        super().__init__(units, cell_kwargs, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, use_cudnn=use_cudnn,
                         activity_regularizer=activity_regularizer, **layer_kwargs)


def views_of(make):
    """A function giving `make()`'s views of weights: made once, or per step while torch.export traces.

    torch.export's `scan` (the loop's exported form) refuses a step that
    captures two tensors sharing memory, such as a weight and its slice.
    """
    if torch.compiler.is_exporting():
        return make
    made = make()
    return lambda: made
