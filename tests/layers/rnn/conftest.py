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
