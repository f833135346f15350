"""The package's CPU recurrent kernel (engine/cpu_kernel, engine/native.py) against the cell loop.

Every comparison runs the same layer, weights, inputs and dropout draws twice: once with the kernel on
(the default) and once with it off (`KERASRNN_TORCH_CPU_KERNEL=0`) on the step-by-step cell loop
(`force_path("loop")`), and checks which implementation ran each time (`record.last_run`).
Where no compiler is present the kernel is unavailable and these comparisons cannot run: they are then
skipped, saying why (the rest of the suite covers the paths that serve instead).
"""
from __future__ import annotations

import logging
import os

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import kerasrnn_torch as kr
from hypothesis_profiles import PROFILE
from kerasrnn_torch.layers.rnn.engine import cpu_kernel, native
from kerasrnn_torch.layers.rnn.engine.record import last_run

OUTPUT_ATOL = 1e-6
GRAD_ATOL = 1e-5
# A run with the kernel turned off in the environment (CI's second run) tests the other paths alone.


def set_kernel(on: bool) -> None:
    os.environ[cpu_kernel.ENV_SWITCH] = "1" if on else "0"
    cpu_kernel.forget()


@pytest.fixture
def kernel_switch(monkeypatch):
    """Restores the switch as it was (the environment's choice) after the test."""
    monkeypatch.setenv(cpu_kernel.ENV_SWITCH, os.environ.get(cpu_kernel.ENV_SWITCH, "1"))
    yield set_kernel
    cpu_kernel.forget()


def needs_kernel():
    """The kernel on for this test, whatever the environment's switch says; a kernel that cannot be built
    here (no compiler, no ninja: the test extra installs it) fails the test with the reason."""
    set_kernel(True)
    reason = cpu_kernel.unavailable_reason()
    assert reason is None, f"the CPU kernel is needed here and is unavailable: {reason}"


def run(make, x, mask, *, kernel: bool, path: str, initial_state=None, seed=1):
    set_kernel(kernel)
    torch.manual_seed(seed)
    layer = make()
    inputs = x.clone().requires_grad_()
    state = [s.clone().requires_grad_() for s in initial_state] if initial_state is not None else None
    with kr.force_path(path):
        result = layer(inputs, mask=mask, initial_state=state, training=True)
    ran = last_run()
    outputs = list(result) if isinstance(result, (list, tuple)) else [result]
    weights = [torch.linspace(-1, 1, o.numel(), dtype=o.dtype).view(o.shape) for o in outputs]
    loss = sum((o * w).sum() for o, w in zip(outputs, weights))
    wrt = [inputs, *layer.parameters(), *(state or [])]
    grads = torch.autograd.grad(loss, wrt, allow_unused=True)
    return [o.detach() for o in outputs], grads, ran


def compare(make, x, mask=None, initial_state=None, atol=OUTPUT_ATOL, grad_atol=GRAD_ATOL, kernel_path="auto", rtol=0.0):
    ours = run(make, x, mask, kernel=True, path=kernel_path, initial_state=initial_state)
    loop = run(make, x, mask, kernel=False, path="loop", initial_state=initial_state)
    assert ours[2][0] == "cpu_kernel", ours[2]
    assert loop[2][0] == "loop", loop[2]
    assert len(ours[0]) == len(loop[0])
    for a, b in zip(ours[0], loop[0]):
        assert a.shape == b.shape and a.dtype == b.dtype
        torch.testing.assert_close(a, b, atol=atol, rtol=rtol)
    for a, b in zip(ours[1], loop[1]):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b, atol=grad_atol, rtol=rtol)


CONFIGS = {
    "GRU": lambda **k: kr.GRU(5, **k),
    "GRU_reset_before": lambda **k: kr.GRU(5, reset_after=False, **k),
    "GRU_relu": lambda **k: kr.GRU(5, activation="relu", **k),
    "GRU_hard_sigmoid_no_bias": lambda **k: kr.GRU(5, recurrent_activation="hard_sigmoid", use_bias=False, **k),
    "GRU_recurrent_dropout": lambda **k: kr.GRU(5, recurrent_dropout=0.3, dropout=0.2, seed=3, **k),
    "GRU_reset_before_recurrent_dropout": lambda **k: kr.GRU(5, reset_after=False, recurrent_dropout=0.4, seed=2, **k),
    "LSTM": lambda **k: kr.LSTM(5, **k),
    "LSTM_hard_sigmoid": lambda **k: kr.LSTM(5, recurrent_activation="hard_sigmoid", **k),
    "LSTM_recurrent_dropout": lambda **k: kr.LSTM(5, recurrent_dropout=0.3, seed=3, **k),
    "LSTM_relu_linear": lambda **k: kr.LSTM(5, activation="relu", recurrent_activation="linear", **k),
    "SimpleRNN_sigmoid": lambda **k: kr.SimpleRNN(5, activation="sigmoid", **k),
    "SimpleRNN_recurrent_dropout": lambda **k: kr.SimpleRNN(5, recurrent_dropout=0.3, seed=1, **k),
    "RNN_GRUCell": lambda **k: kr.RNN(kr.GRUCell(5), **k),
}


