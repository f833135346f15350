"""Bidirectional against Keras 3 (torch backend): merges, states, masks, weights, the two-way fused kernel.

Every parity case copies the randomized weights of a `keras.layers.Bidirectional`
into ours and compares outputs, states and the gradients with respect to the
inputs and every weight.
"""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine import fused
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, masks_by_name, random_weights, weighted_sum

BATCH, TIMESTEPS, FEATURES, UNITS = 3, 5, 4, 6
LAYERS = {"SimpleRNN": (kr.SimpleRNN, keras.layers.SimpleRNN, 1),
          "LSTM": (kr.LSTM, keras.layers.LSTM, 2),
          "GRU": (kr.GRU, keras.layers.GRU, 1)}
MERGE_MODES = ["concat", "sum", "mul", "ave", None]
OPTIONS = {"last": {}, "sequences": {"return_sequences": True}, "last_state": {"return_state": True},
           "sequences_state": {"return_sequences": True, "return_state": True}}


def build_pair(name, kwargs, merge_mode="concat", **bidirectional_kwargs):
    """A Keras Bidirectional with random weights and ours holding the same weights."""
    ours_cls, keras_cls, _ = LAYERS[name]
    keras_layer = keras.layers.Bidirectional(keras_cls(UNITS, **kwargs), merge_mode=merge_mode)
    keras_layer.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(keras_layer)
    ours = kr.Bidirectional(ours_cls(UNITS, **kwargs), merge_mode=merge_mode, input_shape=(TIMESTEPS, FEATURES),
                            **bidirectional_kwargs)
    ours.set_weights(keras_layer.get_weights())
    return ours, keras_layer


def run_and_differentiate(layer, x, initial_state=None, **call_kwargs):
    """Outputs, then the gradients with respect to the inputs and each initial state."""
    leaves = [t.clone().requires_grad_(True) for t in [x, *(initial_state or [])]]
    outputs = as_list(layer(leaves[0], initial_state=leaves[1:] or None, **call_kwargs))
    weighted_sum(outputs).backward()
    return outputs, [t.grad for t in leaves]


def compare(ours, keras_layer, *, mask=None, initial_state=None, path="auto", x=None):
    """Outputs, states and gradients of ours (on `path`) against Keras's."""
    x = torch.randn(BATCH, TIMESTEPS, FEATURES) if x is None else x
    with kr.force_path(path):
        ours_out, ours_grads = run_and_differentiate(ours, x, mask=mask, initial_state=initial_state)
    keras_out, keras_grads = run_and_differentiate(keras_layer, x, mask=mask, initial_state=initial_state,
                                                   training=False)
    assert len(ours_out) == len(keras_out)
    for i, (mine, theirs) in enumerate(zip(ours_out, keras_out)):
        assert_close(mine, theirs, OUTPUT_ATOL, f"output {i}")
    for i, (mine, theirs) in enumerate(zip(ours_grads, keras_grads)):
        assert_close(mine, theirs, GRAD_ATOL, "d/d inputs" if i == 0 else f"d/d initial state {i - 1}")
    ours_weights = list(ours.parameters())
    assert len(ours_weights) == len(keras_layer.weights)
    for i, (mine, theirs) in enumerate(zip(ours_weights, keras_layer.weights)):
        assert_close(mine.grad, theirs.value.grad, GRAD_ATOL, f"d/d weight {i} ({theirs.path})")
    return ours_out


def random_initial_state(name):
    return [torch.randn(BATCH, UNITS) for _ in range(2 * LAYERS[name][2])]


class KernelCalls:
    """Records the `bidirectional` flag of every fused kernel call."""

    def __init__(self, monkeypatch):
        self.flags = []
        original = fused.call_kernel

        def recording(*args, **kwargs):
            self.flags.append(kwargs.get("bidirectional", False))
            return original(*args, **kwargs)

        monkeypatch.setattr(fused, "call_kernel", recording)


# ------------------------------------------------------------------ parity
@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("options", ["last", "sequences_state"])
@pytest.mark.parametrize("merge_mode", MERGE_MODES, ids=str)
@pytest.mark.parametrize("name", LAYERS)
def test_matches_keras_for_every_merge_mode(name, merge_mode, options, path):
    ours, keras_layer = build_pair(name, OPTIONS[options], merge_mode)
    compare(ours, keras_layer, path=path)
    assert ours.last_path == ("fused" if path == "auto" else "loop")


