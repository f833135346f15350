"""The built-in cells' time loop on the package's CPU kernel (engine/cpu_kernel): one autograd node.

The node runs the steps in C++ (each step's input projection where the
cell's is the built-in one, a recurrent product and one fused pass over the
gates) and its backward through time in C++; the projection's gradient
becomes the inputs' and the input kernel's by one product each. A cell with
a projection of its own (or input dropout) hands the node its projected
sequence instead. Two entries:

- `run_cell`: the cell loop of a built-in cell (LSTM, GRU with either
  `reset_after`, SimpleRNN; tanh, sigmoid, hard_sigmoid, relu, linear;
  recurrent dropout), on Keras's weights;
- `run_torch_layout`: the fused path's call (PyTorch's gate order and weight
  layout, as `fused.call_kernel` takes them).

Either applies Keras's mask rules (engine/keras_outputs.py) to the held
states the node returns, for a mask of any pattern. `serves` says when the
kernel may run a call; `dispatch.cpu_kernel_choice` when it should.

A backward under `create_graph=True` (a gradient to be differentiated
again) runs the steps again with differentiable torch ops and returns their
gradients, so higher-order gradients stay available, at the loop's speed.
"""
from __future__ import annotations

import torch

from . import cpu_kernel, keras_outputs
from .record import last_run, note
from .bptt import LoopSpec

KIND_CODES = {"lstm": 0, "gru": 1, "gru_reset_before": 2, "simple_rnn": 3}
ACTIVATION_CODES = {"linear": 0, "tanh": 1, "sigmoid": 2, "relu": 3, "hard_sigmoid": 4}
ACTIVATIONS = tuple(ACTIVATION_CODES)
_GATES = {"lstm": 4, "gru": 3, "gru_reset_before": 3, "simple_rnn": 1}


# The fused path's calls the kernel serves on the CPU, where it beats PyTorch's own CPU kernel (measured:
# docs/benchmarks.md, "The CPU kernel" and "Against the strongest peers"): every GRU call; LSTM calls that
# need gradients; LSTM calls without gradients of at most `SMALL_LSTM_UNITS` units (4-12% faster than oneDNN's
# forward from 64 to 128 units, slower from 256 on), or whose mask masks a step, up to `SMALL_MASKED_FLOP`
# (there PyTorch's masked glue, packing or compacting, costs more than the kernel's whole call); PyTorch's
# oneDNN LSTM is the faster for the other forward calls. SimpleRNN keeps PyTorch's.
FUSED_KINDS = frozenset({"gru", "lstm"})
TRAINING_ONLY_KINDS = frozenset({"lstm"})
SMALL_MASKED_FLOP = 2.5e8
SMALL_LSTM_UNITS = 128
TORCH_IS_FASTER = {"lstm": "PyTorch's kernel is the faster for this LSTM call without gradients on the CPU",
                   "simple_rnn": "PyTorch's kernel is the faster for simple_rnn on the CPU"}


def _small(inputs: torch.Tensor, flat_weights) -> bool:
    """Whether a call's products (every step's input and recurrent projections) stay under SMALL_MASKED_FLOP."""
    batch, steps, features = inputs.shape
    width, units = flat_weights[1].shape[1], flat_weights[1].shape[0]     # Keras's recurrent kernel (units, width)
    if width < units:                                                       # PyTorch's weight_hh (width, units)
        width, units = units, width
    return 2.0 * batch * steps * width * (features + units) <= SMALL_MASKED_FLOP


def spec_supported(spec: LoopSpec | None) -> bool:
    """Whether the kernel computes this cell's step."""
    return spec is not None and spec.kind in KIND_CODES and spec.activation in ACTIVATION_CODES \
        and (spec.kind == "simple_rnn" or spec.gate in ACTIVATION_CODES)


def _forward_ad_or_functorch(inputs: torch.Tensor, tensors) -> bool:
    if torch.autograd.forward_ad._current_level >= 0:
        return True
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor
    if wrapped(inputs):
        return True
    for t in tensors:               # a loop, not any(generator): a frame less on every call
        if wrapped(t):
            return True
    return False