def masks(batch, steps):
    return {
        "none": None,
        "right_padded": torch.arange(steps) < torch.tensor([steps, 3, 0, 5][:batch]).unsqueeze(1),
        "holes": torch.tensor([[1, 0, 1, 1, 0, 1, 0], [0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 1],
                               [0, 1, 0, 1, 0, 1, 0]], dtype=torch.bool)[:batch, :steps],
    }


@pytest.mark.parametrize("mask_name", ["none", "right_padded", "holes"])
@pytest.mark.parametrize("flags", [(False, False, False), (True, True, False), (True, False, True),
                                   (False, True, True)], ids=lambda f: "seq{}_state{}_back{}".format(*map(int, f)))
@pytest.mark.parametrize("name", CONFIGS)
def test_kernel_equals_the_loop(name, flags, mask_name, kernel_switch):
    needs_kernel()
    return_sequences, return_state, go_backwards = flags
    x = torch.randn(4, 7, 3)
    x[1, 3:] = float("nan") if mask_name == "right_padded" else x[1, 3:]     # padding may hold anything

    def make():
        return CONFIGS[name](return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                             zero_output_for_mask=mask_name == "holes")
    compare(make, x, masks(4, 7)[mask_name], kernel_path="loop" if name == "LSTM" else "auto")


def run_without_gradients(make, x, mask, *, kernel: bool, path: str, initial_state=None, training=False):
    set_kernel(kernel)
    torch.manual_seed(1)
    layer = make()
    with torch.no_grad(), kr.force_path(path):
        result = layer(x, mask=mask, initial_state=initial_state, training=training)
    return (list(result) if isinstance(result, (list, tuple)) else [result]), last_run()


@pytest.mark.parametrize("mask_name", ["none", "right_padded", "holes"])
@pytest.mark.parametrize("flags", [(False, False, False), (True, True, False), (True, False, True),
                                   (False, True, True)], ids=lambda f: "seq{}_state{}_back{}".format(*map(int, f)))
@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("inputs", ["contiguous", "strided"])
def test_kernel_without_gradients_equals_the_loop(name, flags, mask_name, inputs, kernel_switch):
    """A call without gradients: the kernel projects the inputs itself (small contiguous ones in one product,
    others step by step), reads them from the end for go_backwards, and never zeroes masked steps (whose
    values it never uses: nan there changes nothing)."""
    needs_kernel()
    return_sequences, return_state, go_backwards = flags
    x = torch.randn(4, 7, 3) if inputs == "contiguous" else torch.randn(7, 4, 3).transpose(0, 1)
    mask = masks(4, 7)[mask_name]
    if mask is not None:
        x[~mask] = float("nan")                                         # padding and holes may hold anything
    states = [torch.randn(4, 5) for _ in range(2 if name.startswith("LSTM") else 1)]

    def make():
        return CONFIGS[name](return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                             zero_output_for_mask=mask_name == "holes")
    for initial_state, training in ((None, False), (states, True)):     # training: the dropout masks as inputs
        ours, ran = run_without_gradients(make, x, mask, kernel=True, path="loop" if name == "LSTM" else "auto",
                                          initial_state=initial_state, training=training)
        loop, loop_ran = run_without_gradients(make, x, mask, kernel=False, path="loop", initial_state=initial_state,
                                               training=training)
        assert ran[0] == "cpu_kernel" and loop_ran[0] == "loop", (ran, loop_ran)
        assert len(ours) == len(loop)
        for a, b in zip(ours, loop):
            assert a.shape == b.shape and not a.isnan().any()
            torch.testing.assert_close(a, b, atol=OUTPUT_ATOL, rtol=0)


