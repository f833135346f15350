"""The bad-input catalogue (docs/bad_input.md): every public entry point, given what it cannot take.

Each case either raises a clear error (a row: arguments, error type, message
pattern) or has a documented result (a test of that result). A failed call
never changes a stateful layer's saved states. Recurrent rows run on both
paths. The device rows need CUDA and skip without it (the only skip here).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import pytest
import torch
from torch import nn
from torch.utils import _pytree as pytree

import kerasrnn_torch as kr

NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------------ factories
def simple_rnn(**kwargs):
    return kr.SimpleRNN(4, input_dim=3, **kwargs)


def lstm(**kwargs):
    return kr.LSTM(4, input_dim=3, **kwargs)


def gru(**kwargs):
    return kr.GRU(4, input_dim=3, **kwargs)


def rnn_cell(**kwargs):
    return kr.RNN(kr.LSTMCell(4, input_dim=3), **kwargs)


def rnn_stacked(**kwargs):
    return kr.RNN([kr.LSTMCell(4, input_dim=3), kr.GRUCell(2, input_dim=4)], **kwargs)


class CustomCell(nn.Module):
    """A user's cell without the step protocol (h = tanh(x K + h R)); `fail_at` makes step n raise."""

    def __init__(self, units=4, input_size=3, fail_at=None):
        super().__init__()
        self.state_size = units
        self.kernel = nn.Parameter(torch.randn(input_size, units) * 0.5)
        self.recurrent_kernel = nn.Parameter(torch.randn(units, units) * 0.5)
        self.fail_at = fail_at
        self.steps = 0

    def forward(self, inputs, states):
        self.steps += 1
        if self.fail_at is not None and self.steps == self.fail_at:
            raise RuntimeError("CustomCell failed on purpose")
        h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]


def rnn_custom(**kwargs):
    return kr.RNN(CustomCell(), **kwargs)


def bidirectional(**kwargs):
    return kr.Bidirectional(kr.LSTM(4, **kwargs), input_shape=(5, 3))


def time_distributed():
    return kr.TimeDistributed(kr.Dense(2), input_shape=(5, 3))


def embedding():
    return kr.Embedding(10, 3)


def dense():
    return kr.Dense(2, input_dim=3)


def sequential():
    return kr.Sequential([kr.LSTM(4, input_shape=(5, 3)), kr.Dense(2)])


def sequential_ids():
    return kr.Sequential([kr.Embedding(10, 3, mask_zero=True), kr.LSTM(4), kr.Dense(2)])


RECURRENT = {"SimpleRNN": simple_rnn, "LSTM": lstm, "GRU": gru, "RNN_cell": rnn_cell, "RNN_stacked": rnn_stacked,
             "RNN_custom": rnn_custom, "Bidirectional": bidirectional}


def x(*shape, dtype=torch.float32):
    return torch.randn(*shape).to(dtype)


def ids(*shape):
    return torch.randint(1, 10, shape)


def bools(*shape):
    return torch.ones(*shape, dtype=torch.bool)


def zeros(*shape):
    return torch.zeros(*shape)


@dataclass(frozen=True)
class Refusal:
    """One catalogue row: `call(layer)` raises `error` with a message matching `pattern`."""
    id: str
    make: Callable
    call: Callable
    error: type
    pattern: str
    recurrent: bool = False       # run under both paths


def row(id, make, call, error, pattern):
    return Refusal(id, make, call, error, pattern, recurrent=make in RECURRENT.values())