@pytest.mark.parametrize("options", ["sequences", "last_state"])
@pytest.mark.parametrize("name", LAYERS)
def test_matches_keras_with_return_sequences_or_state_alone(name, options):
    ours, keras_layer = build_pair(name, OPTIONS[options], "sum")
    out = compare(ours, keras_layer)
    assert len(out) == (1 if options == "sequences" else 1 + 2 * LAYERS[name][2])


@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("pattern", ["right_padded", "left_padded", "holes", "fully_masked_row", "all_true"])
@pytest.mark.parametrize("options", ["last_state", "sequences_state"])
@pytest.mark.parametrize("name", LAYERS)
def test_matches_keras_with_mask(name, options, pattern, path):
    ours, keras_layer = build_pair(name, OPTIONS[options])
    mask = masks_by_name(BATCH, TIMESTEPS)[pattern]
    compare(ours, keras_layer, mask=mask, path=path)
    assert ours.last_path == ("fused" if path == "auto" else "loop")      # any mask pattern runs fused


@pytest.mark.parametrize("merge_mode", ["mul", "ave", None], ids=str)
@pytest.mark.parametrize("pattern", ["right_padded", "holes"])
def test_matches_keras_with_mask_for_other_merge_modes(merge_mode, pattern):
    ours, keras_layer = build_pair("GRU", OPTIONS["sequences_state"], merge_mode)
    compare(ours, keras_layer, mask=masks_by_name(BATCH, TIMESTEPS)[pattern])


def test_masked_steps_output_zeros_in_returned_sequences():
    ours, _ = build_pair("LSTM", OPTIONS["sequences"])
    mask = masks_by_name(BATCH, TIMESTEPS)["holes"]
    output = ours(torch.randn(BATCH, TIMESTEPS, FEATURES), mask=mask)
    assert torch.all(output[~mask] == 0)
    assert torch.all(output[mask].abs().sum(-1) > 0)


@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("pattern", [None, "right_padded", "fully_masked_row", "holes"], ids=str)
@pytest.mark.parametrize("name", LAYERS)
def test_matches_keras_with_initial_state(name, pattern, path):
    ours, keras_layer = build_pair(name, OPTIONS["sequences_state"])
    mask = None if pattern is None else masks_by_name(BATCH, TIMESTEPS)[pattern]
    initial = random_initial_state(name)
    out = compare(ours, keras_layer, mask=mask, initial_state=initial, path=path)
    if pattern == "fully_masked_row":
        # The fully masked row keeps its initial states and outputs zeros.
        for state, given in zip(out[1:], initial):
            assert torch.equal(state[2], given[2])
        assert torch.all(out[0][2] == 0)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_generic_rnn_matches_keras_with_holes(return_sequences):
    # zero_output_for_mask=True is overridden by Bidirectional as Keras does (it follows return_sequences).
    keras_layer = keras.layers.Bidirectional(keras.layers.RNN(
        keras.layers.LSTMCell(UNITS), return_sequences=return_sequences, return_state=True,
        zero_output_for_mask=True))
    keras_layer.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(keras_layer)
    ours = kr.Bidirectional(kr.RNN(kr.LSTMCell(UNITS), return_sequences=return_sequences, return_state=True,
                                   zero_output_for_mask=True), input_shape=(TIMESTEPS, FEATURES))
    ours.set_weights(keras_layer.get_weights())
    mask = masks_by_name(BATCH, TIMESTEPS)["left_padded"]
    compare(ours, keras_layer, mask=mask)
    assert ours.last_path == "loop"
    assert ours.forward_layer.zero_output_for_mask is return_sequences