def serves(inputs: torch.Tensor, tensors=()) -> str | None:
    """None when the kernel may run a call on `inputs`, else why not (a sentence).

    It runs eagerly on CPU float32/float64 tensors outside autocast; torch.compile
    and torch.export trace the other paths, torch.func transforms and forward-mode
    AD need ops they can see through.
    """
    if inputs.device.type != "cpu":
        return f"the CPU kernel runs on the CPU, these inputs are on {inputs.device.type}"
    if inputs.dtype not in (torch.float32, torch.float64):
        return f"the CPU kernel computes float32 and float64, these inputs are {inputs.dtype}"
    if torch.compiler.is_compiling():
        return "torch.compile and torch.export trace the other paths"
    if torch.is_autocast_enabled("cpu"):
        return "CPU autocast is on"
    if _forward_ad_or_functorch(inputs, tensors):
        return "forward-mode AD and torch.func transforms run the other paths"
    return cpu_kernel.unavailable_reason()


# ------------------------------------------------------------------ the autograd node
class _Native(torch.autograd.Function):
    """Inputs: the codes (kind, activation, gate activation, PyTorch's gate order), whether the held
    sequence is returned, the projected sequence x (time, batch, gates*units) in reading order, the step
    mask (time, batch) bool or None, the recurrent dropout mask or None, the recurrent kernel
    (units, gates*units), GRU's recurrent bias or None, h0, c0 (LSTM) or None, the input projection's
    bias (gates*units) or None (added to x in the kernel's pass over the gates, where the projection left it
    out: one pass over x fewer than addmm's).
    Outputs: [the held h sequence, batch first (only with `sequences`)], h_T, [c_T]."""

    @staticmethod
    def forward(ctx, codes, sequences, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0, input_bias):
        keep = any(ctx.needs_input_grad)          # else no backward will come: the kernel keeps one step's buffers
        held, *saved, c_last = cpu_kernel.module().forward(*codes, x, step_mask, recurrent_mask, kernel,
                                                           recurrent_bias, h0, c0, input_bias, keep)
        ctx.codes, ctx.sequences = codes, sequences
        if keep:
            ctx.save_for_backward(x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0, input_bias, held,
                                  *saved)
        ctx.set_materialize_grads(False)
        return _node_outputs(codes, sequences, held, c_last)

    @staticmethod
    def backward(ctx, *grads):
        grad_sequence, grad_h, grad_c = _output_grads(ctx, grads)
        x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0, input_bias, held, *saved = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if torch.is_grad_enabled():
            # create_graph=True: differentiable gradients, from the same steps as torch ops.
            return (None, None, *_differentiable_backward(ctx.codes, ctx.sequences, grad_sequence, grad_h, grad_c,
                                                          x, step_mask, recurrent_mask, kernel, recurrent_bias, h0,
                                                          c0, input_bias, needs))
        dx, d_kernel, d_bias, dh0, dc0, d_input_bias = cpu_kernel.module().backward(
            *ctx.codes, grad_sequence, grad_h, grad_c, step_mask, recurrent_mask, kernel, held, *saved,
            needs[5], needs[6] and recurrent_bias is not None, needs[9] and input_bias is not None)
        return (None, None, dx if needs[2] else None, None, None, d_kernel if needs[5] else None,
                d_bias if needs[6] else None, dh0 if needs[7] else None, dc0 if needs[8] else None,
                d_input_bias if needs[9] else None)


