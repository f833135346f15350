"""Numerical robustness: long sequences, saturated activations, determinism, threads."""
from __future__ import annotations

import contextlib
import threading

import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine.dispatch import forced_path

LAYERS = {"SimpleRNN": kr.SimpleRNN, "LSTM": kr.LSTM, "GRU": kr.GRU}
PATHS = ("fused", "loop")
F64 = dict(atol=1e-10, rtol=0)


def run(layer, x, path, **call_kwargs):
    with kr.force_path(path):
        result = layer(x, **call_kwargs)
    assert layer.last_path == path
    return result


def leaves(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


# ------------------------------------------------------------ long sequences
@pytest.mark.parametrize("name", LAYERS)
def test_two_thousand_steps_agree_on_both_paths_in_float64_with_one_backward(name):
    layer = LAYERS[name](6, input_dim=3, return_sequences=True, return_state=True, dtype=torch.float64)
    x = torch.randn(2, 2000, 3, dtype=torch.float64)
    results = {}
    for path in PATHS:
        xi = x.clone().requires_grad_(True)
        outputs = leaves(run(layer, xi, path))
        (input_grad,) = torch.autograd.grad(sum(o.sum() for o in outputs), xi)
        results[path] = [o.detach() for o in outputs] + [input_grad]
    for fused, loop in zip(results["fused"], results["loop"]):
        assert torch.isfinite(fused).all()
        torch.testing.assert_close(fused, loop, **F64)


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "go_backwards"])
@pytest.mark.parametrize("name", LAYERS)
def test_two_thousand_steps_with_a_right_padded_mask_agree_on_both_paths(name, go_backwards):
    layer = LAYERS[name](5, input_dim=2, return_sequences=True, return_state=True, go_backwards=go_backwards,
                         dtype=torch.float64)
    lengths = torch.tensor([2000, 1337, 0])
    mask = torch.arange(2000).unsqueeze(0) < lengths.unsqueeze(1)
    x = torch.randn(3, 2000, 2, dtype=torch.float64)
    with torch.no_grad():
        fused, loop = (leaves(run(layer, x, path, mask=mask)) for path in PATHS)
    for a, b in zip(fused, loop):
        torch.testing.assert_close(a, b, **F64)


def test_two_thousand_steps_through_bidirectional_agree_on_both_paths():
    layer = kr.Bidirectional(kr.LSTM(4, return_sequences=True, return_state=True), input_shape=(2000, 3),
                             dtype=torch.float64)
    mask = torch.arange(2000).unsqueeze(0) < torch.tensor([[2000], [999]])
    x = torch.randn(2, 2000, 3, dtype=torch.float64)
    with torch.no_grad():
        fused, loop = (leaves(run(layer, x, path, mask=mask)) for path in PATHS)
    for a, b in zip(fused, loop):
        torch.testing.assert_close(a, b, **F64)


@pytest.mark.parametrize("name", LAYERS)
def test_float32_stays_within_keras_tolerance_of_float64_over_two_thousand_steps(name):
    exact = LAYERS[name](6, input_dim=3, return_sequences=True, dtype=torch.float64)
    single = LAYERS[name](6, input_dim=3, return_sequences=True)
    single.set_weights(exact.get_weights())
    x = torch.randn(2, 2000, 3, dtype=torch.float64)
    with torch.no_grad():
        reference = exact(x)
        for path in PATHS:
            torch.testing.assert_close(run(single, x.float(), path).double(), reference, atol=1e-5, rtol=0)


# ---------------------------------------------------- saturated activations
SATURATING = {
    "SimpleRNN": lambda: kr.SimpleRNN(5, input_dim=3, return_sequences=True),
    "LSTM": lambda: kr.LSTM(5, input_dim=3, return_sequences=True, return_state=True),
    "GRU": lambda: kr.GRU(5, input_dim=3, return_sequences=True, return_state=True),
    "LSTM_hard_sigmoid": lambda: kr.LSTM(5, input_dim=3, recurrent_activation="hard_sigmoid", return_sequences=True),
    "GRU_reset_before": lambda: kr.GRU(5, input_dim=3, reset_after=False, return_sequences=True),
    "Bidirectional_LSTM": lambda: kr.Bidirectional(kr.LSTM(5, return_sequences=True), input_shape=(12, 3)),
}


