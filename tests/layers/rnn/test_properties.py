"""Properties every recurrent layer keeps across its whole configuration space, checked with Hypothesis.

Each example draws a layer (SimpleRNN, LSTM, GRU, RNN over a built-in, stacked or
custom cell, any of them wrapped in Bidirectional), its sizes (timesteps from 1),
every boolean argument, activations, dropout, a mask (right-padded, random, with
fully masked rows, all True, all False) and initial states. Everything runs in
float64, so two computations that should agree differ by rounding only.

How many examples: see hypothesis_profiles.py (KERASRNN_HYPOTHESIS_PROFILE).
"""
from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st
from torch import nn
from torch.utils import _pytree as pytree

import kerasrnn_torch as kr
from hypothesis_profiles import PROFILE, scaled

DTYPE = torch.float64
ATOL = 1e-9
RTOL = 1e-7

LAYER_CLASSES = {"SimpleRNN": kr.SimpleRNN, "LSTM": kr.LSTM, "GRU": kr.GRU}
CELL_CLASSES = {"SimpleRNN": kr.SimpleRNNCell, "LSTM": kr.LSTMCell, "GRU": kr.GRUCell}
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def custom_tanh(x):
    """An activation the dispatcher cannot recognise: always the loop."""
    return torch.tanh(x)


ACTIVATIONS = ("relu", "sigmoid", "linear", "hard_sigmoid", "softsign", "elu", custom_tanh)
GATE_ACTIVATIONS = ("hard_sigmoid", "tanh", "linear", "softmax", custom_tanh)
MASK_KINDS = ("none", "right_padded", "random", "fully_masked_rows", "all_true", "all_false")
FUSED_MASK_KINDS = ("none", "right_padded", "all_true", "all_false")


class MinimalCell(nn.Module):
    """A user's cell as in Keras's RNN documentation (h = tanh(x K + h R)): no step protocol, no Layer."""

    def __init__(self, units, input_size):
        super().__init__()
        self.state_size = units
        self.output_size = units
        self.kernel = nn.Parameter(torch.empty(input_size, units, dtype=DTYPE).uniform_(-0.7, 0.7))
        self.recurrent_kernel = nn.Parameter(torch.empty(units, units, dtype=DTYPE).uniform_(-0.7, 0.7))

    def forward(self, inputs, states):
        h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]


@dataclasses.dataclass(frozen=True)
class Case:
    layer: str                    # "SimpleRNN", "LSTM", "GRU" or "RNN"
    cells: tuple                  # RNN only: ("LSTM",), ("GRU", "SimpleRNN") (stacked) or ("custom",)
    bidirectional: bool
    merge_mode: str | None
    units: int
    input_size: int
    batch: int
    timesteps: int
    activation: object
    recurrent_activation: object
    use_bias: bool
    unit_forget_bias: bool
    reset_after: bool
    dropout: float
    recurrent_dropout: float
    seed: int | None
    training: bool
    return_sequences: bool
    return_state: bool
    go_backwards: bool
    stateful: bool
    unroll: bool
    zero_output_for_mask: bool
    use_cudnn: object
    shape_hint: bool              # weights from input_dim= at construction, else at the first call
    mask: tuple | None            # rows of bools, None for no mask
    mask_kind: str
    initial_state: bool
    data_seed: int

    def with_(self, **changes) -> "Case":
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------- strategies
@st.composite
def masks(draw, batch, timesteps, kinds=MASK_KINDS):
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return kind, None
    if kind in ("all_true", "all_false"):
        return kind, tuple((kind == "all_true",) * timesteps for _ in range(batch))
    if kind == "right_padded":
        lengths = draw(st.lists(st.integers(0, timesteps), min_size=batch, max_size=batch))
        return kind, tuple(tuple(t < n for t in range(timesteps)) for n in lengths)
    rows = draw(st.lists(st.lists(st.booleans(), min_size=timesteps, max_size=timesteps),
                         min_size=batch, max_size=batch))
    if kind == "fully_masked_rows":
        empty = draw(st.integers(0, batch - 1))
        rows[empty] = [False] * timesteps
    return kind, tuple(tuple(row) for row in rows)


