"""Keras <-> PyTorch weight layouts: transposes, gate orders, bias split.

Keras keeps `kernel (input_dim, k*units)`, `recurrent_kernel (units, k*units)`
and one bias (two rows for GRU with reset_after=True); PyTorch keeps
`weight_ih (k*units, input_dim)`, `weight_hh (k*units, units)`, `bias_ih` and
`bias_hh`. Every conversion here is differentiable, so the fused kernel's
gradients flow back to the Keras-layout parameters.
"""
from __future__ import annotations

import torch

# Gate order along the k*units axis; PyTorch calls the candidate gate g (LSTM) or n (GRU).
KERAS_LSTM_GATES = ("i", "f", "c", "o")
TORCH_LSTM_GATES = ("i", "f", "g", "o")
KERAS_GRU_GATES = ("z", "r", "h")
TORCH_GRU_GATES = ("r", "z", "n")
_CANDIDATE = {"g": "c", "n": "h"}


def _positions(keras_gates, torch_gates) -> tuple:
    """Position in Keras's order of each PyTorch gate."""
    return tuple(keras_gates.index(_CANDIDATE.get(gate, gate)) for gate in torch_gates)


LSTM_GATE_PERMUTATION = _positions(KERAS_LSTM_GATES, TORCH_LSTM_GATES)     # (0, 1, 2, 3): no permutation
GRU_GATE_PERMUTATION = _positions(KERAS_GRU_GATES, TORCH_GRU_GATES)        # (1, 0, 2): a swap, its own inverse

GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def _permute_gates(tensor: torch.Tensor, permutation, dim: int) -> torch.Tensor:
    chunks = tensor.chunk(len(permutation), dim=dim)
    return torch.cat([chunks[i] for i in permutation], dim=dim)


def to_torch_gate_order(tensor: torch.Tensor, kind: str, dim: int = -1) -> torch.Tensor:
    return _permute_gates(tensor, GRU_GATE_PERMUTATION, dim) if kind == "gru" else tensor


to_keras_gate_order = to_torch_gate_order   # the GRU permutation is its own inverse


def to_torch_weights(kind: str, kernel, recurrent_kernel, bias, *, recurrent_bias_zeros=None):
    """Keras-layout tensors -> `[weight_ih, weight_hh, bias_ih, bias_hh]` for PyTorch's kernels.

    `bias` is `(k*units,)`, or for GRU with reset_after `(2, 3*units)`, or None (use_bias=False).
    `recurrent_bias_zeros` may pass a cached zero vector for the kinds whose
    Keras form has no recurrent bias.
    """
    # Contiguous copies: PyTorch's kernels run measurably faster on them than on transposed views.
    weight_ih = to_torch_gate_order(kernel.t(), kind, dim=0).contiguous()
    weight_hh = to_torch_gate_order(recurrent_kernel.t(), kind, dim=0).contiguous()
    if bias is None:              # use_bias=False: the kernels take zeros, which add nothing
        zeros = recurrent_bias_zeros if recurrent_bias_zeros is not None else \
            torch.zeros(kernel.shape[1], device=kernel.device, dtype=kernel.dtype)
        return [weight_ih, weight_hh, zeros, zeros]
    if bias.dim() == 2:           # GRU reset_after: input row, recurrent row (unbind: one gradient op back)
        input_row, recurrent_row = bias.unbind(0)
        bias_ih = to_torch_gate_order(input_row, kind)
        bias_hh = to_torch_gate_order(recurrent_row, kind)
    else:
        bias_ih = to_torch_gate_order(bias, kind)
        bias_hh = recurrent_bias_zeros if recurrent_bias_zeros is not None else torch.zeros_like(bias_ih)
    return [weight_ih, weight_hh, bias_ih, bias_hh]


def from_torch_weights(kind: str, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """PyTorch-layout tensors -> Keras `[kernel, recurrent_kernel, bias]` (bias None without biases).

    LSTM and SimpleRNN fold PyTorch's two biases into Keras's one; GRU keeps
    both as Keras's `(2, 3*units)` bias (the reset_after=True form).
    """
    kernel = to_keras_gate_order(weight_ih.t(), kind)
    recurrent_kernel = to_keras_gate_order(weight_hh.t(), kind)
    if bias_ih is None:
        return [kernel, recurrent_kernel, None]
    if kind == "gru":
        bias = torch.stack([to_keras_gate_order(bias_ih, kind), to_keras_gate_order(bias_hh, kind)])
    else:
        bias = bias_ih + bias_hh
    return [kernel, recurrent_kernel, bias]
