"""Keras 3's keras/src/layers/pooling/{max,average,global_max,global_average}_pooling_test.py, ported
to kr (Keras's cases, expected shapes, inputs and default tolerance, 1e-6).

Keras checks the window poolings against NumPy references; the one here is our own: windows cut with
`sliding_window_view` after the same "same" padding at the end (-inf for max, the edge value for
average). Keras skips its "same"-padding average cases on its torch backend (torch pads differently);
here they compare kr with Keras's own layer on that backend, the numbers kr promises.
"""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def _tuple(value, n):
    return tuple(value) * (n // len(value)) if isinstance(value, (tuple, list)) else (value,) * n


def _same_padding(size, pool, stride):
    return max(pool - (stride if size % stride == 0 else size % stride), 0)


def np_pool(x, pool_size, strides, padding, data_format, reduce, pad_mode):
    """Pooling windows of `x` (batch, *spatial, channels or channels first) reduced with `reduce`."""
    n = x.ndim - 2
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    pool, steps = _tuple(pool_size, n), _tuple(strides, n)
    if padding == "same":
        pads = [(0, 0)] + [(0, _same_padding(s, k, st)) for s, k, st in zip(x.shape[1:-1], pool, steps)] + [(0, 0)]
        x = np.pad(x, pads, constant_values=-np.inf) if pad_mode == "-inf" else np.pad(x, pads, mode=pad_mode)
    windows = np.lib.stride_tricks.sliding_window_view(x, pool, axis=tuple(range(1, n + 1)))
    windows = windows[(slice(None),) + tuple(slice(None, None, st) for st in steps)]
    out = reduce(windows, axis=tuple(range(-n, 0)))
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def basic(layer_cls, init_kwargs, input_shape, output_shape, supports_masking=False):
    run_layer_test(layer_cls, init_kwargs=init_kwargs, input_shape=input_shape,
                   expected_output_shape=output_shape, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, expected_num_losses=0,
                   supports_masking=supports_masking, assert_built_after_instantiation=True)


def window_kwargs(pool_size, strides, padding, data_format):
    return {"pool_size": pool_size, "strides": strides, "padding": padding, "data_format": data_format}


# max_pooling_test.py: MaxPoolingBasicTest.
@pytest.mark.parametrize("layer, args", [
    ("MaxPooling1D", (2, 1, "valid", "channels_last", (3, 5, 4), (3, 4, 4))),
    ("MaxPooling1D", (2, 1, "same", "channels_first", (3, 5, 4), (3, 5, 4))),
    ("MaxPooling1D", ((2,), (2,), "valid", "channels_last", (3, 5, 4), (3, 2, 4))),
    ("MaxPooling2D", (2, 1, "valid", "channels_last", (3, 5, 5, 4), (3, 4, 4, 4))),
    ("MaxPooling2D", (2, 1, "same", "channels_first", (3, 5, 5, 4), (3, 5, 5, 4))),
    ("MaxPooling2D", ((2, 3), (2, 2), "valid", "channels_last", (3, 5, 5, 4), (3, 2, 2, 4))),
    ("MaxPooling3D", (2, 1, "valid", "channels_last", (3, 5, 5, 5, 4), (3, 4, 4, 4, 4))),
    ("MaxPooling3D", (2, 1, "same", "channels_first", (3, 5, 5, 5, 4), (3, 5, 5, 5, 4))),
    ("MaxPooling3D", ((2, 3, 2), (2, 2, 1), "valid", "channels_last", (3, 5, 5, 5, 4), (3, 2, 2, 4, 4))),
    # average_pooling_test.py: AveragePoolingBasicTest.
    ("AveragePooling1D", (2, 1, "valid", "channels_last", (3, 5, 4), (3, 4, 4))),
    ("AveragePooling1D", (2, 1, "same", "channels_first", (3, 5, 4), (3, 5, 4))),
    ("AveragePooling1D", ((2,), (2,), "valid", "channels_last", (3, 5, 4), (3, 2, 4))),
    ("AveragePooling2D", (2, 1, "valid", "channels_last", (3, 5, 5, 4), (3, 4, 4, 4))),
    ("AveragePooling2D", (2, 1, "same", "channels_last", (3, 5, 5, 4), (3, 5, 5, 4))),
    ("AveragePooling2D", (2, 1, "valid", "channels_first", (3, 5, 5, 4), (3, 5, 4, 3))),
    ("AveragePooling2D", (2, 1, "same", "channels_first", (3, 5, 5, 4), (3, 5, 5, 4))),
    ("AveragePooling2D", ((2, 3), (2, 2), "valid", "channels_last", (3, 5, 5, 4), (3, 2, 2, 4))),
    ("AveragePooling2D", ((2, 3), (2, 2), "same", "channels_last", (3, 5, 5, 4), (3, 3, 3, 4))),
    ("AveragePooling2D", ((2, 3), (3, 3), "same", "channels_first", (3, 5, 5, 4), (3, 5, 2, 2))),
    ("AveragePooling3D", (2, 1, "valid", "channels_last", (3, 5, 5, 5, 4), (3, 4, 4, 4, 4))),
    ("AveragePooling3D", (2, 1, "same", "channels_first", (3, 5, 5, 5, 4), (3, 5, 5, 5, 4))),
    ("AveragePooling3D", ((2, 3, 2), (2, 2, 1), "valid", "channels_last", (3, 5, 5, 5, 4), (3, 2, 2, 4, 4))),
])
def test_window_pooling_basic(layer, args):
    pool_size, strides, padding, data_format, input_shape, output_shape = args
    basic(getattr(kr, layer), window_kwargs(pool_size, strides, padding, data_format), input_shape, output_shape)


MAX_1D = [(2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"), (2, 1, "same", "channels_last"),
          (2, 1, "same", "channels_first"), ((2,), (2,), "valid", "channels_last"),
          ((2,), (2,), "valid", "channels_first")]
MAX_2D = [(2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"), ((2, 2), (2, 2), "same", "channels_last"),
          ((2, 2), (2, 2), "same", "channels_first"), ((2, 3), (3, 3), "same", "channels_last")]
MAX_3D = [(2, 1, "valid", "channels_last"), (2, 1, "same", "channels_first"),
          ((2, 3, 2), (2, 2, 1), "valid", "channels_last"), ((2, 3, 2), (2, 2, 1), "valid", "channels_first")]


# max_pooling_test.py: MaxPoolingCorrectnessTest.
@pytest.mark.parametrize("layer, shape, args", [("MaxPooling1D", (2, 3, 4), a) for a in MAX_1D]
                         + [("MaxPooling2D", (1, 5, 5, 4), a) for a in MAX_2D]
                         + [("MaxPooling3D", (2, 3, 4, 5, 2), a) for a in MAX_3D])
def test_max_pooling_correctness(layer, shape, args):
    inputs = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    outputs = getattr(kr, layer)(**window_kwargs(*args))(torch.as_tensor(inputs))
    np.testing.assert_allclose(outputs.numpy(), np_pool(inputs, *args, np.max, "-inf"), atol=1e-6, rtol=1e-6)


AVG_VALID = [("AveragePooling1D", (2, 3, 4), a) for a in [
                (2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"),
                ((2,), (2,), "valid", "channels_last"), ((2,), (2,), "valid", "channels_first")]] \
    + [("AveragePooling2D", (1, 4, 4, 1), a) for a in [
        (2, 1, "valid", "channels_last"), ((2, 3), (2, 2), "valid", "channels_last")]] \
    + [("AveragePooling3D", (2, 3, 4, 5, 2), a) for a in [
        (2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"),
        ((2, 3, 2), (2, 2, 1), "valid", "channels_last"), ((2, 3, 2), (2, 2, 1), "valid", "channels_first")]]

AVG_SAME = [("AveragePooling1D", (2, 3, 4), a) for a in [
                (2, 1, "same", "channels_last"), (2, 1, "same", "channels_first"),
                ((2,), (2,), "same", "channels_last"), ((2,), (2,), "same", "channels_first")]] \
    + [("AveragePooling2D", (1, 4, 4, 1), a) for a in [
        (2, (2, 1), "same", "channels_last"), (2, (2, 1), "same", "channels_first"),
        ((2, 2), (2, 2), "same", "channels_last"), ((2, 2), (2, 2), "same", "channels_first")]] \
    + [("AveragePooling3D", (2, 3, 4, 5, 2), a) for a in [
        (2, 1, "same", "channels_last"), (2, 1, "same", "channels_first"),
        ((2, 2, 2), (2, 2, 1), "same", "channels_last"), ((2, 2, 2), (2, 2, 1), "same", "channels_first")]]


# average_pooling_test.py: AveragePoolingCorrectnessTest, test_average_pooling{1,2,3}d.
@pytest.mark.parametrize("layer, shape, args", AVG_VALID)
def test_average_pooling_correctness(layer, shape, args):
    inputs = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    outputs = getattr(kr, layer)(**window_kwargs(*args))(torch.as_tensor(inputs))
    np.testing.assert_allclose(outputs.numpy(), np_pool(inputs, *args, np.mean, "edge"), atol=1e-6, rtol=1e-6)


# average_pooling_test.py: test_average_pooling{1,2,3}d_same_padding (skipped by Keras on torch),
# against Keras's layer on its torch backend.
@pytest.mark.parametrize("layer, shape, args", AVG_SAME)
def test_average_pooling_same_padding_matches_keras_torch(layer, shape, args):
    inputs = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    outputs = getattr(kr, layer)(**window_kwargs(*args))(torch.as_tensor(inputs))
    expected = keras.ops.convert_to_numpy(getattr(keras.layers, layer)(**window_kwargs(*args))(inputs))
    np.testing.assert_allclose(outputs.numpy(), expected, atol=1e-6, rtol=1e-6)


GLOBAL_BASIC = {
    1: [("channels_last", False, (3, 5, 4), (3, 4)), ("channels_last", True, (3, 5, 4), (3, 1, 4)),
        ("channels_first", False, (3, 5, 4), (3, 5))],
    2: [("channels_last", False, (3, 5, 6, 4), (3, 4)), ("channels_last", True, (3, 5, 6, 4), (3, 1, 1, 4)),
        ("channels_first", False, (3, 5, 6, 4), (3, 5))],
    3: [("channels_last", False, (3, 5, 6, 5, 4), (3, 4)), ("channels_last", True, (3, 5, 6, 5, 4), (3, 1, 1, 1, 4)),
        ("channels_first", False, (3, 5, 6, 5, 4), (3, 5))],
}


# global_max_pooling_test.py / global_average_pooling_test.py: the BasicTest classes.
@pytest.mark.parametrize("kind", ["Max", "Average"])
@pytest.mark.parametrize("rank, args", [(r, a) for r, cases in GLOBAL_BASIC.items() for a in cases])
def test_global_pooling_basic(kind, rank, args):
    data_format, keepdims, input_shape, output_shape = args
    basic(getattr(kr, f"Global{kind}Pooling{rank}D"), {"data_format": data_format, "keepdims": keepdims},
          input_shape, output_shape, supports_masking=(kind == "Average" and rank == 1))


GLOBAL_INPUTS = {1: (2, 3, 4), 2: (2, 3, 4, 4), 3: (2, 3, 3, 5, 4)}
FORMATS = [("channels_last", False), ("channels_last", True), ("channels_first", False), ("channels_first", True)]


def np_global_pool(x, data_format, keepdims, reduce):
    axes = tuple(range(1, x.ndim - 1)) if data_format == "channels_last" else tuple(range(2, x.ndim))
    return reduce(x, axis=axes, keepdims=keepdims)


# global_max_pooling_test.py / global_average_pooling_test.py: the CorrectnessTest classes.
@pytest.mark.parametrize("kind, reduce", [("Max", np.max), ("Average", np.mean)])
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("data_format, keepdims", FORMATS)
def test_global_pooling_correctness(kind, reduce, rank, data_format, keepdims):
    shape = GLOBAL_INPUTS[rank]
    inputs = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    layer = getattr(kr, f"Global{kind}Pooling{rank}D")(data_format=data_format, keepdims=keepdims)
    outputs = layer(torch.as_tensor(inputs))
    np.testing.assert_allclose(outputs.numpy(), np_global_pool(inputs, data_format, keepdims, reduce),
                               atol=1e-6, rtol=1e-6)


# global_average_pooling_test.py: test_global_average_pooling1d, its masked half (the mask given
# positionally, as Keras's test does).
@pytest.mark.parametrize("data_format, keepdims", FORMATS)
def test_global_average_pooling1d_masked(data_format, keepdims):
    inputs = np.arange(24, dtype="float32").reshape((2, 3, 4))
    if data_format == "channels_last":
        mask = np.array([[1, 1, 0], [0, 1, 0]], dtype="int32")
    else:
        mask = np.array([[1, 1, 0, 0], [0, 1, 0, 1]], dtype="int32")
    layer = kr.GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)
    outputs = layer(torch.as_tensor(inputs), torch.as_tensor(mask))
    steps_axis = 1 if data_format == "channels_last" else 2
    m = np.expand_dims(mask, 2 if data_format == "channels_last" else 1)
    expected = np.sum(inputs * m, axis=steps_axis) / np.sum(m, axis=steps_axis)
    if keepdims:
        expected = np.expand_dims(expected, axis=steps_axis)
    np.testing.assert_allclose(outputs.numpy(), expected, atol=1e-6, rtol=1e-6)
