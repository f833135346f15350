"""engine/compiled_ops.py: the fused calls torch.compile cannot trace, as one opaque operator each."""
from __future__ import annotations

import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine import compiled_ops, fused
from reference import assert_close

OUTPUT_ATOL = 1e-6
GRAD_ATOL = 1e-5


def _lstm_tensors(batch=3, timesteps=5, features=3, units=4, directions=1):
    generator = torch.Generator().manual_seed(0)

    def rand(*shape):
        return (torch.rand(shape, generator=generator) - 0.5).requires_grad_()
    weights = []
    for _ in range(directions):
        weights += [rand(4 * units, features), rand(4 * units, units), rand(4 * units), rand(4 * units)]
    states = [rand(directions, batch, units), rand(directions, batch, units)]
    return rand(batch, timesteps, features), states, weights


def test_the_operator_passes_torchs_custom_operator_checks():
    # Schema, fake form against the real outputs, autograd registration, tracing by AOT autograd.
    inputs, states, weights = _lstm_tensors()
    config = repr(("lstm", "tanh", False, 2, None, True))        # ..., autocast (none), grad mode
    torch.library.opcheck(torch.ops.kerasrnn.opaque.default, ("kernel", config, [inputs, *states, *weights]))
    config = repr(("lstm", "tanh", False, 2, ("cpu", "bfloat16"), True))      # traced under CPU autocast
    torch.library.opcheck(torch.ops.kerasrnn.opaque.default, ("kernel", config, [inputs, *states, *weights]))
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [False] * 5])
    config = repr(("lstm", "tanh", False, True, False, True, False, 2, None, True))
    torch.library.opcheck(torch.ops.kerasrnn.opaque.default,
                          ("unidirectional", config,
                           [inputs, mask, *[s[0].detach().requires_grad_() for s in states], *weights]))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_kernel_operator_gives_the_kernels_outputs_and_gradients(bidirectional):
    inputs, states, weights = _lstm_tensors(directions=2 if bidirectional else 1)
    leaves = [inputs, *states, *weights]
    want, want_final = fused._call_kernel("lstm", inputs, states, weights, "tanh", bidirectional, None)
    got, got_final = compiled_ops.kernel_call("lstm", inputs, states, weights, "tanh", bidirectional)
    assert_close(got, want, OUTPUT_ATOL, "outputs")
    for a, b in zip(got_final, want_final):
        assert_close(a, b, OUTPUT_ATOL, "final states")
    seed = torch.linspace(-1, 1, want.numel()).view(want.shape)
    want_grads = torch.autograd.grad((want * seed).sum() + want_final[1].sum(), leaves)
    got_grads = torch.autograd.grad((got * seed).sum() + got_final[1].sum(), leaves)
    for a, b in zip(got_grads, want_grads):
        assert_close(a, b, GRAD_ATOL, "gradients")


def test_the_kernel_operator_refuses_packed_calls():
    inputs, states, weights = _lstm_tensors()
    with pytest.raises(ValueError, match="unpacked calls only"):
        compiled_ops.kernel_call("lstm", inputs, states, weights, "tanh", False, torch.tensor([5, 3, 1]))


def test_eager_calls_never_use_the_operator(monkeypatch):
    def refuse(*args):
        raise AssertionError("an eager call reached the opaque operator")
    monkeypatch.setattr(compiled_ops, "_call", refuse)
    layer = kr.LSTM(4, return_sequences=True, input_dim=3)
    x = torch.randn(3, 5, 3)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [False, True, True, True, True]])
    layer(x).sum().backward()
    layer(x, mask=mask).sum().backward()
    kr.Bidirectional(kr.GRU(3), input_dim=3)(x, mask=mask).sum().backward()
    assert layer.last_path == "fused"


def _masks():
    right = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [False] * 5])
    left = torch.tensor([[True] * 5, [False] * 2 + [True] * 3, [False] * 4 + [True]])
    holes = torch.tensor([[True, False, True, False, True], [True] * 5, [False] * 5])
    return {"right": right, "left": left, "holes": holes}


def _bidirectional_packed():
    layer = kr.Bidirectional(kr.LSTM(4, return_sequences=True), input_dim=3)
    layer.forward_layer.pack_on_cpu = layer.backward_layer.pack_on_cpu = True      # one two-way kernel call
    return layer