@st.composite
def cases(draw, families=("SimpleRNN", "LSTM", "GRU", "RNN"), bidirectional=None, fused_eligible=None,
          mask_kinds=MASK_KINDS):
    """A layer configuration with its call. `fused_eligible=True` draws only what the fused kernel accepts."""
    aim_fused = draw(st.booleans()) if fused_eligible is None else fused_eligible
    layer = draw(st.sampled_from(families if not aim_fused else tuple(f for f in families if f != "RNN")))
    cells = ()
    if layer == "RNN":
        cells = draw(st.one_of(st.tuples(st.sampled_from(tuple(CELL_CLASSES))),
                               st.tuples(st.sampled_from(tuple(CELL_CLASSES)), st.sampled_from(tuple(CELL_CLASSES))),
                               st.just(("custom",))))
    kind = layer if layer != "RNN" else cells[0]
    batch = draw(st.integers(1, 4))
    timesteps = draw(st.integers(1, 6))
    if aim_fused:
        activation = draw(st.sampled_from(("tanh", "relu") if kind == "SimpleRNN" else ("tanh",)))
        recurrent_activation, recurrent_dropout = "sigmoid", 0.0
        use_bias = reset_after = True
        unroll = False
        mask_kinds = tuple(k for k in mask_kinds if k in FUSED_MASK_KINDS) or mask_kinds
    else:
        activation = draw(st.one_of(st.just("tanh"), st.sampled_from(ACTIVATIONS)))
        recurrent_activation = draw(st.one_of(st.just("sigmoid"), st.sampled_from(GATE_ACTIVATIONS)))
        recurrent_dropout = draw(st.sampled_from((0.0, 0.4)))
        use_bias, reset_after, unroll = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    mask_kind, mask = draw(masks(batch, timesteps, mask_kinds))
    is_bidirectional = draw(st.booleans()) if bidirectional is None else bidirectional
    return Case(
        layer=layer, cells=cells, bidirectional=is_bidirectional,
        merge_mode=draw(st.sampled_from(("concat", "sum", "mul", "ave", None))),
        units=draw(st.integers(1, 5)), input_size=draw(st.integers(1, 4)), batch=batch, timesteps=timesteps,
        activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
        unit_forget_bias=draw(st.booleans()), reset_after=reset_after,
        dropout=draw(st.sampled_from((0.0, 0.3))), recurrent_dropout=recurrent_dropout,
        seed=draw(st.one_of(st.none(), st.integers(0, 1000))), training=draw(st.booleans()),
        return_sequences=draw(st.booleans()), return_state=draw(st.booleans()),
        go_backwards=draw(st.booleans()) and not is_bidirectional,     # Bidirectional refuses it, as Keras
        stateful=draw(st.booleans()), unroll=unroll,
        zero_output_for_mask=draw(st.booleans()) if layer == "RNN" else False,   # see test_zero_output_for_mask_...
        use_cudnn="auto", shape_hint=draw(st.booleans()), mask=mask, mask_kind=mask_kind,
        initial_state=draw(st.booleans()), data_seed=draw(st.integers(0, 2**31 - 1)))


# ------------------------------------------------------------------ building
def cell_arguments(case: Case, kind: str) -> dict:
    arguments = dict(activation=case.activation, use_bias=case.use_bias, dropout=case.dropout,
                     recurrent_dropout=case.recurrent_dropout, seed=case.seed,
                     bias_initializer="random_uniform")     # non-zero biases, so bias mistakes show
    if kind != "SimpleRNN":
        arguments["recurrent_activation"] = case.recurrent_activation
    if kind == "LSTM":
        arguments["unit_forget_bias"] = case.unit_forget_bias
    if kind == "GRU":
        arguments["reset_after"] = case.reset_after
    return arguments


def make_cell(case: Case, kind: str, units: int, input_size: int):
    if kind == "custom":
        return MinimalCell(units, input_size)
    hint = {"input_dim": input_size} if case.shape_hint else {}
    return CELL_CLASSES[kind](units, **cell_arguments(case, kind), dtype=DTYPE, **hint)


def cell_units(case: Case) -> list[int]:
    """Units of each cell of an RNN case (a stack narrows by one unit per cell, at least one)."""
    return [max(1, case.units - i) for i in range(len(case.cells))]


