"""The generic time loop over any step function: masks, go_backwards, outputs.

`run_loop` knows nothing about cells: a step maps `(input_t, states)` to
`(output_t, new_states)`. Work that can happen once (splitting the sequence,
reversing it, shaping the mask) happens before the loop; the loop itself does
the step and, with a mask, two selects.

`run_sequence` is the entry point: eagerly (and under torch.compile) it
unrolls `run_loop` over the steps; while torch.export traces, it writes the
same loop as one `scan` over the time axis (`scan_loop`), so an exported
graph holds one step and takes any number of timesteps.
"""
from __future__ import annotations

import torch
from torch.utils import _pytree as pytree

from ...._dtypes import autocast_enabled
from . import keras_outputs, native


def _is_flat(structure) -> bool:
    return isinstance(structure, torch.Tensor) or (
        isinstance(structure, (list, tuple)) and all(isinstance(s, torch.Tensor) for s in structure))


def split_time(sequence, reverse: bool = False) -> list:
    """A (nested) batch-first sequence -> the list of its per-step slices, in reading order."""
    if isinstance(sequence, torch.Tensor):
        steps = list(sequence.unbind(1))
    else:
        leaves, spec = pytree.tree_flatten(sequence)
        per_leaf = [leaf.unbind(1) for leaf in leaves]
        steps = [pytree.tree_unflatten(list(parts), spec) for parts in zip(*per_leaf)]
    return steps[::-1] if reverse else steps


