"""The only module that calls PyTorch's fused recurrent kernels (cuDNN on CUDA,
PyTorch's native kernels on CPU), plus the glue that gives their results
Keras's meaning for masks and `go_backwards`.

Nothing here catches exceptions: a failure inside the kernel propagates.
"""
from __future__ import annotations

import torch
from torch import _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .masks import MaskLayout


# Looked up once: `_VF.name` goes through a Python-level module __getattr__ on every access.
_KERNELS = {("lstm", "tanh"): _VF.lstm, ("gru", "tanh"): _VF.gru,
            ("simple_rnn", "tanh"): _VF.rnn_tanh, ("simple_rnn", "relu"): _VF.rnn_relu}
KERNEL_KINDS = frozenset(kind for kind, _ in _KERNELS)


def call_kernel(kind: str, inputs: torch.Tensor, states: list[torch.Tensor], flat_weights: list[torch.Tensor], *,
                activation: str = "tanh", bidirectional: bool = False, lengths: torch.Tensor | None = None):
    """One fused call over a batch-first sequence.

    `states` are `(num_directions, batch, units)` tensors (`[h]` or `[h, c]`).
    `lengths` (CPU int64, every entry >= 1, any order) packs the batch so each
    row stops at its own length; padded output positions come back as zeros.
    Returns `(outputs (batch, time, num_directions*units), final_states)`.
    """
    if kind == "lstm" and inputs.device.type == "cpu":
        if _needs_float32_lstm():
            return _call_in_float32(kind, inputs, states, flat_weights, activation, bidirectional, lengths)
        if torch.compiler.is_compiling() and torch.is_grad_enabled():
            # Inductor cannot compile the backward of PyTorch's CPU (oneDNN) LSTM kernel; run it
            # eagerly, as torch.compile does for torch.nn.LSTM itself (one graph break).
            return _eager_call_kernel(kind, inputs, states, flat_weights, activation, bidirectional, lengths)
    return _call_kernel(kind, inputs, states, flat_weights, activation, bidirectional, lengths)


