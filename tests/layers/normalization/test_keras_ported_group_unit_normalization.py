"""Keras 3's group_normalization_test.py and unit_normalization_test.py (keras/src/layers/normalization),
ported to kr (Keras's numbers and tolerances); Keras's private `AutocastScope` is `torch.autocast`."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


# ------------------------------------------------------------------ GroupNormalization
def test_groupnorm():
    run_layer_test(kr.GroupNormalization,
                   init_kwargs={"gamma_regularizer": kr.regularizers.L2(0.01),
                                "beta_regularizer": kr.regularizers.L2(0.01)},
                   input_shape=(3, 4, 32), expected_output_shape=(3, 4, 32), expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=0, expected_num_losses=2, supports_masking=True)
    run_layer_test(kr.GroupNormalization,
                   init_kwargs={"groups": 4, "gamma_constraint": kr.constraints.UnitNorm(),
                                "beta_constraint": kr.constraints.UnitNorm()},
                   input_shape=(3, 4, 4), expected_output_shape=(3, 4, 4), expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=True)


def test_undefined_dim_error():
    inputs = kr.Input(shape=(2, 2, 2, None))
    layer = kr.GroupNormalization()
    with pytest.raises(ValueError, match="input tensor should have a defined dimension but the layer "
                                         "received an input with shape"):
        layer(inputs)


def test_groups_bigger_than_dim_error():
    inputs = np.ones(shape=(2, 2, 2, 4))
    with pytest.raises(ValueError, match="cannot be more than the number of channels"):
        kr.GroupNormalization(groups=5)(inputs)


def test_groups_not_a_multiple_of_dim_error():
    inputs = np.ones(shape=(2, 2, 2, 4))
    with pytest.raises(ValueError, match="must be a multiple of the number of channels"):
        kr.GroupNormalization(groups=3)(inputs)


def test_groups_rejects_invalid_values():
    for bad in (0, -2, 1.5, "32"):
        with pytest.raises(ValueError, match="argument `groups`"):
            kr.GroupNormalization(groups=bad)
    kr.GroupNormalization(groups=-1)    # the documented sentinel for instance normalization


def test_groups_instance_norm():
    layer_1 = kr.GroupNormalization(groups=-1, axis=-1, scale=False, center=False)
    layer_2 = kr.GroupNormalization(groups=4, axis=-1, scale=False, center=False)
    inputs = np.array([[[-1.0, 1.0, 0, 2.0], [1.0, 3.0, -4, -2.0]]])
    np.testing.assert_allclose(numpy(layer_1(inputs)), numpy(layer_2(inputs)), atol=1e-6, rtol=1e-6)


def test_correctness_instance_norm():
    layer = kr.GroupNormalization(groups=4, axis=-1, scale=False, center=False)
    inputs = np.array([[[-1.0, 1.0, 0, 2.0], [1.0, 3.0, -4, -2.0]]])
    expected = np.array([[[-1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0]]])
    np.testing.assert_allclose(numpy(layer(inputs)), expected, atol=1e-3, rtol=1e-6)


def test_correctness_1d():
    layer_with_1_group = kr.GroupNormalization(groups=1, axis=-1, scale=False, center=False)
    layer_with_2_groups = kr.GroupNormalization(groups=2, axis=1, scale=False, center=False)
    inputs = np.array([[-1.0, -1.0, 1.0, 1.0, 2.0, 2.0, 0, -2.0]])
    np.testing.assert_allclose(numpy(layer_with_1_group(inputs)),
                               [[-0.898, -0.898, 0.539, 0.539, 1.257, 1.257, -0.180, -1.616]], atol=1e-3, rtol=1e-6)
    np.testing.assert_allclose(numpy(layer_with_2_groups(inputs)),
                               [[-1.0, -1.0, 1.0, 1.0, 0.904, 0.904, -0.301, -1.507]], atol=1e-3, rtol=1e-6)


def test_correctness_2d():
    layer_with_1_group = kr.GroupNormalization(groups=1, axis=-1, scale=False, center=False)
    layer_with_2_groups = kr.GroupNormalization(groups=2, axis=2, scale=False, center=False)
    inputs = np.array([[[-1.0, -1.0, 2.0, 2.0], [1.0, 1.0, 0, -2.0]]])
    np.testing.assert_allclose(numpy(layer_with_1_group(inputs)),
                               [[[-0.898, -0.898, 1.257, 1.257], [0.539, 0.539, -0.180, -1.616]]],
                               atol=1e-3, rtol=1e-6)
    np.testing.assert_allclose(numpy(layer_with_2_groups(inputs)),
                               [[[-1.0, -1.0, 0.904, 0.904], [1.0, 1.0, -0.301, -1.507]]], atol=1e-3, rtol=1e-6)


def test_broadcasting_2d_channels_first():
    x = np.arange(16).reshape((1, 4, 2, 2)).astype("float32")
    x = kr.GroupNormalization(groups=2, axis=1)(x)
    np.testing.assert_allclose(numpy(x), np.array([[
        [[-1.5274, -1.0910], [-0.6546, -0.2182]],
        [[0.2182, 0.6546], [1.0910, 1.5274]],
        [[-1.5274, -1.0910], [-0.6546, -0.2182]],
        [[0.2182, 0.6546], [1.0910, 1.5274]],
    ]]), atol=1e-3, rtol=1e-6)


def test_mixed_precision_large_input_no_nan():
    x = torch.full((2, 4, 8), 70000.0)
    layer = kr.GroupNormalization(groups=2, dtype="mixed_float16")
    out = numpy(layer(x))
    assert not np.any(np.isnan(out))


# ------------------------------------------------------------------ UnitNormalization
@pytest.mark.parametrize("init_kwargs, input_shape", [({"axis": -1}, (2, 3)), ({"axis": (1, 2)}, (1, 3, 3))])
def test_un_basics(init_kwargs, input_shape):
    run_layer_test(kr.UnitNormalization, init_kwargs=init_kwargs, input_shape=input_shape,
                   expected_output_shape=input_shape, supports_masking=True, assert_built_after_instantiation=True)


def test_un_invalid_axis():
    with pytest.raises(TypeError, match="Invalid value for `axis` argument: expected an int or a list/tuple of ints."):
        kr.UnitNormalization(axis={"axis": -1})


def squared_l2_norm(x):
    return np.sum(numpy(x) ** 2)


def test_un_correctness():
    layer = kr.UnitNormalization(axis=-1)
    outputs = layer(np.random.normal(size=(2, 3)))
    np.testing.assert_allclose(squared_l2_norm(outputs[0, :]), 1.0, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(squared_l2_norm(outputs[1, :]), 1.0, atol=1e-6, rtol=1e-6)

    layer = kr.UnitNormalization(axis=(1, 2))
    outputs = layer(np.random.normal(size=(2, 3, 3)))
    np.testing.assert_allclose(squared_l2_norm(outputs[0, :, :]), 1.0, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(squared_l2_norm(outputs[1, :, :]), 1.0, atol=1e-6, rtol=1e-6)

    layer = kr.UnitNormalization(axis=1)
    outputs = layer(np.random.normal(size=(2, 3, 2)))
    for b in range(2):
        for c in range(2):
            np.testing.assert_allclose(squared_l2_norm(outputs[b, :, c]), 1.0, atol=1e-6, rtol=1e-6)


def test_large_value_within_autocast_scope():
    # Keras's private AutocastScope("float16") is torch.autocast here; Keras's `assign` is `copy_` under no_grad
    layer = kr.GroupNormalization(groups=2)
    layer.build((1, 2, 4))
    # Use 70000 to trigger overflow for float16
    large_value = torch.full(layer.gamma.shape, 70000.0)
    with torch.autocast("cpu", dtype=torch.float16):
        with torch.no_grad():
            layer.gamma.copy_(large_value)
        np.testing.assert_allclose(layer.gamma.detach().numpy(), large_value.numpy())