def make_layer(case: Case):
    """A fresh layer for `case` (weights drawn from the global RNG, so seed it first for a twin)."""
    flags = dict(return_sequences=case.return_sequences, return_state=case.return_state,
                 go_backwards=case.go_backwards, stateful=case.stateful, unroll=case.unroll)
    if case.layer == "RNN":
        sizes, cells = case.input_size, []
        for kind, units in zip(case.cells, cell_units(case)):
            cells.append(make_cell(case, kind, units, sizes))
            sizes = units
        layer = kr.RNN(cells[0] if len(cells) == 1 else kr.StackedRNNCells(cells),
                       zero_output_for_mask=case.zero_output_for_mask, **flags)
    else:
        hint = {"input_dim": case.input_size} if case.shape_hint else {}
        layer = LAYER_CLASSES[case.layer](case.units, **cell_arguments(case, case.layer), use_cudnn=case.use_cudnn,
                                          dtype=DTYPE, **flags, **hint)
    if case.bidirectional:
        layer = kr.Bidirectional(layer, merge_mode=case.merge_mode)
    return layer


def twins(case: Case, count: int = 2):
    """Layers with the same weights and the same random streams."""
    layers = []
    for _ in range(count):
        torch.manual_seed(case.data_seed)
        layers.append(make_layer(case))
    return layers


def inner_layers(layer):
    return [layer.forward_layer, layer.backward_layer] if isinstance(layer, kr.Bidirectional) else [layer]


def states_for(cell, batch: int, generator: torch.Generator):
    """Random states in the structure `initial_state` takes for `cell` (nested per cell when stacked)."""
    def one_cell(c):
        size = c.state_size
        sizes = [size] if isinstance(size, int) else list(size)
        return [torch.randn(batch, s, generator=generator, dtype=DTYPE) for s in sizes]
    if isinstance(cell, kr.StackedRNNCells):
        return [one_cell(c) for c in cell.cells]
    return one_cell(cell)


def data(case: Case, layer):
    """(inputs, mask, initial_state) for a call of `layer`."""
    generator = torch.Generator().manual_seed(case.data_seed)
    x = torch.randn(case.batch, case.timesteps, case.input_size, generator=generator, dtype=DTYPE)
    mask = None if case.mask is None else torch.tensor(case.mask, dtype=torch.bool)
    initial = None
    if case.initial_state:
        initial = [s for inner in inner_layers(layer) for s in states_for(inner.cell, case.batch, generator)]
    return x, mask, initial


def output_count(case: Case) -> int:
    return 2 if case.bidirectional and case.merge_mode is None else 1


def state_count(case: Case) -> int:
    """Top-level entries after the output(s) with return_state=True."""
    if case.layer == "RNN":
        per_direction = len(case.cells) if len(case.cells) > 1 else (2 if case.cells[0] == "LSTM" else 1)
    else:
        per_direction = 2 if case.layer == "LSTM" else 1
    return per_direction * (2 if case.bidirectional else 1)


def split_result(case: Case, result):
    """(outputs, states) of a call: each a list."""
    n = output_count(case)
    if case.return_state:
        return list(result[:n]), list(result[n:])
    return (list(result) if n == 2 else [result]), []


def call(layer, case: Case, x, mask, initial, path=None, training=None):
    """Call `layer` with the global RNG seeded (unseeded dropout draws from it) under `path`."""
    torch.manual_seed(case.data_seed + 1)
    context = kr.force_path(path) if path else contextlib.nullcontext()
    with context:
        return layer(x, initial_state=initial, mask=mask, training=case.training if training is None else training)


def assert_trees_close(actual, expected, what: str, atol=ATOL):
    actual_leaves, expected_leaves = pytree.tree_leaves(actual), pytree.tree_leaves(expected)
    assert len(actual_leaves) == len(expected_leaves), f"{what}: {len(actual_leaves)} tensors != {len(expected_leaves)}"
    for i, (a, e) in enumerate(zip(actual_leaves, expected_leaves)):
        torch.testing.assert_close(a, e, atol=atol, rtol=RTOL, msg=lambda m, i=i: f"{what} [{i}]: {m}")


def weighted_sum(tensors) -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    return sum((t * torch.rand(t.shape, generator=generator, dtype=t.dtype)).sum() for t in tensors)


def expected_parameter_count(case: Case) -> int:
    def cell_count(kind, units, input_size):
        if kind == "custom":
            return input_size * units + units * units
        k = GATES[kind]
        bias = 0 if not case.use_bias else (2 * 3 * units if kind == "GRU" and case.reset_after else k * units)
        return input_size * k * units + units * k * units + bias
    if case.layer == "RNN":
        total, input_size = 0, case.input_size
        for kind, units in zip(case.cells, cell_units(case)):
            total += cell_count(kind, units, input_size)
            input_size = units
    else:
        total = cell_count(case.layer, case.units, case.input_size)
    return total * (2 if case.bidirectional else 1)


