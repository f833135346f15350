"""Two paths, one result: every fused-eligible configuration also runs on the loop."""
import itertools

import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, masks_by_name, weighted_sum

LAYERS = {"SimpleRNN": kr.SimpleRNN, "SimpleRNN_relu": lambda u, **k: kr.SimpleRNN(u, activation="relu", **k),
          "LSTM": kr.LSTM, "GRU": kr.GRU}
FLAGS = list(itertools.product([False, True], repeat=3))   # return_sequences, return_state, go_backwards


def run_both(layer, x, **call_kwargs):
    results = {}
    for path in ("fused", "loop"):
        for p in layer.parameters():
            p.grad = None
        xi = x.clone().requires_grad_(True)
        with kr.force_path(path):
            out = as_list(layer(xi, **call_kwargs))
        assert layer.last_path == path
        weighted_sum(out).backward()
        results[path] = (out, xi.grad, [p.grad.clone() for p in layer.parameters()])
    return results


def assert_same(results, atol=OUTPUT_ATOL, grad_atol=GRAD_ATOL):
    (fo, fx, fw), (lo, lx, lw) = results["fused"], results["loop"]
    for i, (a, b) in enumerate(zip(fo, lo)):
        assert_close(a, b, atol, f"output {i}")
    assert_close(fx, lx, grad_atol, "d/d inputs")
    for i, (a, b) in enumerate(zip(fw, lw)):
        assert_close(a, b, grad_atol, f"d/d weight {i}")


@pytest.mark.parametrize("pattern", [None, "right_padded", "fully_masked_row", "all_true"])
@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "seq{}_state{}_back{}".format(*map(int, f)))
@pytest.mark.parametrize("name", LAYERS)
def test_fused_equals_loop(name, flags, pattern):
    return_sequences, return_state, go_backwards = flags
    layer = LAYERS[name](7, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards)
    x = torch.randn(4, 6, 3)
    mask = masks_by_name(4, 6)[pattern] if pattern else None
    assert_same(run_both(layer, x, mask=mask))


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "seq{}_state{}_back{}".format(*map(int, f)))
@pytest.mark.parametrize("name", LAYERS)
def test_fused_equals_loop_when_every_row_ends_before_the_last_step(name, flags):
    # The CPU's whole-batch run cuts the steps after the longest row and builds the returned sequence
    # (Keras's repeat of the last output, or the reversed rows) from the shorter kernel output.
    return_sequences, return_state, go_backwards = flags
    layer = LAYERS[name](6, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards)
    x = torch.randn(4, 9, 3)
    x[1, 2:] = float("nan")                      # padding may hold anything
    mask = torch.arange(9) < torch.tensor([5, 2, 0, 4]).unsqueeze(1)
    results = run_both(layer, x, mask=mask)
    assert torch.isfinite(results["fused"][1]).all()
    assert_same(results)


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_fused_equals_loop_when_every_row_ends_before_the_last_step(merge_mode):
    layer = kr.Bidirectional(kr.GRU(5, return_sequences=True), merge_mode=merge_mode)
    mask = torch.arange(7) < torch.tensor([3, 6, 1]).unsqueeze(1)
    assert_same(run_both(layer, torch.randn(3, 7, 4), mask=mask))


@pytest.mark.parametrize("name", LAYERS)
def test_fused_equals_loop_with_initial_state_and_unsorted_lengths(name):
    layer = LAYERS[name](5, return_sequences=True, return_state=True)
    states = 2 if name == "LSTM" else 1
    mask = torch.arange(8).unsqueeze(0) < torch.tensor([3, 8, 1, 5, 0, 8, 2]).unsqueeze(1)
    initial = [torch.randn(7, 5) for _ in range(states)]
    assert_same(run_both(layer, torch.randn(7, 8, 4), mask=mask, initial_state=initial))


@pytest.mark.parametrize("name", LAYERS)
def test_fused_equals_loop_with_seeded_input_dropout(name):
    # The fused path applies the same per-sample input mask at every step, as the loop does.
    outputs = {}
    for path in ("fused", "loop"):
        layer = LAYERS[name](5, dropout=0.4, seed=11, return_sequences=True, input_dim=3)
        torch.manual_seed(0)
        with torch.no_grad():
            for p in layer.parameters():
                p.uniform_(-0.5, 0.5)
        layer.train()
        with kr.force_path(path):
            outputs[path] = layer(torch.ones(4, 6, 3))
        assert layer.last_path == path
    assert_close(outputs["fused"], outputs["loop"], OUTPUT_ATOL, "outputs")


@pytest.mark.parametrize("name", LAYERS)
def test_fused_equals_loop_in_float64_on_long_sequences(name):
    layer = LAYERS[name](8, return_sequences=True, dtype=torch.float64)
    x = torch.randn(2, 300, 3, dtype=torch.float64)
    with torch.no_grad():
        with kr.force_path("fused"):
            fused = layer(x)
        with kr.force_path("loop"):
            loop = layer(x)
    assert fused.dtype == torch.float64
    assert_close(fused, loop, 1e-10, "outputs")


