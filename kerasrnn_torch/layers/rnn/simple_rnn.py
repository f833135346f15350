"""SimpleRNNCell (one step: h = activation(x W + h U + b)) and the SimpleRNN layer."""
from __future__ import annotations

from typing import Literal

import torch

from .cell import NO_DROPOUT, DropoutMasks, RecurrentCell
from .recurrent import KerasRecurrentLayer
from ..._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike, Step
from typing import Any
from ...core.registry import register_keras_class
from ...core.keras_arguments import read_cell, read_recurrent


@register_keras_class("SimpleRNNCell", reader=read_cell)
class SimpleRNNCell(RecurrentCell):
    """A fully connected recurrent step, as `keras.layers.SimpleRNNCell`.

    Args: as Keras (`units`, `activation="tanh"`, `use_bias`, initializers,
    regularizers, constraints, `dropout`, `recurrent_dropout`, `seed`), plus
    `input_dim`/`input_shape`, `device`, `dtype`.

    >>> cell = SimpleRNNCell(8, input_dim=3)
    >>> h, [h_state] = cell(torch.zeros(2, 3), [torch.zeros(2, 8)])
    """

    gates = 1
    kind = "simple_rnn"
    fused_kernel = "simple_rnn"
    state_count = 1

    def __init__(self, units: int, activation: ActivationLike = "tanh", use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, recurrent_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 recurrent_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **layer_kwargs)
        self.build_from_hint()

    def make_step(self, masks: DropoutMasks = NO_DROPOUT) -> Step:
        recurrent_kernel = self.recurrent_kernel
        activation = self.activation
        recurrent_mask = masks.recurrent

        def step(projected, states):
            h = states[0]
            if recurrent_mask is not None:
                h = h * recurrent_mask
            output = activation(torch.addmm(projected, h, recurrent_kernel))
            return output, [output]

        return step


@register_keras_class("SimpleRNN", reader=read_recurrent)
class SimpleRNN(KerasRecurrentLayer):
    """Fully connected RNN whose output is fed back as input, as `keras.layers.SimpleRNN`.

    Runs PyTorch's fused `torch.nn.RNN` kernel when the configuration allows
    (tanh or relu, no recurrent_dropout, no unroll; any mask, with or without
    bias), else the cell loop; both give the same numbers.
    `return_state=True` returns `(output, h)`.

    Args:
        units: size of the output and of the state h.
        activation: Keras name or callable (default "tanh"; the fused kernel
            computes "tanh" and "relu").
        use_bias: whether to add `bias`.
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
        name, input_shape, input_dim, device, dtype: see `Layer`.

    >>> layer = SimpleRNN(16, return_sequences=True)
    >>> layer(torch.randn(4, 10, 3)).shape
    torch.Size([4, 10, 16])
    """

    cell_class = SimpleRNNCell

    def __init__(self, units: int, activation: ActivationLike = "tanh", use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, recurrent_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, activity_regularizer: RegularizerLike = None,
                 kernel_constraint: ConstraintLike = None, recurrent_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 use_cudnn: bool | Literal["auto"] = "auto", **layer_kwargs: Any) -> None:
        cell_kwargs = dict(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                           dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed)
        super().__init__(units, cell_kwargs, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, use_cudnn=use_cudnn,
                         activity_regularizer=activity_regularizer, **layer_kwargs)
