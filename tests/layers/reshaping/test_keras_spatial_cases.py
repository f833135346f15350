"""Keras 3's own cases for ZeroPadding2D/3D, Cropping2D/3D and UpSampling2D/3D
(keras/src/layers/reshaping/{zero_padding,cropping,up_sampling}{2d,3d}_test.py), run on kr's layers with
Keras's parameters, inputs, expected values (NumPy slices and repeats, and the literal arrays of the
correctness tests) and default tolerance (1e-6)."""
import itertools

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

# Keras's cases not run here, and why.
LEFT_OUT = [
    ("use_set_image_data_format=True in test_upsampling_2d_bilinear",
     "kerasrnn_torch has no global image data format: None always means channels_last (as Keras's default)"),
    ("test_upsampling_2d_lanczos_interpolation_methods",
     "Keras skips it on the torch backend too (PyTorch has no Lanczos resize); kr refuses the names"),
    ("run_layer_test's mixed-precision, symbolic-call and serialization-library checks",
     "Keras-internal machinery; configs and files are tested against Keras in test_spatial_padding.py "
     "and tests/layers/test_layer_files.py"),
    ("Keras's exact error texts", "the same mistakes raise ValueError here, with our own messages"),
]

FORMATS = ["channels_first", "channels_last"]
DTYPE_POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                "registered_name": None}


def call(layer, inputs):
    return layer(torch.from_numpy(np.asarray(inputs))).numpy()


def assert_all_close(actual, expected):
    np.testing.assert_allclose(actual, expected, atol=1e-6, rtol=1e-6)


# zero_padding2d_test.py / zero_padding3d_test.py

@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_zero_padding_2d(data_format):
    inputs = np.random.rand(1, 2, 3, 4)
    outputs = call(kr.ZeroPadding2D(padding=((1, 2), (3, 4)), data_format=data_format), inputs)
    rows, cols = (2, 3) if data_format == "channels_first" else (1, 2)
    for index in [0, -1, -2]:
        assert_all_close(np.take(outputs, index, axis=rows), 0.0)
    for index in [0, 1, 2, -1, -2, -3, -4]:
        assert_all_close(np.take(outputs, index, axis=cols), 0.0)
    inner = (slice(None), slice(None), slice(1, -2), slice(3, -4)) if data_format == "channels_first" else \
        (slice(None), slice(1, -2), slice(3, -4), slice(None))
    assert_all_close(outputs[inner], inputs)


@pytest.mark.parametrize("padding, data_format", list(itertools.product([((2, 2), (2, 2)), (2, 2), 2], FORMATS)))
def test_keras_zero_padding_2d_with_same_padding(padding, data_format):
    inputs = np.random.rand(1, 2, 3, 4)
    outputs = call(kr.ZeroPadding2D(padding=padding, data_format=data_format), inputs)
    axes = (2, 3) if data_format == "channels_first" else (1, 2)
    for index in [0, 1, -1, -2]:
        for axis in axes:
            assert_all_close(np.take(outputs, index, axis=axis), 0.0)
    inner = [slice(None)] * 4
    for axis in axes:
        inner[axis] = slice(2, -2)
    assert_all_close(outputs[tuple(inner)], inputs)


@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_zero_padding_3d(data_format):
    inputs = np.random.rand(1, 2, 3, 4, 5)
    outputs = call(kr.ZeroPadding3D(padding=((1, 2), (3, 4), (0, 2)), data_format=data_format), inputs)
    first = 2 if data_format == "channels_first" else 1
    for axis, indices in zip(range(first, first + 3), ([0, -1, -2], [0, 1, 2, -1, -2, -3, -4], [-1, -2])):
        for index in indices:
            assert_all_close(np.take(outputs, index, axis=axis), 0.0)
    inner = [slice(None)] * 5
    inner[first:first + 3] = [slice(1, -2), slice(3, -4), slice(0, -2)]
    assert_all_close(outputs[tuple(inner)], inputs)


@pytest.mark.parametrize("padding, data_format",
                         list(itertools.product([((2, 2), (2, 2), (2, 2)), (2, 2, 2), 2], FORMATS)))