@pytest.mark.parametrize("scale", [1e4, 1e8], ids=["1e4", "1e8"])
@pytest.mark.parametrize("name", SATURATING)
def test_gradients_stay_finite_with_saturated_activations(name, scale):
    layer = SATURATING[name]()
    x = torch.randn(3, 12, 3) * scale
    grads = {}
    for path in PATHS:
        if path == "fused" and layer.dispatch_reason() is not None:
            continue
        xi = x.clone().requires_grad_(True)
        outputs = leaves(run(layer, xi, path))
        parameters = list(layer.parameters())
        grads[path] = torch.autograd.grad(sum(o.sum() for o in outputs), [xi, *parameters])
        assert all(o.isfinite().all() for o in outputs), f"{path}: outputs not finite"
        assert all(g.isfinite().all() for g in grads[path]), f"{path}: gradients not finite"
    if len(grads) == 2:
        for fused, loop in zip(grads["fused"], grads["loop"]):
            torch.testing.assert_close(fused, loop, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", LAYERS)
def test_gradients_stay_finite_with_huge_weights(name):
    layer = LAYERS[name](5, input_dim=3, return_sequences=True)
    layer.set_weights([w * 100 for w in layer.get_weights()])
    x = torch.randn(3, 30, 3)
    for path in PATHS:
        xi = x.clone().requires_grad_(True)
        output = run(layer, xi, path)
        grads = torch.autograd.grad(output.sum(), [xi, *layer.parameters()])
        assert output.isfinite().all() and all(g.isfinite().all() for g in grads), path


# ---------------------------------------------------------------- determinism
class Attend(torch.nn.Module):
    """Attention with seeded dropout over one sequence (query = value)."""

    def __init__(self):
        super().__init__()
        self.attention = kr.Attention(dropout=0.4, seed=5)

    def forward(self, x, training=None):
        return self.attention([x, x], training=training)


SEEDED = {
    "SimpleRNN": lambda: kr.SimpleRNN(4, input_dim=3, dropout=0.3, recurrent_dropout=0.3, seed=5,
                                      return_sequences=True),
    "LSTM": lambda: kr.LSTM(4, input_dim=3, dropout=0.3, recurrent_dropout=0.3, seed=5, return_sequences=True),
    "GRU": lambda: kr.GRU(4, input_dim=3, dropout=0.3, seed=5, return_sequences=True),
    "RNN_stacked": lambda: kr.RNN([kr.LSTMCell(4, dropout=0.3, seed=5), kr.GRUCell(3, recurrent_dropout=0.3,
                                                                                      seed=6)],
                                  return_sequences=True, input_dim=3),
    "Bidirectional": lambda: kr.Bidirectional(kr.LSTM(4, dropout=0.3, seed=5, return_sequences=True),
                                              input_shape=(6, 3)),
    "Dropout": lambda: kr.Dropout(0.4, seed=5),
    "Attention": Attend,
}


def twin(factory):
    torch.manual_seed(0)
    layer = factory()
    torch.manual_seed(0)
    return layer, factory()


@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("name", SEEDED)
def test_layer_seed_alone_makes_dropout_reproducible(name, path):
    # Same seed, same weights: the same masks, whatever the global RNG has done meanwhile.
    first, second = twin(SEEDED[name])
    x = torch.randn(4, 6, 3)
    with kr.force_path(path):
        torch.manual_seed(100)
        a1, a2 = first(x, training=True), first(x, training=True)
        torch.manual_seed(200)
        torch.rand(17)
        b1, b2 = second(x, training=True), second(x, training=True)
    torch.testing.assert_close(a1, b1, atol=0, rtol=0)
    torch.testing.assert_close(a2, b2, atol=0, rtol=0)
    assert not torch.equal(a1, a2), "a seeded layer draws fresh masks at each call"


UNSEEDED = {
    "LSTM": lambda: kr.LSTM(4, dropout=0.3, recurrent_dropout=0.2, return_sequences=True),
    "GRU_fused_dropout": lambda: kr.GRU(4, dropout=0.3, return_sequences=True),
    "Bidirectional": lambda: kr.Bidirectional(kr.SimpleRNN(4, dropout=0.3, return_sequences=True)),
    "RNN_stacked": lambda: kr.RNN([kr.SimpleRNNCell(4, dropout=0.3), kr.LSTMCell(2, recurrent_dropout=0.3)]),
}


@pytest.mark.parametrize("name", UNSEEDED)
def test_torch_manual_seed_makes_weights_and_dropout_reproducible(name):
    results = []
    for _ in range(2):
        torch.manual_seed(1234)
        layer = UNSEEDED[name]()
        x = torch.randn(3, 5, 2)
        results.append((layer(x, training=True), layer(x, training=True), layer.get_weights()))
    (a1, a2, weights_a), (b1, b2, weights_b) = results
    torch.testing.assert_close(a1, b1, atol=0, rtol=0)
    torch.testing.assert_close(a2, b2, atol=0, rtol=0)
    for wa, wb in zip(weights_a, weights_b):
        assert (wa == wb).all()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", LAYERS)
def test_deterministic_algorithms_mode_runs_both_paths_with_the_same_numbers(name, path):
    layer = LAYERS[name](4, input_dim=3, return_sequences=True, return_state=True)
    bidirectional = kr.Bidirectional(LAYERS[name](4, return_sequences=True), input_shape=(6, 3))
    x = torch.randn(3, 6, 3, requires_grad=True)
    mask = torch.arange(6).unsqueeze(0) < torch.tensor([[6], [2], [0]])

    def everything():
        outputs = leaves(run(layer, x, path, mask=mask)) + [run(bidirectional, x, path, mask=mask)]
        return outputs + list(torch.autograd.grad(sum(o.sum() for o in outputs), [x, *layer.parameters()]))

    expected = everything()
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        got = everything()
    finally:
        torch.use_deterministic_algorithms(previous)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


# -------------------------------------------------------------------- threads
THREAD_LAYERS = {
    "LSTM": lambda: kr.LSTM(5, input_dim=3, return_sequences=True, return_state=True),
    "GRU": lambda: kr.GRU(5, input_dim=3, return_sequences=True),
    "SimpleRNN": lambda: kr.SimpleRNN(5, input_dim=3),
    "Bidirectional": lambda: kr.Bidirectional(kr.GRU(5, return_sequences=True), input_shape=(7, 3)),
}
ROUNDS = 25


def run_in_threads(*workers):
    """Start every worker at once (a barrier), join them, re-raise the first failure."""
    barrier = threading.Barrier(len(workers))
    failures = []

    def wrapped(worker):
        try:
            barrier.wait(timeout=30)
            worker()
        except BaseException as error:      # noqa: BLE001 - handed to the main thread
            failures.append(error)
            barrier.abort()

    threads = [threading.Thread(target=wrapped, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a worker thread hung"
    if failures:
        raise failures[0]


@pytest.mark.parametrize("name", THREAD_LAYERS)
def test_two_threads_calling_one_layer_get_what_sequential_calls_give(name):
    layer = THREAD_LAYERS[name]().eval()
    mask = torch.arange(7).unsqueeze(0) < torch.tensor([[7], [4], [0]])
    inputs = {"a": torch.randn(3, 7, 3), "b": torch.randn(3, 7, 3) * 3}
    # Thread a forces the loop and takes gradients; thread b runs the layer's own choice without gradients.
    settings = {"a": dict(path="loop", grad=True), "b": dict(path=None, grad=False)}

    def compute(key):
        x = inputs[key].clone().requires_grad_(settings[key]["grad"])
        path = settings[key]["path"]
        with kr.force_path(path) if path else contextlib.nullcontext(), torch.set_grad_enabled(settings[key]["grad"]):
            outputs = leaves(layer(x, mask=mask))
            grads = list(torch.autograd.grad(sum(o.sum() for o in outputs), [x])) if settings[key]["grad"] else []
        return [o.detach() for o in outputs] + grads

    expected = {key: compute(key) for key in inputs}

    def worker(key):
        def body():
            for _ in range(ROUNDS):
                for got, want in zip(compute(key), expected[key]):
                    torch.testing.assert_close(got, want, atol=0, rtol=0)
        return body

    run_in_threads(worker("a"), worker("b"))


def test_force_path_in_one_thread_does_not_reach_another():
    layer = kr.LSTM(4, input_dim=3)
    x = torch.randn(2, 5, 3)
    inside = threading.Event()
    other_done = threading.Event()
    seen = {}

    def forcing_thread():
        with kr.force_path("loop"):
            inside.set()
            assert other_done.wait(timeout=30), "the other thread did not finish"
            layer(x)
            seen["forcing"] = (forced_path(), layer.last_path)

    def other_thread():
        assert inside.wait(timeout=30), "the forcing thread did not start"
        layer(x)
        seen["other"] = (forced_path(), layer.last_path)
        with pytest.raises(ValueError):
            with kr.force_path("fused"):
                kr.LSTM(4, activation="relu", input_dim=3)(x)
        other_done.set()

    run_in_threads(forcing_thread, other_thread)
    assert seen == {"forcing": ("loop", "loop"), "other": ("auto", "fused")}
    assert forced_path() == "auto"


def test_a_thread_started_inside_force_path_does_not_inherit_it():
    seen = []
    with kr.force_path("loop"):
        thread = threading.Thread(target=lambda: seen.append(forced_path()))
        thread.start()
        thread.join(timeout=30)
    assert seen == ["auto"]
