"""Keras 3's keras/src/layers/convolutional/conv_transpose_test.py, its Conv1DTranspose and Conv2DTranspose
cases, ported to kr with Keras's parameters, expected shapes and tolerances (Conv3DTranspose's are in
test_keras_conv_cases.py, whose NumPy reference, our own, these cases share)."""
import itertools

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test
from tests.layers.convolutional.test_keras_conv_cases import np_conv_transpose

BASIC = [
    # (layer, filters, kernel_size, strides, padding, output_padding, data_format, dilation, input, output)
    ("Conv1DTranspose", 5, 2, 2, "valid", None, "channels_last", 1, (2, 8, 4), (2, 16, 5)),
    ("Conv1DTranspose", 6, 2, 3, "same", 2, "channels_last", (1,), (2, 8, 4), (2, 23, 6)),
    ("Conv1DTranspose", 6, (2,), (2,), "valid", None, "channels_last", 1, (2, 8, 4), (2, 16, 6)),
    ("Conv2DTranspose", 5, 2, 2, "valid", None, "channels_last", 1, (2, 8, 8, 4), (2, 16, 16, 5)),
    ("Conv2DTranspose", 6, 2, 3, "same", 2, "channels_last", (1, 1), (2, 8, 8, 4), (2, 23, 23, 6)),
    ("Conv2DTranspose", 6, (2, 3), (2, 1), "valid", None, "channels_first", (1, 1), (2, 4, 8, 8), (2, 6, 16, 10)),
    ("Conv2DTranspose", 2, (7, 7), (16, 16), "valid", None, "channels_last", (1, 1), (1, 14, 14, 2),
     (1, 224, 224, 2)),
]


def transpose_kwargs(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate):
    return {"filters": filters, "kernel_size": kernel_size, "strides": strides, "padding": padding,
            "output_padding": output_padding, "data_format": data_format, "dilation_rate": dilation_rate}


# conv_transpose_test.py: test_conv1d_transpose_basic / test_conv2d_transpose_basic.
@pytest.mark.parametrize("case", BASIC)
def test_conv_transpose_basic(case):
    layer, *arguments, input_shape, output_shape = case
    run_layer_test(getattr(kr, layer), init_kwargs=transpose_kwargs(*arguments), input_shape=input_shape,
                   expected_output_shape=output_shape, expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=False)


# conv_transpose_test.py: test_output_padding_serialization.
@pytest.mark.parametrize("layer, input_shape", [("Conv1DTranspose", (1, 8, 3)), ("Conv2DTranspose", (1, 5, 5, 3))])
def test_output_padding_serialization(layer, input_shape):
    layer_cls = getattr(kr, layer)
    original = layer_cls(2, 3, strides=2, output_padding=1)
    config = original.get_config()
    assert "output_padding" in config
    revived = layer_cls.from_config(config)
    assert original.output_padding == revived.output_padding
    assert tuple(original.compute_output_shape(input_shape)) == tuple(revived.compute_output_shape(input_shape))


CORRECTNESS = [
    ("Conv1DTranspose", [2, 8, 4], (5, 2, 2, "valid", None, "channels_last", 1)),
    ("Conv1DTranspose", [2, 8, 4], (6, 2, 3, "same", 2, "channels_last", (1,))),
    ("Conv1DTranspose", [2, 8, 4], (6, (2,), (2,), "valid", None, "channels_last", 1)),
    ("Conv2DTranspose", [2, 14, 14, 4], (5, 2, 2, "valid", None, "channels_last", 1)),
    ("Conv2DTranspose", [2, 14, 14, 4], (6, 7, 16, "same", 2, "channels_last", (1, 1))),
    ("Conv2DTranspose", [2, 14, 14, 4], (6, (2, 3), (2, 1), "valid", None, "channels_last", (1, 1))),
    ("Conv2DTranspose", [2, 14, 14, 4], (2, (7, 7), (16, 16), "valid", None, "channels_last", (1, 1))),
]


def run(layer, kernel, bias, inputs):
    layer.build(tuple(inputs.shape))
    with torch.no_grad():
        layer.kernel.copy_(torch.as_tensor(kernel))
        if bias is not None:
            layer.bias.copy_(torch.as_tensor(bias))
    return layer(torch.as_tensor(inputs, dtype=torch.float32)).detach().numpy()