def test_keras_zero_padding_3d_with_same_padding(padding, data_format):
    inputs = np.random.rand(1, 2, 3, 4, 5)
    outputs = call(kr.ZeroPadding3D(padding=padding, data_format=data_format), inputs)
    first = 2 if data_format == "channels_first" else 1
    for index in [0, 1, -1, -2]:
        for axis in range(first, first + 3):
            assert_all_close(np.take(outputs, index, axis=axis), 0.0)
    inner = [slice(None)] * 5
    inner[first:first + 3] = [slice(2, -2)] * 3
    assert_all_close(outputs[tuple(inner)], inputs)


def test_keras_zero_padding_with_dynamic_spatial_dim():
    assert kr.ZeroPadding2D(((1, 2), (3, 4)))(kr.Input((2, None, 4), batch_size=1)).shape == (1, 5, None, 4)
    padded = kr.ZeroPadding3D(((1, 2), (3, 4), (5, 6)))(kr.Input((2, None, 4, 5), batch_size=1))
    assert padded.shape == (1, 5, None, 15, 5)


@pytest.mark.parametrize("name, padding", [
    ("ZeroPadding2D", (1,)), ("ZeroPadding2D", (1, 2, 3)), ("ZeroPadding2D", "1"),
    ("ZeroPadding2D", ((1, 2), (3, 4, 5))), ("ZeroPadding2D", ((1, 2), (3, -4))), ("ZeroPadding2D", ((1, 2), "3")),
    ("ZeroPadding3D", (1,)), ("ZeroPadding3D", (1, 2)), ("ZeroPadding3D", (1, 2, 3, 4)), ("ZeroPadding3D", "1"),
    ("ZeroPadding3D", ((1, 2), (3, 4), (5, 6, 7))), ("ZeroPadding3D", ((1, 2), (3, 4), (5, -6))),
    ("ZeroPadding3D", ((1, 2), (3, 4), "5")),
])
def test_keras_zero_padding_errors_if_padding_argument_invalid(name, padding):
    with pytest.raises(ValueError, match="`padding` must be"):
        getattr(kr, name)(padding=padding)


@pytest.mark.parametrize("name, padding, expected", [
    ("ZeroPadding2D", (1, 2), ((1, 1), (2, 2))), ("ZeroPadding3D", (1, 2, 3), ((1, 1), (2, 2), (3, 3)))])
@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_zero_padding_get_config(name, padding, expected, data_format):
    layer = getattr(kr, name)(padding=padding, data_format=data_format)
    assert layer.get_config() == {"data_format": data_format, "dtype": DTYPE_POLICY, "name": layer.name,
                                  "padding": expected, "trainable": True}


# cropping2d_test.py / cropping3d_test.py

CROPPING_2D = [
    (((1, 2), (3, 4)), ((1, 5), (3, 5))), (((2, 2), (2, 2)), ((2, 5), (2, 7))), ((2, 2), ((2, 5), (2, 7))),
    (2, ((2, 5), (2, 7))), (((0, 2), (0, 4)), ((0, 5), (0, 5))), (((1, 0), (3, 0)), ((1, 7), (3, 9))),
    (((1, 0), (3, 4)), ((1, 7), (3, 5))), (((1, 2), (3, 0)), ((1, 5), (3, 9))),
]


def expected_crop(inputs, ranges, data_format):
    index = [slice(None)] * inputs.ndim
    first = 2 if data_format == "channels_first" else 1
    for axis, (start, stop) in enumerate(ranges, start=first):
        index[axis] = slice(start, stop)
    return inputs[tuple(index)]


@pytest.mark.parametrize("cropping, ranges", CROPPING_2D)
@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_cropping_2d(cropping, ranges, data_format):
    inputs = np.random.rand(3, 5, 7, 9) if data_format == "channels_first" else np.random.rand(3, 7, 9, 5)
    layer = kr.Cropping2D(cropping=cropping, data_format=data_format)
    assert_all_close(call(layer, inputs), expected_crop(inputs, ranges, data_format))
    assert not layer.weights and not layer.supports_masking


DIM1 = [((1, 2), (1, 5)), ((0, 2), (0, 5)), ((1, 0), (1, 7))]
DIM2 = [((3, 4), (3, 5)), ((0, 4), (0, 5)), ((3, 0), (3, 9))]
DIM3 = [((5, 6), (5, 7)), ((0, 6), (0, 7)), ((5, 0), (5, 13))]