class _NativeFromInputs(torch.autograd.Function):
    """`_Native` on the layer's inputs (batch, time, features) and the input kernel (features, gates*units)
    instead of the projected sequence: each step projects its own inputs in the kernel, so no projection of
    every step is written and read back and no time-major copy of the inputs is made in the forward. The
    backward turns the projection's gradient (the kernel's `dx`) into the inputs' and the input kernel's by
    one product each. Inputs in reading order (not `go_backwards`); masked steps' inputs finite."""

    @staticmethod
    def forward(ctx, codes, sequences, inputs, input_kernel, step_mask, recurrent_mask, kernel, recurrent_bias, h0,
                c0, input_bias):
        keep = any(ctx.needs_input_grad)
        held, *saved, c_last = cpu_kernel.module().forward_unprojected(
            *codes, inputs, input_kernel, False, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0,
            input_bias, keep)
        ctx.codes, ctx.sequences = codes, sequences
        if keep:
            ctx.save_for_backward(inputs, input_kernel, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0,
                                  input_bias, held, *saved)
        ctx.set_materialize_grads(False)
        return _node_outputs(codes, sequences, held, c_last)

    @staticmethod
    def backward(ctx, *grads):
        grad_sequence, grad_h, grad_c = _output_grads(ctx, grads)
        (inputs, input_kernel, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0, input_bias, held,
         *saved) = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if torch.is_grad_enabled():
            # create_graph=True: the projection and the steps again as torch ops (see _differentiable_backward).
            x = _project(inputs.transpose(0, 1), input_kernel, None)
            slots = {2: inputs, 3: input_kernel, 6: kernel, 7: recurrent_bias, 8: h0, 9: c0, 10: input_bias}
            held, c = reference_steps(ctx.codes, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0,
                                      input_bias)
            results = _graph_gradients(ctx.sequences, held, c, grad_sequence, grad_h, grad_c, slots, needs)
            return (None, None, *(results.get(i) for i in range(2, 11)))
        dx, d_kernel, d_bias, dh0, dc0, d_input_bias = cpu_kernel.module().backward(
            *ctx.codes, grad_sequence, grad_h, grad_c, step_mask, recurrent_mask, kernel, held, *saved,
            needs[6], needs[7] and recurrent_bias is not None, needs[10] and input_bias is not None)
        steps, batch, width = dx.shape
        features = input_kernel.shape[0]        # explicit sizes: an empty batch reshapes too
        flat = dx.view(steps * batch, width)
        d_inputs = d_input_kernel = None
        if needs[2]:
            d_inputs = torch.mm(flat, input_kernel.t()).view(steps, batch, features).transpose(0, 1)
        if needs[3]:
            d_input_kernel = torch.mm(inputs.transpose(0, 1).reshape(steps * batch, features).t(), flat)
        return (None, None, d_inputs, d_input_kernel, None, None, d_kernel if needs[6] else None,
                d_bias if needs[7] else None, dh0 if needs[8] else None, dc0 if needs[9] else None,
                d_input_bias if needs[10] else None)


