"""The only module that calls PyTorch's fused recurrent kernels (cuDNN on CUDA,
PyTorch's native kernels on CPU), plus the glue that gives their results
Keras's meaning for masks and `go_backwards`.

Nothing here catches exceptions: a failure inside the kernel propagates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ...._dtypes import autocast_enabled
from . import compiled_ops, keras_outputs, native
from .masks import MaskLayout
from .record import RAN


# Looked up once: `_VF.name` goes through a Python-level module __getattr__ on every access.
# PyTorch's fused operators, typed loosely: torch's stubs give them no signature mypy can call.
_KERNELS: dict[tuple[str, str], Any] = {("lstm", "tanh"): _VF.lstm, ("gru", "tanh"): _VF.gru,
            ("simple_rnn", "tanh"): _VF.rnn_tanh, ("simple_rnn", "relu"): _VF.rnn_relu}
KERNEL_KINDS = frozenset(kind for kind, _ in _KERNELS)


def call_kernel(kind: str, inputs: torch.Tensor, states: list[torch.Tensor], flat_weights: list[torch.Tensor], *,
                activation: str = "tanh", bidirectional: bool = False, lengths: torch.Tensor | None = None,
                need_outputs: bool = True):
    """One fused call over a batch-first sequence.

    `states` are `(num_directions, batch, units)` tensors (`[h]` or `[h, c]`).
    `lengths` (CPU int64, every entry >= 1, any order) packs the batch so each
    row stops at its own length; padded output positions come back as zeros.
    Returns `(outputs (batch, time, num_directions*units), final_states)`;
    packed with `need_outputs=False`, `outputs` is None (the padded sequence
    is never assembled: only the final states are read).
    """
    args = (kind, inputs, states, flat_weights, activation, bidirectional, lengths, need_outputs)
    compiling = torch.compiler.is_compiling()
    autocast = compiling or any_autocast()      # else no autocast anywhere: nothing to ask per device
    if kind == "lstm" and inputs.device.type == "cpu":
        if autocast and _needs_float32_lstm():
            return _call_in_float32(*args)
        if compiling and torch.is_grad_enabled():
            # Inductor cannot compile the backward of PyTorch's CPU (oneDNN) LSTM kernel: the call is one
            # opaque operator of the graph, run eagerly (engine/compiled_ops.py).
            return compiled_ops.kernel_call(*args)
    outputs, final_states = _call_kernel(*args)
    return _in_autocast_dtype(outputs, final_states) if autocast else (outputs, final_states)


# Whether autocast is on for any device: torch's own C function, so that the common answer (no) costs
# the per-call path no Python frame; only when it says yes does the package ask `_dtypes.autocast_enabled`
# about a device (as torch.nn's RNN modules ask it). While compiling, every call asks per device as before.
any_autocast = torch._C._is_any_autocast_enabled


# One timestep on the CPU (a decoder's step): PyTorch's kernel call has a fixed cost larger than the
# step's own work, so the layer's lean route runs the cell's own step instead (two products and the
# gate functions, the kernel's arithmetic; KerasRecurrentLayer._one_step_call). Measured side by side
# (docs/benchmarks.md): PyTorch's CPU (oneDNN) LSTM took 1.0x-18x as long for one step at batch 1-16
# without gradients and 1.06x-9x as long with them at batch 1 and 64; larger batches without gradients
# keep the LSTM kernel. For GRU, with gradients, the step on Keras's weights skips the gate-order
# conversion's backward, which cost up to 1.7x of torch.nn's call per step; without gradients GRU's
# kernel call is the faster (the layer's own per-call work outweighs the small saving there).
ONE_STEP_MAX_BATCH_WITHOUT_GRAD = 16


def one_cpu_step_pays(kind: str, inputs: torch.Tensor) -> bool:
    """Whether a one-timestep call of `kind` on `inputs` runs faster as the step itself than as a kernel call."""
    # The cheapest tests first: most calls (several steps, or a large batch without gradients) stop early.
    # Never while tracing: comparing a symbolic batch size would fix it in the graph.
    if kind not in ("lstm", "gru") or torch.compiler.is_compiling() or inputs.dim() != 3 or inputs.shape[1] != 1:
        return False
    grad = torch.is_grad_enabled()
    if not (grad or (kind == "lstm" and inputs.shape[0] <= ONE_STEP_MAX_BATCH_WITHOUT_GRAD)):
        return False
    return inputs.device.type == "cpu" and inputs.dtype in (torch.float32, torch.float64) \
        and not autocast_enabled("cpu")


def _in_autocast_dtype(outputs, final_states):
    """Every kind's results in the dtype autocast gives (CPU autocast lowers the LSTM and simple RNN
    kernels, not the GRU one), so a layer returns the same dtype on either path and kind."""
    dtype = final_states[0].dtype
    device_type = final_states[0].device.type
    if dtype != torch.float32 or not autocast_enabled(device_type):
        return outputs, final_states
    low = torch.get_autocast_dtype(device_type)
    return _to(outputs, low), [state.to(low) for state in final_states]


def _to(tensor, dtype):
    """`tensor.to(dtype)`; None stays None (outputs nobody asked for)."""
    return None if tensor is None else tensor.to(dtype)


def _cpu_has_bfloat16_lstm() -> bool:
    """Whether oneDNN can build its bfloat16 LSTM on this CPU (it needs native bfloat16 instructions)."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else True