@pytest.mark.parametrize("dim1, dim2, dim3", list(itertools.product(DIM1, DIM2, DIM3)))
@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_cropping_3d(dim1, dim2, dim3, data_format):
    inputs = np.random.rand(3, 5, 7, 9, 13) if data_format == "channels_first" else np.random.rand(3, 7, 9, 13, 5)
    layer = kr.Cropping3D(cropping=(dim1[0], dim2[0], dim3[0]), data_format=data_format)
    assert_all_close(call(layer, inputs), expected_crop(inputs, (dim1[1], dim2[1], dim3[1]), data_format))


@pytest.mark.parametrize("cropping", [((2, 2), (2, 2), (2, 2)), (2, 2, 2), 2])
@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_cropping_3d_with_same_cropping(cropping, data_format):
    inputs = np.random.rand(3, 5, 7, 9, 13) if data_format == "channels_first" else np.random.rand(3, 7, 9, 13, 5)
    outputs = call(kr.Cropping3D(cropping=cropping, data_format=data_format), inputs)
    assert_all_close(outputs, expected_crop(inputs, ((2, 5), (2, 7), (2, 11)), data_format))


def test_keras_cropping_with_dynamic_spatial_dim():
    assert kr.Cropping2D(((1, 2), (3, 4)))(kr.Input((7, None, 5), batch_size=1)).shape == (1, 4, None, 5)
    cropped = kr.Cropping3D(((1, 2), (3, 4), (5, 6)))(kr.Input((7, None, 13, 5), batch_size=1))
    assert cropped.shape == (1, 4, None, 2, 5)


@pytest.mark.parametrize("name, cropping, shape", [
    *[("Cropping2D", c, (3, 7, 9, 5)) for c in (((3, 6), (0, 0)), ((0, 0), (5, 4)))],
    *[("Cropping3D", c, (3, 7, 9, 13, 5)) for c in (((3, 6), (0, 0), (0, 0)), ((0, 0), (5, 8), (0, 0)),
                                                   ((0, 0), (0, 0), (7, 6)))],
])
@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_cropping_errors_if_cropping_more_than_available(name, cropping, shape, data_format):
    with pytest.raises(ValueError, match="must leave at least one position"):
        getattr(kr, name)(cropping=cropping, data_format=data_format)(kr.Input(shape[1:], batch_size=shape[0]))


@pytest.mark.parametrize("cropping", [((4, 5), (0, 0)), ((0, 0), (5, 5)), ((6, 3), (0, 0)), ((0, 0), (7, 3))])
@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_cropping_2d_error_on_excessive_cropping(cropping, data_format):
    with pytest.raises(ValueError, match="must leave at least one position"):
        kr.Cropping2D(cropping=cropping, data_format=data_format)(torch.rand(3, 8, 9, 5))


@pytest.mark.parametrize("cropping", [((8, 1), (1, 1), (1, 1)), ((1, 1), (10, 1), (1, 1)), ((1, 1), (1, 1), (14, 1))])
@pytest.mark.parametrize("data_format", FORMATS)
def test_keras_cropping_3d_with_excessive_cropping(cropping, data_format):
    shape = (3, 5, 7, 9, 13) if data_format == "channels_first" else (3, 7, 9, 13, 5)
    with pytest.raises(ValueError, match="must leave at least one position"):
        kr.Cropping3D(cropping=cropping, data_format=data_format)(kr.Input(shape[1:], batch_size=shape[0]))


@pytest.mark.parametrize("name, cropping", [
    ("Cropping2D", (1,)), ("Cropping2D", (1, 2, 3)), ("Cropping2D", "1"), ("Cropping2D", ((1, 2), (3, 4, 5))),
    ("Cropping2D", ((1, 2), (3, -4))), ("Cropping2D", ((1, 2), "3")),
    ("Cropping3D", (1,)), ("Cropping3D", (1, 2)), ("Cropping3D", (1, 2, 3, 4)), ("Cropping3D", "1"),
    ("Cropping3D", ((1, 2), (3, 4), (5, 6, 7))), ("Cropping3D", ((1, 2), (3, 4), (5, -6))),
    ("Cropping3D", ((1, 2), (3, 4), "5")),
])
def test_keras_cropping_errors_if_cropping_argument_invalid(name, cropping):
    with pytest.raises(ValueError, match="`cropping` must be"):
        getattr(kr, name)(cropping=cropping)


# up_sampling2d_test.py / up_sampling3d_test.py