SHAPE = r"expects input of shape \(batch, timesteps, features\)"
REFUSALS = [
    # -- wrong rank
    *[row(f"{name}-rank-2", make, lambda l: l(x(2, 3)), ValueError, SHAPE + r".*2-D input of shape \(2, 3\)")
      for name, make in RECURRENT.items() if name not in ("RNN_custom",)],
    *[row(f"{name}-rank-4", make, lambda l: l(x(2, 5, 3, 1)), ValueError, SHAPE + r".*4-D input of shape")
      for name, make in RECURRENT.items() if name not in ("RNN_custom",)],
    row("RNN_custom-rank-2", rnn_custom, lambda l: l(x(2, 3)), ValueError,
        r"expects inputs of shape \(batch, timesteps, \.\.\.\), got a 2-D input"),
    row("Bidirectional-names-itself", bidirectional, lambda l: l(x(2, 3)), ValueError,
        r"Bidirectional '\w+': LSTM 'forward_\w+' expects input of shape"),
    row("TimeDistributed-rank-2", time_distributed, lambda l: l(x(2, 3)), ValueError,
        r"TimeDistributed '\w+' expects inputs of shape \(batch, time, \.\.\.\) with at least 3 axes, got a 2-D"),
    row("Dense-rank-1", dense, lambda l: l(x(3)), ValueError,
        r"Dense '\w+': input of shape \(3,\) is incompatible with the layer, which was built for 3 input"),
    row("Dense-unbuilt-rank-1", lambda: kr.Dense(2), lambda l: l(x(3)), ValueError,
        r"Dense '\w+' expects inputs of shape \(batch, \.\.\., features\), got a 1-D shape \(3,\)"),
    row("Attention-rank-2", kr.Attention, lambda l: l([x(2, 3), x(2, 3)]), ValueError,
        r"query must have shape \(batch, steps, features\), got \(2, 3\)"),
    row("Sequential-rank-2", sequential, lambda l: l(x(2, 3)), ValueError, r"LSTM '\w+' " + SHAPE),
    row("Sequential-ids-rank-1", sequential_ids, lambda l: l(ids(5)), ValueError, r"LSTM '\w+' " + SHAPE),
    # -- wrong feature size
    *[row(f"{name}-features", make, lambda l: l(x(2, 5, 7)), ValueError,
          r"built for 3 input features, got input of shape \(2, 5, 7\)")
      for name, make in RECURRENT.items() if name not in ("RNN_custom",)],
    row("Dense-features", dense, lambda l: l(x(2, 5, 7)), ValueError,
        r"\(2, 5, 7\) is incompatible with the layer, which was built for 3 input features"),
    # -- dtype
    *[row(f"{name}-integer", make, lambda l: l(torch.ones(2, 5, 3, dtype=torch.long)), TypeError,
          r"expects floating-point inputs, got dtype torch.int64 \(integer ids go through an Embedding first\)")
      for name, make in RECURRENT.items()],
    *[row(f"{name}-bool", make, lambda l: l(bools(2, 5, 3)), TypeError, r"floating-point inputs, got dtype torch.bool")
      for name, make in RECURRENT.items()],
    *[row(f"{name}-float64-input", make, lambda l: l(x(2, 5, 3, dtype=torch.float64)), TypeError,
          r"has torch.float32 weights, got torch.float64 input; convert the input or the layer")
      for name, make in RECURRENT.items()],
    row("Embedding-fractional-ids", embedding, lambda l: l(torch.tensor([[1.5, 2.0]])), TypeError,
        r"Embedding '\w+' expects integer ids \(torch.long or torch.int\), got dtype torch.float32 with the "
        r"non-integer value 1.5"),
    row("Embedding-bool-ids", embedding, lambda l: l(bools(2, 3)), TypeError, r"integer ids.*torch.bool"),
    row("Embedding-id-too-large", embedding, lambda l: l(torch.tensor([[1, 10]])), ValueError,
        r"got id 10 in input of shape \(1, 2\); ids must lie in \[0, input_dim\) = \[0, 10\)"),
    row("Embedding-negative-id", embedding, lambda l: l(torch.tensor([[-1, 3]])), ValueError, r"got id -1"),
    row("Dense-integer", dense, lambda l: l(torch.ones(2, 3, dtype=torch.long)), TypeError,
        r"Dense '\w+' expects floating-point inputs, got dtype torch.int64"),
    row("Dense-float64-input", dense, lambda l: l(x(2, 3, dtype=torch.float64)), TypeError,
        r"has torch.float32 weights, got torch.float64 input"),
    row("TimeDistributed-integer", time_distributed, lambda l: l(torch.ones(2, 5, 3, dtype=torch.long)), TypeError,
        r"Dense '\w+' expects floating-point inputs"),
    row("Attention-integer", kr.Attention, lambda l: l([torch.ones(2, 3, 4, dtype=torch.long)] * 2), TypeError,
        r"query must be floating point, got dtype torch.int64"),
    row("Attention-mixed-dtypes", kr.Attention, lambda l: l([x(2, 3, 4, dtype=torch.float64), x(2, 5, 4)]), TypeError,
        r"Attention '\w+'.*float64.*float32"),
    row("Sequential-ids-fractional", sequential_ids, lambda l: l(torch.full((2, 5), 0.5)), TypeError,
        r"Embedding '\w+'.*integer ids.*non-integer value 0.5"),
    # -- not a tensor
    *[row(f"{name}-list-input", make, lambda l: l([x(2, 5, 3)]), TypeError, r"'\w+' expects a tensor")
      for name, make in RECURRENT.items() if name not in ("RNN_custom",)],
    # (NumPy arrays and lists of numbers are data, converted as Keras converts them: tests/core/test_keras_style_layers.py)
    *[row(f"{name}-text-input", make, lambda l: l("not a tensor"), TypeError, r"'\w+' expects a tensor")
      for name, make in RECURRENT.items()],
    row("Dense-list-input", dense, lambda l: l([["a", "b", "c"]]), TypeError, r"Dense '\w+' expects a tensor"),
    row("Masking-list-input", kr.Masking, lambda l: l([["a", "b"]]), TypeError, r"Masking '\w+' expects a tensor"),
    row("TimeDistributed-list-input", time_distributed, lambda l: l(["a"]), TypeError,
        r"TimeDistributed '\w+' expects a tensor"),
    row("Embedding-list-input", embedding, lambda l: l(["a", "b"]), TypeError, r"Embedding '\w+' expects a tensor"),
    row("Attention-one-tensor", kr.Attention, lambda l: l(x(2, 3, 4)), ValueError,
        r"must be called on a list \[query, value\] or \[query, value, key\], got Tensor"),
    row("Attention-one-element", kr.Attention, lambda l: l([x(2, 3, 4)]), ValueError, r"got a list of length 1"),
    row("Sequential-list-input", sequential, lambda l: l([x(2, 5, 3)]), TypeError, r"LSTM '\w+' expects a tensor"),
    # -- zero timesteps (Keras has no defined result; here a clear error)
    *[row(f"{name}-zero-timesteps", make, lambda l: l(x(2, 0, 3)), ValueError,
          r"needs at least one timestep, got input of shape \(2, 0, 3\)")
      for name, make in RECURRENT.items()],
    row("Sequential-zero-timesteps", sequential, lambda l: l(x(2, 0, 3)), ValueError, r"at least one timestep"),
    row("Sequential-ids-zero-timesteps", sequential_ids, lambda l: l(ids(2, 0)), ValueError, r"at least one timestep"),
    # -- masks: wrong form, or given to a layer that takes none
    *[row(f"{name}-mask-shape", make, lambda l: l(x(2, 5, 3), mask=bools(2, 4)), ValueError,
          r"mask must have shape \(batch, timesteps\) = \(2, 5\), got \(2, 4\)")
      for name, make in RECURRENT.items()],
    *[row(f"{name}-mask-float", make, lambda l: l(x(2, 5, 3), mask=torch.ones(2, 5)), TypeError,
          r"mask must be a bool tensor \(True = use the step\), got dtype torch.float32")
      for name, make in RECURRENT.items()],
    row("LSTM-mask-list", lstm, lambda l: l(x(2, 5, 3), mask=[["yes"] * 5] * 2), TypeError,
        r"mask must be a bool tensor"),
    row("Dense-mask", dense, lambda l: l(x(2, 3), mask=bools(2)), TypeError, r"unexpected keyword argument 'mask'"),
    row("Embedding-mask", embedding, lambda l: l(ids(2, 5), mask=bools(2, 5)), TypeError,
        r"unexpected keyword argument 'mask'"),
    row("Masking-mask", kr.Masking, lambda l: l(x(2, 5, 3), mask=bools(2, 5)), TypeError,
        r"unexpected keyword argument 'mask'"),
    row("TimeDistributed-mask-shape", time_distributed, lambda l: l(x(2, 5, 3), mask=bools(2, 4)), ValueError,
        r"mask must start with \(batch, time\) = \(2, 5\), got \(2, 4\)"),
    row("TimeDistributed-mask-float", time_distributed, lambda l: l(x(2, 5, 3), mask=torch.ones(2, 5)), TypeError,
        r"mask must be a bool tensor"),
    row("Attention-mask-tensor", kr.Attention, lambda l: l([x(2, 3, 4)] * 2, mask=bools(2, 3)), ValueError,
        r"mask must be a list \[query_mask, value_mask\]"),
    row("Attention-mask-shape", kr.Attention, lambda l: l([x(2, 3, 4), x(2, 5, 4)], mask=[None, bools(2, 3)]),
        ValueError, r"value_mask must have shape \(2, 5\), got \(2, 3\)"),
    row("Attention-mask-float", kr.Attention, lambda l: l([x(2, 3, 4)] * 2, mask=[torch.ones(2, 3), None]), TypeError,
        r"query_mask must be a bool tensor"),
    row("Sequential-mask-shape", sequential, lambda l: l(x(2, 5, 3), mask=bools(2, 4)), ValueError,
        r"LSTM '\w+': mask must have shape"),
    # -- initial_state of the wrong length (or given to a layer without states)
    row("SimpleRNN-two-states", simple_rnn, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)] * 2), ValueError,
        r"expects initial_state as 1 state tensor\(s\) with shapes \[\(2, 4\)\], got 2"),
    row("LSTM-one-state", lstm, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)]), ValueError,
        r"expects initial_state as 2 state tensor\(s\) with shapes \[\(2, 4\), \(2, 4\)\], got 1"),
    row("LSTM-bare-tensor", lstm, lambda l: l(x(2, 5, 3), initial_state=zeros(2, 4)), ValueError,
        r"2 state tensor\(s\).*got 1"),
    row("LSTM-three-states", lstm, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)] * 3), ValueError,
        r"2 state tensor\(s\).*got 3"),
    row("LSTM-no-states", lstm, lambda l: l(x(2, 5, 3), initial_state=[]), ValueError, r"2 state tensor\(s\).*got 0"),
    row("GRU-two-states", gru, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)] * 2), ValueError,
        r"1 state tensor\(s\).*got 2"),
    row("LSTM-state-shape", lstm, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 5), zeros(2, 4)]), ValueError,
        r"expects initial_state shapes \[\(2, 4\), \(2, 4\)\], got \[\(2, 5\), \(2, 4\)\]"),
    row("RNN_cell-one-state", rnn_cell, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)]), ValueError,
        r"2 state tensor\(s\).*got 1"),
    row("RNN_stacked-flat-states", rnn_stacked, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)] * 2), ValueError,
        r"3 state tensor\(s\)|expects initial_state as .* with shapes \[\(2, 4\), \(2, 4\), \(2, 2\)\]"),
    row("Bidirectional-one-state", bidirectional, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)]), ValueError,
        r"expects initial_state as 4 states: 2 for the forward layer \[\(2, 4\), \(2, 4\)\], then 2 for the "
        r"backward layer \[\(2, 4\), \(2, 4\)\]; got 1"),
    row("Bidirectional-five-states", bidirectional, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)] * 5),
        ValueError, r"4 states.*got 5"),
    row("Bidirectional-backward-state-shape", bidirectional,
        lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)] * 3 + [zeros(2, 7)]), ValueError,
        r"LSTM 'backward_\w+' expects initial_state shapes \[\(2, 4\), \(2, 4\)\], got \[\(2, 4\), \(2, 7\)\]"),
    row("TimeDistributed-initial-state", time_distributed, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)]),
        TypeError, r"unexpected keyword argument 'initial_state'"),
    row("Sequential-initial-state", sequential, lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)]), TypeError,
        r"unexpected keyword argument 'initial_state'"),
]


