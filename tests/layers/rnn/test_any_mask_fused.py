"""Any mask pattern on the fused kernel: left padding, holes, random patterns, fully masked rows.

Under Keras's rules a masked step changes nothing, so each row's used steps run through the kernel
as a right-padded row and their results go back in place. Everything here runs fused and is
compared with the loop: outputs, final states and every gradient.
"""
import itertools

import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, weighted_sum
from tests.layers.rnn.test_fused_vs_loop import LAYERS, assert_same, run_both

FLAGS = list(itertools.product([False, True], repeat=3))   # return_sequences, return_state, go_backwards


def patterns(batch=5, timesteps=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    random = torch.rand(batch, timesteps, generator=generator) < 0.6
    random[0] = True                                    # a full row
    random[1] = False                                   # an empty row
    left = torch.arange(timesteps).flip(0) < torch.tensor([7, 3, 0, 5, 1]).unsqueeze(1)
    holes = torch.ones(batch, timesteps, dtype=torch.bool)
    holes[:, 1::3] = False
    holes[2, 0] = False
    return {"random": random, "left_padded": left, "holes": holes}


@pytest.mark.parametrize("pattern", ["random", "left_padded", "holes"])
@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "seq{}_state{}_back{}".format(*map(int, f)))
@pytest.mark.parametrize("name", LAYERS)
def test_any_pattern_runs_fused_with_the_loop_s_numbers(name, flags, pattern):
    return_sequences, return_state, go_backwards = flags
    layer = LAYERS[name](6, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards)
    x = torch.randn(5, 7, 3)
    x[~patterns()[pattern]] = float("nan")              # masked steps may hold anything
    results = run_both(layer, x, mask=patterns()[pattern])
    assert torch.isfinite(results["fused"][1]).all()
    assert_same(results)


@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_initial_state_and_zero_output_for_mask(name, zero_output_for_mask):
    layer = LAYERS[name](4, return_sequences=True, return_state=True)
    layer.zero_output_for_mask = zero_output_for_mask
    x = torch.randn(5, 7, 3)
    initial = [torch.randn(5, 4) for _ in range(2 if name == "LSTM" else 1)]
    assert_same(run_both(layer, x, mask=patterns()["holes"], initial_state=initial))


@pytest.mark.parametrize("pack", [False, True], ids=["whole", "packed"])
@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_bidirectional_with_holes_both_directions(name, pack):
    layer = kr.Bidirectional(LAYERS[name](4, return_sequences=True, return_state=True), input_dim=3)
    layer.pack_on_cpu = pack
    x = torch.randn(5, 7, 3)
    assert_same(run_both(layer, x, mask=patterns(seed=3)["random"]))


def test_stateful_calls_carry_the_states_of_each_row_s_last_used_step():
    masks = patterns()
    x = torch.randn(5, 7, 3)
    results = {}
    for path in ("fused", "loop"):
        layer = kr.GRU(4, stateful=True, return_sequences=True, input_dim=3)
        torch.manual_seed(0)
        layer.set_weights([w * 0 + torch.randn(w.shape).numpy() for w in layer.get_weights()])
        with kr.force_path(path):
            first = layer(x, mask=masks["random"])
            second = layer(x, mask=masks["holes"])
        results[path] = (first, second, layer.states[0])
    for a, b in zip(results["fused"], results["loop"]):
        assert_close(a, b, OUTPUT_ATOL)


def test_input_dropout_draws_the_same_masks_on_both_paths():
    layer = kr.LSTM(4, dropout=0.5, seed=3, return_sequences=True, input_dim=3).train()
    x = torch.randn(5, 7, 3)
    outputs = {}
    for path in ("fused", "loop"):
        layer.cell._generators.restart()
        with kr.force_path(path):
            outputs[path] = layer(x, mask=patterns()["left_padded"])
        assert layer.last_path == path
    assert_close(outputs["fused"], outputs["loop"], OUTPUT_ATOL)


def test_dispatch_reason_no_longer_names_the_mask():
    layer = kr.LSTM(4)
    assert layer.dispatch_reason(patterns()["holes"]) is None
    layer(torch.randn(5, 7, 3), mask=patterns()["left_padded"])
    assert layer.last_path == "fused"


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_use_bias_false_runs_fused_with_the_loop_s_numbers(name):
    layer = LAYERS[name](5, use_bias=False, return_sequences=True, return_state=True)
    assert layer.dispatch_reason() is None
    assert_same(run_both(layer, torch.randn(3, 6, 2), mask=patterns(3, 6)["holes"]))
    assert [n for n, _ in layer.named_parameters()] == ["cell.kernel", "cell.recurrent_kernel"]
    assert all(p.grad is not None for p in layer.parameters())
    output = as_list(layer(torch.randn(3, 6, 2)))[0]
    weighted_sum([output]).backward()


@pytest.mark.parametrize("make", [lambda: kr.LSTM(4, return_sequences=True, return_state=True),
                                  lambda: kr.Bidirectional(kr.GRU(4, return_sequences=True))],
                         ids=["LSTM_packed", "Bidirectional_two_way"])
def test_a_fully_masked_row_with_non_finite_padding_keeps_gradients_finite(make):
    layer = make()
    layer.pack_on_cpu = True                           # the packed kernel runs one step of the empty row
    x = torch.randn(3, 5, 3)
    mask = torch.arange(5) < torch.tensor([5, 0, 2]).unsqueeze(1)
    x[~mask] = float("nan")
    results = run_both(layer, x, mask=mask)
    assert torch.isfinite(results["fused"][1]).all() and all(torch.isfinite(g).all() for g in results["fused"][2])
    assert_same(results)