@pytest.mark.parametrize("data_format, length_col", list(itertools.product(FORMATS, [2, 3])))
def test_keras_upsampling_2d(data_format, length_col):
    length_row, rows, cols = 2, 11, 12
    inputs = np.random.rand(2, 2, rows, cols) if data_format == "channels_first" else np.random.rand(2, rows, cols, 2)
    axes = (2, 3) if data_format == "channels_first" else (1, 2)
    basic = kr.UpSampling2D(size=(2, 2), data_format=data_format)
    assert tuple(basic.compute_output_shape(inputs.shape)) == call(basic, inputs).shape
    outputs = call(kr.UpSampling2D(size=(length_row, length_col), data_format=data_format), inputs)
    assert outputs.shape[axes[0]] == length_row * rows and outputs.shape[axes[1]] == length_col * cols
    expected = np.repeat(np.repeat(inputs, length_row, axis=axes[0]), length_col, axis=axes[1])
    assert_all_close(outputs, expected)


@pytest.mark.parametrize("data_format, length_col", list(itertools.product(FORMATS, [2, 3])))
def test_keras_upsampling_2d_bilinear(data_format, length_col):
    length_row, rows, cols = 2, 11, 12
    inputs = np.random.rand(2, 2, rows, cols) if data_format == "channels_first" else np.random.rand(2, rows, cols, 2)
    axes = (2, 3) if data_format == "channels_first" else (1, 2)
    basic = kr.UpSampling2D(size=(2, 2), data_format=data_format, interpolation="bilinear")
    assert tuple(basic.compute_output_shape(inputs.shape)) == call(basic, inputs).shape
    layer = kr.UpSampling2D(size=(length_row, length_col), data_format=data_format, interpolation="bilinear")
    outputs = call(layer, inputs)
    assert outputs.shape[axes[0]] == length_row * rows and outputs.shape[axes[1]] == length_col * cols


def test_keras_upsampling_2d_correctness():
    x = np.arange(12).reshape((2, 2, 1, 3))
    expected = np.array([[[[0., 1., 2.], [0., 1., 2.]], [[3., 4., 5.], [3., 4., 5.]]],
                         [[[6., 7., 8.], [6., 7., 8.]], [[9., 10., 11.], [9., 10., 11.]]]])
    assert_all_close(call(kr.UpSampling2D(size=(1, 2)), x), expected)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
def test_keras_upsampling_2d_various_interpolation_methods(interpolation):
    x = np.arange(6).reshape((2, 1, 1, 3))
    assert call(kr.UpSampling2D(size=(1, 2), interpolation=interpolation), x).shape == (2, 1, 2, 3)


@pytest.mark.parametrize("data_format, length_dim1", list(itertools.product(FORMATS, [2, 3])))
def test_keras_upsampling_3d(data_format, length_dim1):
    sizes, lengths = (10, 11, 12), (length_dim1, 2, 3)
    inputs = np.random.rand(2, 2, *sizes) if data_format == "channels_first" else np.random.rand(2, *sizes, 2)
    first = 2 if data_format == "channels_first" else 1
    basic = kr.UpSampling3D(size=(2, 2, 2), data_format=data_format)
    expected_shape = (2, 2, 20, 22, 24) if data_format == "channels_first" else (2, 20, 22, 24, 2)
    basic_out = basic(torch.from_numpy(inputs.astype("float32")))
    assert tuple(basic_out.shape) == expected_shape and basic_out.dtype == torch.float32
    assert tuple(basic.compute_output_shape(inputs.shape)) == expected_shape
    assert not basic.weights and not basic.losses and not basic.supports_masking
    outputs = call(kr.UpSampling3D(size=lengths, data_format=data_format), inputs)
    expected = inputs
    for axis, length in enumerate(lengths, start=first):
        assert outputs.shape[axis] == length * sizes[axis - first]
        expected = np.repeat(expected, length, axis=axis)
    assert_all_close(outputs, expected)


def test_keras_upsampling_3d_correctness():
    x = np.arange(12).reshape((2, 1, 2, 1, 3))
    block = [[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]],
             [[3.0, 4.0, 5.0], [3.0, 4.0, 5.0]], [[3.0, 4.0, 5.0], [3.0, 4.0, 5.0]]]
    expected = np.array([[block, block], [np.add(block, 6.0).tolist(), np.add(block, 6.0).tolist()]])
    assert_all_close(call(kr.UpSampling3D(size=(2, 2, 2)), x), expected)