def output_units(case: Case) -> int:
    units = cell_units(case)[-1] if case.layer == "RNN" else case.units
    return 2 * units if case.bidirectional and case.merge_mode == "concat" else units


def state_shapes(layer, batch: int) -> list:
    shapes = []
    for inner in inner_layers(layer):
        cell = inner.cell
        cells = list(cell.cells) if isinstance(cell, kr.StackedRNNCells) else [cell]
        per_cell = [[(batch, s) for s in ([c.state_size] if isinstance(c.state_size, int) else c.state_size)]
                    for c in cells]
        shapes.extend(per_cell if isinstance(cell, kr.StackedRNNCells) else per_cell[0])
    return shapes


# --------------------------------------------------------------------- tests
@scaled(1.5)
@given(case=cases(bidirectional=None))
def test_fused_path_equals_loop_path_where_eligible_and_is_refused_elsewhere(case):
    fused_layer, loop_layer, auto_layer = twins(case, 3)
    x, mask, initial = data(case, fused_layer)
    reason = fused_layer.dispatch_reason(mask)
    event("fused eligible" if reason is None else "loop only")
    call(auto_layer, case, x, mask, initial)
    assert (auto_layer.last_path == "fused") == (reason is None), reason

    if case.layer != "RNN":          # the layer's own use_cudnn: True insists on the kernel, False refuses it
        for use_cudnn in (True, False):
            (insisting,) = twins(case.with_(use_cudnn=use_cudnn), 1)
            if use_cudnn and reason is not None:
                with pytest.raises(ValueError, match="use_cudnn=True"):
                    call(insisting, case, x, mask, initial)
            else:
                call(insisting, case, x, mask, initial)
                assert insisting.last_path == ("fused" if use_cudnn else "loop")

    if reason is not None:
        assert isinstance(reason, str) and reason
        with pytest.raises(ValueError):
            call(fused_layer, case, x, mask, initial, path="fused")
        return

    results = {}
    for path, layer in (("fused", fused_layer), ("loop", loop_layer)):
        xi = x.clone().requires_grad_(True)
        initial_i = None if initial is None else pytree.tree_map(lambda s: s.clone().requires_grad_(True), initial)
        result = call(layer, case, xi, mask, initial_i, path=path)
        assert layer.last_path == path
        leaves = pytree.tree_leaves(result)
        weighted_sum(leaves).backward()
        results[path] = dict(
            outputs=leaves, input_grad=xi.grad,
            state_grads=[] if initial_i is None else [s.grad for s in pytree.tree_leaves(initial_i)],
            weight_grads=[p.grad for p in layer.parameters()],
            stored=[inner.states for inner in inner_layers(layer)] if case.stateful else [])
    for what in ("outputs", "input_grad", "state_grads", "weight_grads", "stored"):
        assert_trees_close(results["fused"][what], results["loop"][what], what)


@PROFILE
@given(case=cases())
def test_outputs_states_and_masks_have_the_documented_shapes(case):
    layer = make_layer(case)
    x, mask, initial = data(case, layer)
    result = call(layer, case, x, mask, initial)
    outputs, states = split_result(case, result)
    expected_output = ((case.batch, case.timesteps, output_units(case)) if case.return_sequences
                       else (case.batch, output_units(case)))
    assert [tuple(o.shape) for o in outputs] == [expected_output] * output_count(case)
    assert all(o.dtype == DTYPE for o in outputs)
    if case.return_state:
        assert len(states) == state_count(case)
        assert pytree.tree_map(lambda t: tuple(t.shape), states) == state_shapes(layer, case.batch)
    else:
        assert not isinstance(result, tuple) or output_count(case) == 2 and len(result) == 2
    output_mask = layer.compute_mask(x, mask)
    if case.return_state:
        output_mask = output_mask[0]
    elif output_count(case) == 2:
        assert output_mask[0] is output_mask[1]
        output_mask = output_mask[0]
    assert output_mask is (mask if case.return_sequences else None)
    assert layer.last_path in ("fused", "loop")


def compressed_row(case: Case, layer, x, mask, initial, row: int):
    """Row `row` run alone on its valid steps only, without a mask: (outputs, states) or None when none are valid."""
    valid = mask[row]
    steps = int(valid.sum())
    row_initial = None if initial is None else pytree.tree_map(lambda t: t[row:row + 1], initial)
    if steps == 0:
        return None, row_initial
    result = call(layer, case, x[row:row + 1, valid], None, row_initial, training=False)
    return split_result(case.with_(return_state=True), result)