def _broadcast(mask_t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    # mask_t is (batch, 1); a state of shape (batch, a, b) needs (batch, 1, 1).
    return mask_t if like.dim() == 2 else mask_t.view(mask_t.shape[0], *([1] * (like.dim() - 1)))


def select(mask_t: torch.Tensor, new, old):
    """`new` where the step is used, else `old`, for a tensor or a nested structure."""
    if isinstance(new, torch.Tensor):
        return torch.where(_broadcast(mask_t, new), new, old)
    if _is_flat(new):
        return type(new)(torch.where(_broadcast(mask_t, n), n, o) for n, o in zip(new, old))
    new_leaves, spec = pytree.tree_flatten(new)
    old_leaves = pytree.tree_leaves(old)
    return pytree.tree_unflatten(
        [torch.where(_broadcast(mask_t, n), n, o) for n, o in zip(new_leaves, old_leaves)], spec)


def zeros_like(structure):
    if isinstance(structure, torch.Tensor):
        return torch.zeros_like(structure)
    return pytree.tree_map(torch.zeros_like, structure)


def stack_time(outputs: list):
    """Per-step outputs (tensors or same-structured nests) -> batch-first sequences."""
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(outputs, dim=1)
    leaves_per_step = [pytree.tree_flatten(o)[0] for o in outputs]
    spec = pytree.tree_flatten(first)[1]
    return pytree.tree_unflatten([torch.stack(parts, dim=1) for parts in zip(*leaves_per_step)], spec)


def run_loop(step, steps: list, initial_states, *, mask: torch.Tensor | None = None, go_backwards: bool = False,
             return_sequences: bool = False, zero_output_for_mask: bool = False,
             output_is_first_state: bool = False):
    """Run `step` over `steps` (already in reading order) from `initial_states`.

    `mask` is `(batch, timesteps)` in the input's time order. At a masked step
    the states stay as they were, and the outputs follow Keras's rule
    (engine/keras_outputs.py) applied to the output held since the latest
    used step. Returns `(output, final_states)` where `output` is the
    sequence (in reading order) or the last step's output.

    `output_is_first_state` (true for the built-in cells, whose output is the
    new `h`) lets a masked loop skip the per-step output select: the Keras
    outputs are then the masked `h` sequence, zeroed before each row's first
    used step, computed once after the loop.
    """
    states = initial_states
    outputs = []
    output = None
    if mask is None:
        for x_t in steps:
            output, states = step(x_t, states)
            if return_sequences:
                outputs.append(output)
        return (stack_time(outputs) if return_sequences else output), states

    reading_mask = mask.flip(1) if go_backwards else mask
    mask_steps = reading_mask.unsqueeze(-1).unbind(1)
    if output_is_first_state:
        for x_t, mask_t in zip(steps, mask_steps):
            _, new_states = step(x_t, states)
            states = select(mask_t, new_states, states)
            if return_sequences:
                outputs.append(states[0])
        if return_sequences:
            return keras_outputs.sequence_from_held(stack_time(outputs), reading_mask, zero_output_for_mask,
                                                    in_place=True), states
        return keras_outputs.last_from_held(states[0], reading_mask, zero_output_for_mask), states

    held = None       # the output held since the latest used step (zeros before the first)
    for x_t, mask_t in zip(steps, mask_steps):
        output, new_states = step(x_t, states)
        states = select(mask_t, new_states, states)
        held = select(mask_t, output, zeros_like(output) if held is None else held)
        if return_sequences:
            outputs.append(held)
    if return_sequences:
        return _map(lambda t: keras_outputs.sequence_from_held(t, reading_mask, zero_output_for_mask, in_place=True),
                    stack_time(outputs)), states
    return _map(lambda t: keras_outputs.last_from_held(t, reading_mask, zero_output_for_mask), held), states


def run_sequence(step, sequence, initial_states, *, mask: torch.Tensor | None = None, go_backwards: bool = False,
                 return_sequences: bool = False, zero_output_for_mask: bool = False,
                 output_is_first_state: bool = False):
    """`run_loop` over a batch-first (nested) `sequence` in the input's time order; a `scan` under torch.export."""
    native.note("loop")
    if torch.compiler.is_exporting():
        return scan_loop(step, sequence, initial_states, mask=mask, go_backwards=go_backwards,
                         return_sequences=return_sequences, zero_output_for_mask=zero_output_for_mask,
                         output_is_first_state=output_is_first_state)
    return run_loop(step, split_time(sequence, reverse=go_backwards), initial_states, mask=mask,
                    go_backwards=go_backwards, return_sequences=return_sequences,
                    zero_output_for_mask=zero_output_for_mask, output_is_first_state=output_is_first_state)


def _unaliased(leaves: list, inputs: list) -> list:
    """`leaves`, with a copy of any that is one of `inputs` (scan refuses a step output aliasing its input)."""
    seen = {id(t) for t in inputs}
    return [t.clone() if id(t) in seen else t for t in leaves]


def _fresh_scan():
    """torch's `scan` (a prototype operator, imported only while exporting), with no compiled trace kept.

    torch traces a scan's step through an internal compiled function whose
    traces are kept between exports; checking a kept trace's fixed shapes
    against this export's symbolic ones fixes them (an earlier export with 6
    steps made a later one refuse a dynamic time axis). Forgetting the kept
    traces first avoids that.
    """
    from torch._dynamo.eval_frame import remove_from_cache
    from torch._higher_order_ops.scan import scan

    for code in scan.__code__.co_consts:
        if getattr(code, "co_name", None) == "run_flattened_scan":
            remove_from_cache(code)
    return scan


def scan_loop(step, sequence, initial_states, *, mask: torch.Tensor | None = None, go_backwards: bool = False,
              return_sequences: bool = False, zero_output_for_mask: bool = False,
              output_is_first_state: bool = False):
    """The loop as one `scan` over the time axis: the same results as `run_loop`, for any (symbolic) length.

    For torch.export: the unrolled loop fixes the number of timesteps in the
    graph, the scan holds one step. The carry is the states and, with a mask,
    the output held since the latest used step; every step's output is
    scanned out and the last one taken when no sequence is returned.

    A step traced here must not need the symbolic batch size in its
    backward: torch.onnx retraces the scan with gradients, and (torch 2.13)
    the scan's autograd then saves that size as a per-step output, which it
    cannot stack ("'SymInt' object has no attribute 'unsqueeze'", once a
    graph holds two such scans). A slice, or a chunk or split with a block
    left unused, may need it; so the built-in cells' steps, while exporting,
    use every gate block and pad rather than crop.
    """
    scan = _fresh_scan()
    reading = pytree.tree_map(lambda t: t.flip(1), sequence) if go_backwards else sequence
    states_spec = pytree.tree_flatten(initial_states)[1]

    def unaliased(structure, seen: list):
        leaves, spec = pytree.tree_flatten(structure)
        return pytree.tree_unflatten(_unaliased(leaves, seen), spec)

    if mask is None:
        def combine(states, x_t):
            output, new_states = step(x_t, states)
            seen = pytree.tree_leaves(states) + pytree.tree_leaves(x_t)
            new_states = pytree.tree_unflatten(_unaliased(pytree.tree_leaves(new_states), seen), states_spec)
            return new_states, unaliased(output, seen + pytree.tree_leaves(new_states))
        final_states, outputs = scan(combine, initial_states, reading, dim=1)
        return (outputs if return_sequences else _map(lambda t: t[:, -1], outputs)), final_states

    reading_mask = mask.flip(1) if go_backwards else mask
    if output_is_first_state:
        held_before = torch.zeros_like(pytree.tree_leaves(initial_states)[0])
    else:       # the output's structure, as zeros: one step traced for its shapes
        held_before = zeros_like(step(pytree.tree_map(lambda t: t[:, 0], reading), initial_states)[0])

    def combine_masked(carry, inputs):
        states, held = carry
        x_t, mask_t = inputs
        output, new_states = step(x_t, states)
        seen = pytree.tree_leaves(carry) + pytree.tree_leaves(x_t)
        new_states = pytree.tree_unflatten(
            _unaliased(pytree.tree_leaves(select(mask_t, new_states, states)), seen), states_spec)
        held = unaliased(select(mask_t, output, held), seen + pytree.tree_leaves(new_states))
        return (new_states, held), _map(torch.clone, held)
    (final_states, held), outputs = scan(combine_masked, (initial_states, held_before),
                                         (reading, reading_mask.unsqueeze(-1)), dim=1)
    if return_sequences:
        return _map(lambda t: keras_outputs.sequence_from_held(t, reading_mask, zero_output_for_mask), outputs), \
            final_states
    return _map(lambda t: keras_outputs.last_from_held(t, reading_mask, zero_output_for_mask), held), final_states


def _map(function, structure):
    return function(structure) if isinstance(structure, torch.Tensor) else pytree.tree_map(function, structure)


def zero_masked_steps(inputs, mask: torch.Tensor):
    """Masked steps' inputs set to zero (a tensor or a nested structure of batch-first tensors).

    Masked steps are skipped, but a hoisted input projection still reads them,
    and its backward would turn nan/inf padding into nan weight gradients
    (0 * nan): padding may hold anything, so it is zeroed first.
    """
    return pytree.tree_map(lambda t: t.masked_fill(~mask.view(*mask.shape, *(1,) * (t.dim() - 2)), 0), inputs)


def run_cell_loop(cell, masks, inputs: torch.Tensor, states, mask, *, go_backwards: bool, return_sequences: bool,
                  zero_output_for_mask: bool, output_is_first_state: bool):
    """The whole loop over a built-in cell: one input projection for every step, then the steps.

    A plain function of its arguments, so `compiled_cell_loop` can hand it to
    torch.compile as it is. Where the package's CPU kernel serves the cell and
    the call (`native.cell_spec`), the loop runs there, as one node.
    """
    if not torch.compiler.is_compiling():
        spec, reason = native.cell_spec(cell, inputs, masks)
        if spec is not None:
            native.note("cpu_kernel")
            return native.run_cell(spec, cell, masks, inputs, states, mask, go_backwards=go_backwards,
                                   return_sequences=return_sequences, zero_output_for_mask=zero_output_for_mask)
    else:
        reason = "torch.compile traces the cell loop"
    if mask is not None:
        inputs = zero_masked_steps(inputs, mask)
    sequence = cell.project(inputs, masks)    # every step's input projection in one product
    result = run_sequence(cell.make_step(masks), sequence, states, mask=mask, go_backwards=go_backwards,
                          return_sequences=return_sequences, zero_output_for_mask=zero_output_for_mask,
                          output_is_first_state=output_is_first_state)
    native.note("loop", reason)
    return result


_compiled_cell_loop = None
# One compiled function serves every layer, and each layer, input shape, grad mode and mask
# presence is a variant of it. Dynamo's default of 8 variants per function would silently send
# the rest back to eager Python, so the compiled loop allows this many.
RECOMPILE_LIMIT = 256


def compiled_cell_loop(*args, **kwargs):
    """`run_cell_loop` under torch.compile: the unrolled loop becomes one fused graph per input shape.

    It pays off for training on fixed shapes (docs/benchmarks.md has the
    measurements); the first call per shape compiles for tens of seconds.
    """
    global _compiled_cell_loop
    if _compiled_cell_loop is None:
        _compiled_cell_loop = torch.compile(run_cell_loop, dynamic=False)
    with torch._dynamo.config.patch(recompile_limit=RECOMPILE_LIMIT):
        return _compiled_cell_loop(*args, **kwargs)


def autocast_dtype(inputs) -> torch.dtype | None:
    """The dtype autocast gives float32 work on the inputs' device, or None when autocast is off there."""
    first = next((leaf for leaf in pytree.tree_leaves(inputs) if isinstance(leaf, torch.Tensor)), None)
    if first is None or not autocast_enabled(first.device.type):
        return None
    return torch.get_autocast_dtype(first.device.type)


def run_outside_autocast(run, low_dtype: torch.dtype, inputs, states, *args, **kwargs):
    """`run(inputs, states, ...)` in float32 with autocast off; its results in `low_dtype`.

    Left to autocast, a cell loop mixes dtypes: each matrix product comes out
    in the low dtype while float32 states and biases promote the rest back
    (GRU's interpolation refuses the mix outright), so the loop returned
    float32 where the fused kernel returns the low dtype. In float32 the loop
    works for every cell and accumulates as the kernels do; the results come
    back in the dtype the fused path gives.
    """
    device_type = next(leaf for leaf in pytree.tree_leaves(inputs) if isinstance(leaf, torch.Tensor)).device.type

    def widen(t):
        return t.float() if isinstance(t, torch.Tensor) and t.is_floating_point() else t

    def narrow(t):
        return t.to(low_dtype) if isinstance(t, torch.Tensor) and t.is_floating_point() else t
    with torch.autocast(device_type, enabled=False):
        output, final_states = run(pytree.tree_map(widen, inputs), pytree.tree_map(widen, states), *args, **kwargs)
    return pytree.tree_map(narrow, output), pytree.tree_map(narrow, final_states)