@pytest.mark.parametrize("name", ["GRU", "LSTM_hard_sigmoid"])
def test_kernel_equals_the_loop_from_given_states_in_float64(name, kernel_switch):
    needs_kernel()
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    states = [torch.randn(4, 5, dtype=torch.float64) for _ in range(2 if name.startswith("LSTM") else 1)]
    torch.set_default_dtype(torch.float64)
    try:
        compare(lambda: CONFIGS[name](return_sequences=True, return_state=True), x, masks(4, 7)["holes"], states,
                atol=1e-12, grad_atol=1e-11)
    finally:
        torch.set_default_dtype(torch.float32)


def test_fused_gru_runs_on_the_kernel_and_lstm_too_where_gradients_are_needed(kernel_switch):
    needs_kernel()
    x = torch.randn(3, 6, 4, requires_grad=True)
    gru, lstm = kr.GRU(5), kr.LSTM(5)
    gru(x).sum().backward()
    assert gru.last_path == "fused" and last_run() == ("cpu_kernel", None)
    lstm(x).sum().backward()
    assert lstm.last_path == "fused" and last_run() == ("cpu_kernel", None)
    lstm(x.detach(), mask=masks(3, 6)["holes"]).sum().backward()     # the weights' gradients alone: the kernel too
    assert last_run() == ("cpu_kernel", None)
    with torch.no_grad():       # a small LSTM call without gradients: the kernel, faster than oneDNN's there
        lstm(x)
        assert last_run() == ("cpu_kernel", None)
        big = kr.LSTM(native.SMALL_LSTM_UNITS * 2)
        big(x)                      # a large one: PyTorch's oneDNN kernel, the faster there
        assert last_run()[0] == "torch" and "faster for this LSTM call without gradients" in last_run()[1]
        big(x, mask=torch.ones(3, 6, dtype=torch.bool))             # a mask that masks nothing: the same
        assert last_run()[0] == "torch"
        big(x, mask=masks(3, 6)["holes"])                           # masked and small: the kernel
        assert last_run() == ("cpu_kernel", None)
        holes = torch.rand(8, 100) > 0.3
        big(torch.randn(8, 100, 4), mask=holes)                     # masked and large: PyTorch's kernel
        assert last_run()[0] == "torch" and 2 * 8 * 100 * 1024 * (4 + 256) > native.SMALL_MASKED_FLOP
    with torch.no_grad():       # masked GRU, without gradients: the kernel
        gru(x, mask=masks(3, 6)["right_padded"])
    assert last_run() == ("cpu_kernel", None)


def test_the_switch_turns_it_off_and_says_so(kernel_switch):
    kernel_switch(False)
    layer = kr.LSTM(4, recurrent_activation="hard_sigmoid")
    layer(torch.randn(2, 3, 2))
    kind, reason = last_run()
    assert kind == "loop" and cpu_kernel.ENV_SWITCH in reason
    kr.GRU(4)(torch.randn(2, 3, 2))
    assert last_run()[0] == "torch" and cpu_kernel.ENV_SWITCH in last_run()[1]


def test_without_a_compiler_the_layers_run_the_current_paths(kernel_switch, monkeypatch):
    monkeypatch.setattr(cpu_kernel, "_compiler", lambda: None)
    kernel_switch(True)
    assert cpu_kernel.module() is None
    assert "no C++ compiler" in cpu_kernel.unavailable_reason()
    x = torch.randn(2, 3, 2)
    out = kr.GRU(4, reset_after=False)(x)
    assert out.shape == (2, 4) and last_run()[0] == "loop" and "no C++ compiler" in last_run()[1]


def test_a_failed_build_falls_back_and_keeps_the_reason(kernel_switch, monkeypatch):
    def broken():
        raise RuntimeError("Error building extension 'x': c++: not found\nmore")
    monkeypatch.setattr(cpu_kernel, "_build", broken)
    kernel_switch(True)
    reason = cpu_kernel.unavailable_reason()
    assert reason.startswith("the CPU kernel could not be built (RuntimeError: Error building extension")
    assert "more" not in reason
    kr.GRU(4)(torch.randn(2, 3, 2))
    assert last_run()[0] == "torch"


