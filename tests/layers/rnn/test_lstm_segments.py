"""An LSTM whose final c is wanted (return_state=True or stateful) with a right-padded mask, on the CPU:
the fused path runs the batch in segments between its distinct lengths (engine.fused.run_segments),
not through PyTorch's packed kernel. Every number must stay the loop's and Keras 3's."""
import keras
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine import fused, masks
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, random_weights, weighted_sum

FEATURES, UNITS = 3, 5
# Repeated lengths, a row of one step, an empty row, full rows, out of order.
LENGTHS = torch.tensor([9, 3, 1, 0, 3, 6, 9])
BATCH, TIMESTEPS = len(LENGTHS), 9
MASK = torch.arange(TIMESTEPS) < LENGTHS.unsqueeze(1)
FLAGS = [(sequences, backwards) for sequences in (False, True) for backwards in (False, True)]
FLAG_IDS = ["last", "last_backwards", "sequences", "sequences_backwards"]


class KernelCalls:
    """Records whether each fused kernel call packed (was given lengths)."""

    def __init__(self, monkeypatch):
        self.packed = []
        kernel = fused._call_kernel

        def recording(kind, inputs, states, flat_weights, activation, bidirectional, lengths, *rest):
            self.packed.append(lengths is not None)
            return kernel(kind, inputs, states, flat_weights, activation, bidirectional, lengths, *rest)
        monkeypatch.setattr(fused, "_call_kernel", recording)


def run_paths(layer, x, mask, initial_state=None):
    """{path: (outputs, d/d inputs, d/d initial states, d/d weights)} on the fused path and the loop."""
    results = {}
    for path in ("fused", "loop"):
        layer.zero_grad()
        leaves = [t.clone().requires_grad_(True) for t in [x, *(initial_state or [])]]
        with kr.force_path(path):
            outputs = as_list(layer(leaves[0], mask=mask, initial_state=leaves[1:] or None))
        assert layer.last_path == path
        weighted_sum(outputs).backward()
        results[path] = (outputs, leaves[0].grad, [t.grad for t in leaves[1:]],
                         [p.grad.clone() for p in layer.parameters()])
    return results