def test_custom_backward_layer_matches_keras(monkeypatch, pytorch_kernels_only):
    keras_layer = keras.layers.Bidirectional(
        keras.layers.LSTM(UNITS, return_sequences=True, return_state=True),
        backward_layer=keras.layers.GRU(UNITS, return_sequences=True, return_state=True, go_backwards=True))
    keras_layer.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(keras_layer)
    ours = kr.Bidirectional(kr.LSTM(UNITS, return_sequences=True, return_state=True),
                            backward_layer=kr.GRU(UNITS, return_sequences=True, return_state=True, go_backwards=True),
                            input_shape=(TIMESTEPS, FEATURES))
    ours.set_weights(keras_layer.get_weights())
    calls = KernelCalls(monkeypatch)
    out = compare(ours, keras_layer, mask=masks_by_name(BATCH, TIMESTEPS)["right_padded"])
    assert len(out) == 1 + 2 + 1
    # Different kernels cannot share one call: each direction ran its own fused calls (the LSTM, whose
    # final c is returned, one per stretch between distinct lengths; the GRU one).
    assert calls.flags and not any(calls.flags)
    assert ours.last_path == "fused"


def test_single_timestep_matches_keras():
    ours, keras_layer = build_pair("LSTM", OPTIONS["sequences_state"])
    compare(ours, keras_layer, x=torch.randn(BATCH, 1, FEATURES))


# ------------------------------------------------------- the two-way kernel
FUSED_CASES = [(name, pattern, options) for name in LAYERS
               for pattern in (None, "right_padded", "fully_masked_row")
               for options in ("last_state", "sequences_state")]


