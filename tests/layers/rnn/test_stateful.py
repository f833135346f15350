"""Stateful layers: states carried across calls (gradients cut), reset, batch-size checks."""
import keras
import pytest
import torch

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, random_weights


@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_chunks_equal_one_pass(name, path):
    stateful = getattr(kr, name)(5, stateful=True, return_sequences=True, input_dim=3)
    plain = getattr(kr, name)(5, return_sequences=True, input_dim=3)
    plain.load_state_dict(stateful.state_dict())
    x = torch.randn(2, 12, 3)
    with kr.force_path(path), torch.no_grad():
        chunks = torch.cat([stateful(x[:, i:i + 4]) for i in range(0, 12, 4)], dim=1)
        whole = plain(x)
    assert_close(chunks, whole, OUTPUT_ATOL, "chunked outputs")


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_stateful_chunks_match_keras(name):
    theirs = getattr(keras.layers, name)(4, stateful=True, return_sequences=True)
    theirs.build((2, 3, 3))
    random_weights(theirs)
    ours = getattr(kr, name)(4, stateful=True, return_sequences=True, input_dim=3)
    ours.set_weights(theirs.get_weights())
    mask = torch.tensor([[True, True, False], [True, True, True]])
    for _ in range(3):
        x = torch.randn(2, 3, 3)
        assert_close(ours(x, mask=mask), theirs(x, mask=mask), OUTPUT_ATOL, "outputs")
    for a, b in zip(ours.states, theirs.states):
        assert_close(a, b.value, OUTPUT_ATOL, "states")


def test_states_reset_and_set():
    layer = kr.LSTM(3, stateful=True, input_dim=2)
    assert layer.states is None
    layer(torch.randn(4, 5, 2))
    h, c = layer.states
    assert h.shape == (4, 3) and h.abs().sum() > 0 and not h.requires_grad
    layer.reset_state()
    assert all(torch.equal(s, torch.zeros(4, 3)) for s in layer.states)
    given = [torch.ones(4, 3), torch.full((4, 3), 2.0)]
    layer.reset_states(given)
    assert torch.equal(layer.states[1], given[1])
    with pytest.raises(ValueError, match=r"\(4, 3\), \(4, 3\)"):
        layer.reset_state([torch.ones(4, 3)])


def test_gradients_are_cut_between_calls():
    layer = kr.GRU(3, stateful=True, input_dim=2)
    layer(torch.randn(2, 4, 2)).sum().backward()
    out = layer(torch.randn(2, 4, 2))
    out.sum().backward()   # would fail if the first call's graph were still attached
    assert not layer.states[0].requires_grad


def test_other_batch_size_is_refused_and_states_survive():
    layer = kr.LSTM(3, stateful=True, input_dim=2)
    layer(torch.randn(4, 5, 2))
    before = [s.clone() for s in layer.states]
    with pytest.raises(ValueError, match="batch size 4, got input of batch size 3"):
        layer(torch.randn(3, 5, 2))
    with pytest.raises(ValueError):
        layer(torch.randn(4, 5, 7))
    assert all(torch.equal(a, b) for a, b in zip(before, layer.states))
    layer.reset_state([torch.zeros(3, 3), torch.zeros(3, 3)])   # a new batch size on purpose
    assert layer(torch.randn(3, 5, 2)).shape == (3, 3)


def test_states_stay_out_of_state_dict_and_buffers_but_follow_to():
    layer = kr.SimpleRNN(3, stateful=True, input_dim=2)
    layer(torch.randn(2, 4, 2))
    assert len(layer.state_dict()) == 3 and not list(layer.buffers())
    moved = layer.to(torch.float64)
    assert moved.states[0].dtype == torch.float64


def test_initial_state_overrides_stored_states():
    layer = kr.SimpleRNN(3, stateful=True, input_dim=2, return_state=True)
    x = torch.randn(2, 4, 2)
    layer(x)
    start = torch.randn(2, 3)
    _, h = layer(x, initial_state=[start])
    reference = kr.SimpleRNN(3, input_dim=2, return_state=True)
    reference.load_state_dict(layer.state_dict())
    _, expected = reference(x, initial_state=[start])
    assert_close(h, expected, OUTPUT_ATOL, "state")