def path_context(path):
    return kr.force_path(path) if path else contextlib.nullcontext()


def refusal_params():
    for refusal in REFUSALS:
        for path in (("auto", "loop") if refusal.recurrent else (None,)):
            yield pytest.param(refusal, path, id=refusal.id + (f"-{path}" if path else ""))


@pytest.mark.parametrize("refusal, path", list(refusal_params()))
def test_bad_input_is_refused_with_a_clear_error(refusal, path):
    layer = refusal.make()
    with path_context(path), pytest.raises(refusal.error, match=refusal.pattern):
        refusal.call(layer)


# --------------------------------------------------------- set_weights rows
def weights_of(make):
    return lambda: make().get_weights()


SET_WEIGHTS_REFUSALS = [
    # (id, target factory, source weights, message pattern)
    ("LSTM-from-GRU", lstm, weights_of(gru),
     r"LSTM '\w+': weight 0 must have shape \(3, 16\); expected shapes \[\(3, 16\), \(4, 16\), \(16,\)\], "
     r"got \[\(3, 12\), \(4, 12\), \(2, 12\)\]"),
    ("GRU-from-SimpleRNN", gru, weights_of(simple_rnn), r"GRU '\w+': weight 0 must have shape \(3, 12\)"),
    ("GRU-from-GRU-reset-before", gru, weights_of(lambda: kr.GRU(4, input_dim=3, reset_after=False)),
     r"weight 2 must have shape \(2, 12\)"),
    ("SimpleRNN-from-Dense", simple_rnn, weights_of(lambda: kr.Dense(4, input_dim=3)),
     r"SimpleRNN '\w+' expects 3 weight arrays with shapes \[\(3, 4\), \(4, 4\), \(4,\)\], got 2 arrays"),
    ("RNN_cell-from-GRU", rnn_cell, weights_of(gru), r"RNN '\w+': weight 0 must have shape \(3, 16\)"),
    ("Bidirectional-from-LSTM", bidirectional, weights_of(lstm), r"Bidirectional '\w+' expects 6 weight arrays"),
    ("TimeDistributed-from-LSTM", time_distributed, weights_of(lstm), r"TimeDistributed '\w+' expects 2 weight arrays"),
    ("Embedding-from-Dense", embedding, weights_of(dense), r"Embedding '\w+' expects 1 weight arrays"),
    ("Dense-from-Embedding", dense, weights_of(embedding), r"Dense '\w+' expects 2 weight arrays"),
    ("Attention-from-Dense", lambda: kr.Attention(use_scale=True), weights_of(dense),
     r"Attention '\w+' expects 1 weight arrays with shapes \[\(\)\]"),
    ("Masking-from-Dense", kr.Masking, weights_of(dense), r"Masking '\w+' expects 0 weight arrays"),
    ("Sequential-from-Dense", sequential, weights_of(lambda: kr.Dense(2, input_dim=4)),
     r"Sequential '\w+' expects 5 weight arrays with shapes .* got 2 arrays with shapes \[\(4, 2\), \(2,\)\]"),
    ("LSTM-unbuilt", lambda: kr.LSTM(4), weights_of(lstm), r"has no weights yet.*input_shape=\.\.\. or input_dim="),
]


