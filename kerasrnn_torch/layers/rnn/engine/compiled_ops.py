"""The fused kernel's calls that torch.compile cannot trace, as single opaque operators of the graph.

Two kinds of fused call cannot be traced into a compiled graph:

- PyTorch's CPU (oneDNN) LSTM kernel with gradients: Inductor cannot compile
  its backward.
- A masked call: reading the mask's layout and packing by lengths read the
  mask's values, which a graph cannot hold.

While compiling (and only then: eager calls never come here), each runs as
one custom operator, `kerasrnn::opaque`, whose implementation is the eager
code itself, run on real tensors when the compiled graph runs: the same
numbers as eager, no graph break, nothing for Inductor to compile. Its
backward is a second operator, `kerasrnn::opaque_backward`, which runs the
eager forward again with autograd on and returns its gradients (the forward
keeps nothing of autograd's between the two). Its fake (meta) form gives the
output shapes, which depend on the sizes alone.

This module imports only torch: the engine modules hand it their eager
functions (`provide`), so that it sits below them in the import graph.
"""
from __future__ import annotations

import ast
import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

# Eager bodies by name, handed over by the engine modules at import (`provide`).
_EAGER: dict[str, Callable[..., Any]] = {}


def provide(name: str, function: Callable[..., Any]) -> None:
    """Hand over the eager function the opaque operator named `name` runs ("kernel", "unidirectional",
    "two_way": see `_BODIES`)."""
    _EAGER[name] = function


# ------------------------------------------------------------------ bodies
# Each body: `run(config, tensors) -> list of tensors` (eager, differentiable) and `fake(config, tensors)`
# (the outputs' shapes from the inputs', on fake tensors). `config` is a tuple of str/bool/int.

def _run_kernel(config, tensors):
    """`fused._call_kernel` without lengths: `[outputs, *final_states]`."""
    kind, activation, bidirectional, state_count = config
    inputs, states, weights = tensors[0], tensors[1:1 + state_count], tensors[1 + state_count:]
    outputs, final = _EAGER["kernel"](kind, inputs, list(states), list(weights), activation, bidirectional, None,
                                      True)
    return [outputs, *final]


def _fake_kernel(config, tensors):
    kind, activation, bidirectional, state_count = config
    inputs, states = tensors[0], tensors[1:1 + state_count]
    directions, batch, units = states[0].shape
    return [inputs.new_empty((batch, inputs.shape[1], directions * units)), *(s.new_empty(s.shape) for s in states)]


def _run_unidirectional(config, tensors):
    """`fused.run_unidirectional` on a mask analysed now: `[output, *final_states]` (a final `c` the
    eager call leaves out comes back as zeros; the caller drops it)."""
    from .masks import analyse      # masks imports nothing of the engine

    kind, activation, go_backwards, return_sequences, zero_output_for_mask, need_cell_state, pack, state_count = config
    inputs, mask = tensors[0], tensors[1]
    states, weights = tensors[2:2 + state_count], tensors[2 + state_count:]
    output, final = _EAGER["unidirectional"](
        kind, inputs, list(states), list(weights), activation=activation, layout=analyse(mask),
        go_backwards=go_backwards, return_sequences=return_sequences, zero_output_for_mask=zero_output_for_mask,
        need_cell_state=need_cell_state, pack=pack)
    return [output, *(s if s is not None else torch.zeros_like(final[0]) for s in final)]


def _fake_unidirectional(config, tensors):
    return_sequences, state_count = config[3], config[-1]
    inputs, states = tensors[0], tensors[2:2 + state_count]
    batch, units = states[0].shape
    shape = (batch, inputs.shape[1], units) if return_sequences else (batch, units)
    return [inputs.new_empty(shape), *(s.new_empty(s.shape) for s in states)]


def _run_two_way(config, tensors):
    """`bidirectional_glue.run_two_way` on a mask analysed now: `[outputs, *final_states, empty rows]`."""
    from .masks import analyse

    kind, activation, return_sequences, state_count = config
    inputs, mask = tensors[0], tensors[1]
    states, weights = tensors[2:2 + state_count], tensors[2 + state_count:]
    result = _EAGER["two_way"](kind, inputs, list(states), list(weights), activation=activation,
                               layout=analyse(mask), return_sequences=return_sequences)
    empty = result._empty if result._empty is not None else torch.zeros(inputs.shape[0], dtype=torch.bool,
                                                                        device=inputs.device)
    return [result._outputs, *result._final, empty]


