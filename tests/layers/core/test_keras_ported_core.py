"""Keras 3's core layer tests (keras/src/layers/core: dense_test.py, embedding_test.py, identity_test.py,
lambda_layer_test.py, masking_test.py) and the noise and dropout tests kr has layers for
(keras/src/layers/regularization: dropout_test.py, gaussian_noise_test.py, gaussian_dropout_test.py,
spatial_dropout_test.py' SpatialDropout1D cases), ported to kr (Keras's numbers and tolerances).
Left out (see tests/keras_ported_left_out.md): quantization, LoRA, sparse and ragged inputs."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def close(actual, expected, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(numpy(actual), np.asarray(expected), atol=atol, rtol=rtol)


# ------------------------------------------------------------------ Dense
@pytest.mark.parametrize("init_kwargs, input_shape, output_shape, trainable, losses", [
    ({"units": 4, "activation": "relu", "kernel_initializer": "random_uniform", "bias_initializer": "ones",
      "use_bias": False}, (2, 3), (2, 4), 1, 0),
    ({"units": 5, "activation": "sigmoid", "kernel_regularizer": "l2", "bias_regularizer": "l2"},
     (2, 3, 4), (2, 3, 5), 2, 2),
])
def test_dense_basics(init_kwargs, input_shape, output_shape, trainable, losses):
    run_layer_test(kr.Dense, init_kwargs=init_kwargs, input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=trainable, expected_num_non_trainable_weights=0,
                   expected_num_losses=losses, supports_masking=True)


@pytest.mark.parametrize("units", [0, -3, 2.5, None, "64"], ids=["zero", "negative", "float", "none", "string"])
def test_dense_invalid_units_raises(units):
    with pytest.raises(ValueError, match="positive integer"):
        kr.Dense(units)


def test_dense_correctness():
    layer = kr.Dense(units=2, activation="relu")
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]]), np.array([5.0, -6.0])])
    close(layer(np.array([[-1.0, 2.0]])), [[10.0, 0.0]])

    layer = kr.Dense(units=2, use_bias=False)
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]])])
    assert layer.bias is None
    close(layer(np.array([[-1.0, 2.0]])), [[5.0, -6.0]])


def test_dense_errors():
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer = kr.Dense(units=2, activation="relu")
        layer(kr.Input(shape=(2,), batch_size=1))
        layer(kr.Input(shape=(3,), batch_size=1))


@pytest.mark.parametrize("activation, expected", [(None, [[5.0, -6.0]]), ("relu", [[5.0, 0.0]])])
def test_dense_no_activation_and_with_activation(activation, expected):
    layer = kr.Dense(units=2, use_bias=False, activation=activation)
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]])])
    assert layer.bias is None
    close(layer(np.array([[-1.0, 2.0]])), expected)


def test_dense_without_activation_set():
    layer = kr.Dense(units=2, use_bias=False)
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]])])
    layer.activation = None
    assert layer.bias is None
    close(layer(np.array([[-1.0, 2.0]])), [[5.0, -6.0]])


@pytest.mark.parametrize("argument, weight", [("kernel_constraint", "kernel"), ("bias_constraint", "bias")])
def test_dense_constraints(argument, weight):
    """Keras checks the weight carries NonNeg; kr applies constraints with `kr.apply_constraints` (as fit
    does after each step): the weight ends non-negative."""
    layer = kr.Dense(units=2, **{argument: "non_neg"})
    layer.build((None, 2))
    with torch.no_grad():
        getattr(layer, weight).fill_(-1.0)
    kr.apply_constraints(layer)
    assert bool((getattr(layer, weight) >= 0).all())


# ------------------------------------------------------------------ Embedding
@pytest.mark.parametrize("init_kwargs, input_shape, dtype, output_shape, masking", [
    ({"input_dim": 4, "output_dim": 3}, (2,), "int32", (2, 3), False),
    ({"input_dim": 5, "output_dim": 4, "mask_zero": True}, (2, 3), "int64", (2, 3, 4), True),
])
def test_embedding_basics(init_kwargs, input_shape, dtype, output_shape, masking):
    run_layer_test(kr.Embedding, init_kwargs=init_kwargs, input_shape=input_shape, input_dtype=dtype,
                   expected_output_shape=output_shape, expected_num_trainable_weights=1,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=masking)


def test_embedding_correctness():
    layer = kr.Embedding(input_dim=3, output_dim=2)
    layer.build()
    with torch.no_grad():
        layer.embeddings.copy_(torch.tensor([[0.0, 0.0], [2.0, 2.0], [3.0, 3.0]]))
    close(layer(np.array([2, 1, 0])), np.array([[3.0, 3.0], [2.0, 2.0], [0.0, 0.0]]))


def test_embedding_masking():
    layer = kr.Embedding(input_dim=3, output_dim=2, mask_zero=True)
    layer.build()
    close(layer.compute_mask(np.array([2, 1, 0])), np.array([True, True, False]))
    assert kr.Embedding(input_dim=3, output_dim=2, mask_zero=False).compute_mask(np.array([2, 1, 0])) is None


def test_embedding_constraints():
    layer = kr.Embedding(3, 2, embeddings_constraint="non_neg")
    layer.build((None, 2))
    with torch.no_grad():
        layer.embeddings.fill_(-1.0)
    kr.apply_constraints(layer)
    assert bool((layer.embeddings >= 0).all())


@pytest.mark.parametrize("argument", ["input_dim", "output_dim"])
def test_embedding_invalid_dims(argument):
    for bad_value in (3.7, 4.0, "3", None, True, False, -1, 0):
        with pytest.raises(ValueError, match=f"`{argument}` must be a positive integer"):
            kr.Embedding(**{"input_dim": 10, "output_dim": 8, argument: bad_value})
    with pytest.raises(TypeError, match=f"`{argument}` must be a positive integer"):
        kr.Embedding.from_config({"input_dim": 10, "output_dim": 8, argument: 3.7})


def test_embedding_weights_constructor_arg():
    close(kr.Embedding(3, 4, weights=np.ones((3, 4))).embeddings, np.ones((3, 4)))
    close(kr.Embedding(3, 4, weights=[np.ones((3, 4))]).embeddings, np.ones((3, 4)))


# ------------------------------------------------------------------ Identity
def test_identity_basics():
    run_layer_test(kr.Identity, init_kwargs={}, input_shape=(2, 3), expected_output_shape=(2, 3),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0, expected_num_losses=0,
                   supports_masking=True, assert_built_after_instantiation=True)


# ------------------------------------------------------------------ Lambda
def square(x):
    return torch.square(x)


def stacker(x):
    return torch.cat([x, x], dim=1)


def stacker_shape(s):
    return (s[0], s[1] * 2)


@pytest.mark.parametrize("init_kwargs, input_shape, output_shape, masking", [
    ({"function": square}, (2, 3), (2, 3), False),
    ({"function": square, "mask": torch.ones((2, 3))}, (2, 3, 4), (2, 3, 4), True),
    ({"function": stacker, "output_shape": (6,)}, (2, 3), (2, 6), False),
    ({"function": stacker, "output_shape": stacker_shape}, (2, 3), (2, 6), False),
])
def test_lambda_basics(init_kwargs, input_shape, output_shape, masking):
    with kr.saving.custom_object_scope({"square": square, "stacker": stacker, "stacker_shape": stacker_shape}):
        run_layer_test(kr.Lambda, init_kwargs=init_kwargs, input_shape=input_shape,
                       expected_output_shape=output_shape, expected_num_trainable_weights=0,
                       expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=masking)


@pytest.mark.parametrize("output_shape", [None, lambda x: x])
def test_lambda_correctness(output_shape):
    layer = kr.Lambda(lambda x: x**2, output_shape=output_shape)
    close(layer(2 * np.ones((2, 3))), 4 * np.ones((2, 3)))
    layer = kr.Lambda.from_config(layer.get_config(), safe_mode=False)
    close(layer(2 * np.ones((2, 3))), 4 * np.ones((2, 3)))


def test_lambda_from_config_fails_closed_without_safe_mode_scope():
    """Keras refuses a lambda's bytecode unless safe_mode=False; kr never runs it (its own configs hold the
    function object, so kr's round trip above needs no bytecode)."""
    import keras
    config = keras.layers.Lambda(lambda x: x**2).get_config()
    with pytest.raises(ValueError, match="Lambda"):
        kr.Lambda.from_config(config)
    with pytest.raises(ValueError, match="never runs"):
        kr.Lambda.from_config(config, safe_mode=False)