@PROFILE
@given(case=cases(mask_kinds=tuple(k for k in MASK_KINDS if k != "none")))
def test_masked_steps_leave_states_unchanged_and_outputs_follow_keras(case):
    # A masked step changes nothing: each row gives what its valid steps alone give.
    case = case.with_(return_state=True, stateful=False, training=False)
    layer = make_layer(case)
    x, mask, initial = data(case, layer)
    outputs, states = split_result(case, call(layer, case, x, mask, initial))

    zeros_at_masked_steps = case.bidirectional or case.zero_output_for_mask
    for row in range(case.batch):
        row_result = compressed_row(case, layer, x, mask, initial, row)
        row_states = pytree.tree_map(lambda t: t[row:row + 1], states)
        if row_result[0] is None:                     # a fully masked row
            expected_states = row_result[1]
            if expected_states is None:
                expected_states = pytree.tree_map(torch.zeros_like, row_states)
            assert_trees_close(row_states, expected_states, f"row {row} (fully masked) states")
            for output in outputs:
                assert_trees_close(output[row], torch.zeros_like(output[row]), f"row {row} (fully masked) output")
            continue
        compressed_outputs, compressed_states = row_result
        assert_trees_close(row_states, compressed_states, f"row {row} states")
        for output, compressed in zip(outputs, compressed_outputs):
            expected = expected_row_output(case, mask[row], compressed[0], zeros_at_masked_steps)
            assert_trees_close(output[row], expected, f"row {row} output")


def expected_row_output(case: Case, row_mask, compressed, zeros_at_masked_steps):
    """What a row outputs given the output of its valid steps alone (`compressed`)."""
    if not case.return_sequences:
        last_read = row_mask[0] if case.go_backwards else row_mask[-1]
        if case.zero_output_for_mask and not case.bidirectional and not last_read:
            return torch.zeros_like(compressed)        # the last step read was masked
        return compressed
    # `compressed` is (valid steps, units) in the layer's reading order (time order for Bidirectional).
    reading_mask = row_mask.flip(0) if case.go_backwards and not case.bidirectional else row_mask
    expected, previous, index = [], torch.zeros_like(compressed[0]), 0
    for used in reading_mask.tolist():
        if used:
            previous = compressed[index]
            index += 1
            expected.append(previous)
        else:
            expected.append(torch.zeros_like(previous) if zeros_at_masked_steps else previous)
    return torch.stack(expected)


@PROFILE
@given(case=cases(mask_kinds=("right_padded", "random", "fully_masked_rows", "all_false")))
def test_inputs_at_masked_steps_change_nothing(case):
    case = case.with_(training=False)
    layer, twin = twins(case)
    x, mask, initial = data(case, layer)
    noisy = torch.where(mask.unsqueeze(-1), x, torch.full_like(x, 1e3) * torch.randn_like(x))
    assert_trees_close(call(twin, case, noisy, mask, initial), call(layer, case, x, mask, initial),
                       "outputs with noise at masked steps", atol=1e-12)


@PROFILE
@given(case=cases())
def test_count_params_equals_the_parameter_sizes_and_keras_count(case):
    layer = make_layer(case)
    x, mask, initial = data(case, layer)
    call(layer, case, x, mask, initial)
    expected = expected_parameter_count(case)
    assert layer.count_params() == expected
    assert sum(p.numel() for p in layer.parameters()) == expected
    assert sum(w.size for w in layer.get_weights()) == expected