# Each case compiles once (aot_eager: forward and backward traced as Inductor traces them, no code generated).
CASES = {
    "lstm-states": (lambda: kr.LSTM(4, return_state=True, input_dim=3), "right"),
    "lstm-backwards-zero-output": (lambda: kr.LSTM(4, return_sequences=True, go_backwards=True,
                                                   zero_output_for_mask=True, input_dim=3), "left"),
    "gru-last": (lambda: kr.GRU(4, input_dim=3), "holes"),
    "simple-rnn-sequences": (lambda: kr.SimpleRNN(4, return_sequences=True, input_dim=3), "right"),
    "bidirectional-two-way": (_bidirectional_packed, "holes"),
    "bidirectional-states": (lambda: kr.Bidirectional(kr.LSTM(4, return_state=True), input_dim=3), "right"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_compiled_masked_calls_give_the_eager_numbers(case, monkeypatch):
    make, mask_name = CASES[case]
    ran = []
    for name, function in list(compiled_ops._EAGER.items()):
        def recorded(*args, _name=name, _function=function, **kwargs):
            ran.append(_name)
            return _function(*args, **kwargs)
        monkeypatch.setitem(compiled_ops._EAGER, name, recorded)
    torch.manual_seed(0)
    layer = make()
    x = torch.randn(3, 5, 3)
    mask = _masks()[mask_name]
    parameters = list(layer.parameters())

    def run(module):
        outputs = module(x, mask=mask)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        total = sum((o * torch.linspace(-1, 1, o.numel()).view(o.shape)).sum() for o in outputs)
        return outputs, torch.autograd.grad(total, parameters)
    eager, eager_grads = run(layer)
    torch._dynamo.reset()
    compiled, compiled_grads = run(torch.compile(layer, fullgraph=True, backend="aot_eager"))
    assert layer.last_path == "fused"
    # The eager layer never used the operator; the compiled one ran the masked body (and its backward).
    assert set(ran) == {"two_way" if case == "bidirectional-two-way" else "unidirectional"}, ran
    for a, b in zip(compiled, eager):
        assert_close(a, b, OUTPUT_ATOL, f"{case}: outputs")
    for a, b in zip(compiled_grads, eager_grads):
        assert_close(a, b, GRAD_ATOL, f"{case}: gradients")


# Under CPU bfloat16 autocast: torch.nn.LSTM (eager and compiled) computes in bfloat16 (autocast lowers
# its oneDNN kernel) and returns bfloat16, and so do our eager fused calls; the opaque operator runs
# below autocast, so it enters the autocast its call was traced under again.
AUTOCAST_CASES = {
    "lstm-with-gradients": (lambda: kr.LSTM(4, return_sequences=True, input_dim=3), None),
    "lstm-masked": (lambda: kr.LSTM(4, return_state=True, input_dim=3), "right"),
    "gru-masked": (lambda: kr.GRU(4, return_sequences=True, input_dim=3), "holes"),
}


@pytest.mark.parametrize("case", list(AUTOCAST_CASES))
def test_compiled_opaque_calls_under_cpu_autocast_compute_as_eager(case):
    make, mask_name = AUTOCAST_CASES[case]
    torch.manual_seed(0)
    layer = make()
    x = torch.randn(3, 5, 3)
    mask = None if mask_name is None else _masks()[mask_name]
    parameters = list(layer.parameters())

    def run(module):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outputs = module(x, mask=mask)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        total = sum((o.float() * torch.linspace(-1, 1, o.numel()).view(o.shape)).sum() for o in outputs)
        return outputs, torch.autograd.grad(total, parameters)
    eager, eager_grads = run(layer)
    torch._dynamo.reset()
    compiled, compiled_grads = run(torch.compile(layer, fullgraph=True, backend="aot_eager"))
    for a, b in zip(compiled, eager):
        assert a.dtype == b.dtype == torch.bfloat16, (case, a.dtype, b.dtype)
        assert torch.equal(a, b), f"{case}: outputs differ from eager under autocast"
    for a, b in zip(compiled_grads, eager_grads):
        # The backward recomputes the bfloat16 forward (in another order of accumulation): bfloat16's precision.
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=2 ** -7, atol=2 ** -7 * float(b.abs().max()), msg=f"{case}: gradients")


def test_torch_nn_lstm_under_cpu_autocast_returns_bfloat16_as_ours():
    """What the compiled opaque call matches: torch.nn.LSTM's own dtype under CPU autocast."""
    module = torch.nn.LSTM(3, 4, batch_first=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output, (h, c) = module(torch.randn(2, 5, 3))
    assert output.dtype == h.dtype == c.dtype == torch.bfloat16