def test_lambda_from_a_keras_config_with_a_named_function():
    import keras
    config = keras.layers.Lambda(square, output_shape=(3,), mask=torch.ones((2, 3))).get_config()
    layer = kr.Lambda.from_config(config, custom_objects={"square": square})
    close(layer(2 * np.ones((2, 3))), 4 * np.ones((2, 3)))
    close(layer.compute_mask(torch.ones(2, 3)), np.ones((2, 3)))


# ------------------------------------------------------------------ Masking
def test_masking_basics():
    run_layer_test(kr.Masking, init_kwargs={"mask_value": 0.0}, input_shape=(2, 3, 2), expected_output_shape=(2, 3, 2),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0, expected_num_losses=0,
                   supports_masking=True, assert_built_after_instantiation=True)


def test_masking_correctness():
    x = np.array([[[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]], [[2.0, 2.0], [0.0, 0.0], [2.0, 1.0]]])
    expected_mask = [[False, True, False], [True, False, True]]
    close(kr.Masking(mask_value=0.0).compute_mask(torch.as_tensor(x)), expected_mask)
    seen = []

    class TestLayer(kr.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def compute_output_shape(self, input_shape):
            return input_shape

        def call(self, inputs, mask=None):
            seen.append(mask)
            return inputs

    model = kr.Sequential([kr.Masking(mask_value=0.0), TestLayer()])
    model(x)
    assert seen and seen[-1] is not None
    close(seen[-1], expected_mask)


def test_masking_with_tensor(tmp_path):
    model = kr.Sequential([kr.Masking(mask_value=0.0), kr.LSTM(1)])
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]], [[2.0, 2.0], [2.0, 1.0], [0.0, 0.0]]])
    model(x)
    model.save(str(tmp_path / "model.keras"))
    reloaded = kr.saving.load_model(str(tmp_path / "model.keras"))
    close(reloaded(x), numpy(model(x)))


