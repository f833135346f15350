"""Keras 3's keras/src/layers/normalization/layer_normalization_test.py, ported to kr (Keras's numbers
and tolerances); Keras's private `AutocastScope` is `torch.autocast`."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


@pytest.mark.parametrize("init_kwargs, input_shape, trainable, losses", [
    ({"gamma_regularizer": kr.regularizers.L2(0.01), "beta_regularizer": kr.regularizers.L2(0.01)}, (3, 4, 2), 2, 2),
    ({"gamma_initializer": "ones", "beta_initializer": "ones"}, (3, 4, 2), 2, 0),
    ({"scale": False, "center": False}, (3, 3), 0, 0),
    ({"rms_scaling": True}, (3, 3), 1, 0),
    ({"axis": (-3, -2, -1)}, (2, 8, 8, 3), 2, 0),
    ({}, (1, 0, 10), 2, 0),
])
@pytest.mark.filterwarnings("ignore:.*rms_scaling=True is deprecated")
def test_ln_basics(init_kwargs, input_shape, trainable, losses):
    run_layer_test(kr.LayerNormalization, init_kwargs=init_kwargs, input_shape=input_shape,
                   expected_output_shape=input_shape, expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=0, expected_num_losses=losses, supports_masking=True)


def test_invalid_axis():
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints for the argument 'axis'"):
        kr.LayerNormalization(axis={"axis": -1})


def test_correctness():
    layer = kr.LayerNormalization(dtype="float32")
    layer.build(input_shape=(2, 2, 2))
    inputs = np.random.normal(loc=5.0, scale=10.0, size=(1000, 2, 2, 2)).astype("float32")
    out = layer(inputs)
    out = (out - layer.beta) / layer.gamma
    np.testing.assert_allclose(out.mean().item(), 0.0, atol=1e-1)
    np.testing.assert_allclose(out.detach().numpy().std(), 1.0, atol=1e-1)


def test_output():
    layer = kr.LayerNormalization(dtype="float32", beta_initializer="ones", gamma_initializer="ones")
    inputs = np.arange(5).astype("float32")[None, :]
    out = layer(inputs)
    np.testing.assert_allclose(out.detach().numpy(), [[-0.41386, 0.29307, 1.0, 1.70693, 2.41386]],
                               atol=1e-6, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:.*rms_scaling=True is deprecated")
def test_output_with_rms_scaling():
    layer = kr.LayerNormalization(dtype="float32", rms_scaling=True, gamma_initializer="ones")
    inputs = np.arange(5).astype("float32")[None, :]
    out = layer(inputs)
    np.testing.assert_allclose(out.detach().numpy(), [[0.0, 0.70693, 1.41386, 2.12079, 2.82772]],
                               atol=1e-6, rtol=1e-6)


def test_unsorted_axis():
    x = np.random.randn(2, 3, 4).astype("float32")
    out_sorted = kr.LayerNormalization(axis=[-2, -1])(x)
    out_unsorted = kr.LayerNormalization(axis=[-1, -2])(x)
    assert tuple(out_sorted.shape) == (2, 3, 4)
    assert tuple(out_unsorted.shape) == (2, 3, 4)
    np.testing.assert_allclose(out_sorted.detach().numpy(), out_unsorted.detach().numpy(), atol=1e-6, rtol=1e-6)


def test_another_rank_with_the_same_normalized_axis_matches_keras():
    """Keras normalizes any input whose normalized axes have the built sizes (the run_layer_test build
    runs on one rank, its training step on another: a model input without the batch axis)."""
    import keras
    layer, reference = kr.LayerNormalization(), keras.layers.LayerNormalization()
    layer.build((3, 4, 2))
    reference.build((3, 4, 2))
    x = np.random.randn(5, 2).astype("float32")
    np.testing.assert_allclose(layer(x).detach().numpy(), keras.ops.convert_to_numpy(reference(x)), atol=1e-6)
    with pytest.raises(ValueError, match="was built for sizes"):
        layer(np.ones((5, 3), dtype="float32"))


def test_large_value_within_autocast_scope():
    # Keras's private AutocastScope("float16") is torch.autocast here; Keras's `assign` is `copy_` under no_grad
    layer = kr.LayerNormalization()
    layer.build((1, 4, 4, 3))
    # Use 70000 to trigger overflow for float16
    large_value = torch.full(layer.gamma.shape, 70000.0)
    with torch.autocast("cpu", dtype=torch.float16):
        with torch.no_grad():
            layer.gamma.copy_(large_value)
        np.testing.assert_allclose(layer.gamma.detach().numpy(), large_value.numpy())
