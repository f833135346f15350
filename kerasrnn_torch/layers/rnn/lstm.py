"""LSTMCell (gates i, f, c, o along the kernel's last axis) and the LSTM layer."""
from __future__ import annotations

from typing import Literal

import torch

from ... import initializers
from .cell import NO_DROPOUT, DropoutMasks, RecurrentCell
from .recurrent import KerasRecurrentLayer
from ... import activations
from ..._types import ActivationLike, ConstraintLike, InitializerLike, RegularizerLike, Step
from typing import Any
from ...core.registry import register_keras_class
from ...core.keras_arguments import read_cell, read_recurrent


@register_keras_class("LSTMCell", reader=read_cell)
class LSTMCell(RecurrentCell):
    """One step of a long short-term memory layer, as `keras.layers.LSTMCell`.

    Args: as Keras, including `recurrent_activation="sigmoid"` and
    `unit_forget_bias=True` (the forget-gate bias starts at one). States are
    `[h, c]`; weights `kernel (input_dim, 4*units)`,
    `recurrent_kernel (units, 4*units)`, `bias (4*units,)`, gates i, f, c, o.

    >>> cell = LSTMCell(8, input_dim=3)
    >>> h, (h, c) = cell(torch.zeros(2, 3), cell.get_initial_state(2))
    """

    gates = 4
    kind = "lstm"
    fused_kernel = "lstm"
    state_count = 2

    def __init__(self, units: int, activation: ActivationLike = "tanh",
                 recurrent_activation: ActivationLike = "sigmoid", use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: RegularizerLike = None,
                 recurrent_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 kernel_constraint: ConstraintLike = None, recurrent_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, implementation: int = 2, **layer_kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **layer_kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.set_implementation(implementation, (1, 2))
        self.build_from_hint()

    def initial_bias(self, tensor: torch.Tensor) -> torch.Tensor:
        init = initializers.get(self.bias_initializer)
        if not self.unit_forget_bias:
            return initializers.apply(init, tensor)
        # Keras: the bias initializer on the i, c and o parts, ones on the forget gate.
        units = self.units
        with torch.no_grad():
            initializers.apply(init, tensor[:units])
            tensor[units:2 * units].fill_(1.0)
            initializers.apply(init, tensor[2 * units:])
        return tensor

    def make_step(self, masks: DropoutMasks = NO_DROPOUT) -> Step:
        recurrent_kernel = self.recurrent_kernel
        activation, gate = self.activation, self.recurrent_activation
        recurrent_mask = masks.recurrent
        units = self.units

        # Gate blocks are cut with split, not slicing, and while torch.export traces every block is used:
        # the loop's exported form (a scan) cannot save a symbolic batch size for its backward, which
        # a slice's gradient, or an unused block's zeros, would need (torch.onnx retraces it with
        # gradients). See engine/loop.py's `scan_loop`.
        split = [2 * units, units, units]
        if activations.is_elementwise(gate) and not torch.compiler.is_exporting():
            # One gate call over all four blocks (the c block's result is unused): fewer
            # kernels per step, the same numbers.
            def step(projected, states):
                h, c = states
                if recurrent_mask is not None:
                    h = h * recurrent_mask
                z = torch.addmm(projected, h, recurrent_kernel)
                i, f, _, o = gate(z).chunk(4, dim=1)
                c = torch.addcmul(f * c, i, activation(z.split_with_sizes(split, dim=1)[1]))
                h = o * activation(c)
                return h, [h, c]
        else:
            def step(projected, states):
                h, c = states
                if recurrent_mask is not None:
                    h = h * recurrent_mask
                i, f, g, o = torch.addmm(projected, h, recurrent_kernel).chunk(4, dim=1)
                c = gate(f) * c + gate(i) * activation(g)
                h = gate(o) * activation(c)
                return h, [h, c]

        return step


@register_keras_class("LSTM", reader=read_recurrent)
class LSTM(KerasRecurrentLayer):
    """Long short-term memory layer, as `keras.layers.LSTM`.

    Runs PyTorch's fused `torch.nn.LSTM` kernel (cuDNN on CUDA) when the
    configuration allows (tanh, sigmoid, no recurrent_dropout, no unroll; any
    mask, with or without bias), else the cell loop; both give the same
    numbers. `return_state=True` returns `(output, h, c)`.

    Args:
        units: size of the output and of the states h and c.
        activation, recurrent_activation: Keras names or callables (defaults
            "tanh" and "sigmoid", the only ones the fused kernel computes).
        use_bias: whether to add `bias`.
        unit_forget_bias: start the forget-gate bias at one (default True).
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
        implementation: Keras's 1 or 2; accepted and kept, the numbers are the same
            (Keras 3 sets it to 1 when recurrent_dropout is used, and so does this).
        name, input_shape, input_dim, device, dtype: see `Layer`.

    >>> layer = LSTM(64, input_shape=(10, 5))
    >>> layer(torch.randn(2, 10, 5)).shape
    torch.Size([2, 64])
    """

    cell_class = LSTMCell

    def __init__(self, units: int, activation: ActivationLike = "tanh",
                 recurrent_activation: ActivationLike = "sigmoid", use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: RegularizerLike = None,
                 recurrent_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 recurrent_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, use_cudnn: bool | Literal["auto"] = "auto",
                 implementation: int = 2, **layer_kwargs: Any) -> None:
        cell_kwargs = dict(activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                           kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                           kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                           dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                           implementation=implementation)
        super().__init__(units, cell_kwargs, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, use_cudnn=use_cudnn,
                         activity_regularizer=activity_regularizer, **layer_kwargs)