# ------------------------------------------------------------------ Dropout and noise
@pytest.mark.parametrize("layer_class, init_kwargs", [
    (kr.Dropout, {"rate": 0.2}), (kr.GaussianNoise, {"stddev": 0.2}), (kr.GaussianDropout, {"rate": 0.2})])
def test_noise_basics(layer_class, init_kwargs):
    run_layer_test(layer_class, init_kwargs=init_kwargs, input_shape=(2, 3), call_kwargs={"training": True},
                   expected_output_shape=(2, 3), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=True,
                   assert_built_after_instantiation=True)


def test_gaussian_noise_correctness():
    outputs = kr.GaussianNoise(0.3, seed=1337)(np.ones((20, 500)), training=True)
    close(np.std(numpy(outputs)), 0.3, atol=0.02)


def test_gaussian_dropout_correctness():
    outputs = kr.GaussianDropout(0.3, seed=1337)(np.ones((20, 500)), training=True)
    close(np.std(numpy(outputs)), np.sqrt(0.3 / (1 - 0.3)), atol=0.02)


def test_dropout_rescaling():
    outputs = numpy(kr.Dropout(0.5, seed=1337)(np.ones((20, 500)), training=True))
    close(np.mean(outputs), 1.0, atol=0.02)
    close(np.max(outputs), 2.0)


