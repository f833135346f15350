"""kr.testing and `check` compare the path a layer takes (the package's CPU kernel, where it serves) with
the plain cell loop in Python: the kernel set aside, not compared with itself."""
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine import cpu_kernel, record
from kerasrnn_torch.testing.agreement import plain_loop


@pytest.fixture(autouse=True)
def kernel_on(monkeypatch):
    """The CPU kernel on for these tests, whatever the environment's switch says."""
    monkeypatch.setenv(cpu_kernel.ENV_SWITCH, "1")
    cpu_kernel.forget()
    yield
    cpu_kernel.forget()


def test_the_reference_run_sets_the_cpu_kernel_aside_and_restores_it():
    layer = kr.GRU(4, reset_after=False)                       # loop-only: the kernel serves its loop
    x = torch.randn(2, 5, 3)
    layer(x)
    served = record.last_run()
    assert served[0] == "cpu_kernel", cpu_kernel.unavailable_reason()
    with plain_loop():
        assert cpu_kernel.unavailable_reason() is not None
        layer(x)
        assert record.last_run()[0] in ("loop", "bptt") and layer.last_path == "loop"
    layer(x)
    assert record.last_run() == served


def test_a_broken_cpu_kernel_is_caught_by_assert_paths_agree(monkeypatch):
    """With the kernel on, a wrong kernel result differs from the plain loop's: the comparison sees it."""
    assert cpu_kernel.unavailable_reason() is None, cpu_kernel.unavailable_reason()
    from kerasrnn_torch.layers.rnn.engine import native
    for node in (native._Native, native._NativeFromInputs):        # on the projected sequence, on the inputs
        def off_by_one(*args, real=node.apply):
            result = real(*args)
            return (result[0] + 1, *result[1:]) if isinstance(result, tuple) else result + 1
        monkeypatch.setattr(node, "apply", off_by_one)
    model = kr.Sequential([kr.GRU(4, reset_after=False)])
    try:
        kr.testing.assert_paths_agree(model, torch.randn(2, 5, 3))
    except AssertionError as error:
        assert "disagree" in str(error)
    else:
        raise AssertionError("assert_paths_agree compared the CPU kernel with itself")