def test_auto_runs_fused_for_eligible_configuration_and_loop_otherwise():
    x = torch.randn(2, 3, 4)
    eligible = kr.LSTM(3)
    eligible(x)
    assert eligible.last_path == "fused"
    ineligible = kr.LSTM(3, recurrent_dropout=0.2)
    ineligible(x)
    assert ineligible.last_path == "loop"
    forced_loop = kr.LSTM(3, use_cudnn=False)
    forced_loop(x)
    assert forced_loop.last_path == "loop"


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_unpacked_and_packed_right_padded_runs_agree(return_sequences, go_backwards, pytorch_kernels_only):
    # On the CPU a right-padded batch runs whole (faster than packing) unless LSTM's final c is needed,
    # which only the packed kernel gives: the two must agree on everything they both return.
    from kerasrnn_torch.layers.rnn.engine import fused, masks
    layer = kr.LSTM(5, input_dim=3, bias_initializer="random_uniform")
    x = torch.randn(4, 7, 3)
    x[1, 4:] = float("nan")                      # padding may hold anything
    mask = torch.arange(7) < torch.tensor([7, 4, 0, 2]).unsqueeze(1)
    layout = masks.analyse(mask)
    initial = [torch.randn(4, 5), torch.randn(4, 5)]
    results = []
    for need_cell_state in (True, False):
        xi = x.clone().requires_grad_(True)
        output, final = fused.run_unidirectional(
            "lstm", xi, initial, layer.torch_weights(), activation="tanh", layout=layout, go_backwards=go_backwards,
            return_sequences=return_sequences, need_cell_state=need_cell_state)
        assert (final[1] is None) == (not need_cell_state), "c is returned exactly when it is needed"
        grads = torch.autograd.grad(weighted_sum([output, final[0]]), [xi, *layer.parameters()])
        results.append([output, final[0], grads[0][mask], *grads[1:]])
    for packed, unpacked in zip(*results):
        assert torch.isfinite(unpacked).all()
        assert_close(unpacked, packed, OUTPUT_ATOL)


@pytest.mark.parametrize("make", [lambda: kr.GRU(4, return_sequences=True, input_dim=3),
                                  lambda: kr.Bidirectional(kr.LSTM(4, return_sequences=True), input_dim=3)],
                         ids=["GRU", "Bidirectional"])
@pytest.mark.usefixtures("pytorch_kernels_only")
def test_pack_on_cpu_packs_and_changes_no_number(make, monkeypatch):
    from kerasrnn_torch.layers.rnn.engine import fused
    packed_calls = []
    kernel = fused._call_kernel
    monkeypatch.setattr(fused, "_call_kernel", lambda *args: packed_calls.append(args[6] is not None)
                        or kernel(*args))
    layer = make()
    x = torch.randn(3, 6, 3)
    mask = torch.arange(6) < torch.tensor([6, 4, 2]).unsqueeze(1)
    results = []
    for pack in (False, True):
        packed_calls.clear()
        layer.pack_on_cpu = pack
        xi = x.clone().requires_grad_(True)
        output = layer(xi, mask=mask)
        assert layer.last_path == "fused" and packed_calls and all(packed_calls) == pack
        results.append([output, *torch.autograd.grad(weighted_sum([output]), [xi, *layer.parameters()])])
    for whole, packed in zip(*results):
        assert_close(whole, packed, OUTPUT_ATOL)


def test_pack_on_cpu_set_on_the_class_applies_to_every_layer_not_set_itself(monkeypatch, pytorch_kernels_only):
    # `kr.RNN.pack_on_cpu = True` once is the process-wide switch for the lower peak memory.
    from kerasrnn_torch.layers.rnn.engine import fused
    packed_calls = []
    kernel = fused._call_kernel
    monkeypatch.setattr(fused, "_call_kernel", lambda *args: packed_calls.append(args[6] is not None)
                        or kernel(*args))
    monkeypatch.setattr(kr.RNN, "pack_on_cpu", True)
    own_choice = kr.LSTM(4, return_sequences=True)
    own_choice.pack_on_cpu = False
    mask = torch.arange(5) < torch.tensor([5, 2]).unsqueeze(1)
    for layer, packs in ((kr.GRU(4, return_sequences=True), True),
                         (kr.Bidirectional(kr.SimpleRNN(4, return_sequences=True)), True),
                         (own_choice, False)):
        packed_calls.clear()
        layer(torch.randn(2, 5, 3, requires_grad=True), mask=mask)
        assert packed_calls and all(packed_calls) == packs, type(layer).__name__


@pytest.mark.parametrize("return_sequences", [False, True])
def test_a_packed_call_assembles_the_padded_sequence_only_when_it_is_returned(return_sequences, monkeypatch,
                                                                             pytorch_kernels_only):
    # The GRU without gradients packs on the CPU (on PyTorch's kernel); returning only the last output, it reads the final
    # states alone, as torch.nn's user reading h_n does (no padded sequence built and dropped).
    from kerasrnn_torch.layers.rnn.engine import fused
    assembled = []
    pad = fused.pad_packed_sequence
    monkeypatch.setattr(fused, "pad_packed_sequence", lambda *args, **kwargs: assembled.append(1) or pad(*args, **kwargs))
    layer = kr.GRU(4, return_sequences=return_sequences, return_state=True, input_dim=3)
    x = torch.randn(4, 6, 3)
    mask = torch.arange(6) < torch.tensor([6, 2, 5, 1]).unsqueeze(1)
    with torch.no_grad():
        fused_result = layer(x, mask=mask)
        with kr.force_path("loop"):
            loop_result = layer(x, mask=mask)
    assert bool(assembled) == return_sequences
    for a, b in zip(fused_result, loop_result):
        assert_close(a, b, OUTPUT_ATOL)