@pytest.mark.parametrize("make, source, pattern", [r[1:] for r in SET_WEIGHTS_REFUSALS],
                         ids=[r[0] for r in SET_WEIGHTS_REFUSALS])
def test_set_weights_from_another_layer_type_is_refused_and_changes_nothing(make, source, pattern):
    layer = make()
    before = layer.get_weights() if layer.built else None
    with pytest.raises(ValueError, match=pattern):
        layer.set_weights(source())
    if before is not None:
        for a, b in zip(layer.get_weights(), before):
            assert (a == b).all()


def test_set_weights_checks_count_and_shapes_only_as_keras():
    # Arrays of the right shapes are taken from any layer: SimpleRNN and RNN(SimpleRNNCell) share a layout.
    source = kr.RNN(kr.SimpleRNNCell(4, input_dim=3))
    layer = simple_rnn()
    layer.set_weights(source.get_weights())
    inputs = x(2, 5, 3)
    torch.testing.assert_close(layer(inputs), source(inputs))


# ------------------------------------------- a failed call keeps saved states
STATEFUL = {
    "SimpleRNN": lambda: simple_rnn(stateful=True),
    "LSTM": lambda: lstm(stateful=True),
    "GRU": lambda: gru(stateful=True),
    "RNN_cell": lambda: rnn_cell(stateful=True),
    "RNN_stacked": lambda: rnn_stacked(stateful=True),
    "RNN_custom": lambda: kr.RNN(CustomCell(), stateful=True),
    "Bidirectional": lambda: bidirectional(stateful=True),
    "Bidirectional_custom": lambda: kr.Bidirectional(kr.RNN(CustomCell(), stateful=True)),
}
HOLES = torch.tensor([[True, False, True, True, True], [True, True, True, False, True]])

