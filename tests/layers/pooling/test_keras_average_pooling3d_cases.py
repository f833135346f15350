"""Keras 3's own AveragePooling3D cases (keras/src/layers/pooling/average_pooling_test.py), run on
kr.AveragePooling3D with Keras's parameters, expected shapes, inputs and default tolerance (1e-6).
Keras checks the numbers against a NumPy reference; this one is our own NumPy code for the same
definition: windows averaged, "same" padding added at the end by repeating the edge values (the
cases here pad at most one position per axis, where Keras's torch backend does the same)."""
import itertools
import math

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

# Keras's cases not run here, and why.
LEFT_OUT = [
    ("run_layer_test's mixed-precision and symbolic-call checks, assert_built_after_instantiation",
     "Keras-internal machinery; configs, names and files are tested against Keras in test_pooling_nd.py "
     "and tests/layers/test_layer_files.py (a pooling layer here is built when made, as Keras checks)"),
    ("AveragePooling1D/2D cases of the same file", "those layers predate this change and have their own tests"),
]


def np_average_pool3d(x, pool_size, strides, padding, data_format):
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    pool = pool_size if isinstance(pool_size, tuple) else (pool_size,) * 3
    steps = strides if isinstance(strides, tuple) else (strides,) * 3
    if padding == "same":
        extra = [max((math.ceil(n / s) - 1) * s + k - n, 0) for n, k, s in zip(x.shape[1:4], pool, steps)]
        x = np.pad(x, [(0, 0), *[(0, e) for e in extra], (0, 0)], mode="edge")
    out_sizes = [(n - k) // s + 1 for n, k, s in zip(x.shape[1:4], pool, steps)]
    out = np.zeros((x.shape[0], *out_sizes, x.shape[-1]))
    for i, j, k in itertools.product(*(range(n) for n in out_sizes)):
        window = x[:, i * steps[0]:i * steps[0] + pool[0], j * steps[1]:j * steps[1] + pool[1],
                   k * steps[2]:k * steps[2] + pool[2]]
        out[:, i, j, k] = window.mean(axis=(1, 2, 3))
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


@pytest.mark.parametrize("pool_size, strides, padding, data_format, shape, expected", [
    (2, 1, "valid", "channels_last", (3, 5, 5, 5, 4), (3, 4, 4, 4, 4)),
    (2, 1, "same", "channels_first", (3, 5, 5, 5, 4), (3, 5, 5, 5, 4)),
    ((2, 3, 2), (2, 2, 1), "valid", "channels_last", (3, 5, 5, 5, 4), (3, 2, 2, 4, 4)),
])
def test_keras_average_pooling3d_basic(pool_size, strides, padding, data_format, shape, expected):
    layer = kr.AveragePooling3D(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    assert layer.built
    assert tuple(layer(torch.rand(shape)).shape) == expected
    assert tuple(layer.compute_output_shape(shape)) == expected
    assert not layer.weights and not layer.losses and not layer.supports_masking


@pytest.mark.parametrize("pool_size, strides, padding, data_format", [
    (2, 1, "valid", "channels_last"),
    (2, 1, "valid", "channels_first"),
    ((2, 3, 2), (2, 2, 1), "valid", "channels_last"),
    ((2, 3, 2), (2, 2, 1), "valid", "channels_first"),
    (2, 1, "same", "channels_last"),
    (2, 1, "same", "channels_first"),
    ((2, 2, 2), (2, 2, 1), "same", "channels_last"),
    ((2, 2, 2), (2, 2, 1), "same", "channels_first"),
])
def test_keras_average_pooling3d_correctness(pool_size, strides, padding, data_format):
    inputs = np.arange(240, dtype="float32").reshape((2, 3, 4, 5, 2))
    layer = kr.AveragePooling3D(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    outputs = layer(torch.from_numpy(inputs)).numpy()
    expected = np_average_pool3d(inputs, pool_size, strides, padding, data_format)
    np.testing.assert_allclose(outputs, expected, atol=1e-6, rtol=1e-6)