def _fake_two_way(config, tensors):
    state_count = config[-1]
    inputs, states = tensors[0], tensors[2:2 + state_count]
    directions, batch, units = states[0].shape
    return [inputs.new_empty((batch, inputs.shape[1], directions * units)), *(s.new_empty(s.shape) for s in states),
            inputs.new_empty((batch,), dtype=torch.bool)]


_BODIES = {"kernel": (_run_kernel, _fake_kernel), "unidirectional": (_run_unidirectional, _fake_unidirectional),
           "two_way": (_run_two_way, _fake_two_way)}


# --------------------------------------------------------------- operators
@functools.lru_cache(maxsize=256)
def _decode(config: str) -> tuple:
    """The configuration tuple `_call` wrote (a graph holds a few: each call decodes once)."""
    return ast.literal_eval(config)


def _grad_mode(config: tuple) -> bool:
    """The grad mode the call was traced in (the body's last word): what the eager call would have seen.
    Inside a compiled graph's forward autograd is off; the eager code chooses its method by it."""
    return bool(config[-1])


def _autocast_of(config: tuple) -> tuple[str, torch.dtype] | None:
    """The autocast the call was traced under (the word before the grad mode): (device type, dtype), or None.
    A custom operator's implementation runs below autocast, so the body enters it again itself."""
    if config[-2] is None:
        return None
    device_type, dtype = config[-2]
    return device_type, getattr(torch, dtype)