FAILED_CALLS = {
    "rank": lambda l: l(x(2, 3)),
    "integer": lambda l: l(torch.ones(2, 5, 3, dtype=torch.long)),
    "float64": lambda l: l(x(2, 5, 3, dtype=torch.float64)),
    "features": lambda l: l(x(2, 5, 7)),
    "not_a_tensor": lambda l: l("not a tensor"),
    "list_input": lambda l: l([x(2, 5, 3)]),
    "zero_timesteps": lambda l: l(x(2, 0, 3)),
    "batch_size": lambda l: l(x(3, 5, 3)),
    "mask_shape": lambda l: l(x(2, 5, 3), mask=bools(2, 4)),
    "mask_dtype": lambda l: l(x(2, 5, 3), mask=torch.ones(2, 5)),
    "state_count": lambda l: l(x(2, 5, 3), initial_state=[zeros(2, 4)] * 7),
    "state_shape": lambda l: l(x(2, 5, 3), initial_state=wrong_last_state(l)),
    "fused_forced_on_a_loop_only_setting": lambda l: forced_fused_with_recurrent_dropout(l),
    "cell_raises_mid_sequence": lambda l: l(x(2, 5, 3)),   # CustomCell (the backward one), raising at step 3
}


def wrong_last_state(layer):
    """Correct initial states except the last one (the backward layer's, for Bidirectional)."""
    states = layer.states
    flat = [s for s in (states if isinstance(states[0], torch.Tensor) else [t for group in states for t in group])]
    wrong = [s.clone() for s in flat]
    wrong[-1] = torch.zeros(2, flat[-1].shape[1] + 3)
    if isinstance(states[0], torch.Tensor):
        return wrong
    grouped, index = [], 0
    for group in states:
        grouped.append(wrong[index:index + len(group)])
        index += len(group)
    return grouped


def forced_fused_with_recurrent_dropout(layer):
    """force_path("fused") on cells given recurrent_dropout, which only the loop computes: refused."""
    cells = [m for m in layer.modules() if isinstance(m, kr.LSTMCell | kr.GRUCell | kr.SimpleRNNCell)]
    for cell in cells:
        cell.recurrent_dropout = 0.5
    try:
        with kr.force_path("fused"):
            return layer(x(2, 5, 3), mask=HOLES)
    finally:
        for cell in cells:
            cell.recurrent_dropout = 0.0


def stateful_params():
    for name in STATEFUL:
        for failure in FAILED_CALLS:
            if failure == "cell_raises_mid_sequence" and not name.endswith("_custom"):
                continue
            for path in ("auto", "loop"):
                yield pytest.param(name, failure, path, id=f"{name}-{failure}-{path}")


def snapshot(layer):
    return [s.clone() for s in pytree.tree_leaves(layer.states)]


@pytest.mark.parametrize("name, failure, path", list(stateful_params()))
def test_a_failed_call_leaves_a_stateful_layers_saved_states_unchanged(name, failure, path):
    layer = STATEFUL[name]()
    with path_context(path):
        layer(x(2, 5, 3))
    if failure == "cell_raises_mid_sequence":
        # Bidirectional: the forward direction succeeds, then the backward one fails.
        cell = layer.backward_layer.cell if isinstance(layer, kr.Bidirectional) else layer.cell
        cell.steps, cell.fail_at = 0, 3
    saved = snapshot(layer)
    # The error itself is the catalogue's business; here only the saved states matter.
    with path_context(path), pytest.raises(Exception):
        FAILED_CALLS[failure](layer)
    after = snapshot(layer)
    assert len(after) == len(saved)
    for a, b in zip(after, saved):
        assert torch.equal(a, b), f"{failure} changed the saved states"


def test_a_refused_reset_state_leaves_bidirectional_states_unchanged():
    layer = bidirectional(stateful=True)
    layer(x(2, 5, 3))
    saved = snapshot(layer)
    with pytest.raises(ValueError, match=r"backward_\w+' expects initial_state shapes"):
        layer.reset_state([torch.ones(2, 4)] * 3 + [torch.ones(2, 9)])
    for a, b in zip(snapshot(layer), saved):
        assert torch.equal(a, b)