def test_a_long_build_is_announced_with_what_is_built(kernel_switch, monkeypatch, tmp_path, caplog):
    from torch.utils import cpp_extension

    def slow_load(**kwargs):
        import time
        time.sleep(0.3)
        return "built " + kwargs["name"]
    monkeypatch.setattr(cpp_extension, "load", slow_load)
    monkeypatch.setattr(cpu_kernel, "ANNOUNCE_AFTER_S", 0.05)
    monkeypatch.setenv(cpu_kernel.ENV_CACHE, str(tmp_path))
    kernel_switch(True)
    with caplog.at_level(logging.WARNING, logger="kerasrnn_torch"):
        assert cpu_kernel.module().startswith("built kerasrnn_cpu_kernel_")
    messages = [r.getMessage() for r in caplog.records]
    assert any("compiling its CPU recurrent kernel (recurrent.cpp" in m and str(tmp_path) in m for m in messages)
    assert any("was built in" in m for m in messages)


def test_a_cached_build_is_not_announced(kernel_switch, monkeypatch, tmp_path, caplog):
    from torch.utils import cpp_extension
    monkeypatch.setattr(cpp_extension, "load", lambda **kwargs: "loaded")
    monkeypatch.setattr(cpu_kernel, "ANNOUNCE_AFTER_S", 0.0)
    monkeypatch.setenv(cpu_kernel.ENV_CACHE, str(tmp_path))
    flags = ["-O3", *cpu_kernel._cpu_flags()]
    name = cpu_kernel.build_key(flags)
    directory = tmp_path / "cpu_kernel" / f"torch-{torch.__version__}" / name
    directory.mkdir(parents=True)
    (directory / f"{name}.so").write_bytes(b"")
    kernel_switch(True)
    with caplog.at_level(logging.WARNING, logger="kerasrnn_torch"):
        assert cpu_kernel.module() == "loaded"
    assert not caplog.records