@pytest.mark.usefixtures("pytorch_kernels_only")
@pytest.mark.parametrize("name, pattern, options", FUSED_CASES, ids=lambda v: str(v))
def test_fused_bidirectional_equals_loop(name, pattern, options, monkeypatch):
    ours, _ = build_pair(name, OPTIONS[options])
    mask = None if pattern is None else masks_by_name(BATCH, TIMESTEPS)[pattern]
    initial = random_initial_state(name)
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    calls = KernelCalls(monkeypatch)
    fused_out, fused_grads = run_and_differentiate(ours, x, mask=mask, initial_state=initial)
    fused_weight_grads = [p.grad.clone() for p in ours.parameters()]
    # On the CPU a right-padded batch runs unpacked, one direction at a time: whole (one call each), or,
    # where LSTM's final c is wanted, in segments (one call per distinct length and direction); without
    # a mask both directions make one two-way call.
    segments = len(torch.unique(mask.sum(dim=1)[mask.sum(dim=1) > 0])) if pattern is not None else 0
    calls_per_direction = segments if name == "LSTM" and ours.return_state else 1
    expected_flags = [False] * 2 * calls_per_direction if pattern is not None else [True]
    assert calls.flags == expected_flags
    assert (ours.last_path, ours.forward_layer.last_path, ours.backward_layer.last_path) == ("fused",) * 3
    ours.zero_grad()
    with kr.force_path("loop"):
        loop_out, loop_grads = run_and_differentiate(ours, x, mask=mask, initial_state=initial)
    assert calls.flags == expected_flags
    assert ours.last_path == "loop"
    for i, (a, b) in enumerate(zip(fused_out, loop_out)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")
    for i, (a, b) in enumerate(zip(fused_grads, loop_grads)):
        assert_close(a, b, GRAD_ATOL, f"d/d inputs and initial states ({i})")
    for i, (a, p) in enumerate(zip(fused_weight_grads, ours.parameters())):
        assert_close(a, p.grad, GRAD_ATOL, f"d/d weight {i}")


@pytest.mark.parametrize("pack", [False, True], ids=["whole", "two_way_packed"])
def test_holes_run_both_directions_fused_with_the_loop_s_numbers(monkeypatch, pack, pytorch_kernels_only):
    ours, _ = build_pair("LSTM", OPTIONS["sequences"])
    ours.pack_on_cpu = pack                       # packed on the CPU: one two-way kernel call
    calls = KernelCalls(monkeypatch)
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    mask = masks_by_name(BATCH, TIMESTEPS)["holes"]
    fused = ours(x, mask=mask)
    assert calls.flags == ([True] if pack else [False, False])
    assert (ours.last_path, ours.forward_layer.last_path, ours.backward_layer.last_path) == ("fused",) * 3
    with kr.force_path("loop"):
        assert_close(fused, ours(x, mask=mask), OUTPUT_ATOL, "holes, fused vs loop")


def test_last_path_is_loop_when_one_direction_cannot_run_fused(monkeypatch, pytorch_kernels_only):
    ours = kr.Bidirectional(kr.LSTM(UNITS), backward_layer=kr.LSTM(UNITS, activation="relu", go_backwards=True))
    calls = KernelCalls(monkeypatch)
    ours(torch.randn(BATCH, TIMESTEPS, FEATURES))
    assert calls.flags == [False]
    assert (ours.forward_layer.last_path, ours.backward_layer.last_path, ours.last_path) == ("fused", "loop", "loop")
    assert "backward layer" in ours.dispatch_reason() and "activation is relu" in ours.dispatch_reason()
    assert "forward layer" not in ours.dispatch_reason()


@pytest.mark.usefixtures("pytorch_kernels_only")
def test_input_dropout_in_training_runs_each_direction_fused(monkeypatch):
    ours = kr.Bidirectional(kr.GRU(UNITS, dropout=0.5, return_sequences=True), input_shape=(TIMESTEPS, FEATURES))
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    calls = KernelCalls(monkeypatch)
    ours.train()
    trained = ours(x)
    assert calls.flags == [False, False], "each direction draws its own dropout mask"
    assert ours.last_path == "fused"
    ours.eval()
    evaluated = ours(x)
    assert calls.flags == [False, False, True]
    assert not torch.allclose(trained, evaluated)
    assert torch.allclose(ours(x, training=False), evaluated)
    with kr.force_path("loop"):
        assert_close(ours(x), evaluated, OUTPUT_ATOL, "eval on the loop")


def test_use_cudnn_comes_from_the_inner_layers():
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    ours = kr.Bidirectional(kr.LSTM(UNITS, use_cudnn=False))
    assert ours.use_cudnn is False and ours.backward_layer.use_cudnn is False
    ours(x)
    assert ours.last_path == "loop"
    assert "use_cudnn=False" in ours.dispatch_reason()
    ours.use_cudnn = "auto"
    ours(x)
    assert ours.last_path == "fused" and ours.dispatch_reason() is None
    # As Keras, a given backward layer takes the forward layer's use_cudnn.
    mixed = kr.Bidirectional(kr.LSTM(UNITS), backward_layer=kr.LSTM(UNITS, go_backwards=True, use_cudnn=False))
    assert mixed.backward_layer.use_cudnn == "auto"
    mixed(x)
    assert mixed.last_path == "fused"
    strict = kr.Bidirectional(kr.LSTM(UNITS, use_cudnn=True))
    strict(x, mask=masks_by_name(BATCH, TIMESTEPS)["holes"])
    assert strict.last_path == "fused"
    with pytest.raises(ValueError, match=r"use_cudnn=True.*recurrent_dropout"):
        kr.Bidirectional(kr.LSTM(UNITS, use_cudnn=True, recurrent_dropout=0.1))(x)


def test_force_path_is_honoured():
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    ours = kr.Bidirectional(kr.LSTM(UNITS))
    with kr.force_path("fused"):
        ours(x, mask=masks_by_name(BATCH, TIMESTEPS)["right_padded"])
        assert ours.last_path == "fused"
        ours(x, mask=masks_by_name(BATCH, TIMESTEPS)["holes"])
        assert ours.last_path == "fused"
        refusal = r"Bidirectional .*forward layer.*force_path\(\"fused\"\).*activation is relu"
        with pytest.raises(ValueError, match=refusal):
            kr.Bidirectional(kr.LSTM(UNITS, activation="relu"))(x)
        with pytest.raises(ValueError, match="generic RNN"):
            kr.Bidirectional(kr.RNN(kr.GRUCell(UNITS)))(x)
    with kr.force_path("loop"):
        ours(x)
        assert ours.last_path == "loop"


def test_dispatch_reason():
    right = masks_by_name(BATCH, TIMESTEPS)["right_padded"]
    holes = masks_by_name(BATCH, TIMESTEPS)["holes"]
    ours = kr.Bidirectional(kr.LSTM(UNITS))
    assert ours.dispatch_reason() is None
    assert ours.dispatch_reason(right) is None
    assert ours.dispatch_reason(holes) is None                   # any mask pattern runs fused
    reason = kr.Bidirectional(kr.LSTM(UNITS, activation="relu")).dispatch_reason(holes)
    assert "forward layer LSTM 'forward_lstm" in reason and "backward layer LSTM 'backward_lstm" in reason
    assert "recurrent_dropout" in kr.Bidirectional(kr.GRU(3, recurrent_dropout=0.5)).dispatch_reason()
    assert "generic RNN" in kr.Bidirectional(kr.RNN(kr.SimpleRNNCell(3))).dispatch_reason()


# ------------------------------------------------------------------ states
def test_stateful_matches_keras_across_calls():
    # Keras's Bidirectional cannot return states when stateful (its compute_mask fails), so compare outputs.
    keras_layer = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, stateful=True, return_sequences=True))
    keras_layer.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(keras_layer)
    ours = kr.Bidirectional(kr.LSTM(UNITS, stateful=True, return_sequences=True), input_shape=(TIMESTEPS, FEATURES))
    ours.set_weights(keras_layer.get_weights())
    assert ours.stateful and ours.states is None
    mask = masks_by_name(BATCH, TIMESTEPS)["right_padded"]
    for step, path in enumerate(["auto", "loop", "auto"]):
        x = torch.randn(BATCH, TIMESTEPS, FEATURES)
        with kr.force_path(path):
            mine = ours(x, mask=mask)
        assert ours.last_path == ("loop" if path == "loop" else "fused")
        assert_close(mine, keras_layer(x, mask=mask), OUTPUT_ATOL, f"call {step}")
        for a, b in zip(ours.states, [*keras_layer.forward_layer.states, *keras_layer.backward_layer.states]):
            assert_close(a, b.value, OUTPUT_ATOL, f"call {step} states")