@PROFILE
@given(case=cases())
def test_get_weights_set_weights_round_trips(case):
    case = case.with_(training=False, stateful=False)
    layer = make_layer(case)
    x, mask, initial = data(case, layer)
    expected = call(layer, case, x, mask, initial)
    weights = layer.get_weights()
    # parameters() yields the same tensors, in the same order.
    assert len(weights) == len(list(layer.parameters()))
    for array, parameter in zip(weights, layer.parameters()):
        np.testing.assert_array_equal(array, parameter.detach().numpy())

    torch.manual_seed(case.data_seed + 12345)       # other initial weights
    other = make_layer(case)
    call(other, case, x, mask, initial)
    other.set_weights(weights)
    for a, b in zip(other.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    assert_trees_close(call(other, case, x, mask, initial), expected, "outputs after set_weights", atol=0)


@PROFILE
@given(case=cases(bidirectional=True))
def test_bidirectional_equals_forward_and_reversed_backward_layers(case):
    case = case.with_(training=False, stateful=False)
    bidirectional = make_layer(case)
    x, mask, initial = data(case, bidirectional)
    result = call(bidirectional, case, x, mask, initial)
    forward_layer, backward_layer = twin_directions(case, bidirectional)

    forward_count = len(states_for(forward_layer.cell, 1, torch.Generator()))
    forward_initial = None if initial is None else initial[:forward_count]
    backward_initial = None if initial is None else initial[forward_count:]
    with kr.force_path("loop"):
        forward_result = forward_layer(x, initial_state=forward_initial, mask=mask, training=False)
        backward_result = backward_layer(x, initial_state=backward_initial, mask=mask, training=False)
    single = case.with_(bidirectional=False)
    (forward_output,), forward_states = split_result(single, forward_result)
    (backward_output,), backward_states = split_result(single, backward_result)
    if case.return_sequences:
        backward_output = backward_output.flip(1)            # back to time order
        if mask is not None:                                  # Keras's Bidirectional: zeros at masked steps
            forward_output = forward_output * mask.unsqueeze(-1)
            backward_output = backward_output * mask.unsqueeze(-1)
    merged = {"concat": lambda f, b: [torch.cat([f, b], dim=-1)], "sum": lambda f, b: [f + b],
              "mul": lambda f, b: [f * b], "ave": lambda f, b: [(f + b) / 2],
              None: lambda f, b: [f, b]}[case.merge_mode](forward_output, backward_output)
    expected = merged + forward_states + backward_states
    outputs, states = split_result(case, result)
    assert_trees_close(outputs + states, expected, "Bidirectional vs forward + backward layers")


def twin_directions(case: Case, bidirectional):
    """Plain layers with the Bidirectional's weights: one reading forwards, one backwards."""
    single = case.with_(bidirectional=False, zero_output_for_mask=False)
    forward_layer = make_layer(single.with_(go_backwards=False))
    backward_layer = make_layer(single.with_(go_backwards=True))
    for layer, source in ((forward_layer, bidirectional.forward_layer), (backward_layer, bidirectional.backward_layer)):
        layer.build((None, case.timesteps, case.input_size))
        layer.set_weights(source.get_weights())
    return forward_layer, backward_layer


@PROFILE
@given(case=cases(families=("SimpleRNN", "LSTM", "GRU", "RNN")), split=st.integers(1, 5))
def test_stateful_calls_continue_where_the_last_one_stopped(case, split):
    case = case.with_(stateful=True, go_backwards=False, bidirectional=False, return_state=True, training=False,
                      timesteps=max(case.timesteps, 2), mask=None, mask_kind="none")
    split = min(split, case.timesteps - 1)
    whole, chunked = twins(case)
    x, _, initial = data(case, whole)
    _, whole_states = split_result(case, call(whole, case, x, None, initial))
    call(chunked, case, x[:, :split], None, initial)
    _, chunked_states = split_result(case, call(chunked, case, x[:, split:], None, None))
    assert_trees_close(chunked_states, whole_states, "states after two stateful calls")
    assert_trees_close(chunked.states, whole.states, "stored states")


@scaled(0.5)
@given(case=cases(families=("SimpleRNN", "LSTM", "GRU"), bidirectional=False,
                  mask_kinds=("right_padded", "random", "fully_masked_rows", "all_false")))
def test_recurrent_layers_take_zero_output_for_mask_as_keras_does(case):
    # Keras 3's SimpleRNN, LSTM and GRU hand zero_output_for_mask to RNN; RNN(cell) is the reference.
    case = case.with_(training=False, stateful=False, zero_output_for_mask=True)
    torch.manual_seed(case.data_seed)
    layer = LAYER_CLASSES[case.layer](
        case.units, **cell_arguments(case, case.layer), zero_output_for_mask=True, input_dim=case.input_size,
        return_sequences=case.return_sequences, return_state=case.return_state, go_backwards=case.go_backwards,
        unroll=case.unroll, dtype=DTYPE)
    reference = make_layer(case.with_(layer="RNN", cells=(case.layer,), shape_hint=True))
    reference.set_weights(layer.get_weights())
    x, mask, initial = data(case, layer)
    expected = call(reference, case, x, mask, initial)
    for path in (None, "loop"):
        assert_trees_close(call(layer, case, x, mask, initial, path=path), expected, f"path {path or 'auto'}")
