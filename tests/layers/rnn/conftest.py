"""Fixtures for the recurrent layers' tests."""
import pytest

from kerasrnn_torch.layers.rnn.engine import cpu_kernel


@pytest.fixture
def pytorch_kernels_only(monkeypatch):
    """The package's CPU kernel off for one test: for tests of how the layers drive PyTorch's own kernels
    (call counts, packing), which the CPU kernel replaces for some calls when it is on."""
    monkeypatch.setenv(cpu_kernel.ENV_SWITCH, "0")
    cpu_kernel.forget()
    yield
    cpu_kernel.forget()


@pytest.fixture
def cpu_kernel_on(monkeypatch):
    """The package's CPU kernel on for one test whatever the environment says (`KERASRNN_TORCH_CPU_KERNEL=0`
    runs the rest of the suite without it): for tests of the calls it serves. A kernel that cannot be built
    here fails the test with the reason."""
    monkeypatch.setenv(cpu_kernel.ENV_SWITCH, "1")
    cpu_kernel.forget()
    reason = cpu_kernel.unavailable_reason()
    assert reason is None, f"the CPU kernel is needed here and is unavailable: {reason}"
    yield
    cpu_kernel.forget()