def test_stateful_states_and_reset():
    ours = kr.Bidirectional(kr.GRU(UNITS, stateful=True, return_state=True))
    _, forward_h, backward_h = ours(torch.randn(BATCH, TIMESTEPS, FEATURES))
    assert len(ours.states) == 2
    assert torch.equal(ours.states[0], forward_h.detach()) and torch.equal(ours.states[1], backward_h.detach())
    assert not ours.states[0].requires_grad
    with pytest.raises(ValueError, match="batch size 3, got input of batch size 2"):
        ours(torch.randn(2, TIMESTEPS, FEATURES))
    ours.reset_state()
    assert all(torch.all(s == 0) for s in ours.states)
    ours.reset_states([torch.full((2, UNITS), 1.0), torch.full((2, UNITS), 2.0)])
    assert [float(s[0, 0]) for s in ours.states] == [1.0, 2.0]
    ours(torch.randn(2, TIMESTEPS, FEATURES))
    with pytest.raises(ValueError, match="is not stateful"):
        kr.Bidirectional(kr.LSTM(UNITS)).reset_state()


# ----------------------------------------------------------------- weights
def test_weights_are_forward_then_backward_in_keras_order():
    ours, keras_layer = build_pair("GRU", {})
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in keras_layer.get_weights()]
    forward, backward = ours.forward_layer, ours.backward_layer
    expected = [forward.cell.kernel, forward.cell.recurrent_kernel, forward.cell.bias,
                backward.cell.kernel, backward.cell.recurrent_kernel, backward.cell.bias]
    assert all(a is b for a, b in zip(ours.parameters(), expected)) and len(list(ours.parameters())) == 6
    for mine, theirs in zip(ours.get_weights(), keras_layer.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert ours.count_params() == keras_layer.count_params() == sum(p.numel() for p in ours.parameters())


@pytest.mark.parametrize("name", LAYERS)
def test_count_params_matches_keras(name):
    ours_cls, keras_cls, _ = LAYERS[name]
    keras_layer = keras.layers.Bidirectional(keras_cls(7), merge_mode="sum")
    keras_layer.build((None, TIMESTEPS, 9))
    ours = kr.Bidirectional(ours_cls(7), merge_mode="sum", input_shape=(TIMESTEPS, 9))
    assert ours.count_params() == keras_layer.count_params()


def test_keras_documented_stack_has_80266_params():
    first = kr.Bidirectional(kr.LSTM(64, return_sequences=True), input_shape=(5, 10))
    assert first.built and first.count_params() == 38400
    second = kr.Bidirectional(kr.LSTM(32))
    second(first(torch.randn(2, 5, 10)))
    dense = kr.Dense(10)
    dense(second(first(torch.randn(2, 5, 10))))
    assert first.count_params() + second.count_params() + dense.count_params() == 80266
    model = keras.Sequential([keras.Input((5, 10)),
                              keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True)),
                              keras.layers.Bidirectional(keras.layers.LSTM(32)), keras.layers.Dense(10)])
    assert model.count_params() == 80266
    assert [layer.count_params() for layer in model.layers[:2]] == [first.count_params(), second.count_params()]


