"""The fused path's cached weight conversion is reused only while it is exact."""
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine.record import last_run


def fresh_copy(layer, cls, units):
    other = cls(units, input_dim=layer.input_dim)
    other.load_state_dict(layer.state_dict())
    return other


@pytest.mark.parametrize("cls", [kr.LSTM, kr.GRU, kr.SimpleRNN])
def test_optimizer_steps_invalidate_the_cache(cls):
    layer = cls(4, input_dim=3)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
    x = torch.randn(2, 5, 3)
    for _ in range(3):
        optimizer.zero_grad()
        layer(x).pow(2).sum().backward()
        optimizer.step()
        with torch.no_grad():
            expected = fresh_copy(layer, cls, 4)(x)
            assert torch.equal(layer(x), expected)


@pytest.fixture(params=["kernel", "torch"])
def cpu_path(request, monkeypatch):
    """The fused path on the package's CPU kernel, or on PyTorch's kernel (the kernel off: where the
    converted weights are cached)."""
    from kerasrnn_torch.layers.rnn.engine import cpu_kernel
    monkeypatch.setenv(cpu_kernel.ENV_SWITCH, "1" if request.param == "kernel" else "0")
    cpu_kernel.forget()
    yield request.param
    cpu_kernel.forget()


@pytest.mark.parametrize("cls", [kr.GRU, kr.LSTM, kr.SimpleRNN])
@pytest.mark.parametrize("change", ["set_weights", "load_state_dict", "data_assignment", "no_grad_copy",
                                    "data_in_place"])
def test_weight_changes_invalidate_the_cache(change, cls, cpu_path):
    """`data_in_place` (`p.data.copy_(...)`) leaves the weights' `_version` as it was: a cached copy of them
    would keep the old numbers, so only conversions that are views are cached."""
    layer = cls(4, input_dim=3)
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        before = layer(x)
    donor = cls(4, input_dim=3)
    if change == "set_weights":
        layer.set_weights(donor.get_weights())
    elif change == "load_state_dict":
        layer.load_state_dict(donor.state_dict())
    elif change == "data_assignment":
        for mine, theirs in zip(layer.parameters(), donor.parameters()):
            mine.data = theirs.data.clone()
    elif change == "data_in_place":
        for mine, theirs in zip(layer.parameters(), donor.parameters()):
            mine.data.copy_(theirs.data)
    else:
        with torch.no_grad():
            for mine, theirs in zip(layer.parameters(), donor.parameters()):
                mine.copy_(theirs)
    with torch.no_grad():
        after = layer(x)
        assert last_run()[0] == ("cpu_kernel" if cpu_path == "kernel" and cls is not kr.SimpleRNN else "torch")
        assert not torch.equal(before, after)
        assert torch.equal(after, donor(x))


def test_gradients_accumulate_through_reused_conversions():
    layer = kr.GRU(4, input_dim=3)
    x1, x2 = torch.randn(2, 5, 3), torch.randn(2, 5, 3)
    layer(x1).sum().backward()
    layer(x2).sum().backward()        # the second call reuses the cached, differentiable conversion
    accumulated = [p.grad.clone() for p in layer.parameters()]
    reference = fresh_copy(layer, kr.GRU, 4)
    (reference(x1).sum() + reference(x2).sum()).backward()
    for a, b in zip(accumulated, reference.parameters()):
        torch.testing.assert_close(a, b.grad)


def test_grad_mode_has_its_own_cache_entry():
    layer = kr.LSTM(3, input_dim=2)
    x = torch.randn(2, 4, 2)
    with torch.no_grad():
        layer(x)
    out = layer(x)
    assert out.requires_grad
    out.sum().backward()
    assert all(p.grad is not None for p in layer.parameters())