# ------------------------------------------------------------- empty batch
EMPTY_BATCH_RECURRENT = {
    "SimpleRNN": lambda: simple_rnn(return_sequences=True, return_state=True),
    "LSTM": lambda: lstm(return_sequences=True, return_state=True),
    "GRU_last_output": lambda: gru(return_state=True),
    "LSTM_go_backwards": lambda: lstm(return_sequences=True, go_backwards=True),
    "RNN_stacked": lambda: rnn_stacked(return_sequences=True, return_state=True),
    "RNN_custom": lambda: rnn_custom(return_sequences=True),
    "Bidirectional": lambda: bidirectional(return_sequences=True, return_state=True),
    "Bidirectional_last_output": lambda: bidirectional(),
    "LSTM_stateful": lambda: lstm(stateful=True, return_sequences=True),
}


@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("name", EMPTY_BATCH_RECURRENT)
def test_an_empty_batch_gives_empty_outputs_of_the_right_shape(name, path, masked):
    layer = EMPTY_BATCH_RECURRENT[name]()
    inputs = x(0, 5, 3).requires_grad_(True)
    with path_context(path):
        full = layer(x(2, 5, 3), mask=bools(2, 5) if masked else None) if "stateful" not in name else None
        empty = layer(inputs, mask=bools(0, 5) if masked else None)
    expected = full if full is not None else [torch.zeros(2, 5, 4)]
    for got, reference in zip(pytree.tree_leaves(empty), pytree.tree_leaves(expected)):
        assert tuple(got.shape) == (0, *reference.shape[1:])
    sum(t.sum() for t in pytree.tree_leaves(empty)).backward()
    assert inputs.grad.shape == (0, 5, 3)


@pytest.mark.parametrize("make, inputs, expected_shape", [
    pytest.param(time_distributed, lambda: x(0, 5, 3), (0, 5, 2), id="TimeDistributed"),
    pytest.param(embedding, lambda: ids(0, 5), (0, 5, 3), id="Embedding"),
    pytest.param(kr.Masking, lambda: x(0, 5, 3), (0, 5, 3), id="Masking"),
    pytest.param(dense, lambda: x(0, 5, 3), (0, 5, 2), id="Dense"),
    pytest.param(kr.Attention, lambda: [x(0, 5, 3), x(0, 4, 3)], (0, 5, 3), id="Attention"),
    pytest.param(sequential, lambda: x(0, 5, 3), (0, 2), id="Sequential"),
    pytest.param(sequential_ids, lambda: ids(0, 5), (0, 2), id="Sequential_ids_mask_zero"),
])
def test_an_empty_batch_passes_through_every_other_entry_point(make, inputs, expected_shape):
    assert tuple(make()(inputs()).shape) == expected_shape


def test_an_empty_batch_on_a_stateful_layer_fixes_its_batch_size_like_any_first_call():
    layer = lstm(stateful=True)
    layer(x(0, 5, 3))
    assert layer.states[0].shape == (0, 4)
    with pytest.raises(ValueError, match=r"holds states for batch size 0, got input of batch size 2.*reset_state"):
        layer(x(2, 5, 3))
    layer.reset_state([zeros(2, 4), zeros(2, 4)])
    assert layer(x(2, 5, 3)).shape == (2, 4)


# ---------------------------------------------------------- zero timesteps
@pytest.mark.parametrize("make, inputs, expected", [
    pytest.param(time_distributed, lambda: x(2, 0, 3), torch.zeros(2, 0, 2), id="TimeDistributed"),
    pytest.param(embedding, lambda: ids(2, 0), torch.zeros(2, 0, 3), id="Embedding"),
    pytest.param(kr.Masking, lambda: x(2, 0, 3), torch.zeros(2, 0, 3), id="Masking"),
    pytest.param(dense, lambda: x(2, 0, 3), torch.zeros(2, 0, 2), id="Dense"),
    pytest.param(kr.Attention, lambda: [x(2, 0, 3), x(2, 4, 3)], torch.zeros(2, 0, 3), id="Attention_no_queries"),
    pytest.param(kr.Attention, lambda: [x(2, 5, 3), x(2, 0, 3)], torch.zeros(2, 5, 3), id="Attention_no_values"),
])
def test_zero_timesteps_outside_recurrent_layers_give_the_documented_result(make, inputs, expected):
    torch.testing.assert_close(make()(inputs()), expected)


# ----------------------------------------------------------- NaN and inf
NAN_RECURRENT = {
    "SimpleRNN": lambda: simple_rnn(return_sequences=True),
    "LSTM": lambda: lstm(return_sequences=True, return_state=True),
    "GRU": lambda: gru(return_sequences=True),
    "LSTM_go_backwards": lambda: lstm(return_sequences=True, go_backwards=True),
    "RNN_cell": lambda: rnn_cell(return_sequences=True),
    "RNN_custom": lambda: rnn_custom(return_sequences=True),
    "Bidirectional_sum": lambda: kr.Bidirectional(kr.GRU(4, return_sequences=True), merge_mode="sum",
                                                  input_shape=(5, 3)),
}


def with_values(value, row=0, step=2):
    inputs = x(3, 5, 3)
    inputs[row, step, 1] = value
    return inputs