def _node_outputs(codes, sequences: bool, held: torch.Tensor, c_last: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """A node's outputs: [the held sequence batch first], h_T, [c_T]; copies, never views of `held` (callers
    write Keras's masked outputs into them in place, and the kernel hands its buffers out again)."""
    outputs = [held[1:].transpose(0, 1).clone(memory_format=torch.contiguous_format)] if sequences else []
    outputs.append(held[-1].clone())
    if codes[0] == KIND_CODES["lstm"]:
        outputs.append(c_last.clone())
    return tuple(outputs)


def _output_grads(ctx, grads):
    """`(grad of the sequence or None, grad of h_T, grad of c_T or None)` from a node's output gradients."""
    pending = list(grads)
    grad_sequence = pending.pop(0) if ctx.sequences else None
    grad_h = pending.pop(0)
    grad_c = pending.pop(0) if ctx.codes[0] == KIND_CODES["lstm"] else None
    return grad_sequence, grad_h, grad_c


def _activate(code: int, values: torch.Tensor) -> torch.Tensor:
    if code == ACTIVATION_CODES["tanh"]:
        return torch.tanh(values)
    if code == ACTIVATION_CODES["sigmoid"]:
        return torch.sigmoid(values)
    if code == ACTIVATION_CODES["relu"]:
        return torch.relu(values)
    if code == ACTIVATION_CODES["hard_sigmoid"]:
        return torch.clamp(values + 3.0, 0.0, 6.0) / 6.0
    return values


def reference_steps(codes, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0, input_bias=None):
    """The node's steps as differentiable torch ops: `(held h sequence (time+1, batch, units), c_T or None)`."""
    kind, act, gate, torch_order = codes
    units = h0.shape[-1]
    h, c = h0, c0
    held = [h0]
    for t in range(x.shape[0]):
        h_in = h if recurrent_mask is None else h * recurrent_mask
        x_t = x[t] if input_bias is None else x[t] + input_bias
        if kind == KIND_CODES["lstm"]:
            z = x_t + h_in @ kernel
            i, f, o = (_activate(gate, z[:, k * units:(k + 1) * units]) for k in (0, 1, 3))
            new_c = f * c + i * _activate(act, z[:, 2 * units:3 * units])
            new_h = o * _activate(act, new_c)
        elif kind == KIND_CODES["simple_rnn"]:
            new_h, new_c = _activate(act, x_t + h_in @ kernel), None
        else:
            zb, rb = (units, 0) if torch_order else (0, units)
            if kind == KIND_CODES["gru"]:
                inner = h_in @ kernel if recurrent_bias is None else h_in @ kernel + recurrent_bias
                z = _activate(gate, x_t[:, zb:zb + units] + inner[:, zb:zb + units])
                r = _activate(gate, x_t[:, rb:rb + units] + inner[:, rb:rb + units])
                candidate = _activate(act, x_t[:, 2 * units:] + r * inner[:, 2 * units:])
            else:
                zr = x_t[:, :2 * units] + h_in @ kernel[:, :2 * units]
                z, r = _activate(gate, zr[:, :units]), _activate(gate, zr[:, units:])
                candidate = _activate(act, x_t[:, 2 * units:] + (r * h_in) @ kernel[:, 2 * units:])
            new_h, new_c = z * h + (1 - z) * candidate, None
        if step_mask is not None:
            used = step_mask[t].unsqueeze(-1)
            new_h = torch.where(used, new_h, h)
            if new_c is not None:
                new_c = torch.where(used, new_c, c)
        h, c = new_h, new_c
        held.append(h)
    return torch.stack(held), c


def _differentiable_backward(codes, sequences, grad_sequence, grad_h, grad_c, x, step_mask, recurrent_mask, kernel,
                             recurrent_bias, h0, c0, input_bias, needs):
    """The node's input gradients as a differentiable graph (for `create_graph=True`): the steps again as
    torch ops on the saved inputs themselves, so the gradients stay connected to the graph before them."""
    slots = {2: x, 5: kernel, 6: recurrent_bias, 7: h0, 8: c0, 9: input_bias}
    held, c = reference_steps(codes, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0, input_bias)
    results = _graph_gradients(sequences, held, c, grad_sequence, grad_h, grad_c, slots, needs)
    return tuple(results.get(i) for i in range(2, 10))


def _graph_gradients(sequences: bool, held, c, grad_sequence, grad_h, grad_c, slots, needs) -> dict:
    """The gradients of the steps' outputs (`held`, `c` from `reference_steps`) reaching the tensors of
    `slots` (the node's input positions) that need one, as a graph (create_graph=True)."""
    wanted = {i: t for i, t in slots.items() if t is not None and needs[i] and t.requires_grad}
    outputs, output_grads = [], []
    for value, grad in ((held[1:].transpose(0, 1) if sequences else None, grad_sequence), (held[-1], grad_h),
                        (c, grad_c)):
        if value is not None and grad is not None:
            outputs.append(value)
            output_grads.append(grad)
    if not (outputs and wanted):
        return {}
    grads = torch.autograd.grad(outputs, list(wanted.values()), output_grads, create_graph=True, allow_unused=True)
    return dict(zip(wanted, grads))


def _held_results(codes, sequences: bool, held: torch.Tensor, c_last: torch.Tensor):
    """`(held sequence batch first or None, final states)` from a call without the node: copies, never views
    of the kernel's kept buffers."""
    final = [held[-1].clone()] if codes[0] != KIND_CODES["lstm"] else [held[-1].clone(), c_last.clone()]
    return (held[1:].transpose(0, 1).clone(memory_format=torch.contiguous_format) if sequences else None), final


def run_steps(codes, sequences: bool, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0, input_bias=None):
    """The node: `(held sequence batch first or None, final states)`.

    Where no gradient can come (grad mode off, or no input requiring one) the kernel runs without the
    node: it then keeps one step's buffers, not every step's (a Function's forward sees `needs_input_grad`
    True under `torch.no_grad()` too), and saves nothing.
    """
    if not _needs_gradients(x, (kernel, recurrent_bias, h0, c0, input_bias)):
        held, *_, c_last = cpu_kernel.module().forward(*codes, x, step_mask, recurrent_mask, kernel, recurrent_bias,
                                                       h0, c0, input_bias, False)
        return _held_results(codes, sequences, held, c_last)
    results = _Native.apply(codes, sequences, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0,
                            input_bias)
    if sequences:
        return results[0], list(results[1:])
    return None, list(results)


def _keras_results(sequence, final_states, reading_mask, return_sequences: bool, zero_output_for_mask: bool):
    """Keras's outputs from the node's held states (see bptt.run_cell_loop)."""
    if return_sequences:
        if reading_mask is not None:
            sequence = keras_outputs.sequence_from_held(sequence, reading_mask, zero_output_for_mask, in_place=True)
        return sequence, final_states
    if reading_mask is None:
        return final_states[0], final_states
    return keras_outputs.last_from_held(final_states[0], reading_mask, zero_output_for_mask), final_states


def _run_from_inputs(codes, sequences: bool, inputs: torch.Tensor, mask: torch.Tensor | None, go_backwards: bool,
                     input_kernel: torch.Tensor, input_bias, recurrent_mask, kernel, recurrent_bias, h0, c0):
    """`run_steps` from the layer's inputs `(batch, time, features)`: `(held sequence or None, final states,
    reading mask)`.

    The kernel projects each step's inputs itself (no transposed copy of the inputs, no projection of every
    step written and read back: 5-13% of a training step, measured). A call without gradients reads the
    inputs as they lie (backwards where `go_backwards`), and masked steps' values are never used, so they
    need not be zeroed. A call with gradients runs the node `_NativeFromInputs` on the inputs in reading
    order, padding that is not finite zeroed first (`finite_padding`).
    """
    reading_mask = None if mask is None else (mask.flip(1) if go_backwards else mask)
    if not _needs_gradients(inputs, (input_kernel, input_bias, kernel, recurrent_bias, h0, c0)):
        step_mask = None if reading_mask is None else reading_mask.t().contiguous()
        held, *_, c_last = cpu_kernel.module().forward_unprojected(
            *codes, inputs, input_kernel, go_backwards, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0,
            input_bias, False)
        return (*_held_results(codes, sequences, held, c_last), reading_mask)
    if go_backwards:
        inputs = inputs.flip(1)
    step_mask = None
    if reading_mask is not None:
        inputs = finite_padding(inputs, reading_mask)
        step_mask = reading_mask.t().contiguous()
    results = _NativeFromInputs.apply(codes, sequences, inputs, input_kernel, step_mask, recurrent_mask, kernel,
                                      recurrent_bias, h0, c0, input_bias)
    return (results[0], list(results[1:]), reading_mask) if sequences else (None, list(results), reading_mask)


def _project(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """`x @ kernel + bias` for time-major `x` (time, batch, features), as one product: (time, batch, width)."""
    steps, batch, features = x.shape
    flat = x.reshape(steps * batch, features)
    out = torch.mm(flat, kernel) if bias is None else torch.addmm(bias, flat, kernel)
    return out.view(steps, batch, out.shape[-1])


def _time_major(inputs: torch.Tensor, mask: torch.Tensor | None, go_backwards: bool):
    """`(inputs time-major in reading order, masked steps zeroed where some input is not finite (`finite_padding`),
    reading mask, step mask (time, batch))`."""
    reading_mask = step_mask = None
    if mask is not None:
        inputs = finite_padding(inputs, mask)
        reading_mask = mask.flip(1) if go_backwards else mask
        step_mask = reading_mask.t().contiguous()
    x = inputs.transpose(0, 1)
    if go_backwards:
        x = x.flip(0)
    return x, reading_mask, step_mask


def finite_padding(inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`inputs` (batch, time, features), the steps `mask` masks zeroed where some input is not finite.

    Padding may hold nan or inf: zeroed before the input projection, whose backward would otherwise turn it
    into nan weight gradients (0 * nan; see loop.zero_masked_steps). Finite padding needs nothing: the kernel
    never reads a masked step and gives it exactly zero gradients, so its products add exact zeros. A finite
    sum of the inputs shows them all finite (one pass, several times cheaper than the fill).
    """
    if bool(torch.isfinite(inputs.detach().sum())):
        return inputs
    return inputs.masked_fill(~mask.unsqueeze(-1), 0)


def cell_spec(cell, inputs: torch.Tensor, masks) -> tuple[LoopSpec | None, str | None]:
    """`(the cell's spec, None)` when the kernel runs this loop call, else `(None, why not)`."""
    spec = loop_spec_of(cell)
    if not spec_supported(spec):
        return None, ("the cell computes a step of its own" if spec is None else
                      f"the CPU kernel has no {spec.kind} step with {spec.activation}/{spec.gate}")
    reason = cell_serves(cell, inputs)
    return (spec, None) if reason is None else (None, reason)


def loop_spec_of(cell) -> LoopSpec | None:
    """The cell's `loop_spec()`, or None for a cell without one (its step is its own)."""
    loop_spec = getattr(cell, "loop_spec", None)
    return loop_spec() if loop_spec is not None else None


def cell_serves(cell, inputs: torch.Tensor) -> str | None:
    """`serves` for a loop call of a cell whose step the kernel computes (`cell_spec`'s spec): None when the
    kernel runs it, else why not."""
    bias = cell.bias
    reason = serves(inputs, (cell.kernel, cell.recurrent_kernel) if bias is None
                    else (cell.kernel, cell.recurrent_kernel, bias))
    if reason is None and cell.recurrent_kernel.dtype != inputs.dtype:
        reason = "the weights' dtype differs from the inputs'"
    return reason


def _needs_gradients(inputs: torch.Tensor, tensors) -> bool:
    if not torch.is_grad_enabled():
        return False
    if inputs.requires_grad:
        return True
    for t in tensors:
        if t is not None and t.requires_grad:
            return True
    return False


def torch_layout_serves(kind: str, inputs: torch.Tensor, flat_weights, mask: torch.Tensor | None = None) -> str | None:
    """None when the kernel runs this fused-path call, else why not (a sentence).

    GRU: every call. Masked calls too, with gradients or without: PyTorch's glue (engine/fused.py) runs only
    each row's used steps, the kernel every step of every row, yet without gradients (no buffers kept) the
    kernel was the faster at the MNIST size and about even at the medium size (docs/benchmarks.md, "The CPU
    kernel"). LSTM: calls that need gradients, and those without of at most `SMALL_LSTM_UNITS` units or whose
    `mask` masks a step while the call is small (`SMALL_MASKED_FLOP`); PyTorch's oneDNN kernel runs the others.
    """
    if kind not in FUSED_KINDS or kind in TRAINING_ONLY_KINDS and not _needs_gradients(inputs, flat_weights) \
            and min(flat_weights[1].shape) > SMALL_LSTM_UNITS \
            and not (mask is not None and _small(inputs, flat_weights) and not bool(mask.all())):
        return TORCH_IS_FASTER.get(kind, f"the CPU kernel does not serve {kind}'s fused path")
    reason = serves(inputs, flat_weights)
    if reason is None and flat_weights[1].dtype != inputs.dtype:
        reason = "the weights' dtype differs from the inputs'"
    return reason


def run_cell(spec: LoopSpec, cell, masks, inputs: torch.Tensor, states, mask, *, go_backwards: bool,
             return_sequences: bool, zero_output_for_mask: bool):
    """`loop.run_cell_loop` for a built-in cell on the kernel: `(output, final_states)`."""
    recurrent_bias = cell.bias[1] if spec.kind == "gru" and cell.bias is not None else None
    codes = (KIND_CODES[spec.kind], ACTIVATION_CODES[spec.activation],
             ACTIVATION_CODES[spec.gate] if spec.gate is not None else 0, False)
    c0 = states[1] if spec.kind == "lstm" else None
    if masks.inputs is None and type(cell).project.__qualname__ == "RecurrentCell.project":
        # The built-in projection: one product, or each step's own where no gradient is needed.
        sequence, final, reading_mask = _run_from_inputs(
            codes, return_sequences, inputs, mask, go_backwards, cell.kernel, cell.input_bias(), masks.recurrent,
            cell.recurrent_kernel, recurrent_bias, states[0], c0)
        return _keras_results(sequence, final, reading_mask, return_sequences, zero_output_for_mask)
    x, reading_mask, step_mask = _time_major(inputs, mask, go_backwards)
    if masks.inputs is not None:
        x = x * masks.inputs
    input_bias = None
    if type(cell).project.__qualname__ == "RecurrentCell.project":      # the built-in projection, as one product
        projected, input_bias = _project(x, cell.kernel, None), cell.input_bias()
    else:
        projected = cell.project(x).contiguous()
    sequence, final = run_steps(codes, return_sequences, projected, step_mask, masks.recurrent,
                                cell.recurrent_kernel, recurrent_bias, states[0], c0, input_bias)
    return _keras_results(sequence, final, reading_mask, return_sequences, zero_output_for_mask)


def run_torch_layout(kind: str, inputs: torch.Tensor, states: list[torch.Tensor], flat_weights: list[torch.Tensor],
                     *, activation: str, mask: torch.Tensor | None, go_backwards: bool, return_sequences: bool,
                     zero_output_for_mask: bool = False):
    """A fused-path call on the kernel, from PyTorch's layout (`[weight_ih, weight_hh, bias_ih, bias_hh]`,
    gates in PyTorch's order, states `(1, batch, units)`): `(output, final states (batch, units))` with
    Keras's meaning for masks and `go_backwards`."""
    weight_ih, weight_hh, *biases = flat_weights
    recurrent_bias = bias = None
    if biases:
        bias_ih, bias_hh = biases
        if kind == "gru":
            bias, recurrent_bias = bias_ih, bias_hh
        else:
            bias = bias_ih + bias_hh
    gate = "sigmoid" if kind != "simple_rnn" else "linear"
    codes = (KIND_CODES[kind], ACTIVATION_CODES[activation], ACTIVATION_CODES[gate], kind == "gru")
    c0 = states[1][0] if kind == "lstm" else None
    sequence, final, reading_mask = _run_from_inputs(codes, return_sequences, inputs, mask, go_backwards,
                                                     weight_ih.t(), bias, None, weight_hh.t(), recurrent_bias,
                                                     states[0][0], c0)
    return _keras_results(sequence, final, reading_mask, return_sequences, zero_output_for_mask)


def run_keras_layout(kind: str, inputs: torch.Tensor, states: list[torch.Tensor], kernel: torch.Tensor,
                     recurrent_kernel: torch.Tensor, bias: torch.Tensor | None, *, activation: str,
                     mask: torch.Tensor | None, go_backwards: bool, return_sequences: bool,
                     zero_output_for_mask: bool = False):
    """`run_torch_layout` for a GRU (reset_after) or an LSTM on Keras's weights as the layer holds them:
    kernel `(features, gates*units)`, recurrent kernel `(units, gates*units)`, bias (GRU `(2, 3*units)`,
    LSTM `(4*units,)`) or None; states `(1, batch, units)` (LSTM: h and c). No conversion to PyTorch's gate order and layout (and none of its gradient ops
    in training), and the recurrent product reads a contiguous kernel."""
    if kind == "gru":
        input_bias, recurrent_bias = (None, None) if bias is None else bias.unbind(0)
    else:
        input_bias, recurrent_bias = bias, None
    codes = (KIND_CODES[kind], ACTIVATION_CODES[activation], ACTIVATION_CODES["sigmoid"], False)
    c0 = states[1][0] if kind == "lstm" else None
    sequence, final, reading_mask = _run_from_inputs(codes, return_sequences, inputs, mask, go_backwards, kernel,
                                                     input_bias, None, recurrent_kernel, recurrent_bias,
                                                     states[0][0], c0)
    return _keras_results(sequence, final, reading_mask, return_sequences, zero_output_for_mask)
