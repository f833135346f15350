"""A one-step LSTM call on the CPU (a decoder's step) computes its step without PyTorch's kernel call.

The fused path then does the kernel's arithmetic (two products, the gates) itself: PyTorch's CPU LSTM
kernel costs several times more for one step. The numbers are torch.nn.LSTM's and the loop's.
"""
import pytest
import torch
from torch.profiler import profile

import kerasrnn_torch as kr
from kerasrnn_torch.engine import fused


def kernel_ran(call) -> bool:
    with profile() as prof:
        call()
    return any(event.name == "aten::lstm" for event in prof.events())


def pair(units=6, features=5, use_bias=True, dtype=torch.float32):
    reference = torch.nn.LSTM(features, units, batch_first=True, bias=use_bias, dtype=dtype)
    ours = kr.LSTM.from_torch(reference, assume_batch_first=True, return_sequences=True, return_state=True)
    return reference, ours


@pytest.mark.parametrize("batch", [1, 3, 40])
@pytest.mark.parametrize("grad", [False, True], ids=["no grad", "grad"])
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no bias"])
def test_one_step_equals_torch_nn_and_the_loop(batch, grad, use_bias):
    reference, ours = pair(use_bias=use_bias)
    x = torch.randn(batch, 1, 5)
    h, c = torch.randn(batch, 6), torch.randn(batch, 6)
    with torch.set_grad_enabled(grad):
        xr, xo = x.clone().requires_grad_(grad), x.clone().requires_grad_(grad)
        expected, (h_n, c_n) = reference(xr, (h[None], c[None]))
        output, h_ours, c_ours = ours(xo, initial_state=[h, c])
        assert ours.last_path == "fused"
        torch.testing.assert_close(output, expected, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(h_ours, h_n[0], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(c_ours, c_n[0], rtol=1e-6, atol=1e-6)
        with kr.force_path("loop"):
            looped = ours(x, initial_state=[h, c])
        for a, b in zip(looped, (output, h_ours, c_ours)):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
    if grad:
        (expected.sum() + c_n.sum()).backward()
        (output.sum() + c_ours.sum()).backward()
        torch.testing.assert_close(xo.grad, xr.grad, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours.cell.kernel.grad, reference.weight_ih_l0.grad.t(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours.cell.recurrent_kernel.grad, reference.weight_hh_l0.grad.t(),
                                   rtol=1e-5, atol=1e-6)


def test_which_calls_skip_the_kernel():
    _, ours = pair()
    small, large, two_steps = torch.randn(2, 1, 5), torch.randn(64, 1, 5), torch.randn(2, 2, 5)
    with torch.no_grad():
        assert not kernel_ran(lambda: ours(small))
        assert kernel_ran(lambda: ours(large))                 # a large batch without gradients: the kernel
        assert kernel_ran(lambda: ours(two_steps))             # more than one step: the kernel
    assert not kernel_ran(lambda: ours(large)[0].sum().backward())
    assert fused.ONE_STEP_MAX_BATCH_WITHOUT_GRAD == 16


def test_a_stateful_decoder_steps_as_one_call_over_the_sequence():
    reference, _ = pair()
    stateful = kr.LSTM.from_torch(reference, assume_batch_first=True, return_sequences=True, stateful=True)
    whole = kr.LSTM.from_torch(reference, assume_batch_first=True, return_sequences=True)
    x = torch.randn(2, 7, 5)
    steps = torch.cat([stateful(x[:, t:t + 1]) for t in range(7)], dim=1)
    torch.testing.assert_close(steps, whole(x), rtol=1e-5, atol=1e-6)


def test_float64_and_go_backwards():
    reference, ours = pair(dtype=torch.float64)
    ours.go_backwards = True            # one step read backwards is the same step
    x = torch.randn(2, 1, 5, dtype=torch.float64)
    expected, _ = reference(x)
    torch.testing.assert_close(ours(x)[0], expected, rtol=1e-12, atol=1e-12)