def test_lazy_build_from_the_first_input():
    ours = kr.Bidirectional(kr.SimpleRNN(UNITS))
    assert not ours.built
    with pytest.raises(ValueError, match="has no weights yet"):
        ours.get_weights()
    ours(torch.randn(BATCH, TIMESTEPS, 7))
    assert ours.built and ours.forward_layer.input_dim == ours.backward_layer.input_dim == 7
    assert ours.count_params() == 2 * (7 * UNITS + UNITS * UNITS + UNITS)


def test_weights_argument_and_set_weights_errors():
    _, keras_layer = build_pair("LSTM", {})
    arrays = keras_layer.get_weights()
    lazy = kr.Bidirectional(kr.LSTM(UNITS), weights=arrays)
    lazy(torch.randn(BATCH, TIMESTEPS, FEATURES))
    eager = kr.Bidirectional(kr.LSTM(UNITS), weights=arrays, input_shape=(TIMESTEPS, FEATURES))
    for layer in (lazy, eager):
        for mine, theirs in zip(layer.get_weights(), arrays):
            np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(ValueError, match=r"expects 6 weight arrays with shapes \[\(4, 24\), \(6, 24\), \(24,?\), "
                                         r"\(4, 24\), \(6, 24\), \(24,?\)\], got 3"):
        eager.set_weights(arrays[:3])
    with pytest.raises(ValueError, match=r"weight 3 must have shape \(4, 24\)"):
        eager.set_weights(arrays[:3] + [arrays[1]] + arrays[4:])


def test_backward_layer_is_a_fresh_copy_of_the_configuration():
    layer = kr.LSTM(UNITS, return_sequences=True, dropout=0.25, unit_forget_bias=False,
                    input_shape=(TIMESTEPS, FEATURES))
    ours = kr.Bidirectional(layer)
    forward, backward = ours.forward_layer, ours.backward_layer
    assert forward is layer and forward.name.startswith("forward_lstm")
    assert backward.name.startswith("backward_lstm")
    assert backward.go_backwards and not forward.go_backwards
    assert (backward.units, backward.return_sequences, backward.dropout, backward.unit_forget_bias) == \
        (UNITS, True, 0.25, False)
    assert backward.cell is not forward.cell
    assert not torch.equal(backward.cell.kernel, forward.cell.kernel), "the copy draws its own weights"
    assert ours.built


def test_state_dict_round_trip():
    source, _ = build_pair("LSTM", OPTIONS["sequences"], "ave")
    target = kr.Bidirectional(kr.LSTM(UNITS, return_sequences=True), merge_mode="ave", input_dim=FEATURES)
    assert list(target.state_dict()) == list(source.state_dict())
    target.load_state_dict(source.state_dict())
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    assert torch.equal(target(x), source(x))


def test_device_and_dtype_arguments_reach_the_inner_layers():
    ours = kr.Bidirectional(kr.GRU(UNITS, return_sequences=True), dtype=torch.float64, device="cpu",
                            input_shape=(TIMESTEPS, FEATURES))
    assert all(p.dtype == torch.float64 for p in ours.parameters())
    assert ours(torch.randn(BATCH, TIMESTEPS, FEATURES, dtype=torch.float64)).dtype == torch.float64


