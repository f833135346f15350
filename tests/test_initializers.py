"""Initializers: Keras's distributions, with Keras's fans for Keras-layout kernels."""
import math

import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch import initializers


def filled(name, *shape, seed=0):
    tensor = torch.empty(*shape)
    return initializers.apply(initializers.get(name), tensor, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name, limit", [
    ("glorot_uniform", lambda fan_in, fan_out: math.sqrt(6.0 / (fan_in + fan_out))),
    ("he_uniform", lambda fan_in, fan_out: math.sqrt(6.0 / fan_in)),
    ("lecun_uniform", lambda fan_in, fan_out: math.sqrt(3.0 / fan_in)),
])
def test_variance_scaling_uniform_fills_up_to_keras_limit(name, limit):
    # A Keras kernel (input_dim, k*units): fan_in = input_dim, fan_out = k*units.
    input_dim, k_units = 32, 4 * 64
    weight = filled(name, input_dim, k_units)
    bound = limit(input_dim, k_units)
    assert weight.abs().max() <= bound
    assert weight.abs().max() >= 0.99 * bound
    assert weight.std().item() == pytest.approx(bound / math.sqrt(3.0), rel=0.03)


@pytest.mark.parametrize("name, std", [
    ("glorot_normal", lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out))),
    ("he_normal", lambda fan_in, fan_out: math.sqrt(2.0 / fan_in)),
])
def test_variance_scaling_normal_has_keras_spread_after_truncation(name, std):
    input_dim, k_units = 32, 4 * 64
    weight = filled(name, input_dim, k_units)
    expected = std(input_dim, k_units)
    assert weight.std().item() == pytest.approx(expected, rel=0.03)
    # Truncated at two standard deviations of the (widened) untruncated normal.
    assert weight.abs().max() <= 2 * expected / 0.87962566103423978 + 1e-6


def test_lstm_kernel_uses_keras_fans_not_torch_ones():
    layer = kr.LSTM(64, input_dim=8)
    kernel = layer.cell.kernel.detach()
    assert tuple(kernel.shape) == (8, 256)
    bound = math.sqrt(6.0 / (8 + 256))
    assert kernel.abs().max() <= bound
    assert kernel.abs().max() >= 0.95 * bound


@pytest.mark.parametrize("shape", [(8, 32), (32, 8), (16, 16)], ids=["wide", "tall", "square"])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    weight = filled("orthogonal", *shape).double()
    rows, cols = shape
    gram = weight @ weight.T if rows <= cols else weight.T @ weight
    torch.testing.assert_close(gram, torch.eye(min(rows, cols), dtype=torch.float64), atol=1e-5, rtol=0)


def test_recurrent_kernel_has_orthonormal_rows():
    units = 6
    recurrent_kernel = kr.LSTM(units, input_dim=3).cell.recurrent_kernel.detach().double()
    assert tuple(recurrent_kernel.shape) == (units, 4 * units)
    torch.testing.assert_close(recurrent_kernel @ recurrent_kernel.T, torch.eye(units, dtype=torch.float64),
                               atol=1e-5, rtol=0)


def test_orthogonal_refuses_a_vector():
    with pytest.raises(ValueError, match=r"rank >= 2, got shape \(5,\)"):
        filled("orthogonal", 5)


@pytest.mark.parametrize("name, value", [("zeros", 0.0), ("ones", 1.0)])
def test_constant_initializers(name, value):
    assert torch.equal(filled(name, 3, 4), torch.full((3, 4), value))


@pytest.mark.parametrize("name", ["uniform", "random_uniform"])
def test_uniform_stays_within_keras_default_range(name):
    weight = filled(name, 64, 64)
    assert weight.abs().max() <= 0.05
    assert weight.abs().max() >= 0.049
    assert weight.mean().abs() < 0.005


def test_identity_is_the_identity_matrix():
    assert torch.equal(filled("identity", 3, 5), torch.eye(3, 5))


@pytest.mark.parametrize("unit_forget_bias", [True, False])
def test_lstm_forget_gate_bias_is_one_only_with_unit_forget_bias(unit_forget_bias):
    units = 5
    bias = kr.LSTM(units, input_dim=3, unit_forget_bias=unit_forget_bias).cell.bias.detach()
    expected = torch.zeros(4 * units)
    if unit_forget_bias:
        expected[units:2 * units] = 1.0  # gates i, f, c, o: the forget gate is the second slice
    assert torch.equal(bias, expected)


def test_callable_initializer_written_for_torch_is_accepted():
    layer = kr.GRU(3, input_dim=2, kernel_initializer=torch.nn.init.ones_)
    assert torch.equal(layer.cell.kernel.detach(), torch.ones(2, 9))


def test_seeded_generator_makes_initialization_repeatable():
    assert torch.equal(filled("glorot_uniform", 4, 8, seed=3), filled("glorot_uniform", 4, 8, seed=3))
    assert not torch.equal(filled("glorot_uniform", 4, 8, seed=3), filled("glorot_uniform", 4, 8, seed=4))


def test_unknown_name_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'.*glorot_normal, glorot_uniform"):
        initializers.get("glorot")


def test_unknown_name_in_a_layer_is_refused():
    with pytest.raises(ValueError, match="Unknown initializer 'xavier'"):
        kr.SimpleRNN(3, input_dim=2, kernel_initializer="xavier")