def _run_body(body: str, decoded: tuple, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """The eager body under the autocast the eager call would have run in; float32 results in autocast's
    dtype, as the eager fused calls return them (`fused._in_autocast_dtype`)."""
    autocast = _autocast_of(decoded)
    if autocast is None:
        return _BODIES[body][0](decoded[:-2], tensors)
    device_type, dtype = autocast
    with torch.autocast(device_type, dtype=dtype):
        outputs = _BODIES[body][0](decoded[:-2], tensors)
    return [o.to(dtype) if o.dtype == torch.float32 else o for o in outputs]


@torch.library.custom_op("kerasrnn::opaque", mutates_args=())
def _opaque(body: str, config: str, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    decoded = _decode(config)
    with torch.set_grad_enabled(_grad_mode(decoded)):
        outputs = _run_body(body, decoded, tensors)
    return _unaliased(outputs, tensors)


def _unaliased(outputs: list[torch.Tensor], inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """`outputs`, contiguous (the strides the fake form gives), each copied where it shares memory with an
    input or an earlier output (a custom operator's outputs may alias nothing: LSTM's last output is its
    final `h`)."""
    seen = {t.untyped_storage().data_ptr() for t in inputs if t.numel()}
    result = []
    for t in outputs:
        t = t.detach()
        if t.numel() and t.untyped_storage().data_ptr() in seen:
            t = t.clone(memory_format=torch.contiguous_format)
        else:
            t = t.contiguous()
        seen.add(t.untyped_storage().data_ptr())
        result.append(t)
    return result


@_opaque.register_fake
def _fake_opaque(body, config, tensors):
    decoded = _decode(config)
    outputs = _BODIES[body][1](decoded[:-2], tensors)
    autocast = _autocast_of(decoded)
    if autocast is None:
        return outputs
    return [o.new_empty(o.shape, dtype=autocast[1]) if o.dtype == torch.float32 else o for o in outputs]


@contextlib.contextmanager
def _autograd_on() -> Iterator[None]:
    """Autograd recording, inside an operator's implementation: the dispatcher runs it with grad mode off
    and the autograd keys excluded (the operator's own backward stands for it)."""
    with contextlib.ExitStack() as stack:
        for key in _AUTOGRAD_KEYS:
            stack.enter_context(torch._C._SetExcludeDispatchKeyGuard(key, False))
        stack.enter_context(torch.enable_grad())
        yield


_AUTOGRAD_KEYS = (torch._C.DispatchKey.AutogradFunctionality, torch._C.DispatchKey.AutogradOther,
                  torch._C.DispatchKey.AutogradNestedTensor)


@torch.library.custom_op("kerasrnn::opaque_backward", mutates_args=())
def _opaque_backward(body: str, config: str, tensors: list[torch.Tensor],
                     grads: list[torch.Tensor]) -> list[torch.Tensor]:
    """The gradients of `kerasrnn::opaque` for each input: the eager forward run again with autograd on.
    Inputs that take no gradient (masks, integer tensors) get an empty tensor."""
    decoded = _decode(config)
    with _autograd_on():
        leaves = [t.detach().requires_grad_(t.is_floating_point()) for t in tensors]
        outputs = _run_body(body, decoded, leaves)
        pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad and g.numel()]
        wanted = [t for t in leaves if t.requires_grad]
        found = torch.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True) \
            if pairs else [None] * len(wanted)
    by_id = {id(t): g for t, g in zip(wanted, found)}
    result = []
    for t in leaves:
        if not t.requires_grad:
            result.append(t.new_empty((0,)))
        else:
            g = by_id[id(t)]
            result.append(torch.zeros_like(t) if g is None else g)
    return _unaliased(result, [*tensors, *grads])


@_opaque_backward.register_fake
def _fake_opaque_backward(body, config, tensors, grads):
    return [t.new_empty(t.shape) if t.is_floating_point() else t.new_empty((0,)) for t in tensors]


def _setup_context(ctx, inputs, output):
    body, config, tensors = inputs
    ctx.body, ctx.config = body, config
    ctx.save_for_backward(*tensors)


def _backward(ctx, grads):
    tensors = list(ctx.saved_tensors)
    # Outputs nobody used (and the bool ones) bring no gradient: zeros of their shape... or an empty tensor.
    grads = [g if g is not None else torch.empty(0, device=tensors[0].device, dtype=tensors[0].dtype)
             for g in grads]
    found = torch.ops.kerasrnn.opaque_backward(ctx.body, ctx.config, tensors, grads)
    return None, None, [g if t.is_floating_point() else None for g, t in zip(found, tensors)]


_opaque.register_autograd(_backward, setup_context=_setup_context)


def _call(body: str, config: tuple, tensors: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    device_type = tensors[0].device.type
    autocast = (device_type, str(torch.get_autocast_dtype(device_type)).replace("torch.", "")) \
        if torch.is_autocast_enabled(device_type) else None
    encoded = repr((*config, autocast, torch.is_grad_enabled()))
    return torch.ops.kerasrnn.opaque(body, encoded, list(tensors))


# ---------------------------------------------------------------- callers
def kernel_call(kind, inputs, states, flat_weights, activation, bidirectional, lengths=None, need_outputs=True):
    """`fused._call_kernel` (same arguments, no `lengths`) as one opaque operator: `(outputs, final_states)`."""
    if lengths is not None:
        raise ValueError("kernel_call runs unpacked calls only; a masked call goes through unidirectional_call")
    if torch.compiler.is_exporting():
        # torch.export keeps the kernel itself in the exported program (an opaque operator would tie the
        # program to this package); exporting runs no backward, so nothing needs Inductor there.
        return _EAGER["kernel"](kind, inputs, states, flat_weights, activation, bidirectional, None, need_outputs)
    results = _call("kernel", (kind, activation, bool(bidirectional), len(states)),
                    [inputs, *states, *flat_weights])
    return results[0], results[1:]


def unidirectional_call(kind, inputs, initial_states, flat_weights, *, activation, mask, go_backwards,
                        return_sequences, zero_output_for_mask, need_cell_state, pack):
    """`fused.run_unidirectional` on `mask` (not yet analysed: that reads its values) as one opaque operator;
    `(output, final_states)` (a final `c` is None where `need_cell_state` is False, as nobody reads it)."""
    config = (kind, activation, bool(go_backwards), bool(return_sequences), bool(zero_output_for_mask),
              bool(need_cell_state), bool(pack), len(initial_states))
    results = _call("unidirectional", config, [inputs, mask, *initial_states, *flat_weights])
    final: list[torch.Tensor | None] = list(results[1:])
    if kind == "lstm" and not need_cell_state:
        final = [final[0], None]
    return results[0], final


def two_way_call(kind, inputs, states, flat_weights, *, activation, mask, return_sequences):
    """`bidirectional_glue.run_two_way` on `mask` (not yet analysed) as one opaque operator:
    `(outputs, final_states, empty rows)`, the parts of its `TwoWayResult`."""
    results = _call("two_way", (kind, activation, bool(return_sequences), len(states)),
                    [inputs, mask, *states, *flat_weights])
    return results[0], results[1:-1], results[-1]
