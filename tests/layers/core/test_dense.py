"""Dense and Dropout against Keras 3: numbers, shapes, parameter counts, masks, errors."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

FEATURES, UNITS = 4, 6
SHAPES = {"rank2": (3, FEATURES), "rank3": (3, 5, FEATURES), "rank4": (2, 3, 5, FEATURES)}
ACTIVATIONS = [None, "relu", "tanh", "sigmoid", "softmax", "hard_sigmoid", "elu", "selu"]


def keras_dense(shape, **kwargs):
    layer = keras.layers.Dense(UNITS, **kwargs)
    layer.build(shape)
    random_weights(layer)
    return layer


# ------------------------------------------------------------------- Dense
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@pytest.mark.parametrize("shape", SHAPES)
def test_dense_matches_keras_outputs_and_gradients(shape, activation, use_bias):
    shape = SHAPES[shape]
    theirs = keras_dense(shape, activation=activation, use_bias=use_bias)
    ours = kr.Dense(UNITS, activation=activation, use_bias=use_bias, input_dim=FEATURES)
    ours.set_weights(theirs.get_weights())
    x = torch.randn(shape)
    x_ours, x_theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(x_ours.grad, x_theirs.grad, GRAD_ATOL, "d/d inputs")
    for mine, ref in zip(ours.parameters(), theirs.weights):
        assert_close(mine.grad, ref.value.grad, GRAD_ATOL, f"d/d {ref.path}")


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
def test_dense_weights_have_keras_names_shapes_and_count(use_bias):
    theirs = keras_dense((2, FEATURES), use_bias=use_bias)
    ours = kr.Dense(UNITS, use_bias=use_bias, input_dim=FEATURES)
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert [name for name, _ in ours.named_parameters()] == (["kernel", "bias"] if use_bias else ["kernel"])
    assert ours.count_params() == theirs.count_params() == sum(p.numel() for p in ours.parameters())


def test_dense_builds_lazily_from_the_last_axis():
    layer = kr.Dense(UNITS)
    with pytest.raises(ValueError, match="has no weights yet"):
        layer.get_weights()
    assert layer(torch.randn(2, 7, 3)).shape == (2, 7, UNITS)
    assert tuple(layer.kernel.shape) == (3, UNITS)


def test_dense_input_shape_hint_builds_at_construction():
    layer = kr.Dense(UNITS, input_shape=(10, FEATURES))
    assert tuple(layer.kernel.shape) == (FEATURES, UNITS)
    assert layer.input_shape_hint == (10, FEATURES)


def test_dense_default_initial_weights_are_glorot_uniform_and_zero_bias():
    layer = kr.Dense(50, input_dim=30)
    limit = np.sqrt(6.0 / (30 + 50))
    kernel = layer.kernel.detach()
    assert float(kernel.abs().max()) <= limit
    assert float(kernel.abs().max()) > 0.9 * limit
    assert torch.count_nonzero(layer.bias) == 0


def test_dense_passes_the_mask_through():
    layer = kr.Dense(UNITS)
    mask = torch.tensor([[True, False, True]])
    assert layer.compute_mask(torch.randn(1, 3, FEATURES), mask) is mask


def test_dense_device_and_dtype_keywords_place_the_weights():
    layer = kr.Dense(UNITS, input_dim=FEATURES, device="cpu", dtype=torch.float64, name="head")
    assert layer.kernel.dtype == torch.float64 and layer.kernel.device.type == "cpu"
    assert layer.name == "head"
    assert layer(torch.randn(2, FEATURES, dtype=torch.float64)).dtype == torch.float64


def test_dense_records_activity_and_weight_regularization():
    layer = kr.Dense(UNITS, input_dim=FEATURES, kernel_regularizer=lambda w: w.abs().sum(),
                     activity_regularizer=lambda y: y.square().sum())
    out = layer(torch.randn(2, FEATURES))
    kernel_term, activity_term = layer.losses
    assert torch.allclose(kernel_term, layer.kernel.abs().sum())
    assert torch.allclose(activity_term, out.square().sum() / 2)     # Keras divides by the batch size


DENSE_ERRORS = [
    ({"units": 0}, None, ValueError, "`units` must be a positive integer, got 0"),
    ({"units": 2.5}, None, ValueError, "`units` must be a positive integer"),
    ({"units": 3, "activation": "nope"}, None, ValueError, "Unknown activation 'nope'"),
    ({"units": 3, "input_dim": 4}, torch.randn(2, 5), ValueError,
     r"\(2, 5\) is incompatible with the layer, which was built for 4"),
    ({"units": 3, "input_dim": 4}, torch.ones(2, 4, dtype=torch.long), TypeError, "floating-point inputs"),
    ({"units": 3, "input_dim": 4}, torch.ones(2, 4, dtype=torch.float64), TypeError, "torch.float32 weights"),
    ({"units": 3}, torch.randn(4), ValueError, r"\(batch, \.\.\., features\), got a 1-D shape"),
]


@pytest.mark.parametrize("kwargs, x, error, pattern", DENSE_ERRORS, ids=[p for *_, p in DENSE_ERRORS])
def test_dense_rejects_bad_arguments_and_inputs(kwargs, x, error, pattern):
    with pytest.raises(error, match=pattern):
        layer = kr.Dense(**kwargs)
        layer(x)


# ----------------------------------------------------------------- Dropout
def test_dropout_is_identity_in_eval_mode_and_with_training_false():
    x = torch.randn(4, 5, 6)
    layer = kr.Dropout(0.5)
    assert layer(x, training=False) is x
    assert layer.eval()(x) is x
    keras_out = keras.layers.Dropout(0.5)(x, training=False)
    assert_close(layer.eval()(x), keras_out, 0.0, "inference output")


@pytest.mark.parametrize("seed", [None, 7], ids=["unseeded", "seeded"])
def test_dropout_in_training_zeroes_a_rate_fraction_and_scales_the_rest(seed):
    rate = 0.3
    x = torch.rand(200, 100) + 1.0
    out = kr.Dropout(rate, seed=seed)(x)       # a fresh module is in training mode
    dropped = out == 0
    assert torch.allclose(out[~dropped], x[~dropped] / (1 - rate))
    assert abs(dropped.float().mean().item() - rate) < 0.02


def test_dropout_training_true_overrides_eval_mode():
    out = kr.Dropout(0.5).eval()(torch.ones(100, 100), training=True)
    assert set(out.unique().tolist()) == {0.0, 2.0}


def test_dropout_rate_zero_and_one_follow_keras():
    x = torch.randn(3, 4)
    assert torch.equal(kr.Dropout(0.0)(x), x)
    assert torch.equal(kr.Dropout(1.0)(x), torch.zeros_like(x))
    assert_close(kr.Dropout(1.0)(x), keras.layers.Dropout(1.0)(x, training=True), 0.0, "rate 1")


def test_dropout_noise_shape_shares_the_mask_along_size_one_axes():
    out = kr.Dropout(0.5, noise_shape=(None, 1, 8), seed=1)(torch.ones(16, 10, 8))
    assert torch.equal(out, out[:, :1, :].expand_as(out))
    assert 0 < int((out == 0).sum()) < out.numel()


def test_dropout_with_a_seed_is_reproducible_and_advances():
    x = torch.ones(50, 50)
    first, second = kr.Dropout(0.5, seed=3), kr.Dropout(0.5, seed=3)
    a, b = first(x), second(x)
    assert torch.equal(a, b)
    assert not torch.equal(first(x), a)


def test_dropout_passes_the_mask_through_and_has_no_weights():
    layer = kr.Dropout(0.2)
    mask = torch.tensor([[True, False]])
    assert layer.compute_mask(torch.randn(1, 2, 3), mask) is mask
    assert layer.get_weights() == [] and layer.count_params() == 0 == keras.layers.Dropout(0.2).count_params()


def test_dropout_gradient_flows_only_through_kept_values():
    x = torch.ones(20, 20, requires_grad=True)
    out = kr.Dropout(0.5, seed=0)(x)
    out.sum().backward()
    assert torch.equal(x.grad, (out != 0).float() * 2.0)


DROPOUT_ERRORS = [
    ({"rate": 1.5}, None, "argument `rate`. Expected a float value between 0 and 1, got 1.5"),
    ({"rate": -0.1}, None, "argument `rate`. Expected a float value between 0 and 1"),
    ({"rate": 0.5, "noise_shape": "abc"}, None, "argument `noise_shape`. Expected a tuple or list of integers"),
    ({"rate": 0.5, "noise_shape": (2, 0)}, None, "Expected all dimensions to be positive integers or None"),
    ({"rate": 0.5, "noise_shape": (2, 3)}, torch.ones(2, 4), r"noise_shape \(2, 3\) does not broadcast .*\(2, 4\)"),
    ({"rate": 0.5, "noise_shape": (2, 1)}, torch.ones(2, 4, 1), r"does not broadcast"),
    ({"rate": 0.5, "seed": "x"}, None, "`seed` must be an integer or None"),
]


@pytest.mark.parametrize("kwargs, x, pattern", DROPOUT_ERRORS, ids=[p for *_, p in DROPOUT_ERRORS])
def test_dropout_rejects_bad_arguments(kwargs, x, pattern):
    with pytest.raises(ValueError, match=pattern):
        kr.Dropout(**kwargs)(x, training=True)