# ------------------------------------------------------------------- masks
@pytest.mark.parametrize("merge_mode, options, expected", [
    ("concat", "sequences", "mask"),
    ("concat", "last", None),
    (None, "sequences", ["mask", "mask"]),
    (None, "last", [None, None]),
    ("sum", "sequences_state", ["mask", None, None, None, None]),
    (None, "last_state", [None, None, None, None, None, None]),
], ids=["concat_sequences", "concat_last", "pair_sequences", "pair_last", "sum_states", "pair_states"])
def test_compute_mask(merge_mode, options, expected):
    mask = masks_by_name(BATCH, TIMESTEPS)["holes"]
    ours = kr.Bidirectional(kr.LSTM(UNITS, **OPTIONS[options]), merge_mode=merge_mode)
    result = ours.compute_mask(torch.randn(BATCH, TIMESTEPS, FEATURES), mask)

    def resolve(entry):
        return mask if entry == "mask" else entry
    if isinstance(expected, list):
        assert len(result) == len(expected)
        assert all(got is resolve(want) for got, want in zip(result, expected))
    else:
        assert result is resolve(expected)


def test_compute_mask_takes_the_first_of_a_list_of_masks():
    mask = masks_by_name(BATCH, TIMESTEPS)["holes"]
    ours = kr.Bidirectional(kr.GRU(UNITS, return_sequences=True))
    assert ours.compute_mask(None, [mask, None]) is mask


def test_activity_regularizer_of_inner_layers_sees_their_own_outputs():
    def by_position(output):      # depends on time order: the backward layer's own output is in reading order
        return (output * torch.arange(1.0, output.shape[1] + 1).view(1, -1, 1)).square().sum()

    ours = kr.Bidirectional(kr.GRU(UNITS, return_sequences=True, activity_regularizer=by_position),
                            input_shape=(TIMESTEPS, FEATURES))
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    mask = masks_by_name(BATCH, TIMESTEPS)["right_padded"]
    ours(x, mask=mask)
    fused_losses = [float(loss.detach()) for loss in ours.losses]
    with kr.force_path("loop"):
        ours(x, mask=mask)
    assert len(fused_losses) == 2 and all(loss > 0 for loss in fused_losses)
    np.testing.assert_allclose(fused_losses, [float(loss.detach()) for loss in ours.losses], rtol=1e-5)


# ------------------------------------------------------------------ errors
CONSTRUCTION_ERRORS = [
    (lambda: kr.Bidirectional(kr.Dense(3)), ValueError, r"`layer` must be a recurrent layer.*got Dense"),
    (lambda: kr.Bidirectional(kr.LSTMCell(3)), ValueError, r"got LSTMCell .*wrap a cell in RNN\(cell\)"),
    (lambda: kr.Bidirectional("lstm"), ValueError, r"must be a recurrent layer.*got str"),
    (lambda: kr.Bidirectional(kr.LSTM(3), backward_layer=kr.Dense(3)), ValueError, r"`backward_layer` must be"),
    (lambda: kr.Bidirectional(kr.LSTM(3), merge_mode="max"), ValueError,
     r"`merge_mode` must be one of 'concat', 'sum', 'mul', 'ave', None; got 'max'"),
    (lambda: kr.Bidirectional(kr.LSTM(3), backward_layer=kr.LSTM(3)), ValueError,
     r"opposite directions, got forward_layer.go_backwards=False and backward_layer.go_backwards=False"),
    (lambda: kr.Bidirectional(kr.LSTM(3, go_backwards=True)), ValueError,
     r"forward_layer.go_backwards=True and backward_layer.go_backwards=True"),
    (lambda: kr.Bidirectional(kr.LSTM(3), backward_layer=kr.LSTM(3, go_backwards=True, return_sequences=True)),
     ValueError, r"same `return_sequences`, got return_sequences=False for the forward layer and "
                 r"return_sequences=True for the backward layer"),
    (lambda: kr.Bidirectional(kr.LSTM(3), backward_layer=kr.LSTM(3, go_backwards=True, stateful=True)),
     ValueError, r"same `stateful`"),
    (lambda: kr.Bidirectional(kr.LSTM(3, return_state=True), backward_layer=kr.LSTM(3, go_backwards=True)),
     ValueError, r"same `return_state`, got return_state=True for the forward layer"),
    (lambda: kr.Bidirectional(kr.LSTM(3), weights=kr.LSTM(3, go_backwards=True)), TypeError,
     r"`weights` must be a list of arrays.*got LSTM; pass a backward layer as backward_layer="),
]