def _cpu_has_bfloat16_lstm() -> bool:
    """Whether oneDNN can build its bfloat16 LSTM on this CPU (it needs native bfloat16 instructions)."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else True


_CPU_BF16_LSTM = None


def _needs_float32_lstm() -> bool:
    """Under CPU bfloat16 autocast, on a CPU whose oneDNN has no bfloat16 LSTM."""
    global _CPU_BF16_LSTM
    if not torch.is_autocast_enabled("cpu") or torch.get_autocast_dtype("cpu") != torch.bfloat16:
        return False
    if _CPU_BF16_LSTM is None:
        _CPU_BF16_LSTM = _cpu_has_bfloat16_lstm()
    return not _CPU_BF16_LSTM


def _call_in_float32(kind, inputs, states, flat_weights, activation, bidirectional, lengths):
    """The kernel in float32 with autocast off; results in bfloat16, as autocast would give them."""
    with torch.autocast("cpu", enabled=False):
        outputs, final = _call_kernel(kind, inputs.float(), [s.float() for s in states],
                                      [w.float() for w in flat_weights], activation, bidirectional, lengths)
    return outputs.to(torch.bfloat16), [s.to(torch.bfloat16) for s in final]


def _call_kernel(kind, inputs, states, flat_weights, activation, bidirectional, lengths):
    kernel = _KERNELS[kind, activation]
    hx = tuple(states) if kind == "lstm" else states[0]
    # cuDNN needs the train flag to keep what backward uses; it changes nothing else for one layer.
    train = torch.is_grad_enabled()
    if lengths is None:
        result = kernel(inputs, hx, flat_weights, True, 1, 0.0, train, bidirectional, True)
        return result[0], list(result[1:])
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    if kind == "lstm":
        hx = tuple(h.index_select(1, packed.sorted_indices) for h in hx)
    else:
        hx = hx.index_select(1, packed.sorted_indices)
    result = kernel(packed.data, packed.batch_sizes, hx, flat_weights, True, 1, 0.0, train, bidirectional)
    outputs, _ = pad_packed_sequence(
        PackedSequence(result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
        batch_first=True, total_length=inputs.shape[1])
    final_states = [s.index_select(1, packed.unsorted_indices) for s in result[1:]]
    return outputs, final_states


_eager_call_kernel = torch.compiler.disable(_call_kernel)


def reverse_valid_steps(sequence: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first `lengths[b]` steps in place of order; padding stays where it is."""
    batch, timesteps = sequence.shape[:2]
    steps = torch.arange(timesteps, device=sequence.device).expand(batch, timesteps)
    lengths = lengths.to(sequence.device).unsqueeze(1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return sequence.gather(1, index.unsqueeze(-1).expand_as(sequence))


def unpacked_on_cpu(kind: str, inputs: torch.Tensor, need_cell_state: bool, pack: bool = False) -> bool:
    """Whether a right-padded batch runs whole rather than packed (see `_padded_call`).

    On the CPU, with gradients, always (1.4 to 20 times faster than packing in
    docs/benchmarks.md), except for an LSTM whose final `c` is wanted, or when
    the layer asks to pack (`pack_on_cpu`: lower peak memory). Without
    gradients the packed GRU is about 10% faster, as it skips the padding; the
    others run whole.
    """
    if pack or inputs.device.type != "cpu" or (kind == "lstm" and need_cell_state):
        return False
    return kind != "gru" or torch.is_grad_enabled()


def _padded_call(kind, inputs, states, flat_weights, activation, layout, padding="zeros", zeroed=False):
    """A right-padded batch on the CPU, run whole instead of packed: the same numbers, faster.

    Each row's valid steps come first, so they see only each other: the
    kernel over the padded batch gives every row's valid outputs exactly, and
    the final `h` is the output at the row's last valid step. PyTorch's packed
    kernel runs step by step with a shrinking batch on the CPU, much slower
    than the whole batch with gradients (docs/benchmarks.md); the steps after
    the longest row are cut off. The padding is zeroed first (unless the
    caller did, `zeroed=True`), so nothing computed there can be non-finite
    and reach a gradient. LSTM's
    final `c` cannot be read off the outputs: callers use this only when it is
    not needed, and get None in its place.

    `padding` says what the returned sequence holds at padded steps: "zeros"
    (as the packed kernel gives them), "repeat" (Keras's repeat of the row's
    last valid output), or "any": the kernel's outputs as they are, cut after
    the longest row, for callers that gather their own sequence from them
    (one sequence-sized copy less).
    """
    lengths = layout.lengths
    timesteps = inputs.shape[1]
    longest = max(int(lengths.max()), 1)      # fully masked batches still run one (discarded) step
    valid = layout.mask[:, :longest].unsqueeze(-1)
    sequence = inputs[:, :longest] if zeroed else inputs[:, :longest].masked_fill(~valid, 0.0)
    outputs, final = call_kernel(kind, sequence, states, flat_weights, activation=activation)
    del sequence                              # free it now where the kernel keeps no reference
    last = (lengths.clamp(min=1) - 1).to(inputs.device)
    h = outputs.gather(1, last.view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])).squeeze(1)
    final = [h.unsqueeze(0)] + ([None] if kind == "lstm" else [])
    if padding == "repeat":
        # Step t of a row reads its output at min(t, last): one gather makes the whole sequence,
        # where padding and then repeating would make two.
        steps = torch.arange(timesteps, device=inputs.device).unsqueeze(0)
        source = torch.minimum(steps, last.unsqueeze(1)).unsqueeze(-1)
        return outputs.gather(1, source.expand(-1, -1, outputs.shape[-1])), final
    if padding == "any":
        return outputs, final
    outputs = outputs.masked_fill(~valid, 0.0)
    if longest < timesteps:
        outputs = torch.nn.functional.pad(outputs, (0, 0, 0, timesteps - longest))
    return outputs, final


class ZeroStates:
    """A layer's zero initial states in the kernel's `(directions, batch, units)` layout, made once and reused.

    The kernels only read their initial states, and these never leave the
    engine, so the same tensors serve every call with the same batch size,
    dtype and device (and inference mode, whose tensors autograd refuses
    outside it). Making them afresh costs about as much as the rest of a
    small call's Python work together.
    """
    __slots__ = ("cached",)

    def __init__(self):
        self.cached = None      # (key, states), replaced whole so that threads never see half of it

    def get(self, count: int, batch: int, units: int, like: torch.Tensor, directions: int = 1) -> list[torch.Tensor]:
        """`count` zero tensors of shape `(directions, batch, units)`, like `like`'s dtype and device."""
        key = (count, directions, batch, units, like.dtype, like.device, torch.is_inference_mode_enabled())
        cached = self.cached
        if cached is not None and cached[0] == key:
            return cached[1]
        states = [like.new_zeros((directions, batch, units)) for _ in range(count)]
        self.cached = (key, states)
        return states


