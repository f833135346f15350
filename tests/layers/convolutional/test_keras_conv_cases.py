"""Keras 3's own test cases for DepthwiseConv1D/2D, SeparableConv1D/2D and Conv3DTranspose
(keras/src/layers/convolutional/{depthwise_conv,separable_conv,conv_transpose}_test.py), run on kr's layers
with Keras's parameters, expected shapes and tolerances. Keras checks the numbers against NumPy references;
the references here are our own NumPy code for the same definitions (Keras's "same" padding: the odd extra
at the end; transposed outputs cropped to Keras's output size)."""
import itertools
import math

import numpy as np
import pytest
import torch

from keras.src.backend.common.backend_utils import (compute_conv_transpose_output_shape,
                                                    compute_conv_transpose_padding_args_for_jax)

import kerasrnn_torch as kr

# Keras's cases not run here, and why.
LEFT_OUT = [
    ("run_layer_test's mixed-precision, symbolic-call and serialization-library checks",
     "Keras-internal machinery; configs, files and numbers are tested against Keras itself in "
     "test_depthwise_separable.py, test_conv_nd.py and tests/layers/test_layer_files.py"),
    ("tpu_atol / tpu_rtol", "no TPU: the CPU tolerances are kept"),
]


def _tuple(value, rank):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank


def _same_pads(size, span, stride):
    total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def np_depthwise(x, kernel, bias, strides, padding, dilation_rate, data_format="channels_last"):
    """Depthwise correlation in NumPy: x (batch, *spatial, c), kernel (*k, c, m) -> (batch, *out, c * m)."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    rank = x.ndim - 2
    strides, dilation = _tuple(strides, rank), _tuple(dilation_rate, rank)
    spans = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]
    if padding == "same":
        pads = [_same_pads(n, span, s) for n, span, s in zip(x.shape[1:-1], spans, strides)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    out_sizes = [(n - span) // s + 1 for n, span, s in zip(x.shape[1:-1], spans, strides)]
    channels, multiplier = kernel.shape[-2:]
    out = np.zeros((x.shape[0], *out_sizes, channels * multiplier))
    for position in itertools.product(*(range(n) for n in out_sizes)):
        window = x[(slice(None), *(slice(p * s, p * s + span, d) for p, s, span, d
                                   in zip(position, strides, spans, dilation)))]
        axes = "xyz"[:rank]
        values = np.einsum(f"n{axes}c,{axes}cm->ncm", window, kernel)
        out[(slice(None), *position)] = values.reshape(x.shape[0], -1)
    out = out + bias
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def np_conv_transpose(x, kernel, bias, strides, padding, output_padding):
    """Transposed convolution in NumPy (dilation 1): each input position adds its kernel-weighted copy at
    `position * stride`; the result is then cut to Keras's output window, which Keras's own shape and
    padding helpers give (as Keras's test takes them)."""
    rank = x.ndim - 2
    strides = _tuple(strides, rank)
    sizes, kernel_sizes = x.shape[1:-1], kernel.shape[:rank]
    out_sizes = compute_conv_transpose_output_shape(x.shape, kernel_sizes, kernel.shape[-2], strides, padding,
                                                    output_padding)[1:-1]
    pads = compute_conv_transpose_padding_args_for_jax(x.shape, kernel.shape, strides, padding, output_padding, 1)
    full = np.zeros((x.shape[0], *[n + k for n, k in zip(out_sizes, kernel_sizes)], kernel.shape[-2]))
    axes = "xyz"[:rank]
    for position in itertools.product(*(range(n) for n in sizes)):
        target = (slice(None), *(slice(p * s, p * s + k) for p, s, k in zip(position, strides, kernel_sizes)))
        full[target] += np.einsum(f"nc,{axes}fc->n{axes}f", x[(slice(None), *position)], kernel)
    starts = [k - 1 - before for k, (before, _) in zip(kernel_sizes, pads)]
    return full[(slice(None), *(slice(a, a + n) for a, n in zip(starts, out_sizes)))] + bias


def run(layer, inputs):
    return layer(torch.from_numpy(np.asarray(inputs, dtype="float32"))).detach().numpy()


# depthwise_conv_test.py: test_depthwise_conv1d_basic / test_depthwise_conv2d_basic.
DEPTHWISE_BASIC = [
    ("DepthwiseConv1D", 5, 2, 1, "valid", "channels_last", 1, (3, 5, 4), (3, 4, 20)),
    ("DepthwiseConv1D", 6, 2, 1, "same", "channels_last", (2,), (3, 4, 4), (3, 4, 24)),
    ("DepthwiseConv1D", 6, 2, (2,), "valid", "channels_last", 1, (3, 5, 4), (3, 2, 24)),
    ("DepthwiseConv1D", 6, 2, 1, "same", "channels_first", (2,), (3, 4, 10), (3, 24, 10)),
    ("DepthwiseConv2D", 5, 2, 1, "valid", "channels_last", 1, (3, 5, 5, 4), (3, 4, 4, 20)),
    ("DepthwiseConv2D", 6, 2, 1, "same", "channels_last", (2, 2), (3, 4, 4, 4), (3, 4, 4, 24)),
    ("DepthwiseConv2D", 6, (2, 2), (2, 2), "valid", "channels_last", (1, 1), (3, 5, 5, 4), (3, 2, 2, 24)),
]


@pytest.mark.parametrize("name, multiplier, kernel_size, strides, padding, data_format, dilation, shape, expected",
                         DEPTHWISE_BASIC)
def test_keras_depthwise_basic(name, multiplier, kernel_size, strides, padding, data_format, dilation, shape,
                               expected):
    layer = getattr(kr, name)(depth_multiplier=multiplier, kernel_size=kernel_size, strides=strides,
                              padding=padding, data_format=data_format, dilation_rate=dilation)
    assert run(layer, np.random.rand(*shape)).shape == expected
    assert tuple(layer.compute_output_shape(shape)) == expected
    assert len(layer.trainable_weights) == 2 and not layer.non_trainable_weights and not layer.losses
    assert not layer.supports_masking


# separable_conv_test.py: test_separable_conv1d_basic / test_separable_conv2d_basic.
SEPARABLE_BASIC = [
    ("SeparableConv1D", 5, 5, 2, 1, "valid", 1, (3, 5, 4), (3, 4, 5)),
    ("SeparableConv1D", 6, 6, 2, 1, "same", (2,), (3, 4, 4), (3, 4, 6)),
    ("SeparableConv1D", 6, 6, 2, (2,), "valid", 1, (3, 5, 4), (3, 2, 6)),
    ("SeparableConv2D", 5, 5, 2, 1, "valid", 1, (3, 5, 5, 4), (3, 4, 4, 5)),
    ("SeparableConv2D", 6, 6, 2, 1, "same", (2, 2), (3, 4, 4, 4), (3, 4, 4, 6)),
    ("SeparableConv2D", 6, 6, (2, 2), (2, 2), "valid", (1, 1), (3, 5, 5, 4), (3, 2, 2, 6)),
]


@pytest.mark.parametrize("name, multiplier, filters, kernel_size, strides, padding, dilation, shape, expected",
                         SEPARABLE_BASIC)
def test_keras_separable_basic(name, multiplier, filters, kernel_size, strides, padding, dilation, shape,
                               expected):
    layer = getattr(kr, name)(depth_multiplier=multiplier, filters=filters, kernel_size=kernel_size,
                              strides=strides, padding=padding, dilation_rate=dilation)
    assert run(layer, np.random.rand(*shape)).shape == expected
    assert tuple(layer.compute_output_shape(shape)) == expected
    assert len(layer.trainable_weights) == 3 and not layer.non_trainable_weights and not layer.losses
    assert not layer.supports_masking


_POSITIVE = "Invalid value for argument `{0}`. Expected a strictly positive value. Received {0}=0."
_ZERO_IN = r"The `{0}` argument must be a tuple of {1} integers. Received {0}=\(1, 0\), including values \{{0\}} " \
           r"that do not satisfy `value > 0`"
_OUTPUT_PADDING = r"`output_padding` must be strictly less than `strides`"


# Keras's own patterns (DepthwiseConv2D's pins 2 integers, the others \d+).
@pytest.mark.parametrize("make, message", [
    (lambda: kr.DepthwiseConv1D(depth_multiplier=0, kernel_size=1), _POSITIVE.format("depth_multiplier")),
    (lambda: kr.DepthwiseConv2D(depth_multiplier=2, kernel_size=(1, 0)), _ZERO_IN.format("kernel_size", 2)),
    (lambda: kr.DepthwiseConv2D(depth_multiplier=2, kernel_size=(2, 2), strides=(1, 0)),
     _ZERO_IN.format("strides", r"\d+")),
    (lambda: kr.SeparableConv1D(depth_multiplier=0, filters=1, kernel_size=1), _POSITIVE.format("depth_multiplier")),
    (lambda: kr.SeparableConv1D(depth_multiplier=1, filters=0, kernel_size=1), _POSITIVE.format("filters")),
    (lambda: kr.SeparableConv2D(depth_multiplier=2, filters=2, kernel_size=(1, 0)),
     _ZERO_IN.format("kernel_size", r"\d+")),
    (lambda: kr.SeparableConv2D(depth_multiplier=2, filters=2, kernel_size=(2, 2), strides=(1, 0)),
     _ZERO_IN.format("strides", r"\d+")),
    (lambda: kr.Conv1DTranspose(filters=2, kernel_size=2, strides=2, output_padding=2), _OUTPUT_PADDING),
    (lambda: kr.Conv2DTranspose(filters=16, kernel_size=3, strides=[1, 1], output_padding=1), _OUTPUT_PADDING),
    (lambda: kr.Conv3DTranspose(filters=8, kernel_size=3, strides=1, output_padding=1), _OUTPUT_PADDING),
], ids=["dw_multiplier", "dw_kernel_zero", "dw_strides_zero", "sep_multiplier", "sep_filters", "sep_kernel_zero",
        "sep_strides_zero", "t1_output_padding", "t2_output_padding", "t3_output_padding"])
def test_keras_bad_init_args(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make, shape", [
    (lambda: kr.DepthwiseConv1D(11, strides=5, padding="valid", data_format="channels_last"), (4, 10, 3)),
    (lambda: kr.DepthwiseConv2D(5, strides=2, padding="valid", data_format="channels_last"), (2, 4, 4, 3)),
    (lambda: kr.SeparableConv1D(64, 11, strides=5, padding="valid", data_format="channels_last"), (4, 10, 12)),
    (lambda: kr.SeparableConv2D(8, 5, strides=2, padding="valid", data_format="channels_last"), (2, 4, 4, 3)),
], ids=["depthwise1d", "depthwise2d", "separable1d", "separable2d"])
def test_keras_invalid_output_shape_raises(make, shape):
    with pytest.raises(ValueError, match=r"Computed output size would be zero or negative."):
        make()(torch.rand(shape))
    # ours also says where: the axis's size in the shape as given, and the kernel's span
    with pytest.raises(ValueError, match=rf"input shape \({shape[0]}, {shape[1]}, .*smaller than the kernel's span"):
        make()(torch.rand(shape))