def assert_paths_equal(results):
    (fo, fx, fs, fw), (lo, lx, ls, lw) = results["fused"], results["loop"]
    assert len(fo) == len(lo)
    for i, (a, b) in enumerate(zip(fo, lo)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")
    assert torch.isfinite(fx).all(), "nothing non-finite reaches d/d inputs"
    assert_close(fx, lx, GRAD_ATOL, "d/d inputs")
    for i, (a, b) in enumerate(zip(fs, ls)):
        assert_close(a, b, GRAD_ATOL, f"d/d initial state {i}")
    for i, (a, b) in enumerate(zip(fw, lw)):
        assert_close(a, b, GRAD_ATOL, f"d/d weight {i}")


def test_segments_cut_a_batch_where_its_rows_end():
    plan = fused.Segments.of(torch.tensor([3, 0, 5, 3, 1]))
    assert plan.order.tolist() == [2, 0, 3, 4, 1]          # longest first, ties in batch order, empty last
    assert (plan.starts, plan.ends, plan.counts) == ([0, 1, 3], [1, 3, 5], [4, 3, 1])
    assert fused.Segments.of(torch.tensor([0, 0])).ends == []


def test_segments_run_without_gradients_only_when_their_stretches_are_long_enough(monkeypatch, pytorch_kernels_only):
    # Each kernel call costs a fixed amount; forward-only, packing's leaner steps win over short stretches.
    assert fused.Segments.of(LENGTHS).worth_it(False)                       # 9 steps in 4 stretches
    dense = torch.tensor([1, 2, 3, 4, 4])
    assert not fused.Segments.of(dense).worth_it(False)                     # 4 steps in 4 stretches
    assert fused.Segments.of(dense).worth_it(True)                          # with gradients, always
    assert not fused.Segments.of(torch.tensor([0, 0])).worth_it(True)       # nothing to run
    layer = kr.LSTM(UNITS, return_state=True, input_dim=FEATURES)
    x = torch.randn(len(dense), 4, FEATURES)
    mask = torch.arange(4) < dense.unsqueeze(1)
    calls = KernelCalls(monkeypatch)
    with torch.no_grad():
        packed = layer(x, mask=mask)
    assert calls.packed == [True]
    calls.packed.clear()
    unpacked = layer(x, mask=mask)
    assert calls.packed == [False] * 4
    for a, b in zip(packed, unpacked):
        assert_close(a, b, OUTPUT_ATOL)


@pytest.mark.parametrize("stateful", [False, True], ids=["return_state", "stateful"])
def test_final_c_wanted_runs_one_unpacked_call_per_distinct_length(monkeypatch, stateful, pytorch_kernels_only):
    # Before: a call that needed c went through PyTorch's packed kernel, whose CPU backward is slow.
    layer = kr.LSTM(UNITS, return_state=not stateful, stateful=stateful, input_dim=FEATURES)
    calls = KernelCalls(monkeypatch)
    layer(torch.randn(BATCH, TIMESTEPS, FEATURES, requires_grad=True), mask=MASK)
    assert layer.last_path == "fused"
    assert calls.packed == [False] * len(torch.unique(LENGTHS[LENGTHS > 0]))


def test_pack_on_cpu_still_packs_a_call_that_wants_c(monkeypatch):
    layer = kr.LSTM(UNITS, return_state=True, input_dim=FEATURES)
    layer.pack_on_cpu = True
    calls = KernelCalls(monkeypatch)
    layer(torch.randn(BATCH, TIMESTEPS, FEATURES), mask=MASK)
    assert calls.packed == [True]


@pytest.mark.parametrize("return_sequences, go_backwards", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zeros", "initial_state"])
def test_segments_equal_the_loop_with_nan_in_the_padding(return_sequences, go_backwards, with_initial_state):
    layer = kr.LSTM(UNITS, return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                    input_dim=FEATURES, bias_initializer="random_uniform")
    x = torch.randn(BATCH, TIMESTEPS, FEATURES).masked_fill(~MASK.unsqueeze(-1), float("nan"))
    initial = [torch.randn(BATCH, UNITS), torch.randn(BATCH, UNITS)] if with_initial_state else None
    results = run_paths(layer, x, MASK, initial)
    assert_paths_equal(results)
    h, c = results["fused"][0][1:]
    if with_initial_state:         # the empty row keeps its initial states
        assert torch.equal(h[3], initial[0][3]) and torch.equal(c[3], initial[1][3])


@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_segments_equal_the_loop_with_zero_output_for_mask(zero_output_for_mask):
    layer = kr.RNN(kr.LSTMCell(UNITS), return_sequences=True, return_state=True,
                   zero_output_for_mask=zero_output_for_mask)
    fused_layer = kr.LSTM(UNITS, return_sequences=True, return_state=True, input_dim=FEATURES,
                          zero_output_for_mask=zero_output_for_mask)
    layer.build((None, TIMESTEPS, FEATURES))
    layer.set_weights(fused_layer.get_weights())
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    with torch.no_grad():
        expected = layer(x, mask=MASK)
        actual = fused_layer(x, mask=MASK)
    assert fused_layer.last_path == "fused" and layer.last_path == "loop"
    for i, (a, b) in enumerate(zip(actual, expected)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")


@pytest.mark.parametrize("return_sequences, go_backwards", FLAGS, ids=FLAG_IDS)
def test_segments_match_keras(return_sequences, go_backwards):
    kwargs = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
    theirs = keras.layers.LSTM(UNITS, **kwargs)
    theirs.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(theirs)
    ours = kr.LSTM(UNITS, input_dim=FEATURES, **kwargs)
    ours.set_weights(theirs.get_weights())
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    initial = [torch.randn(BATCH, UNITS), torch.randn(BATCH, UNITS)]
    leaves = {name: [t.clone().requires_grad_(True) for t in [x, *initial]] for name in ("ours", "keras")}
    ours_out = as_list(ours(leaves["ours"][0], mask=MASK, initial_state=leaves["ours"][1:]))
    keras_out = as_list(theirs(leaves["keras"][0], mask=MASK, initial_state=leaves["keras"][1:], training=False))
    assert ours.last_path == "fused"
    for i, (a, b) in enumerate(zip(ours_out, keras_out)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")
    weighted_sum(ours_out).backward()
    weighted_sum(keras_out).backward()
    for i, (a, b) in enumerate(zip(leaves["ours"], leaves["keras"])):
        assert_close(a.grad, b.grad, GRAD_ATOL, "d/d inputs" if i == 0 else f"d/d initial state {i - 1}")
    for i, (mine, weight) in enumerate(zip(ours.parameters(), theirs.weights)):
        assert_close(mine.grad, weight.value.grad, GRAD_ATOL, f"d/d weight {i}")


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_bidirectional_segments_equal_the_loop_and_keras(return_sequences, monkeypatch, pytorch_kernels_only):
    kwargs = dict(return_sequences=return_sequences, return_state=True)
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, **kwargs))
    theirs.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(theirs)
    ours = kr.Bidirectional(kr.LSTM(UNITS, **kwargs), input_shape=(TIMESTEPS, FEATURES))
    ours.set_weights(theirs.get_weights())
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    calls = KernelCalls(monkeypatch)
    results = run_paths(ours, x, MASK)
    assert calls.packed == [False] * 2 * len(torch.unique(LENGTHS[LENGTHS > 0])), "two unpacked directions"
    assert_paths_equal(results)
    keras_out = as_list(theirs(x, mask=MASK, training=False))
    for i, (a, b) in enumerate(zip(results["fused"][0], keras_out)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i} against Keras")


def test_stateful_segments_carry_the_loop_s_states_across_calls():
    layers = {path: kr.LSTM(UNITS, stateful=True, return_sequences=True, input_dim=FEATURES)
              for path in ("fused", "loop")}
    layers["loop"].load_state_dict(layers["fused"].state_dict())
    generator = torch.Generator().manual_seed(3)
    for call in range(3):
        x = torch.randn(BATCH, TIMESTEPS, FEATURES, generator=generator)
        mask = torch.arange(TIMESTEPS) < LENGTHS.roll(call).unsqueeze(1)
        outputs = {}
        for path, layer in layers.items():
            with kr.force_path(path), torch.no_grad():
                outputs[path] = layer(x, mask=mask)
        assert_close(outputs["fused"], outputs["loop"], OUTPUT_ATOL, f"outputs of call {call}")
        for a, b in zip(layers["fused"].states, layers["loop"].states):
            assert_close(a, b, OUTPUT_ATOL, f"states after call {call}")


def test_segments_packing_and_the_whole_batch_agree_on_everything_they_share(pytorch_kernels_only):
    layer = kr.LSTM(UNITS, input_dim=FEATURES, bias_initializer="random_uniform")
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    layout = masks.analyse(MASK)
    initial = [torch.randn(BATCH, UNITS), torch.randn(BATCH, UNITS)]
    results = {}
    for name, need_cell_state, pack in (("segments", True, False), ("packed", True, True), ("whole", False, False)):
        xi = x.clone().requires_grad_(True)
        output, final = fused.run_unidirectional(
            "lstm", xi, initial, layer.torch_weights(), activation="tanh", layout=layout, go_backwards=False,
            return_sequences=True, need_cell_state=need_cell_state, pack=pack)
        shared = [output, final[0]]
        assert (final[1] is None) == (name == "whole"), "c is returned exactly when it is needed"
        values = shared if final[1] is None else shared + [final[1]]
        grads = torch.autograd.grad(weighted_sum(values), [xi, *layer.parameters()])
        results[name] = values + list(grads)
    assert len(results["segments"]) == len(results["packed"])
    for i, (a, b) in enumerate(zip(results["segments"], results["packed"])):
        assert_close(a, b, OUTPUT_ATOL, f"segments against packed, value {i}")
    for i in (0, 1):
        assert_close(results["segments"][i], results["whole"][i], OUTPUT_ATOL, f"segments against whole, value {i}")