@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("name", NAN_RECURRENT)
def test_nan_input_propagates_through_its_own_row_only(name, path):
    layer = NAN_RECURRENT[name]()
    with path_context(path):
        result = layer(with_values(NAN, row=0, step=2))
    output = result[0] if isinstance(result, tuple) else result
    nan_steps = output[0].isnan().any(-1).tolist()
    if name.startswith("Bidirectional"):
        assert nan_steps == [True] * 5        # the backward direction carries it to the earlier steps
    else:
        # From the step it enters on, in reading order (the middle step is read third either way).
        assert nan_steps == [False, False, True, True, True]
    assert output[1:].isfinite().all()


@pytest.mark.parametrize("value", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", [n for n in NAN_RECURRENT if n not in ("RNN_cell", "RNN_custom")])
def test_nan_and_inf_inputs_give_the_same_result_on_both_paths(name, value):
    layer = NAN_RECURRENT[name]()
    inputs = with_values(value)
    with kr.force_path("fused"):
        fused = layer(inputs)
    with kr.force_path("loop"):
        loop = layer(inputs)
    for a, b in zip(pytree.tree_leaves(fused), pytree.tree_leaves(loop)):
        torch.testing.assert_close(a, b, equal_nan=True)


@pytest.mark.parametrize("make, inputs", [
    pytest.param(time_distributed, lambda: with_values(NAN), id="TimeDistributed"),
    pytest.param(dense, lambda: with_values(NAN), id="Dense"),
    pytest.param(kr.Masking, lambda: with_values(NAN), id="Masking"),
    pytest.param(kr.Attention, lambda: [with_values(NAN), x(3, 4, 3)], id="Attention_query"),
    pytest.param(sequential, lambda: with_values(NAN), id="Sequential"),
])
def test_nan_input_propagates_through_the_other_entry_points_without_crashing(make, inputs):
    output = make()(inputs())
    assert output[0].isnan().any() and output[1:].isfinite().all()


@pytest.mark.parametrize("value", [NAN, INF], ids=["nan", "inf"])
@pytest.mark.parametrize("pattern", ["right_padded", "holes"])
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU", "LSTM_go_backwards", "Bidirectional_sum"])
def test_nan_and_inf_at_masked_steps_change_nothing_on_either_path_gradients_included(name, pattern, value):
    # Padding may hold anything: masked steps are skipped, forwards and backwards, on both paths.
    mask = {"right_padded": torch.tensor([[True, True, True, False, False]] * 3), "holes": torch.tensor(
        [[True, True, False, True, True]] * 3)}[pattern]
    clean = x(3, 5, 3)
    dirty = clean.clone()
    dirty[~mask] = value
    layer = NAN_RECURRENT[name]()
    results = {}
    for label, inputs in (("clean", clean), ("dirty", dirty)):
        for path in ("auto", "loop"):
            inputs_i = inputs.clone().requires_grad_(True)
            with path_context(path):
                outputs = pytree.tree_leaves(layer(inputs_i, mask=mask))
            total = sum((o * torch.linspace(0.5, 1.5, o.numel()).view_as(o)).sum() for o in outputs)
            grads = torch.autograd.grad(total, [inputs_i, *layer.parameters()])
            results[label, path] = outputs + [grads[0][mask]] + list(grads[1:])
    for path in ("auto", "loop"):
        for got, want in zip(results["dirty", path], results["clean", path]):
            torch.testing.assert_close(got, want)


def test_masking_with_nan_as_mask_value_masks_nothing_since_nan_never_equals_nan():
    inputs = torch.full((1, 2, 3), NAN)
    assert kr.Masking(mask_value=NAN).compute_mask(inputs).all()


def test_nan_in_a_masked_value_position_still_reaches_every_query_as_in_keras():
    # Attention weights a masked value by ~0, and 0 * nan is nan.
    value = x(1, 3, 4)
    value[0, 2] = NAN
    output = kr.Attention()([x(1, 2, 4), value], mask=[None, torch.tensor([[True, True, False]])])
    assert output.isnan().all()


# ------------------------------------------------------- documented results
def test_initial_state_dtype_is_converted_to_the_layers_dtype():
    layer = gru(return_state=True)
    _, state = layer(x(2, 5, 3), initial_state=[torch.zeros(2, 4, dtype=torch.float64)])
    assert state.dtype == torch.float32
    _, from_integers = layer(x(2, 5, 3), initial_state=[torch.zeros(2, 4, dtype=torch.long)])
    assert from_integers.dtype == torch.float32


def test_simple_rnn_and_gru_take_their_single_state_as_a_bare_tensor():
    for make in (simple_rnn, gru):
        layer = make(return_state=True)
        inputs, state = x(2, 5, 3), torch.randn(2, 4)
        torch.testing.assert_close(layer(inputs, initial_state=state)[1], layer(inputs, initial_state=[state])[1])


def test_masking_and_embedding_take_any_rank():
    assert kr.Masking()(torch.tensor([0.0, 1.0])).shape == (2,)
    assert kr.Masking().compute_mask(torch.zeros(4, 2, 3, 5)).shape == (4, 2, 3)
    layer = embedding()
    assert layer(torch.tensor(3)).shape == (3,)
    assert layer(torch.ones(2, 3, 4, dtype=torch.long)).shape == (2, 3, 4, 3)


def test_masking_takes_integer_inputs():
    inputs = torch.tensor([[[0, 0], [1, 2]]])
    torch.testing.assert_close(kr.Masking()(inputs), inputs)
    assert kr.Masking().compute_mask(inputs).tolist() == [[False, True]]


def test_a_per_step_mask_is_not_handed_to_a_wrapped_dense_layer():
    layer = kr.TimeDistributed(kr.Dense(2), input_shape=(5, 4, 3))
    inputs = x(2, 5, 4, 3)
    mask = torch.rand(2, 5, 4) > 0.5
    torch.testing.assert_close(layer(inputs, mask=mask), layer(inputs))


CONSTRUCTOR_REFUSALS = [
    # (id, constructor, error type, message pattern)
    ("Bidirectional-go_backwards-layer", lambda: kr.Bidirectional(kr.LSTM(3, go_backwards=True)), ValueError,
     r"must read in opposite directions, got forward_layer.go_backwards=True and backward_layer.go_backwards=True"),
    ("Bidirectional-Dense", lambda: kr.Bidirectional(kr.Dense(3)), ValueError,
     r"`layer` must be a recurrent layer .*got Dense"),
    ("Bidirectional-cell", lambda: kr.Bidirectional(kr.LSTMCell(3)), ValueError,
     r"`layer` must be a recurrent layer .*got LSTMCell.*wrap a cell in RNN\(cell\) first"),
    ("Bidirectional-sum-of-different-sizes",
     lambda: kr.Bidirectional(kr.LSTM(3), backward_layer=kr.LSTM(4, go_backwards=True), merge_mode="sum"),
     ValueError, r"merge_mode='sum'.*3.*4"),
    ("TimeDistributed-not-a-module", lambda: kr.TimeDistributed("dense"), TypeError,
     r"`layer` must be an nn.Module .*got str"),
    ("Sequential-not-a-module", lambda: kr.Sequential(["lstm"]), ValueError,      # as Keras's
     r"Only instances of `kr.layers.Layer` \(or other torch.nn.Module\) can be added .*of type str"),
]


@pytest.mark.parametrize("make, error, pattern", [r[1:] for r in CONSTRUCTOR_REFUSALS],
                         ids=[r[0] for r in CONSTRUCTOR_REFUSALS])
def test_a_wrapper_given_what_it_cannot_wrap_is_refused_at_construction(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


# ------------------------------------------------------ device (CUDA only)
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="device mismatch needs a CUDA device")

DEVICE_ENTRY_POINTS = {
    "SimpleRNN": (simple_rnn, lambda d: x(2, 5, 3).to(d)),
    "LSTM": (lstm, lambda d: x(2, 5, 3).to(d)),
    "GRU": (gru, lambda d: x(2, 5, 3).to(d)),
    "RNN_cell": (rnn_cell, lambda d: x(2, 5, 3).to(d)),
    "Bidirectional": (bidirectional, lambda d: x(2, 5, 3).to(d)),
    "TimeDistributed": (time_distributed, lambda d: x(2, 5, 3).to(d)),
    "Embedding": (embedding, lambda d: ids(2, 5).to(d)),
    "Dense": (dense, lambda d: x(2, 3).to(d)),
    "Sequential": (sequential, lambda d: x(2, 5, 3).to(d)),
}
DEVICES = r"(cuda.*cpu|cpu.*cuda)"


@cuda
@pytest.mark.parametrize("layer_on_cuda", [False, True], ids=["input_on_cuda", "layer_on_cuda"])
@pytest.mark.parametrize("name", DEVICE_ENTRY_POINTS)
def test_input_and_weights_on_different_devices_get_an_error_naming_both(name, layer_on_cuda):
    make, inputs = DEVICE_ENTRY_POINTS[name]
    layer = make()
    layer = layer.cuda() if layer_on_cuda else layer
    with pytest.raises((ValueError, RuntimeError), match=DEVICES):
        layer(inputs("cpu" if layer_on_cuda else "cuda"))


@cuda
@pytest.mark.parametrize("path", ["auto", "loop"])
def test_initial_state_and_mask_on_another_device_get_an_error_naming_both(path):
    layer = lstm().cuda()
    inputs = x(2, 5, 3).cuda()
    with path_context(path):
        with pytest.raises(ValueError, match=r"initial_state is on cpu.*cuda"):
            layer(inputs, initial_state=[zeros(2, 4), zeros(2, 4)])
        with pytest.raises(ValueError, match=r"mask.*" + DEVICES):
            layer(inputs, mask=bools(2, 5))


@cuda
@pytest.mark.parametrize("name", ["LSTM", "Bidirectional"])
def test_a_device_mismatch_leaves_saved_states_unchanged(name):
    layer = STATEFUL[name]().cuda()
    layer(x(2, 5, 3).cuda())
    saved = snapshot(layer)
    with pytest.raises(ValueError):
        layer(x(2, 5, 3))
    for a, b in zip(snapshot(layer), saved):
        assert torch.equal(a, b)
