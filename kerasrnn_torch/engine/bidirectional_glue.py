"""A Keras Bidirectional pass as one fused two-way kernel call.

PyTorch's bidirectional kernel already returns the backward direction in the
input's time order, and with packed lengths its backward direction starts at
each row's last valid step: exactly what Keras computes with a go_backwards
layer whose output sequence is flipped back. What is left here is Keras's
meaning for masked steps and fully masked rows.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from . import fused
from .masks import MaskLayout


class TwoWayResult(NamedTuple):
    forward_output: torch.Tensor       # (batch, time, units) sequence or (batch, units) last output
    backward_output: torch.Tensor      # the same, the sequence in the input's time order
    forward_final: list[torch.Tensor]
    backward_final: list[torch.Tensor]
    concatenated: torch.Tensor | None  # the two sequences side by side, as the kernel returns them


def run_two_way(kind: str, inputs: torch.Tensor, forward_states: list[torch.Tensor],
                backward_states: list[torch.Tensor], flat_weights: list[torch.Tensor], *, activation: str,
                layout: MaskLayout, return_sequences: bool):
    """Both directions of a Keras Bidirectional layer in one kernel call.

    `flat_weights` are the forward then the backward direction's
    `[weight_ih, weight_hh, bias_ih, bias_hh]`. `layout` is "none" or
    "right_padded". Outputs are sequences in the input's time order (zeros
    at masked steps, as Keras's Bidirectional gives them) or, without
    `return_sequences`, each direction's last output (a `TwoWayResult`).
    """
    units = forward_states[0].shape[-1]
    states = [torch.stack([f, b]) for f, b in zip(forward_states, backward_states)]
    lengths = layout.lengths if layout.kind == "right_padded" else None
    outputs, final = fused.call_kernel(kind, inputs, states, flat_weights, activation=activation,
                                       bidirectional=True,
                                       lengths=lengths.clamp(min=1) if layout.has_empty_rows else lengths)
    forward_final = [s[0] for s in final]
    backward_final = [s[1] for s in final]
    if lengths is not None and layout.has_empty_rows:
        # A fully masked row keeps its initial states and outputs zeros (the
        # kernel needs at least one step per row, so it ran one).
        empty = (lengths == 0).to(inputs.device)
        keep_initial = empty.unsqueeze(1)
        forward_final = [torch.where(keep_initial, s0, s) for s0, s in zip(forward_states, forward_final)]
        backward_final = [torch.where(keep_initial, s0, s) for s0, s in zip(backward_states, backward_final)]
        outputs = outputs.masked_fill(empty.view(-1, 1, 1), 0.0)
        if not return_sequences:
            return TwoWayResult(forward_final[0].masked_fill(keep_initial, 0.0),
                                backward_final[0].masked_fill(keep_initial, 0.0), forward_final, backward_final, None)
    if not return_sequences:
        # Keras's last outputs: the forward one after the last valid step, the
        # backward one after step 0; both equal the final hidden states.
        return TwoWayResult(forward_final[0], backward_final[0], forward_final, backward_final, None)
    # Padded steps come back as zeros, which is what Keras's Bidirectional
    # outputs there (it forces zero_output_for_mask when returning sequences).
    return TwoWayResult(outputs[..., :units], outputs[..., units:], forward_final, backward_final, outputs)