# depthwise_conv_test.py: DepthwiseConvCorrectnessTest (Keras's default tolerance, 1e-6, for 1D; 1e-5 for 2D).
DEPTHWISE_NUMBERS = [
    ("DepthwiseConv1D", 5, 2, 1, "valid", "channels_last", 1, 1e-6),
    ("DepthwiseConv1D", 6, 2, 1, "same", "channels_last", (2,), 1e-6),
    ("DepthwiseConv1D", 6, (2,), (2,), "valid", "channels_last", 1, 1e-6),
    ("DepthwiseConv1D", 6, 2, 1, "same", "channels_first", (2,), 1e-6),
    ("DepthwiseConv2D", 5, 2, 1, "valid", "channels_last", 1, 1e-5),
    ("DepthwiseConv2D", 6, 2, 1, "same", "channels_last", (2, 2), 1e-5),
    ("DepthwiseConv2D", 6, (2, 2), (2, 2), "valid", "channels_last", (1, 1), 1e-5),
]


@pytest.mark.parametrize("name, multiplier, kernel_size, strides, padding, data_format, dilation, atol",
                         DEPTHWISE_NUMBERS)
def test_keras_depthwise_correctness(name, multiplier, kernel_size, strides, padding, data_format, dilation, atol):
    rng = np.random.default_rng(0)
    layer = getattr(kr, name)(depth_multiplier=multiplier, kernel_size=kernel_size, strides=strides,
                              padding=padding, data_format=data_format, dilation_rate=dilation)
    spatial = (8,) if name.endswith("1D") else (8, 8)
    shape = (2, 4, *spatial) if data_format == "channels_first" else (2, *spatial, 4)
    inputs = rng.normal(size=shape).astype("float32")
    layer.build(shape)
    kernel = rng.normal(size=tuple(layer.kernel.shape)).astype("float32")
    bias = rng.normal(size=(multiplier * 4,)).astype("float32")
    layer.set_weights([kernel, bias])
    expected = np_depthwise(inputs.astype("float64"), kernel, bias, strides, padding, dilation, data_format)
    np.testing.assert_allclose(run(layer, inputs), expected, atol=atol, rtol=atol)


