"""Keras-layout weights: names, shapes, order, counts, get/set_weights, lazy and eager build."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import random_weights


@pytest.mark.parametrize("make, expected", [
    (lambda: kr.LSTM(128, input_dim=64), 98_816),
    (lambda: kr.GRU(256, input_dim=64), 247_296),
    (lambda: kr.SimpleRNN(128, input_dim=256), 49_280),
    (lambda: kr.SimpleRNN(64, input_shape=(10, 5)), 4_480),
    (lambda: kr.LSTM(64, input_shape=(10, 5)), 17_920),
    (lambda: kr.GRU(64, input_shape=(10, 5)), 13_632),
], ids=["lstm128", "gru256", "simple128", "simple64", "lstm64", "gru64"])
def test_seed_parameter_counts(make, expected):
    layer = make()
    assert layer.count_params() == expected
    assert sum(p.numel() for p in layer.parameters()) == expected


@pytest.mark.parametrize("kwargs", [{}, {"use_bias": False}, {"reset_after": False}], ids=["default", "no_bias", "v1"])
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_counts_shapes_and_order_equal_keras(name, kwargs):
    if name != "GRU" and "reset_after" in kwargs:
        kwargs = {"activation": "relu"}
    ours = getattr(kr, name)(7, input_dim=3, **kwargs)
    theirs = getattr(keras.layers, name)(7, **kwargs)
    theirs.build((None, 4, 3))
    assert ours.count_params() == theirs.count_params()
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(w.shape) for w in theirs.weights]
    names = [n.split(".")[-1] for n, _ in ours.named_parameters()]
    assert names == [w.name for w in theirs.weights]


def test_gru_reset_after_bias_has_two_rows():
    assert tuple(kr.GRU(5, input_dim=2).cell.bias.shape) == (2, 15)
    assert tuple(kr.GRU(5, input_dim=2, reset_after=False).cell.bias.shape) == (15,)


def test_set_weights_takes_keras_get_weights_and_round_trips():
    theirs = keras.layers.LSTM(4)
    theirs.build((None, 3, 2))
    arrays = random_weights(theirs)
    ours = kr.LSTM(4, input_dim=2)
    ours.set_weights(theirs.get_weights())
    for mine, ref in zip(ours.get_weights(), arrays):
        np.testing.assert_array_equal(mine, ref)
    assert all(isinstance(w, np.ndarray) for w in ours.get_weights())


def test_set_weights_errors_name_the_expected_shapes():
    layer = kr.GRU(4, input_dim=3)
    with pytest.raises(ValueError, match=r"expects 3 weight arrays.*\(3, 12\), \(4, 12\), \(2, 12\).*got 2"):
        layer.set_weights(layer.get_weights()[:2])
    bad = layer.get_weights()
    bad[1] = np.zeros((12, 4), np.float32)
    with pytest.raises(ValueError, match=r"weight 1 must have shape \(4, 12\).*got .*\(12, 4\)"):
        layer.set_weights(bad)
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ValueError):
        layer.set_weights(bad)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)   # nothing half-loaded


def test_set_weights_from_another_layer_type_is_refused():
    with pytest.raises(ValueError, match="LSTM"):
        kr.LSTM(4, input_dim=3).set_weights(kr.GRU(4, input_dim=3).get_weights())


def test_lazy_build_creates_weights_at_first_call():
    layer = kr.LSTM(4)
    placeholders = list(layer.parameters())             # registered now, filled at the first call
    assert [type(p).__name__ for p in placeholders] == ["UninitializedParameter"] * 3
    with pytest.raises(ValueError, match="no weights yet.*input_shape"):
        layer.get_weights()
    with pytest.raises(ValueError, match="no weights yet"):
        layer.count_params()
    layer(torch.randn(2, 3, 6))
    assert tuple(layer.cell.kernel.shape) == (6, 16)
    assert [id(p) for p in layer.parameters()] == [id(p) for p in placeholders]


def test_default_initial_weights_follow_keras():
    layer = kr.LSTM(8, input_dim=5)
    bias = layer.cell.bias.detach()
    assert torch.equal(bias[8:16], torch.ones(8)) and torch.equal(bias[:8], torch.zeros(8))
    assert torch.equal(bias[16:], torch.zeros(16))
    recurrent = layer.cell.recurrent_kernel.detach().double()
    assert torch.allclose(recurrent @ recurrent.T, torch.eye(8, dtype=torch.float64), atol=1e-5)
    limit = (6 / (5 + 32)) ** 0.5
    assert layer.cell.kernel.abs().max() <= limit
    assert torch.equal(kr.LSTM(8, input_dim=5, unit_forget_bias=False).cell.bias.detach(), torch.zeros(32))


def test_device_and_dtype_are_respected():
    layer = kr.GRU(3, input_dim=2, dtype=torch.float64, device="cpu")
    assert all(p.dtype == torch.float64 for p in layer.parameters())
    out = layer(torch.randn(2, 4, 2, dtype=torch.float64))
    assert out.dtype == torch.float64


def test_layer_exposes_cell_and_its_arguments():
    layer = kr.GRU(3, reset_after=False, dropout=0.25)
    assert isinstance(layer.cell, kr.GRUCell)
    assert layer.units == 3 and layer.reset_after is False and layer.dropout == 0.25


def test_state_dict_round_trip():
    a = kr.LSTM(4, input_dim=3)
    b = kr.LSTM(4, input_dim=3)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 5, 3)
    assert torch.equal(a(x), b(x))
    assert list(a.state_dict()) == ["cell.kernel", "cell.recurrent_kernel", "cell.bias"]