_CPU_BF16_LSTM = None


def _needs_float32_lstm() -> bool:
    """Under CPU bfloat16 autocast, on a CPU whose oneDNN has no bfloat16 LSTM."""
    global _CPU_BF16_LSTM
    if not autocast_enabled("cpu") or torch.get_autocast_dtype("cpu") != torch.bfloat16:
        return False
    if _CPU_BF16_LSTM is None:
        _CPU_BF16_LSTM = _cpu_has_bfloat16_lstm()
    return not _CPU_BF16_LSTM


def _call_in_float32(kind, inputs, states, flat_weights, activation, bidirectional, lengths, need_outputs):
    """The kernel in float32 with autocast off; results in bfloat16, as autocast would give them."""
    with torch.autocast("cpu", enabled=False):
        outputs, final = _call_kernel(kind, inputs.float(), [s.float() for s in states],
                                      [w.float() for w in flat_weights], activation, bidirectional, lengths,
                                      need_outputs)
    return _to(outputs, torch.bfloat16), [s.to(torch.bfloat16) for s in final]


def _call_kernel(kind, inputs, states, flat_weights, activation, bidirectional, lengths, need_outputs=True):
    kernel = _KERNELS[kind, activation]
    hx: tuple[torch.Tensor, ...] | torch.Tensor = tuple(states) if kind == "lstm" else states[0]
    # cuDNN needs the train flag to keep what backward uses; it changes nothing else for one layer.
    train = torch.is_grad_enabled()
    if lengths is None:
        result = kernel(inputs, hx, flat_weights, True, 1, 0.0, train, bidirectional, True)
        return result[0], list(result[1:])
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    order = packed.sorted_indices
    assert order is not None            # set when packing with enforce_sorted=False
    hx = tuple(h.index_select(1, order) for h in hx) if isinstance(hx, tuple) else hx.index_select(1, order)
    result = kernel(packed.data, packed.batch_sizes, hx, flat_weights, True, 1, 0.0, train, bidirectional)
    outputs = None
    if need_outputs:
        outputs, _ = pad_packed_sequence(
            PackedSequence(result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
            batch_first=True, total_length=inputs.shape[1])
    final_states = [s.index_select(1, packed.unsorted_indices) for s in result[1:]]
    return outputs, final_states


compiled_ops.provide("kernel", _call_kernel)


def reverse_valid_steps(sequence: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first `lengths[b]` steps in place of order; padding stays where it is."""
    batch, timesteps = sequence.shape[:2]
    steps = torch.arange(timesteps, device=sequence.device).expand(batch, timesteps)
    lengths = lengths.to(sequence.device).unsqueeze(1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return sequence.gather(1, index.unsqueeze(-1).expand_as(sequence))


@dataclass(frozen=True)
class RightPaddedRun:
    """How the fused kernel runs a right-padded batch: the CPU speed/memory policy, decided in one place.

    `method` is one of:

    - "whole": run the padded batch whole, its padding zeroed and cut after
      the longest row. Each row's valid steps come first, so they see only
      each other: the outputs at the valid steps are exact, and the final `h`
      is the output at the row's last valid step. On the CPU, with gradients,
      several times faster than packing (docs/benchmarks.md), at the cost of
      activations for padded steps. It cannot give LSTM's final `c`.
    - "segments" (CPU LSTM whose final `c` is wanted): rows sorted by length,
      one whole-batch kernel call per stretch between two distinct lengths,
      the rows still running carrying their states into the next stretch;
      each row's final `(h, c)` is the state where its length ends. The same
      steps as packing, on the fast whole-batch kernel (`run_segments`);
      without gradients and with short stretches it packs (`Segments.worth_it`).
    - "packed": PyTorch's packed kernel (`pack_on_cpu`, lower peak memory;
      CUDA; and the GRU without gradients, where it skips the padding and is
      a little faster than the whole batch).
    """
    method: str

    @property
    def whole(self) -> bool:
        return self.method == "whole"

    @property
    def packed(self) -> bool:
        return self.method == "packed"

    @classmethod
    def choose(cls, kind: str, inputs: torch.Tensor, *, need_cell_state: bool, pack: bool) -> "RightPaddedRun":
        if pack or inputs.device.type != "cpu":
            return cls("packed")
        if kind == "lstm" and need_cell_state:
            return cls("segments")
        if kind == "gru" and not torch.is_grad_enabled():
            return cls("packed")
        return cls("whole")

    def run(self, kind, inputs, states, flat_weights, activation, layout, go_backwards, need_outputs=True):
        """`(outputs, final_states)`: each row's valid outputs first, in reading order, and the final states.

        Packed or in segments, `outputs` is `(batch, time, units)` with zeros
        after each row's valid steps (None with `need_outputs=False`); whole,
        `(batch, longest, units)` with anything there. A whole run gives None
        for LSTM's `c`. `states` are `(1, batch, units)`.
        """
        lengths = layout.lengths
        if go_backwards:
            inputs = reverse_valid_steps(inputs, lengths)
        if self.method == "segments":
            plan = Segments.of(lengths)
            if plan.worth_it(torch.is_grad_enabled()):      # else packed, as below
                return run_segments(kind, inputs, states, flat_weights, activation, plan, need_outputs)
        if not self.whole:
            inputs, lengths = packable(inputs, layout)
            return call_kernel(kind, inputs, states, flat_weights, activation=activation, lengths=lengths,
                               need_outputs=need_outputs)
        longest = max(int(lengths.max()), 1)      # fully masked batches still run one (discarded) step
        valid = layout.mask[:, :longest].unsqueeze(-1)
        # Padding may hold anything: zeroed first, so nothing computed there is non-finite or reaches a
        # gradient. A reversed copy is ours to zero in place.
        sequence = inputs[:, :longest]
        sequence = sequence.masked_fill_(~valid, 0.0) if go_backwards else sequence.masked_fill(~valid, 0.0)
        del inputs
        outputs, _ = call_kernel(kind, sequence, states, flat_weights, activation=activation)
        del sequence                              # free it now where the kernel keeps no reference
        last = (lengths.clamp(min=1) - 1).to(outputs.device)
        h = outputs.gather(1, last.view(-1, 1, 1).expand(-1, 1, outputs.shape[-1]))
        return outputs, [h.squeeze(1).unsqueeze(0)] + ([None] if kind == "lstm" else [])


@dataclass(frozen=True)
class Segments:
    """A right-padded batch cut where rows end: `order` (CPU int64) sorts the rows longest first;
    stretch `j` runs steps `starts[j]:ends[j]` for the first `counts[j]` rows in that order (the
    rows after `counts[0]` are empty)."""
    order: torch.Tensor
    starts: list
    ends: list
    counts: list

    @classmethod
    def of(cls, lengths: torch.Tensor) -> "Segments":
        """The stretches for `lengths` (CPU int64): one per distinct length above zero."""
        order = torch.argsort(lengths, descending=True, stable=True)
        ascending = lengths.index_select(0, order).flip(0)
        ends = torch.unique_consecutive(ascending)
        ends = ends[ends > 0]
        counts = len(lengths) - torch.searchsorted(ascending, ends)        # rows whose length reaches each end
        ends_list = ends.tolist()
        return cls(order, [0] + ends_list[:-1], ends_list, counts.tolist())

    def worth_it(self, with_gradients: bool) -> bool:
        """Whether these stretches beat the packed kernel (docs/benchmarks.md, "Last states of
        right-padded rows").

        With gradients, always (the packed kernel's CPU backward is slow): 0.4x to 0.9x of its time
        with a distinct length at nearly every step, far less on long rows. Without, each kernel
        call's fixed cost counts against packing's leaner steps: segments when the stretches average
        at least `MIN_MEAN_STRETCH` steps. Never for an empty batch.
        """
        if not self.ends:
            return False
        return with_gradients or self.ends[-1] >= MIN_MEAN_STRETCH * len(self.ends)


# Without gradients, the shortest mean stretch (steps per kernel call) for which segments beat packing.
MIN_MEAN_STRETCH = 2


def run_segments(kind, inputs, states, flat_weights, activation, plan: Segments, need_outputs=True):
    """A right-padded batch as whole-batch kernel calls between its distinct lengths (`plan`, at
    least one stretch); `(outputs or None, final_states)` as `RightPaddedRun.run` packed gives them.

    Each call reads only valid steps, and a row's final states are those of the call where its length
    ends (an empty row's are its initial states): the steps and numbers of the packed kernel, at the
    whole-batch kernel's speed.
    """
    order = plan.order.to(inputs.device)
    initial = running = [s.index_select(1, order) for s in states]
    # One sorted copy, cut into views: each stretch reads a prefix of the rows (autograd then adds one
    # gradient per stretch into one buffer, not a scatter per stretch).
    stretches = inputs.index_select(0, order)[:, :plan.ends[-1]].split(
        [end - start for start, end in zip(plan.starts, plan.ends)], dim=1)
    finished, pieces = [], []
    for stretch, count, following in zip(stretches, plan.counts, plan.counts[1:] + [0]):
        outputs, running = call_kernel(kind, stretch[:count], [s[:, :count] for s in running], flat_weights,
                                       activation=activation)
        finished.append([s[:, following:] for s in running])        # the rows whose length ends here
        if need_outputs:
            pieces.append(outputs)
    if plan.counts[0] < len(plan.order):
        # Empty rows (last in the order) keep their initial states, in the kernel's dtype (autocast's).
        finished.insert(0, [s[:, plan.counts[0]:].to(f.dtype) for s, f in zip(initial, running)])
    unsort = torch.argsort(order)
    final = [torch.cat(parts[::-1], dim=1).index_select(1, unsort) for parts in zip(*finished)]
    if not need_outputs:
        return None, final
    return _sequence_of_pieces(pieces, inputs.shape[1], unsort), final


def _sequence_of_pieces(pieces, timesteps, unsort):
    """The stretches' outputs (rows longest first, fewer rows each) as one `(batch, timesteps, units)`
    sequence in the batch's order, zeros after each row's valid steps."""
    batch = unsort.shape[0]
    padded = [torch.nn.functional.pad(piece, (0, 0, 0, 0, 0, batch - piece.shape[0])) for piece in pieces]
    computed = sum(piece.shape[1] for piece in pieces)
    if computed < timesteps:
        padded.append(padded[0].new_zeros(batch, timesteps - computed, padded[0].shape[2]))
    return torch.cat(padded, dim=1).index_select(0, unsort)


def packable(inputs: torch.Tensor, layout: MaskLayout):
    """`(inputs, lengths)` for the packed kernel, which wants at least one step per row.

    A fully masked row runs its first step, on zeros, so nothing non-finite
    there reaches a gradient; callers put its results right (initial states
    kept, zeros out).
    """
    lengths = layout.lengths
    assert lengths is not None              # a masked layout always has its lengths
    if not layout.has_empty_rows:
        return inputs, lengths
    empty = (lengths == 0).to(inputs.device)
    first = torch.zeros(inputs.shape[1], dtype=torch.bool, device=inputs.device)
    first[0] = True
    shape = (-1, inputs.shape[1], *(1,) * (inputs.dim() - 2))
    return inputs.masked_fill((empty.unsqueeze(1) & first).view(shape), 0.0), lengths.clamp(min=1)


def held_sequence(outputs: torch.Tensor, reading_mask: torch.Tensor) -> torch.Tensor:
    """The held-state sequence in reading order from each row's used outputs in order (one gather).

    `outputs` holds row b's k-th used step (in reading order) at position k;
    reading step t holds the output of the latest used step up to t, number
    `cumsum(mask)[t] - 1`. Before a row's first used step that is nothing:
    `keras_outputs` hides those steps.
    """
    source = (reading_mask.cumsum(dim=1) - 1).clamp(min=0)
    return outputs.gather(1, source.unsqueeze(-1).expand(-1, -1, outputs.shape[-1]))


def compacted(inputs: torch.Tensor, layout: MaskLayout) -> tuple[torch.Tensor, MaskLayout]:
    """Any mask as a right-padded one: each row's used steps moved to the front, in order.

    Under Keras's rules a masked step changes nothing, so running the used
    steps alone gives every state and output there; `held_sequence` puts them
    back. Returns `(inputs with used steps first, the right-padded layout)`.
    """
    mask = layout.mask
    assert mask is not None and layout.lengths is not None          # a masked layout has both
    order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)       # used steps first, in time order
    shape = (*order.shape, *(1,) * (inputs.dim() - 2))
    front = inputs.gather(1, order.view(shape).expand_as(inputs))
    steps = torch.arange(mask.shape[1], device=mask.device).unsqueeze(0)
    right = MaskLayout("right_padded", layout.lengths, layout.has_empty_rows,
                       steps < layout.lengths.to(mask.device).unsqueeze(1))
    return front, right


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
        """`count` zero tensors of shape `(directions, batch, units)` (`directions=0`: `(batch, units)`), like
        `like`'s dtype and device."""
        key = (count, directions, batch, units, like.dtype, like.device, torch.is_inference_mode_enabled())
        cached = self.cached
        if cached is not None and cached[0] == key:
            return cached[1]
        states = [like.new_zeros((directions, batch, units) if directions else (batch, units)) for _ in range(count)]
        self.cached = (key, states)
        return states


def run_unmasked(kind: str, inputs: torch.Tensor, states: list[torch.Tensor], flat_weights: list[torch.Tensor], *,
                 activation: str, go_backwards: bool, return_sequences: bool, need_states: bool = True,
                 kernel_declined: str | None = None):
    """`run_unidirectional` without a mask; `states` are already in the kernel's `(1, batch, units)` layout.

    With `need_states=False` the final states come back as an empty list
    (one reshape fewer per state: a visible share of a small call's time).
    `kernel_declined`: why the package's CPU kernel does not run this call, where the caller asked already
    (`native.torch_layout_serves`); None: ask here.
    """
    reason = kernel_declined
    if reason is None and inputs.device.type == "cpu":
        reason = native.torch_layout_serves(kind, inputs, flat_weights)
        if reason is None:
            native.note("cpu_kernel")
            output, final_states = native.run_torch_layout(
                kind, inputs, states, flat_weights, activation=activation, mask=None, go_backwards=go_backwards,
                return_sequences=return_sequences)
            return output, (final_states if need_states else [])
    if not torch.compiler.is_compiling():
        RAN.kernel, RAN.reason = "torch", reason
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
    """A Keras recurrent layer's forward pass on the fused kernel, with a mask of any pattern.

    Returns `(output, final_states)` with Keras's conventions (engine/keras_outputs.py):
    with `go_backwards` the sequence is read (and returned) from the end;
    masked steps keep the state and the returned sequence shows the held state
    there (zeros before a row's first used step, and at masked steps with
    `zero_output_for_mask`); fully masked rows keep their initial states.
    A mask other than right padding runs as one (see `compacted`).
    `need_cell_state=False` (an LSTM whose final `c` nobody reads) allows the
    faster whole-batch run on the CPU; the final states then hold None for
    `c`. `pack=True` always packs (see `RightPaddedRun`).
    """
    if layout.kind == "deferred":           # compiling: the mask is analysed when the graph runs
        return compiled_ops.unidirectional_call(
            kind, inputs, initial_states, flat_weights, activation=activation, mask=layout.mask,
            go_backwards=go_backwards, return_sequences=return_sequences, zero_output_for_mask=zero_output_for_mask,
            need_cell_state=need_cell_state, pack=pack)
    states = [s.unsqueeze(0) for s in initial_states]
    if layout.kind == "none":
        return run_unmasked(kind, inputs, states, flat_weights, activation=activation, go_backwards=go_backwards,
                            return_sequences=return_sequences)
    return run_masked(kind, inputs, states, flat_weights, activation=activation, layout=layout,
                      go_backwards=go_backwards, return_sequences=return_sequences,
                      zero_output_for_mask=zero_output_for_mask, need_cell_state=need_cell_state, pack=pack)


compiled_ops.provide("unidirectional", run_unidirectional)


def run_masked(kind: str, inputs: torch.Tensor, states: list[torch.Tensor], flat_weights: list[torch.Tensor], *,
               activation: str, layout: MaskLayout, go_backwards: bool, return_sequences: bool,
               zero_output_for_mask: bool = False, need_cell_state: bool = True, pack: bool = False,
               kernel_declined: str | None = None):
    """`run_unidirectional` with a mask (`layout.kind` not "none"); `states` already in the kernel's
    `(1, batch, units)` layout. The kernel only reads them: they may be shared (`ZeroStates`).
    On the CPU, the package's kernel runs it where it serves (`native.torch_layout_serves`): any mask
    natively, no compaction, packing or segments. `kernel_declined`: as in `run_unmasked`."""
    reason = kernel_declined
    if reason is None and inputs.device.type == "cpu":
        if pack:
            reason = "pack_on_cpu asks for PyTorch's packed kernel"
        else:
            reason = native.torch_layout_serves(kind, inputs, flat_weights, layout.mask)
            if reason is None:
                native.note("cpu_kernel")
                return native.run_torch_layout(kind, inputs, states, flat_weights, activation=activation,
                                               mask=layout.mask, go_backwards=go_backwards,
                                               return_sequences=return_sequences,
                                               zero_output_for_mask=zero_output_for_mask)
    if not torch.compiler.is_compiling():
        RAN.kernel, RAN.reason = "torch", reason
    timesteps = inputs.shape[1]
    assert layout.mask is not None                              # a masked layout has its mask
    reading_mask = layout.mask.flip(1) if go_backwards else layout.mask
    first_used, last_used = layout.first_step_used, layout.last_step_used
    if go_backwards:
        first_used, last_used = last_used, first_used          # in reading order
    right_padded = layout.kind == "right_padded"
    if not right_padded:
        inputs, layout = compacted(inputs, layout)
    run = RightPaddedRun.choose(kind, inputs, need_cell_state=need_cell_state, pack=pack)
    outputs, final = run.run(kind, inputs, states, flat_weights, activation, layout, go_backwards,
                             need_outputs=return_sequences)
    del inputs
    final = [s.squeeze(0) if s is not None else None for s in final]
    if layout.has_empty_rows:
        assert layout.lengths is not None                       # rows can be empty only under a mask
        final = keras_outputs.keep_initial_states(final, [s[0] for s in states],
                                                  (layout.lengths == 0).to(final[0].device))
    if not return_sequences:
        if zero_output_for_mask and not last_used or layout.has_empty_rows:
            return keras_outputs.last_from_held(final[0], reading_mask, zero_output_for_mask), final
        return final[0], final          # every row's last step read is used, or follows a used one
    if right_padded and zero_output_for_mask and not go_backwards:
        # Forwards, zeros at masked steps: each row's used outputs are where Keras shows them, so the
        # kernel's outputs need only hiding past them (and the whole run's cut tail put back as zeros).
        if not run.whole and not layout.has_empty_rows:
            return outputs, final           # packed: zeros after the used steps already
        computed = outputs.shape[1]
        sequence = keras_outputs.sequence_from_held(outputs, reading_mask[:, :computed], True, in_place=not run.whole)
        if computed < timesteps:
            sequence = torch.nn.functional.pad(sequence, (0, 0, 0, timesteps - computed))
        return sequence, final
    held = held_sequence(outputs, reading_mask)
    del outputs
    if first_used and not zero_output_for_mask:
        return held, final                  # every step of every row follows a used one: nothing to hide
    if right_padded and go_backwards:
        # Read backwards, a right-padded row's used steps come last and together: every step after the
        # first used one is used, so Keras shows exactly the used steps, with or without zero_output_for_mask.
        return keras_outputs.hide(held, reading_mask, in_place=True), final
    return keras_outputs.sequence_from_held(held, reading_mask, zero_output_for_mask, in_place=True), final