@pytest.mark.parametrize("noise_shape", [(None, 1, None), (20, 1, 10)], ids=["dynamic", "static"])
def test_dropout_partial_noise_shape(noise_shape):
    outputs = kr.Dropout(0.5, noise_shape=noise_shape)(np.ones((20, 5, 10)), training=True)
    close(outputs[:, 0, :], outputs[:, 1, :])


@pytest.mark.parametrize("rate", [-0.5, 1.5])
def test_dropout_invalid_rate(rate):
    with pytest.raises(ValueError, match="Invalid value received for argument `rate`. "
                                         "Expected a float value between 0 and 1."):
        kr.Dropout(rate=rate)


@pytest.mark.parametrize("given, kept", [(None, None), ((20, 1, 10), (20, 1, 10)), ((None, 1, None), (None, 1, None)),
                                          ([20, 1, 10], (20, 1, 10))])
def test_validate_noise_shape(given, kept):
    layer = kr.Dropout(0.5, noise_shape=given)
    assert layer.noise_shape == kept
    assert kept is None or isinstance(layer.noise_shape, tuple)


@pytest.mark.parametrize("noise_shape, message", [
    ("Invalid", "Expected a tuple or list of integers."),
    ((20, 1.5, 10), "Expected all elements to be integers or None."),
    ((20, -1, 10), "Expected all dimensions to be positive integers or None."),
    ((20, 0, 10), "Expected all dimensions to be positive integers or None."),
])
def test_validate_noise_shape_errors(noise_shape, message):
    with pytest.raises(ValueError, match="Invalid value received for argument `noise_shape`. " + message):
        kr.Dropout(0.5, noise_shape=noise_shape)


@pytest.mark.parametrize("training", [True, False])
def test_spatial_dropout_1d(training):
    run_layer_test(kr.SpatialDropout1D, init_kwargs={"rate": 0.5}, call_kwargs={"training": training},
                   input_shape=(2, 3, 4), assert_built_after_instantiation=True)


def test_spatial_dropout_1D_dynamic():
    kr.SpatialDropout1D(0.5)(kr.Input((3, 2)), training=True)


def test_spatial_dropout_1D_correctness():
    outputs = kr.SpatialDropout1D(0.5)(np.ones((10, 3, 10)), training=True)
    close(outputs[:, 0, :], outputs[:, 1, :])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("layer, shape", [(kr.SpatialDropout2D, (2, 3, 4, 5)), (kr.SpatialDropout3D, (2, 3, 4, 4, 5))],
                         ids=["2d", "3d"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout_2d_3d(layer, shape, data_format, training):
    run_layer_test(layer, init_kwargs={"rate": 0.5, "data_format": data_format},
                   call_kwargs={"training": training}, input_shape=shape, assert_built_after_instantiation=True)


def test_spatial_dropout_2D_3D_dynamic():
    kr.SpatialDropout2D(0.5)(kr.Input((3, 3, 10)), training=True)
    kr.SpatialDropout3D(0.5)(kr.Input((3, 3, 3, 10)), training=True)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout_2D_3D_correctness(data_format):
    last = data_format == "channels_last"
    outputs = kr.SpatialDropout2D(0.5, data_format=data_format)(
        np.ones((10, 3, 3, 10)) if last else np.ones((10, 10, 3, 3)), training=True)
    if last:
        close(outputs[:, 0, 0, :], outputs[:, 1, 1, :])
    else:
        close(outputs[:, :, 0, 0], outputs[:, :, 1, 1])
    outputs = kr.SpatialDropout3D(0.5, data_format=data_format)(
        np.ones((10, 3, 3, 3, 10)) if last else np.ones((10, 10, 3, 3, 3)), training=True)
    if last:
        close(outputs[:, 0, 0, 0, :], outputs[:, 1, 1, 1, :])
    else:
        close(outputs[:, :, 0, 0, 0], outputs[:, :, 1, 1, 1])