def run_unmasked(kind: str, inputs: torch.Tensor, states: list[torch.Tensor], flat_weights: list[torch.Tensor], *,
                 activation: str, go_backwards: bool, return_sequences: bool, need_states: bool = True):
    """`run_unidirectional` without a mask; `states` are already in the kernel's `(1, batch, units)` layout.

    With `need_states=False` the final states come back as an empty list
    (one reshape fewer per state: a visible share of a small call's time).
    """
    sequence = inputs.flip(1) if go_backwards else inputs
    outputs, final = call_kernel(kind, sequence, states, flat_weights, activation=activation)
    if not need_states:
        return (outputs if return_sequences else final[0][0]), []
    final = [s.squeeze(0) for s in final]
    return (outputs if return_sequences else final[0]), final


def run_unidirectional(kind: str, inputs: torch.Tensor, initial_states: list[torch.Tensor],
                       flat_weights: list[torch.Tensor], *, activation: str, layout: MaskLayout,
                       go_backwards: bool, return_sequences: bool, zero_output_for_mask: bool = False,
                       need_cell_state: bool = True, pack: bool = False):
    """A Keras recurrent layer's forward pass on the fused kernel.

    Returns `(output, final_states)` with Keras's conventions: with
    `go_backwards` the sequence is read (and returned) from the end; with a
    right-padded mask, padded steps keep the state, repeat the last valid output
    in the returned sequence (zeros with `zero_output_for_mask`, and zeros before
    the first valid step), and fully masked rows keep their initial states.
    `need_cell_state=False` (an LSTM whose final `c` nobody reads) allows the
    faster unpacked run on the CPU; the final states then hold None for `c`.
    `pack=True` always packs a right-padded batch.
    """
    states = [s.unsqueeze(0) for s in initial_states]
    if layout.kind != "right_padded":
        return run_unmasked(kind, inputs, states, flat_weights, activation=activation, go_backwards=go_backwards,
                            return_sequences=return_sequences)

    lengths = layout.lengths
    timesteps = inputs.shape[1]
    device = inputs.device
    whole = unpacked_on_cpu(kind, inputs, need_cell_state, pack)
    if go_backwards:
        inputs = reverse_valid_steps(inputs, lengths)
        if whole:
            inputs.masked_fill_(~layout.mask.unsqueeze(-1), 0.0)    # our own copy: zero its padding in place
    if whole:
        # Only a forward sequence shows the padded steps' outputs: zeros with zero_output_for_mask,
        # else Keras's repeat of the last valid output.
        padding = "any"
        if return_sequences and not go_backwards:
            padding = "zeros" if zero_output_for_mask else "repeat"
        outputs, final = _padded_call(kind, inputs, states, flat_weights, activation, layout, padding,
                                      zeroed=go_backwards)
    else:
        # The kernel wants at least one step per row; fully masked rows are put right below.
        outputs, final = call_kernel(kind, inputs, states, flat_weights, activation=activation,
                                     lengths=lengths.clamp(min=1) if layout.has_empty_rows else lengths)
    del inputs                                  # a reversed copy is not needed past the kernel
    final = [s.squeeze(0) if s is not None else None for s in final]
    empty = None
    if layout.has_empty_rows:
        empty = (lengths == 0).to(device)
        final = [torch.where(empty.unsqueeze(1), s0, s) if s is not None else None
                 for s0, s in zip(initial_states, final)]
        outputs = outputs.masked_fill(empty.view(-1, 1, 1), 0.0)
    last_output = final[0] if empty is None else final[0].masked_fill(empty.unsqueeze(1), 0.0)

    if not return_sequences:
        if zero_output_for_mask and not go_backwards:
            # Keras's last output is the output at the last step, zero when that step is masked.
            full = (lengths == timesteps).to(device).unsqueeze(1)
            last_output = torch.where(full, last_output, torch.zeros_like(last_output))
        return last_output, final

    if go_backwards:
        # Keras reads the padded tail first: zeros there, then the valid steps in reverse.
        shift = (timesteps - lengths).unsqueeze(1)
        source = (torch.arange(timesteps).unsqueeze(0) - shift).clamp(min=0).to(device)
        outputs = outputs.gather(1, source.unsqueeze(-1).expand(-1, -1, outputs.shape[-1]))
        keep = (torch.arange(timesteps).unsqueeze(0) >= shift).to(device)
        return outputs.masked_fill_(~keep.unsqueeze(-1), 0.0), final        # the gather's result is ours
    if not zero_output_for_mask and not whole:
        # Keras repeats the last valid output over the padded tail (the mask's False steps); the
        # whole-batch run has already done it.
        outputs = torch.where(layout.mask.unsqueeze(-1), outputs, last_output.unsqueeze(1))
    return outputs, final