# separable_conv_test.py: SeparableConvCorrectnessTest (rtol = atol = 1e-5).
SEPARABLE_NUMBERS = [
    ("SeparableConv1D", 5, 5, 2, 1, "valid", 1),
    ("SeparableConv1D", 6, 6, 2, 1, "same", (2,)),
    ("SeparableConv1D", 6, 6, (2,), (2,), "valid", 1),
    ("SeparableConv2D", 5, 5, 2, 1, "valid", 1),
    ("SeparableConv2D", 6, 6, 2, 1, "same", (2, 2)),
    ("SeparableConv2D", 6, 6, (2, 2), (2, 2), "valid", (1, 1)),
]


@pytest.mark.parametrize("name, multiplier, filters, kernel_size, strides, padding, dilation", SEPARABLE_NUMBERS)
def test_keras_separable_correctness(name, multiplier, filters, kernel_size, strides, padding, dilation):
    rng = np.random.default_rng(1)
    layer = getattr(kr, name)(depth_multiplier=multiplier, filters=filters, kernel_size=kernel_size,
                              strides=strides, padding=padding, dilation_rate=dilation)
    shape = (2, 8, 4) if name.endswith("1D") else (2, 8, 8, 4)
    inputs = rng.normal(size=shape).astype("float32")
    layer.build(shape)
    depthwise = rng.normal(size=tuple(layer.depthwise_kernel.shape)).astype("float32")
    pointwise = rng.normal(size=tuple(layer.pointwise_kernel.shape)).astype("float32")
    bias = rng.normal(size=(filters,)).astype("float32")
    layer.set_weights([depthwise, pointwise, bias])
    stage = np_depthwise(inputs.astype("float64"), depthwise, np.zeros(4 * multiplier), strides, padding, dilation)
    expected = stage @ pointwise.reshape(-1, filters) + bias
    np.testing.assert_allclose(run(layer, inputs), expected, atol=1e-5, rtol=1e-5)


# conv_transpose_test.py: test_conv3d_transpose_basic and ConvTransposeCorrectnessTest.test_conv3d_transpose.
TRANSPOSE_3D = [
    (5, 2, 2, "valid", None, (2, 16, 16, 16, 5)),
    (6, 2, 3, "same", 2, (2, 23, 23, 23, 6)),
    (6, (2, 2, 3), (2, 1, 2), "valid", None, (2, 16, 9, 17, 6)),
]


@pytest.mark.parametrize("filters, kernel_size, strides, padding, output_padding, expected", TRANSPOSE_3D)
def test_keras_conv3d_transpose_shapes_and_numbers(filters, kernel_size, strides, padding, output_padding,
                                                    expected):
    rng = np.random.default_rng(2)
    layer = kr.Conv3DTranspose(filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                               output_padding=output_padding, data_format="channels_last", dilation_rate=1)
    shape = (2, 8, 8, 8, 4)
    assert tuple(layer.compute_output_shape(shape)) == expected
    layer.build(shape)
    assert len(layer.trainable_weights) == 2 and not layer.supports_masking
    inputs = rng.normal(size=shape).astype("float32")
    kernel = rng.normal(size=tuple(layer.kernel.shape)).astype("float32")
    bias = rng.normal(size=(filters,)).astype("float32")
    layer.set_weights([kernel, bias])
    expected_values = np_conv_transpose(inputs.astype("float64"), kernel, bias, strides, padding, output_padding)
    outputs = run(layer, inputs)
    assert outputs.shape == expected
    np.testing.assert_allclose(outputs, expected_values, atol=1e-5, rtol=1e-6)


@pytest.mark.parametrize("name, shape", [("Conv1DTranspose", (1, 8, 3)), ("Conv2DTranspose", (1, 5, 5, 3)),
                                         ("Conv3DTranspose", (1, 5, 5, 5, 3))])
def test_keras_output_padding_serialization(name, shape):
    layer = getattr(kr, name)(2, 3, strides=2, output_padding=1)
    config = layer.get_config()
    assert "output_padding" in config
    revived = getattr(kr, name).from_config(config)
    assert revived.output_padding == layer.output_padding
    assert revived.compute_output_shape(shape) == layer.compute_output_shape(shape)