def test_the_source_ships_with_the_package():
    assert cpu_kernel.SOURCE.is_file()
    import tomllib
    from pathlib import Path
    config = tomllib.loads((Path(__file__).parents[4] / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]["kerasrnn_torch"]
    assert "layers/rnn/engine/cpu_kernel/*.cpp" in data


# ------------------------------------------------------------------ the node itself
def node_case(kind, masked, dropped, torch_order=False, dtype=torch.float64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    steps, batch, units = 4, 3, 2
    gates = {"lstm": 4, "gru": 3, "gru_reset_before": 3, "simple_rnn": 1}[kind]

    def rand(*shape, grad=True):
        return torch.randn(*shape, generator=generator, dtype=dtype).mul_(0.7).requires_grad_(grad)
    x = rand(steps, batch, gates * units)
    kernel = rand(units, gates * units)
    bias = rand(gates * units) if kind == "gru" else None
    h0 = rand(batch, units)
    c0 = rand(batch, units) if kind == "lstm" else None
    step_mask = torch.tensor([[1, 0, 1], [1, 1, 0], [0, 1, 0], [1, 1, 0]], dtype=torch.bool) if masked else None
    recurrent_mask = (torch.rand(batch, units, generator=generator, dtype=dtype) > 0.3).to(dtype) / 0.7 \
        if dropped else None
    gate = "linear" if kind == "simple_rnn" else "sigmoid"
    codes = (native.KIND_CODES[kind], native.ACTIVATION_CODES["tanh"], native.ACTIVATION_CODES[gate], torch_order)
    input_bias = rand(gates * units)        # the projection's bias, added by the kernel
    return codes, x, step_mask, recurrent_mask, kernel, bias, h0, c0, input_bias


KINDS = [("lstm", False), ("gru", False), ("gru", True), ("gru_reset_before", False), ("simple_rnn", False)]


@pytest.mark.parametrize("masked, dropped", [(False, False), (True, True)])
@pytest.mark.parametrize("kind, torch_order", KINDS)
def test_node_gradcheck_float64(kind, torch_order, masked, dropped, kernel_switch):
    needs_kernel()
    codes, x, step_mask, recurrent_mask, kernel, bias, h0, c0, input_bias = node_case(kind, masked, dropped,
                                                                                      torch_order)

    def node(x, kernel, bias, h0, c0, input_bias):
        sequence, final = native.run_steps(codes, True, x, step_mask, recurrent_mask, kernel, bias, h0, c0,
                                           input_bias)
        return (sequence, *final)
    assert torch.autograd.gradcheck(node, (x, kernel, bias, h0, c0, input_bias))


@pytest.mark.parametrize("kind, torch_order", KINDS)
def test_node_equals_its_differentiable_reference(kind, torch_order, kernel_switch):
    needs_kernel()
    codes, x, step_mask, recurrent_mask, kernel, bias, h0, c0, input_bias = node_case(kind, True, True, torch_order)
    sequence, final = native.run_steps(codes, True, x, step_mask, recurrent_mask, kernel, bias, h0, c0, input_bias)
    held, c = native.reference_steps(codes, x, step_mask, recurrent_mask, kernel, bias, h0, c0, input_bias)
    torch.testing.assert_close(sequence, held[1:].transpose(0, 1), atol=1e-12, rtol=0)
    torch.testing.assert_close(final[0], held[-1], atol=1e-12, rtol=0)
    if c is not None:
        torch.testing.assert_close(final[1], c, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_second_order_gradients_run_the_differentiable_steps(kind, kernel_switch):
    needs_kernel()
    codes, x, step_mask, recurrent_mask, kernel, bias, h0, c0, input_bias = node_case(kind, True, False)

    def node(x, kernel, h0, input_bias):
        sequence, final = native.run_steps(codes, True, x, step_mask, recurrent_mask, kernel, bias, h0, c0,
                                           input_bias)
        return (sequence, *final)
    assert torch.autograd.gradgradcheck(node, (x, kernel, h0, input_bias))


# ------------------------------------------------------------------ the node on the layer's inputs
def inputs_case(kind, masked, dropped, torch_order=False, seed=0):
    """A `node_case` whose steps project the layer's inputs (batch, time, features) themselves."""
    codes, x, step_mask, recurrent_mask, kernel, bias, h0, c0, input_bias = node_case(kind, masked, dropped,
                                                                                      torch_order, seed=seed)
    generator = torch.Generator().manual_seed(seed + 1)
    steps, batch, width = x.shape
    inputs = torch.randn(batch, steps, 3, generator=generator, dtype=x.dtype).requires_grad_()
    input_kernel = torch.randn(3, width, generator=generator, dtype=x.dtype).mul_(0.7).requires_grad_()
    mask = None if step_mask is None else step_mask.t().contiguous()
    return codes, inputs, input_kernel, mask, recurrent_mask, kernel, bias, h0, c0, input_bias


def from_inputs(codes, mask, recurrent_mask, go_backwards):
    def node(inputs, input_kernel, kernel, bias, h0, c0, input_bias):
        sequence, final, _ = native._run_from_inputs(codes, True, inputs, mask, go_backwards, input_kernel,
                                                     input_bias, recurrent_mask, kernel, bias, h0, c0)
        return (sequence, *final)
    return node


@pytest.mark.parametrize("masked, dropped, go_backwards", [(False, False, False), (True, True, False),
                                                           (True, False, True)])
@pytest.mark.parametrize("kind, torch_order", KINDS)
def test_the_node_on_the_inputs_gradcheck_float64(kind, torch_order, masked, dropped, go_backwards, kernel_switch):
    needs_kernel()
    codes, inputs, input_kernel, mask, recurrent_mask, kernel, bias, h0, c0, input_bias = inputs_case(
        kind, masked, dropped, torch_order)
    node = from_inputs(codes, mask, recurrent_mask, go_backwards)
    assert torch.autograd.gradcheck(node, (inputs, input_kernel, kernel, bias, h0, c0, input_bias))


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("kind, torch_order", KINDS)
def test_the_node_on_the_inputs_equals_the_node_on_their_projection(kind, torch_order, go_backwards, kernel_switch):
    needs_kernel()
    codes, inputs, input_kernel, mask, recurrent_mask, kernel, bias, h0, c0, input_bias = inputs_case(
        kind, True, True, torch_order)
    leaves = [t for t in (inputs, input_kernel, kernel, bias, h0, c0, input_bias) if t is not None]
    ours = from_inputs(codes, mask, recurrent_mask, go_backwards)(inputs, input_kernel, kernel, bias, h0, c0,
                                                                   input_bias)
    ours_grads = torch.autograd.grad([t.sum() * (i + 1) for i, t in enumerate(ours)], leaves)
    x = inputs.transpose(0, 1) @ input_kernel
    reading = mask.flip(1) if go_backwards else mask
    sequence, final = native.run_steps(codes, True, x.flip(0) if go_backwards else x, reading.t().contiguous(),
                                       recurrent_mask, kernel, bias, h0, c0, input_bias)
    theirs = (sequence, *final)
    theirs_grads = torch.autograd.grad([t.sum() * (i + 1) for i, t in enumerate(theirs)], leaves)
    for a, b in zip((*ours, *ours_grads), (*theirs, *theirs_grads)):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_second_order_gradients_of_the_node_on_the_inputs(kind, kernel_switch):
    needs_kernel()
    codes, inputs, input_kernel, mask, recurrent_mask, kernel, bias, h0, c0, input_bias = inputs_case(
        kind, True, False)
    node = from_inputs(codes, mask, recurrent_mask, False)
    assert torch.autograd.gradgradcheck(lambda i, ik, k, h: node(i, ik, k, bias, h, c0, input_bias),
                                        (inputs, input_kernel, kernel, h0))


def test_padding_that_is_not_finite_gives_finite_weight_gradients_on_the_kernel(kernel_switch):
    needs_kernel()
    inputs = torch.randn(3, 5, 2)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    inputs[~mask] = float("nan")
    layer = kr.LSTM(4)
    layer(inputs[:, :1].nan_to_num())
    layer(inputs, mask=mask).sum().backward()
    assert last_run()[0] == "cpu_kernel"
    for parameter in layer.parameters():
        assert torch.isfinite(parameter.grad).all()


def test_a_gradient_penalty_through_a_layer_matches_the_loop(kernel_switch):
    needs_kernel()
    x = torch.randn(2, 5, 3)

    def penalty(kernel_on):
        set_kernel(kernel_on)
        torch.manual_seed(0)
        layer = kr.GRU(4, reset_after=False)
        inputs = x.clone().requires_grad_()
        with kr.force_path("auto" if kernel_on else "loop"):
            (grad,) = torch.autograd.grad(layer(inputs).square().sum(), inputs, create_graph=True)
        grad.square().sum().backward()
        return grad.detach(), layer.cell.kernel.grad.clone()
    (g1, k1), (g2, k2) = penalty(True), penalty(False)
    torch.testing.assert_close(g1, g2, atol=1e-6, rtol=0)
    torch.testing.assert_close(k1, k2, atol=1e-5, rtol=0)


def test_float64_inference_mode_and_no_grad(kernel_switch):
    needs_kernel()
    layer = kr.LSTM(3, recurrent_activation="hard_sigmoid", return_sequences=True, dtype=torch.float64)
    x = torch.randn(2, 4, 2, dtype=torch.float64)
    with torch.inference_mode():
        a = layer(x)
    assert last_run()[0] == "cpu_kernel"
    with torch.no_grad():
        b = layer(x)
    set_kernel(False)
    with torch.no_grad():
        c = layer(x)
    assert torch.equal(a, b)
    torch.testing.assert_close(a, c, atol=1e-12, rtol=0)


# ------------------------------------------------------------------ fuzzing
@st.composite
def cases(draw):
    kind = draw(st.sampled_from(["LSTM", "GRU", "SimpleRNN"]))
    kwargs = dict(
        activation=draw(st.sampled_from(native.ACTIVATIONS)),
        use_bias=draw(st.booleans()),
        dropout=draw(st.sampled_from([0.0, 0.3])),
        recurrent_dropout=draw(st.sampled_from([0.0, 0.4])),
        return_sequences=draw(st.booleans()),
        return_state=draw(st.booleans()),
        go_backwards=draw(st.booleans()),
        zero_output_for_mask=draw(st.booleans()),
        seed=7,
    )
    if kind != "SimpleRNN":
        kwargs["recurrent_activation"] = draw(st.sampled_from(native.ACTIVATIONS))
    if kind == "GRU":
        kwargs["reset_after"] = draw(st.booleans())
    batch = draw(st.integers(1, 4))
    steps = draw(st.integers(1, 6))
    mask_kind = draw(st.sampled_from(["none", "random", "right_padded", "all_false"]))
    with_states = draw(st.booleans())
    return kind, kwargs, batch, steps, mask_kind, with_states, draw(st.integers(0, 2 ** 16))


@PROFILE
@given(cases())
def test_fuzzed_configurations_equal_the_loop_in_float64(case):
    kind, kwargs, batch, steps, mask_kind, with_states, seed = case
    before = os.environ.get(cpu_kernel.ENV_SWITCH)
    needs_kernel()
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, 3, generator=generator, dtype=torch.float64)
    mask = None
    if mask_kind == "random":
        mask = torch.rand(batch, steps, generator=generator) > 0.4
    elif mask_kind == "right_padded":
        mask = torch.arange(steps) < torch.randint(0, steps + 1, (batch, 1), generator=generator)
    elif mask_kind == "all_false":
        mask = torch.zeros(batch, steps, dtype=torch.bool)
    states = None
    if with_states:
        states = [torch.randn(batch, 4, generator=generator, dtype=torch.float64)
                  for _ in range(2 if kind == "LSTM" else 1)]
    layer_class = getattr(kr, kind)
    torch.set_default_dtype(torch.float64)
    try:
        # Relative too: linear activations let values grow large.
        compare(lambda: layer_class(4, **kwargs), x, mask, states, atol=1e-12, grad_atol=1e-10,
                kernel_path="loop", rtol=1e-9)
    finally:
        torch.set_default_dtype(torch.float32)
        if before is None:
            os.environ.pop(cpu_kernel.ENV_SWITCH, None)
        else:
            os.environ[cpu_kernel.ENV_SWITCH] = before
        cpu_kernel.forget()


def test_kept_buffers_are_not_reused_while_a_graph_or_a_gradient_holds_them(kernel_switch):
    """The kernel keeps its large buffers between calls (page faults); two graphs alive at once, and a
    gradient kept on a leaf, must each keep their own."""
    needs_kernel()
    torch.manual_seed(0)
    layer = kr.GRU(32, return_sequences=True)
    x1, x2 = torch.randn(16, 40, 5, requires_grad=True), torch.randn(16, 40, 5, requires_grad=True)
    alone = []
    for x in (x1, x2):               # each graph used at once
        (grad,) = torch.autograd.grad(layer(x).square().sum(), x)
        alone.append(grad)
    y1, y2 = layer(x1), layer(x2)    # both graphs alive, their saved buffers of the same shapes
    (g2,) = torch.autograd.grad(y2.square().sum(), x2)
    (g1,) = torch.autograd.grad(y1.square().sum(), x1)
    # (BLAS may round differently on differently aligned buffers; a reused buffer would differ wholesale.)
    torch.testing.assert_close(g1, alone[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(g2, alone[1], atol=1e-5, rtol=0)
    # The node's input gradient kept as a leaf's .grad is not overwritten by the next call.
    codes = (native.KIND_CODES["gru"], native.ACTIVATION_CODES["tanh"], native.ACTIVATION_CODES["sigmoid"], False)
    kernel, h0 = torch.randn(32, 96) * 0.2, torch.zeros(16, 32)
    leaves = [torch.randn(40, 16, 96, requires_grad=True) for _ in range(2)]
    native.run_steps(codes, True, leaves[0], None, None, kernel, None, h0, None)[0].sum().backward()
    first = leaves[0].grad.clone()
    native.run_steps(codes, True, leaves[1], None, None, kernel, None, h0, None)[0].square().sum().backward()
    torch.testing.assert_close(leaves[0].grad, first, atol=0, rtol=0)    # the same memory, untouched
    assert leaves[0].grad.data_ptr() != leaves[1].grad.data_ptr()


@pytest.mark.parametrize("name, code, exact", [("sigmoid", native.ACTIVATION_CODES["sigmoid"], torch.sigmoid),
                                               ("tanh", native.ACTIVATION_CODES["tanh"], torch.tanh)])
def test_float32_activations_are_within_4_ulps_of_the_exact_values(name, code, exact, kernel_switch):
    """The kernel's own float32 sigmoid and tanh (an inlined exp or expm1 and a refined reciprocal) against
    float64, over the whole range and at the special values: one SimpleRNN step from a zero state with a
    zero recurrent kernel is the activation of its inputs."""
    needs_kernel()
    values = torch.cat([torch.linspace(-120, 120, 240001), torch.linspace(-1, 1, 20001),
                        torch.logspace(-38, 1, 2000), -torch.logspace(-38, 1, 2000),
                        torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 88.0, -88.0, 104.5])])
    units = 16
    values = torch.cat([values, torch.zeros((-values.numel()) % units)])
    batch = values.numel() // units
    held = cpu_kernel.module().forward(native.KIND_CODES["simple_rnn"], code, 0, False,
                                       values.view(1, batch, units), None, None, torch.zeros(units, units), None,
                                       torch.zeros(batch, units), None, None, False)[0]
    ours = held[1].reshape(-1).double()
    reference = exact(values.double())
    finite = torch.isfinite(reference)
    ulp = torch.finfo(torch.float32).eps / 2 * reference.abs()        # half an epsilon of the value: one ulp or two
    normal = finite & (reference.abs() >= torch.finfo(torch.float32).smallest_normal)
    assert ((ours - reference).abs() <= 4 * ulp)[normal].all()
    tiny = finite & ~normal
    assert ((ours - reference).abs() <= 1e-37)[tiny].all()              # below the normal floats: about zero
    assert torch.isnan(ours[torch.isnan(values)]).all()
    assert ours[values == float("inf")].item() == 1.0
    assert ours[values == float("-inf")].item() == (-1.0 if name == "tanh" else pytest.approx(0.0, abs=1e-37))
    assert torch.equal(torch.sign(ours[normal]), torch.sign(reference[normal]))


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_products_through_aten_equal_the_direct_blas_ones(name, dtype, kernel_switch):
    """The per-step products go straight to BLAS where PyTorch's library exports it (Linux x86 builds link
    MKL), else through ATen on views of the same memory: both give the same numbers, forward and backward,
    with gradients and without, inputs read in place (strided, backwards) or projected."""
    needs_kernel()
    module = cpu_kernel.module()
    x = torch.randn(7, 4, 3, dtype=dtype).transpose(0, 1)              # strided inputs
    mask = masks(4, 7)["holes"]
    states = [torch.randn(4, 5, dtype=dtype) for _ in range(2 if name.startswith("LSTM") else 1)]

    def results(direct: bool):
        before = module.use_direct_blas(direct)
        default = torch.get_default_dtype()
        torch.set_default_dtype(dtype)
        try:
            torch.manual_seed(1)
            layer = CONFIGS[name](return_sequences=True, return_state=True, go_backwards=True)
            with torch.no_grad():
                plain = layer(x, mask=mask, initial_state=states)
            inputs = x.clone().requires_grad_()
            outputs = layer(inputs, mask=mask, initial_state=states, training=True)
            assert last_run()[0] == "cpu_kernel"
            grads = torch.autograd.grad(sum(o.sum() for o in outputs), [inputs, *layer.parameters()])
            return [*plain, *outputs, *grads]
        finally:
            torch.set_default_dtype(default)
            module.use_direct_blas(before)

    import platform
    import sys
    if sys.platform == "linux" and platform.machine() == "x86_64":
        assert module.use_direct_blas(True), "PyTorch's x86 Linux build exports BLAS: the direct products run"
    for a, b in zip(results(True), results(False), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6 if dtype == torch.float32 else 1e-12, rtol=0)


@pytest.mark.parametrize("units", [5, 8, 13, 16])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("steps", [3, 256])     # 256: a large call, whose steps each project their own inputs
def test_column_major_kernels_give_the_numbers_of_their_contiguous_copies(units, dtype, steps, kernel_switch):
    """The layers keep their kernels column-major (Keras's shape in PyTorch's memory order); the kernel makes
    them row-major per call (in float32 by 8 x 8 tiles, the edges element by element): the results equal,
    bit for bit, those of the same kernels given contiguous."""
    needs_kernel()
    module = cpu_kernel.module()
    batch, features = 64, 11
    x = torch.randn(batch, steps, features, dtype=dtype)
    input_kernel = torch.randn(4 * units, features, dtype=dtype).t()       # (features, 4 units), column-major
    kernel = torch.randn(4 * units, units, dtype=dtype).t()                # (units, 4 units), column-major
    assert not input_kernel.is_contiguous() and not kernel.is_contiguous()
    bias = torch.randn(4 * units, dtype=dtype)
    h0, c0 = torch.randn(batch, units, dtype=dtype), torch.randn(batch, units, dtype=dtype)

    def run_with(ik, k):
        return module.forward_unprojected(0, 1, 2, False, x, ik, False, None, None, k, None, h0, c0, bias, False)

    held, *_, c_last = run_with(input_kernel, kernel)
    held, c_last = held.clone(), c_last.clone()        # the kernel's kept buffers serve the next call
    # A small call projects every step at once, reading the input kernel as it lies (no copy to compare).
    held_contiguous, *_, c_contiguous = run_with(input_kernel.contiguous() if steps > 3 else input_kernel,
                                                 kernel.contiguous())
    assert torch.equal(held, held_contiguous) and torch.equal(c_last, c_contiguous)
