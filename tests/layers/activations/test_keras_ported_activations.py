"""Keras 3's activation layer tests (keras/src/layers/activations: activation_test.py, elu_test.py,
leaky_relu_test.py, prelu_test.py, relu_test.py, softmax_test.py), ported to kr (Keras's numbers and
tolerances; `variable.assign(v)` is `weight.copy_(v)` under no_grad)."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import check_serialization, run_layer_test


def numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def close(actual, expected, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(numpy(actual), np.asarray(expected), atol=atol, rtol=rtol)


# ------------------------------------------------------------------ Activation
@pytest.mark.parametrize("activation, shape", [("relu", (2, 3)), (kr.activations.gelu, (2, 2))])
def test_activation_basics(activation, shape):
    run_layer_test(kr.Activation, init_kwargs={"activation": activation}, input_shape=shape,
                   expected_output_shape=shape, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=True,
                   assert_built_after_instantiation=True)


# ------------------------------------------------------------------ ELU
def test_elu_config():
    check_serialization(kr.ELU())


def test_elu():
    run_layer_test(kr.ELU, init_kwargs={}, input_shape=(2, 3, 4), supports_masking=True,
                   assert_built_after_instantiation=True)


def test_elu_correctness():
    def np_elu(x, alpha=1.0):
        return (x > 0) * x + (x <= 0) * alpha * (np.exp(x) - 1)

    x = np.random.random((2, 2, 5))
    close(kr.ELU()(x), np_elu(x))
    close(kr.ELU(alpha=0.7)(x), np_elu(x, alpha=0.7))


# ------------------------------------------------------------------ LeakyReLU
def test_leaky_relu():
    run_layer_test(kr.LeakyReLU, init_kwargs={"negative_slope": 1}, input_shape=(2, 3, 4), supports_masking=True,
                   assert_built_after_instantiation=True)


def test_leaky_relu_correctness():
    result = kr.LeakyReLU(negative_slope=0.5)(np.array([-10, -5, 0.0, 5, 10]))
    close(result, np.array([-5.0, -2.5, 0.0, 5.0, 10.0]))


def test_leaky_relu_invalid_usage():
    with pytest.raises(ValueError, match="The negative_slope value of a Leaky ReLU layer cannot be None"):
        run_layer_test(kr.LeakyReLU, init_kwargs={"negative_slope": None}, input_shape=(2, 3, 4),
                       supports_masking=True)


# ------------------------------------------------------------------ PReLU
def test_prelu():
    run_layer_test(kr.PReLU, init_kwargs={"alpha_initializer": "zeros", "alpha_regularizer": "L1",
                                          "alpha_constraint": "MaxNorm", "shared_axes": 1},
                   input_shape=(2, 3, 4), supports_masking=True)


def test_prelu_correctness():
    def np_prelu(x, alpha):
        return (x > 0) * x + (x <= 0) * alpha * x

    inputs = np.random.randn(2, 10, 5, 3)
    prelu_layer = kr.PReLU(alpha_initializer="glorot_uniform", alpha_regularizer="l1", alpha_constraint="non_neg",
                           shared_axes=(1, 2))
    prelu_layer.build(inputs.shape)
    weights = np.random.random((1, 1, 3))
    with torch.no_grad():
        prelu_layer.alpha.copy_(torch.as_tensor(weights))
    close(prelu_layer(inputs), np_prelu(inputs, weights))


# ------------------------------------------------------------------ ReLU
def test_relu():
    run_layer_test(kr.ReLU, init_kwargs={"max_value": 10, "negative_slope": 1, "threshold": 0.5},
                   input_shape=(2, 3, 4), supports_masking=True, assert_built_after_instantiation=True)


@pytest.mark.parametrize("kwargs, inputs, expected", [
    ({"max_value": 10, "negative_slope": 0.0, "threshold": 0}, [-10, -5, 0.0, 5, 10], [0.0, 0.0, 0.0, 5.0, 10.0]),
    ({"max_value": 10, "negative_slope": 0.5, "threshold": 0}, [-10, -5, 0.0, 5, 10], [-5.0, -2.5, 0.0, 5.0, 10.0]),
    ({"max_value": 8, "negative_slope": 0.0, "threshold": 5}, [6.0, 7.0, 0.0, 5, 10], [6.0, 7.0, 0.0, 0.0, 8.0]),
    ({}, [-3.0, -1.0, 0.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0, 3.0]),
    ({"max_value": None}, [0.0, 100.0, 1000.0, 99999.0], [0.0, 100.0, 1000.0, 99999.0]),
], ids=["normal", "leaky", "threshold", "default", "none_max_value_is_unlimited"])
def test_relu_correctness(kwargs, inputs, expected):
    close(kr.ReLU(**kwargs)(np.array(inputs)), np.array(expected))


@pytest.mark.parametrize("kwargs, message", [
    ({"max_value": -10, "negative_slope": 1, "threshold": 0.5}, "max_value of a ReLU layer cannot be a negative value"),
    ({"max_value": 10, "negative_slope": -10, "threshold": 0.5},
     "negative_slope of a ReLU layer cannot be None or a negative value"),
    ({"max_value": 10, "negative_slope": 1, "threshold": -10},
     "threshold of a ReLU layer cannot be None or a negative value"),
    ({"negative_slope": None}, "negative_slope of a ReLU layer cannot be None or a negative value"),
    ({"threshold": None}, "threshold of a ReLU layer cannot be None or a negative value"),
])
def test_relu_invalid_usage(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_layer_test(kr.ReLU, init_kwargs=kwargs, input_shape=(2, 3, 4), supports_masking=True)


def test_relu_get_config_and_from_config():
    relu_layer = kr.ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0)
    config = relu_layer.get_config()
    assert (config["max_value"], config["negative_slope"], config["threshold"]) == (5.0, 0.2, 1.0)
    restored = kr.ReLU.from_config(config)
    assert (restored.max_value, restored.negative_slope, restored.threshold) == (5.0, 0.2, 1.0)
    config = kr.ReLU().get_config()
    assert config["max_value"] is None
    assert config["negative_slope"] == 0.0 and config["threshold"] == 0.0


def test_relu_compute_output_shape():
    relu_layer = kr.ReLU()
    assert tuple(relu_layer.compute_output_shape((2, 3))) == (2, 3)
    assert tuple(relu_layer.compute_output_shape((4, 5, 6))) == (4, 5, 6)
    assert tuple(relu_layer.compute_output_shape((1,))) == (1,)


def test_relu_all_zeros_and_multidimensional_input():
    relu_layer = kr.ReLU()
    close(relu_layer(np.zeros((3, 4))), np.zeros((3, 4)))
    close(relu_layer(np.array([[-1.0, 2.0], [3.0, -4.0]])), np.array([[0.0, 2.0], [3.0, 0.0]]))
    close(relu_layer(np.ones((2, 3, 4)) * -1.0), np.zeros((2, 3, 4)))


# ------------------------------------------------------------------ Softmax
def test_softmax():
    run_layer_test(kr.Softmax, init_kwargs={}, input_shape=(2, 3, 4), supports_masking=True,
                   assert_built_after_instantiation=True)


def test_softmax_correctness():
    inputs = np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]])
    expected = np.array([[0.21194157, 0.5761169, 0.21194157], [0.21194157, 0.5761169, 0.21194157]])
    close(kr.Softmax()(inputs), expected)
    close(kr.Softmax(axis=(1))(inputs), expected)


def test_softmax_correctness_with_mask():
    inputs = np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]])
    mask = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    expected = np.array([[0.21194154, 0.0, 0.21194154], [0.0, 0.57611686, 0.0]])
    close(kr.Softmax(axis=(1, 0))(inputs, mask=mask), expected)


def test_softmax_masked_values_are_zero_including_fully_masked():
    inputs = np.array([[1.0, 2.0, 5.0, 1.0], [1.0, 1.0, 1.0, 1.0], [3.0, 1.0, 2.0, 4.0]], dtype=np.float32)
    mask = np.array([[True, True, False, False], [False, False, False, False], [True, True, True, True]])
    expected = np.array([[0.268941, 0.731059, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0],
                         [0.236883, 0.032059, 0.087144, 0.643914]])
    close(kr.Softmax()(inputs, mask=mask), expected)


def test_softmax_mask_broadcastable():
    inputs = np.array([[1.0, 2.0, 1.0], [3.0, 4.0, 5.0]])
    close(kr.Softmax()(inputs, mask=np.array([[1.0, 0.0, 1.0]]))[:, 1], [0.0, 0.0])
    close(kr.Softmax(axis=-1)(inputs, mask=np.array([1.0, 0.0, 1.0]))[:, 1], [0.0, 0.0])


def test_softmax_mask_shape_mismatch():
    inputs = np.array([[1.0, 2.0, 1.0]])
    with pytest.raises(ValueError, match="broadcastable"):
        kr.Softmax()(inputs, mask=np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))


def test_softmax_mask_too_many_dims():
    inputs = np.array([[1.0, 2.0, 1.0]])
    with pytest.raises(ValueError, match="must not have more dimensions"):
        kr.Softmax()(inputs, mask=np.array([[[1.0, 0.0, 1.0]]]))