@pytest.mark.parametrize("make, error, pattern", CONSTRUCTION_ERRORS,
                         ids=["dense", "cell", "string", "dense_backward", "merge_mode", "same_direction",
                              "backwards_layer", "return_sequences", "stateful", "return_state", "weights"])
def test_construction_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def lstm_pair():
    return kr.Bidirectional(kr.LSTM(UNITS), input_shape=(TIMESTEPS, FEATURES))


CALL_ERRORS = [
    (dict(inputs=torch.randn(BATCH, FEATURES)), ValueError,
     r"Bidirectional '.*': LSTM 'forward_lstm.*' expects input of shape \(batch, timesteps, features\), "
     r"got a 2-D input of shape \(3, 4\)"),
    (dict(inputs=torch.randn(BATCH, TIMESTEPS, 7)), ValueError,
     r"Bidirectional '.*': LSTM 'forward_lstm.*' was built for 4 input features, got input of shape \(3, 5, 7\)"),
    (dict(inputs=torch.ones(BATCH, TIMESTEPS, FEATURES, dtype=torch.long)), TypeError, r"floating-point inputs"),
    (dict(initial_state=[torch.zeros(BATCH, UNITS)] * 3), ValueError,
     r"expects initial_state as 4 states: 2 for the forward layer \[\(3, 6\), \(3, 6\)\], then 2 for the "
     r"backward layer \[\(3, 6\), \(3, 6\)\]; got 3"),
    (dict(initial_state=[torch.zeros(BATCH, UNITS)] * 3 + [torch.zeros(BATCH, 5)]), ValueError,
     r"backward_lstm.*expects initial_state shapes \[\(3, 6\), \(3, 6\)\], got \[\(3, 6\), \(3, 5\)\]"),
    (dict(mask=torch.ones(BATCH, TIMESTEPS + 1, dtype=torch.bool)), ValueError,
     r"mask must have shape \(batch, timesteps\) = \(3, 5\), got \(3, 6\)"),
    (dict(mask=torch.ones(BATCH, TIMESTEPS)), TypeError, r"mask must be a bool tensor"),
]


@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("call, error, pattern", CALL_ERRORS,
                         ids=["2d_input", "features", "integer_input", "state_count", "state_shape", "mask_shape",
                              "mask_dtype"])
def test_call_errors(call, error, pattern, path):
    call = dict(call)
    inputs = call.pop("inputs", torch.randn(BATCH, TIMESTEPS, FEATURES))
    with kr.force_path(path), pytest.raises(error, match=pattern):
        lstm_pair()(inputs, **call)


def test_backward_layer_is_the_third_positional_argument():
    backward = kr.LSTM(3, go_backwards=True)
    layer = kr.Bidirectional(kr.LSTM(3), "concat", backward)
    assert layer.backward_layer is backward


def test_a_masked_call_checks_its_inputs_and_analyses_its_mask_once(monkeypatch):
    from kerasrnn_torch.layers.rnn.engine import masks
    layer = kr.Bidirectional(kr.GRU(4, return_sequences=True), input_dim=3)
    x = torch.randn(3, 6, 3, requires_grad=True)      # with gradients on the CPU: each direction runs whole
    mask = torch.arange(6) < torch.tensor([6, 4, 2]).unsqueeze(1)
    counts = {"analyse": 0, "check_inputs": 0}
    analyse, check_inputs = masks.analyse, kr.RNN.check_inputs

    def counting_analyse(*args):
        counts["analyse"] += 1
        return analyse(*args)

    def counting_check(self, *args):
        counts["check_inputs"] += 1
        return check_inputs(self, *args)
    monkeypatch.setattr(masks, "analyse", counting_analyse)
    monkeypatch.setattr(kr.RNN, "check_inputs", counting_check)
    expected = layer(x, mask=mask)
    assert counts == {"analyse": 1, "check_inputs": 1}
    assert layer.last_path == "fused"
    with kr.force_path("loop"):
        assert torch.allclose(layer(x, mask=mask), expected, atol=1e-6)
