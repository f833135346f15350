"""A one-step LSTM or GRU call on the CPU (a decoder's step) computes its step without PyTorch's kernel call.

The fused path then does the kernel's arithmetic (two products, the gates) itself: PyTorch's CPU kernel
call costs more than one step's work. The numbers are torch.nn's and the loop's.
"""
import pytest
import torch
from torch.profiler import profile

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine import fused


def kernel_ran(call, kind="lstm") -> bool:
    with profile() as prof:
        call()
    return any(event.name == f"aten::{kind}" for event in prof.events())


def pair(units=6, features=5, use_bias=True, dtype=torch.float32, kind="lstm"):
    reference = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](features, units, batch_first=True, bias=use_bias,
                                                                  dtype=dtype)
    ours = {"lstm": kr.LSTM, "gru": kr.GRU}[kind].from_torch(reference, assume_batch_first=True,
                                                             return_sequences=True, return_state=True)
    return reference, ours


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("batch", [1, 3, 40])
@pytest.mark.parametrize("grad", [False, True], ids=["no grad", "grad"])
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no bias"])
def test_one_step_equals_torch_nn_and_the_loop(kind, batch, grad, use_bias):
    reference, ours = pair(use_bias=use_bias, kind=kind)
    x = torch.randn(batch, 1, 5)
    states = [torch.randn(batch, 6) for _ in range(2 if kind == "lstm" else 1)]
    hx = (states[0][None], states[1][None]) if kind == "lstm" else states[0][None]
    with torch.set_grad_enabled(grad):
        xr, xo = x.clone().requires_grad_(grad), x.clone().requires_grad_(grad)
        expected, final = reference(xr, hx)
        final = list(final) if kind == "lstm" else [final]
        output, *ours_final = ours(xo, initial_state=states)
        assert ours.last_path == "fused"
        torch.testing.assert_close(output, expected, rtol=1e-6, atol=1e-6)
        for a, b in zip(ours_final, final, strict=True):
            torch.testing.assert_close(a, b[0], rtol=1e-6, atol=1e-6)
        with kr.force_path("loop"):
            looped = ours(x, initial_state=states)
        for a, b in zip(looped, (output, *ours_final), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
    if grad:
        (expected.sum() + final[-1].sum()).backward()
        (output.sum() + ours_final[-1].sum()).backward()
        torch.testing.assert_close(xo.grad, xr.grad, rtol=1e-5, atol=1e-6)
        converted = ours.torch_weights()
        for weight, theirs in ((ours.cell.kernel, reference.weight_ih_l0), (ours.cell.recurrent_kernel,
                                                                             reference.weight_hh_l0)):
            (expected_grad,) = torch.autograd.grad(converted[0 if weight is ours.cell.kernel else 1], weight,
                                                   theirs.grad, retain_graph=True)
            torch.testing.assert_close(weight.grad, expected_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.usefixtures("pytorch_kernels_only")
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_which_calls_skip_the_kernel(kind):
    _, ours = pair(kind=kind)
    small, large, two_steps = torch.randn(2, 1, 5), torch.randn(64, 1, 5), torch.randn(2, 2, 5)
    with torch.no_grad():
        # Without gradients: the LSTM step for small batches; GRU's kernel call is the faster there.
        assert kernel_ran(lambda: ours(small), kind) == (kind == "gru")
        assert kernel_ran(lambda: ours(large), kind)
        assert kernel_ran(lambda: ours(two_steps), kind)       # more than one step: the kernel
    assert not kernel_ran(lambda: ours(small)[0].sum().backward(), kind)
    assert not kernel_ran(lambda: ours(large)[0].sum().backward(), kind)
    assert fused.ONE_STEP_MAX_BATCH_WITHOUT_GRAD == 16


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_a_stateful_decoder_steps_as_one_call_over_the_sequence(kind):
    reference, _ = pair(kind=kind)
    layer = {"lstm": kr.LSTM, "gru": kr.GRU}[kind]
    stateful = layer.from_torch(reference, assume_batch_first=True, return_sequences=True, stateful=True)
    whole = layer.from_torch(reference, assume_batch_first=True, return_sequences=True)
    x = torch.randn(2, 7, 5)
    steps = torch.cat([stateful(x[:, t:t + 1]) for t in range(7)], dim=1)
    torch.testing.assert_close(steps, whole(x), rtol=1e-5, atol=1e-6)


def test_float64_and_go_backwards():
    reference, ours = pair(dtype=torch.float64)
    ours.go_backwards = True            # one step read backwards is the same step
    x = torch.randn(2, 1, 5, dtype=torch.float64)
    expected, _ = reference(x)
    torch.testing.assert_close(ours(x)[0], expected, rtol=1e-12, atol=1e-12)
