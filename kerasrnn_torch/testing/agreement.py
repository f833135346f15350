"""`assert_paths_agree` and `paths_report`: a user's whole model on the fused kernel and on the cell loop."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin

from ..core.layer import Layer
from ..layers.rnn.engine import cpu_kernel
from ..layers.rnn.engine.dispatch import force_path
from .differences import Difference, difference, map_tensors, named_tensors
from .recording import Recorder, Recording
from .reports import Agreement, PathsReport, build_report
from .snapshot import (ModelSnapshot, forked_random_state, fused_where_possible, non_trainable_state,
                       recurrent_layers, stateful_layers)


@dataclass
class _Run:
    """What one run of the model left: per-layer outputs, outputs, gradients, states, random state."""
    recording: Recording
    outputs: list[tuple[str, torch.Tensor]]
    gradients: dict[str, torch.Tensor] = field(default_factory=dict)
    states: dict[str, list[torch.Tensor]] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    random_state: torch.Tensor | None = None


def outermost_recurrent_layers(model: nn.Module):
    """Recurrent layers not inside another one (a Bidirectional stands for its two inner layers)."""
    layers = recurrent_layers(model)
    names = {name for name, _ in layers}
    if "" in names:
        return layers[:1]           # the model is a recurrent layer itself
    return [(name, layer) for name, layer in layers
            if not any(name.startswith(outer + ".") for outer in names if outer)]


def _check_model(model, function: str):
    if not isinstance(model, nn.Module):
        raise TypeError(f"kr.testing.{function} expects a torch.nn.Module (a model or a layer), "
                        f"got {type(model).__name__}")


def _needs_building(model: nn.Module) -> bool:
    """Whether a layer still creates weights at its first call (a kerasrnn_torch layer or a torch lazy module)."""
    return any((isinstance(m, Layer) and not m.built) or (isinstance(m, LazyModuleMixin) and m.has_uninitialized_params())
               for m in model.modules())


def _build(model, inputs, call_kwargs):
    """One call, without gradients, so that both runs start from built layers (a first call would draw the
    new weights from the global random stream on one run only)."""
    with forked_random_state(), torch.no_grad(), force_path("loop"):
        model(*inputs, **call_kwargs)


@contextlib.contextmanager
def plain_loop() -> Iterator[None]:
    """The reference run: every recurrent layer on the cell loop in Python, the package's CPU kernel set
    aside (on the CPU it serves the loop of built-in cells, and GRU's fused path, where it applies)."""
    with force_path("loop"), cpu_kernel.set_aside():
        yield


def _fresh_leaves(value):
    """Floating-point tensors copied as leaves that want gradients (the model's inputs), the rest as given."""
    return map_tensors(lambda t: t.detach().clone().requires_grad_(True) if t.is_floating_point() else t, value)


def _run(model, inputs, call_kwargs, fused: bool) -> _Run:
    inputs, call_kwargs = _fresh_leaves(inputs), _fresh_leaves(call_kwargs)
    context = fused_where_possible(model) if fused else plain_loop()
    with forked_random_state():
        with context, Recorder(model) as recording:
            result = model(*inputs, **call_kwargs)
        run = _Run(recording, [(f"output{place}", tensor) for place, tensor in named_tensors(result)])
        targets = [(f"parameter '{name}'", p) for name, p in model.named_parameters() if p.requires_grad]
        targets += [(f"input{place}", t) for place, t in named_tensors(inputs) if t.requires_grad]
        targets += [(f"argument {place[1:-1]}", t) for place, t in named_tensors(call_kwargs) if t.requires_grad]
        differentiable = [t for _, t in run.outputs if t.is_floating_point() and t.requires_grad]
        if differentiable and targets:
            weights = torch.Generator().manual_seed(0)      # a fixed weighting of every output value
            total = sum((t * torch.rand(t.shape, generator=weights).to(t.device, t.dtype)).sum()
                        for t in differentiable)
            assert isinstance(total, torch.Tensor)          # `differentiable` is not empty
            gradients = torch.autograd.grad(total, [t for _, t in targets], allow_unused=True)
            run.gradients = {name: torch.zeros_like(t) if g is None else g
                             for (name, t), g in zip(targets, gradients)}
        run.random_state = torch.get_rng_state()
    run.outputs = [(place, tensor.detach()) for place, tensor in run.outputs]
    run.states = {name: [s.clone() for s in layer.states] for name, layer in stateful_layers(model)
                  if layer.states is not None}
    run.tensors = non_trainable_state(model)
    return run


class _Disagreement(AssertionError):
    pass


def _fail(where: str, found: Difference, allowed: str, fused_run: _Run, layers, notes: list[str]):
    lines = ["kr.testing.assert_paths_agree: the fused and the loop path disagree",
             f"  where: {where}",
             f"  what:  {found.describe()}; allowed {allowed}"]
    lines += [f"  note:  {note}" for note in notes]
    lines += ["which recurrent layer ran which path on the fused run:", str(build_report(layers, fused_run.recording.paths))]
    raise _Disagreement("\n".join(lines))


def _random_draw_notes(fused: _Run, loop: _Run) -> list[str]:
    """Sentences naming the random streams the two runs left in different places (then dropout differs)."""
    notes = []
    assert fused.random_state is not None and loop.random_state is not None     # `_run` always records it
    if not torch.equal(fused.random_state, loop.random_state):
        notes.append("the two runs drew a different amount of numbers from torch's global random stream, "
                     "so unseeded dropout masks cannot match")
    for key, value in fused.tensors.items():
        other = loop.tensors.get(key)
        if value.dtype == torch.uint8 and other is not None and not torch.equal(value, other):
            notes.append(f"the seeded random stream {key!r} ended in different places on the two runs, "
                         "so its dropout masks cannot match")
    return notes


def assert_paths_agree(model: nn.Module, *inputs: Any, atol: float = 1e-5, grad_atol: float = 1e-4,
                       training: bool = False, **call_kwargs: Any) -> Agreement:
    """Run `model(*inputs, **call_kwargs)` on the fused kernel and on the cell loop; raise if they differ.

    The first run puts every kerasrnn_torch recurrent layer on `use_cudnn="auto"`: each runs the
    fused kernel where its configuration and mask allow, the cell loop elsewhere (such layers are
    listed, not an error). The second runs under `force_path("loop")`. Both start from the same
    random streams (torch's global one and every seeded layer's), the same stateful states and
    buffers, in training mode if `training=True` (dropout on) else in eval mode.

    Compared, in this order, and the first difference raises an AssertionError naming it: every
    submodule's outputs in the order the calls finish (so the message names the first layer, by its
    path in `named_modules()`, that differs), the model's outputs (atol), the gradients of every
    trainable parameter and floating-point input of a fixed random weighting of the outputs
    (grad_atol), then stateful layers' final states and buffers (atol). The message gives the
    largest difference, its index and both values, and the table of which layer ran which path.

    Afterwards the model's weights, buffers, states, training flags, `use_cudnn` settings and random
    streams are as they were (`.grad` is never touched). Returns an `Agreement` (prints as a report).
    """
    __tracebackhide__ = True          # pytest shows the caller's line and the message, not this function's body
    _check_model(model, "assert_paths_agree")
    for name, value in (("atol", atol), ("grad_atol", grad_atol)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"kr.testing.assert_paths_agree: `{name}` must be a number >= 0, got {value!r}")
    layers = outermost_recurrent_layers(model)
    snapshot = ModelSnapshot(model)
    try:
        model.train(bool(training))
        if _needs_building(model):
            _build(model, inputs, call_kwargs)
            snapshot.restore()
            model.train(bool(training))
        fused = _run(model, inputs, call_kwargs, fused=True)
        snapshot.restore()
        model.train(bool(training))
        loop = _run(model, inputs, call_kwargs, fused=False)
    finally:
        snapshot.restore()
    notes = [f"{name!r} has use_cudnn={vars(layer)['use_cudnn']!r}; the comparison ran it with 'auto'"
             for name, layer in recurrent_layers(model) if vars(layer).get("use_cudnn", "auto") != "auto"]
    try:
        return _compare(fused, loop, layers, atol, grad_atol, notes)
    except _Disagreement as error:
        raise AssertionError(str(error)) from None


def _compare(fused: _Run, loop: _Run, layers, atol, grad_atol, notes) -> Agreement:
    draw_notes = _random_draw_notes(fused, loop)
    for name, calls in loop.recording.paths.items():
        if any(call.path == "fused" for call in calls):
            _fail(f"layer {name!r} under force_path('loop')", Difference(0.0, problem="it ran the fused kernel"),
                  "the loop only", fused, layers, draw_notes)

    loop_calls = loop.recording.by_key()
    for call in fused.recording.calls:
        other = loop_calls.get((call.name, call.number))
        if other is None:
            continue            # a layer the other run did not call (a two-way Bidirectional's inner layers)
        where = f"layer {call.name!r} ({call.layer})" + (f", call {call.number}" if call.number > 1 else "")
        _compare_lists(where, call.outputs, other.outputs, atol, fused, layers, draw_notes,
                       lambda place, where=where: f"{where}, output{place or ''} (the first layer whose output differs)")

    agreement = Agreement(build_report(layers, fused.recording.paths), notes=notes)
    agreement.output_difference = _compare_lists("the model's outputs", fused.outputs, loop.outputs, atol, fused,
                                                 layers, draw_notes, lambda place: f"the model's {place}")
    agreement.gradient_difference = _compare_dicts("the gradient of", fused.gradients, loop.gradients,
                                                   f"grad_atol={grad_atol:g}", grad_atol, fused, layers, draw_notes)
    agreement.compared_gradients = len(fused.gradients)
    if not fused.gradients:
        agreement.notes.append("no gradients compared: no output of the model needs one")
    states = _compare_dicts("the final states of stateful layer", _flatten_states(fused.states),
                            _flatten_states(loop.states), f"atol={atol:g}", atol, fused, layers, draw_notes)
    floats = {key: value for key, value in fused.tensors.items() if value.dtype != torch.uint8}
    buffers = _compare_dicts("the non-trainable tensor", floats, loop.tensors, f"atol={atol:g}", atol, fused,
                             layers, draw_notes)
    agreement.state_difference = max(states, buffers)
    if draw_notes:
        _fail("the random streams", Difference(0.0, problem="the two runs drew different random numbers"),
              "the same draws on both paths", fused, layers, draw_notes)
    return agreement


def _compare_lists(what, fused_pairs, loop_pairs, atol, fused_run, layers, notes, label) -> float:
    """Compare `[(place, tensor), ...]` of the two runs; `label(place)` names a tensor in a message."""
    fused_places, loop_places = [p for p, _ in fused_pairs], [p for p, _ in loop_pairs]
    if fused_places != loop_places:
        _fail(what, Difference(float("inf"), problem=f"the results differ in structure: {fused_places} on the fused "
                                                     f"path, {loop_places} on the loop path"),
              f"atol={atol:g}", fused_run, layers, notes)
    largest = 0.0
    for (place, a), (_, b) in zip(fused_pairs, loop_pairs):
        found = difference(a, b)
        if found.problem is not None or found.largest > atol:
            _fail(label(place), found, f"atol={atol:g}", fused_run, layers, notes)
        largest = max(largest, found.largest)
    return largest


def _compare_dicts(what, fused_values, loop_values, allowed, tolerance, fused_run, layers, notes) -> float:
    largest = 0.0
    for key, a in fused_values.items():
        b = loop_values.get(key)
        if b is None:
            _fail(f"{what} {key}", Difference(float("inf"), problem="it exists after the fused run only"),
                  allowed, fused_run, layers, notes)
        exact = not a.is_floating_point()
        found = difference(a, b)
        if found.problem is not None or found.largest > (0.0 if exact else tolerance):
            _fail(f"{what} {key}", found, "no difference" if exact else allowed, fused_run, layers, notes)
        largest = max(largest, found.largest)
    for key in loop_values.keys() - fused_values.keys():
        if what.startswith("the non-trainable") and loop_values[key].dtype == torch.uint8:
            continue
        _fail(f"{what} {key}", Difference(float("inf"), problem="it exists after the loop run only"), allowed,
              fused_run, layers, notes)
    return largest


def _flatten_states(states: dict[str, list[torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {f"{name!r} [{i}]": tensor for name, tensors in states.items() for i, tensor in enumerate(tensors)}


def paths_report(model: nn.Module, *inputs: Any, training: bool = False, **call_kwargs: Any) -> PathsReport:
    """Which recurrent layers of `model` run the fused kernel on `model(*inputs, **call_kwargs)`, and why the
    others do not (`dispatch_reason` for the mask each received), as a table (print it, or read `.rows`).

    The model runs once, as configured (its `use_cudnn` settings count; an enclosing `force_path` does
    not), without gradients, in eval mode unless `training=True`; it is left as it was.
    """
    _check_model(model, "paths_report")
    snapshot = ModelSnapshot(model)
    try:
        model.train(bool(training))
        with forked_random_state(), torch.no_grad(), force_path("auto"), Recorder(model, keep_outputs=False) as rec:
            model(*inputs, **call_kwargs)
    finally:
        snapshot.restore()
    return build_report(outermost_recurrent_layers(model), rec.paths)
