"""A Keras Bidirectional pass as one fused two-way kernel call.

PyTorch's bidirectional kernel already returns the backward direction in the
input's time order, and with packed lengths its backward direction starts at
each row's last valid step: exactly what Keras computes with a go_backwards
layer whose output sequence is flipped back. What is left here is Keras's
meaning for masked steps and fully masked rows.
"""
from __future__ import annotations

import torch

from . import compiled_ops, fused, keras_outputs
from .masks import MaskLayout
from .record import RAN

TWO_WAY_REASON = "the two-way call runs PyTorch's bidirectional kernel"


class TwoWayResult:
    """One two-way call's results, each part cut out only when asked for.

    Direction 0 is forward, 1 backward. `output(d)` is that direction's
    `(batch, time, units)` sequence in the input's time order, or without
    `return_sequences` its last output; `final(d)` its final states;
    `concatenated` the two sequences side by side as the kernel returns them
    (None without `return_sequences`). Each cut is a tensor operation, which
    costs visibly on small calls, so callers take only what they use.
    """

    def __init__(self, outputs, final, units, return_sequences, empty=None):
        self._outputs = outputs            # (batch, time, 2*units)
        self._final = final                # [(2, batch, units), ...]
        self._units = units
        self._return_sequences = return_sequences
        self._empty = empty                # (batch,) bool: fully masked rows, or None

    @property
    def concatenated(self):
        return self._outputs if self._return_sequences else None

    def output(self, direction: int) -> torch.Tensor:
        if self._return_sequences:
            units = self._units
            return self._outputs[..., :units] if direction == 0 else self._outputs[..., units:]
        # Keras's last outputs: the forward one after the last valid step, the
        # backward one after step 0; both equal the final hidden states (zeros for fully masked rows).
        last = self._final[0][direction]
        return last if self._empty is None else keras_outputs.hide(last, ~self._empty)

    def final(self, direction: int) -> list[torch.Tensor]:
        return [s[direction] for s in self._final]


def stack_directions(forward_states: list[torch.Tensor], backward_states: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each direction's `(batch, units)` states -> the two-way kernel's `(2, batch, units)` states."""
    return [torch.stack([f, b]) for f, b in zip(forward_states, backward_states)]


def run_two_way(kind: str, inputs: torch.Tensor, states: list[torch.Tensor], flat_weights: list[torch.Tensor], *,
                activation: str, layout: MaskLayout, return_sequences: bool):
    """Both directions of a Keras Bidirectional layer in one kernel call.

    `states` are the initial states in the kernel's `(2, batch, units)`
    layout, forward direction first (see `stack_directions`). `flat_weights`
    are the forward then the backward direction's
    `[weight_ih, weight_hh, bias_ih, bias_hh]`. `layout` is any mask's
    analysis. Outputs are sequences in the input's time order (zeros
    at masked steps, as Keras's Bidirectional gives them) or, without
    `return_sequences`, each direction's last output; see `TwoWayResult`.
    """
    units = states[0].shape[-1]
    if layout.kind == "deferred":           # compiling: the mask is analysed when the graph runs
        outputs, final, empty = compiled_ops.two_way_call(kind, inputs, states, flat_weights, activation=activation,
                                                          mask=layout.mask, return_sequences=return_sequences)
        return TwoWayResult(outputs, final, units, return_sequences, empty)
    holes = layout.kind == "other"
    if holes:
        # Both directions over the used steps alone (see fused.compacted): the forward one reads them in
        # order, the backward one in reverse, as the two Keras layers would.
        mask = layout.mask
        inputs, layout = fused.compacted(inputs, layout)
    lengths = None
    if layout.kind == "right_padded":
        inputs, lengths = fused.packable(inputs, layout)
    if not torch.compiler.is_compiling():
        RAN.kernel, RAN.reason = "torch", TWO_WAY_REASON
    outputs, final = fused.call_kernel(kind, inputs, states, flat_weights, activation=activation,
                                       bidirectional=True, lengths=lengths)
    lengths = layout.lengths if layout.kind == "right_padded" else None
    empty = None
    if lengths is not None and layout.has_empty_rows:
        # A fully masked row keeps its initial states and outputs zeros (the
        # kernel needs at least one step per row, so it ran one).
        empty = (lengths == 0).to(inputs.device)
        final = keras_outputs.keep_initial_states(final, states, empty, batch_axis=1)
        outputs = keras_outputs.hide(outputs, ~empty)
    # Padded steps of the sequences come back as zeros, which is what Keras's Bidirectional
    # outputs there (it forces zero_output_for_mask when returning sequences).
    if holes and return_sequences:
        assert mask is not None                                 # kind "other" always has its mask
        # Each used step's outputs back at its own time (zeros at masked steps, as padding gave them).
        outputs = keras_outputs.hide(fused.held_sequence(outputs, mask), mask, in_place=True)
    return TwoWayResult(outputs, final, units, return_sequences, empty)


compiled_ops.provide("two_way", run_two_way)