# conv_transpose_test.py: ConvTransposeCorrectnessTest, test_conv{1,2}d_transpose (atol 1e-5).
@pytest.mark.parametrize("layer, input_shape, arguments", CORRECTNESS)
def test_conv_transpose_correctness(layer, input_shape, arguments):
    kwargs = transpose_kwargs(*arguments)
    conv = getattr(kr, layer)(**kwargs)
    inputs = np.random.normal(size=input_shape)
    conv.build(tuple(input_shape))
    kernel = np.random.normal(size=tuple(conv.kernel.shape))
    bias = np.random.normal(size=(kwargs["filters"],))
    outputs = run(conv, kernel, bias, inputs)
    expected = np_conv_transpose(inputs, kernel, bias, kwargs["strides"], kwargs["padding"], kwargs["output_padding"])
    np.testing.assert_allclose(outputs, expected, atol=1e-5, rtol=1e-6)


def _valid_products():
    for kernel_size, strides, padding, output_padding in itertools.product(
            range(1, 5), range(1, 5), ["same", "valid"], [None, 1, 2, 3, 4]):
        if output_padding is None or output_padding < strides:   # Keras skips the others
            yield kernel_size, strides, padding, output_padding


# conv_transpose_test.py: test_conv1d_transpose_consistency (Keras's default data format, channels_last).
@pytest.mark.parametrize("kernel_size, strides, padding, output_padding", list(_valid_products()))
def test_conv1d_transpose_consistency(kernel_size, strides, padding, output_padding):
    inputs = np.ones((1, 3, 1))
    kernel = np.arange(1, kernel_size + 1, dtype="float64").reshape((kernel_size, 1, 1))
    expected = np_conv_transpose(inputs, kernel, np.zeros((1,)), strides, padding, output_padding)
    layer = kr.Conv1DTranspose(filters=1, kernel_size=kernel_size, strides=strides, padding=padding,
                               output_padding=output_padding, dilation_rate=1)
    layer.build(inputs.shape)
    with torch.no_grad():
        layer.kernel.copy_(torch.as_tensor(kernel))
    outputs = layer(torch.as_tensor(inputs, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(outputs, expected, atol=1e-5, rtol=1e-6)


# conv_transpose_test.py: test_shape_inference_static_unknown_shape.
@pytest.mark.parametrize("kernel_size, strides, padding, output_padding", list(_valid_products()))
def test_shape_inference_static_unknown_shape(kernel_size, strides, padding, output_padding):
    x = kr.Input(shape=(None, None, 3))
    y = kr.Conv2DTranspose(filters=2, kernel_size=kernel_size, strides=strides, padding=padding,
                           output_padding=output_padding, dilation_rate=1)(x)
    assert tuple(y.shape) == (None, None, None, 2)


# conv_transpose_test.py: test_bad_init_args (Conv3DTranspose's case is in test_keras_conv_cases.py), with
# Keras's own patterns.
@pytest.mark.parametrize("make, message", [
    (lambda: kr.Conv1DTranspose(filters=0, kernel_size=1),
     "Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0."),
    (lambda: kr.Conv2DTranspose(filters=2, kernel_size=(1, 0)),
     r"The `kernel_size` argument must be a tuple of \d+ integers. Received kernel_size=\(1, 0\), including values"
     r" \{0\} that do not satisfy `value > 0`"),
    (lambda: kr.Conv2DTranspose(filters=2, kernel_size=(2, 2), strides=(1, 0)),
     r"The `strides` argument must be a tuple of \d+ integers. Received strides=\(1, 0\), including values \{0\} "
     r"that do not satisfy `value > 0`"),
    (lambda: kr.Conv1DTranspose(filters=2, kernel_size=3, strides=2, output_padding=2), r"`output_padding` must be strictly less than `strides`"),
    (lambda: kr.Conv2DTranspose(filters=2, kernel_size=3, strides=2, output_padding=3), r"`output_padding` must be strictly less than `strides`"),
    (lambda: kr.Conv2DTranspose(filters=2, kernel_size=3, strides=(2, 3), output_padding=(1, 3)), r"`output_padding` must be strictly less than `strides`"),
    (lambda: kr.Conv2DTranspose(filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1)),
     r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=\(2, 2\) and "
     r"dilation_rate=\(2, 1\)"),
    (lambda: kr.Conv1DTranspose(filters=2, kernel_size=2, strides=2, output_padding=2), r"`output_padding` must be strictly less than `strides`"),
    (lambda: kr.Conv2DTranspose(filters=16, kernel_size=3, strides=[1, 1], output_padding=1), r"`output_padding` must be strictly less than `strides`"),
])
def test_bad_init_args(make, message):
    with pytest.raises(ValueError, match=message):
        make()
