"""Keras 3's ConvLSTM tests (keras/src/layers/rnn: conv_lstm_test.py, conv_lstm1d_test.py, conv_lstm2d_test.py,
conv_lstm3d_test.py), ported to kr (Keras's numbers and tolerances; channels_last, Keras's default). Keras's
`ConvLSTM(rank=2, ...)` base class is Keras-internal; kr's ConvLSTM2D is that layer. ConvLSTM has no fused
kernel: the loop path is its only path (`layer.dispatch_reason()` says so)."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def close(actual, expected, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(numpy(actual), np.asarray(expected), atol=atol, rtol=rtol)


def test_conv_lstm_cell_correctness():
    x = np.arange(150).reshape((2, 5, 5, 3)).astype("float32") / 10
    s1 = np.arange(200).reshape((2, 5, 5, 4)).astype("float32") / 10
    s2 = np.arange(200).reshape((2, 5, 5, 4)).astype("float32") / 10
    layer = kr.ConvLSTMCell(rank=2, filters=4, kernel_size=3, padding="same",
                            kernel_initializer=kr.initializers.Constant(0.01),
                            recurrent_initializer=kr.initializers.Constant(0.02))
    output = layer(torch.as_tensor(x), [torch.as_tensor(s1), torch.as_tensor(s2)])
    close(np.sum(numpy(output[0])), 188.89502)
    close(np.sum(numpy(output[1][0])), 188.89502)
    close(np.sum(numpy(output[1][1])), 2170.444)


def test_conv_lstm_correctness():
    x = np.arange(450).reshape((2, 3, 5, 5, 3)).astype("float32") / 100
    s1 = np.arange(200).reshape((2, 5, 5, 4)).astype("float32") / 100
    s2 = np.arange(200).reshape((2, 5, 5, 4)).astype("float32") / 100
    layer = kr.ConvLSTM2D(filters=4, kernel_size=3, padding="same",
                          kernel_initializer=kr.initializers.Constant(0.01),
                          recurrent_initializer=kr.initializers.Constant(0.02))
    output = layer(torch.as_tensor(x), initial_state=[torch.as_tensor(s1), torch.as_tensor(s2)])
    close(np.sum(numpy(output)), 119.812454)


BASICS = {
    kr.ConvLSTM1D: [
        ({"padding": "same"}, (3, 2, 4, 3), None, (3, 4, 5)),
        ({"padding": "valid", "recurrent_dropout": 0.5}, (3, 2, 8, 3), {"training": True}, (3, 6, 5)),
        ({"padding": "valid", "return_sequences": True}, (3, 2, 8, 3), None, (3, 2, 6, 5)),
    ],
    kr.ConvLSTM2D: [
        ({"padding": "same"}, (3, 2, 4, 4, 3), None, (3, 4, 4, 5)),
        ({"padding": "valid", "recurrent_dropout": 0.5}, (3, 2, 8, 8, 3), {"training": True}, (3, 6, 6, 5)),
        ({"padding": "valid", "return_sequences": True}, (3, 2, 8, 8, 3), None, (3, 2, 6, 6, 5)),
    ],
    kr.ConvLSTM3D: [
        ({"padding": "same"}, (3, 2, 4, 4, 4, 3), None, (3, 4, 4, 4, 5)),
        ({"padding": "valid", "recurrent_dropout": 0.5}, (3, 2, 8, 8, 8, 3), {"training": True}, (3, 6, 6, 6, 5)),
        ({"padding": "valid", "return_sequences": True}, (3, 2, 8, 8, 8, 3), None, (3, 2, 6, 6, 6, 5)),
    ],
}
CASES = [(cls, *case) for cls, cases in BASICS.items() for case in cases]


@pytest.mark.parametrize("layer_class, init_kwargs, input_shape, call_kwargs, output_shape", CASES,
                         ids=[f"{c[0].__name__}-{i % 3}" for i, c in enumerate(CASES)])
def test_basics(layer_class, init_kwargs, input_shape, call_kwargs, output_shape):
    run_layer_test(layer_class, init_kwargs={"filters": 5, "kernel_size": 3, **init_kwargs}, input_shape=input_shape,
                   call_kwargs=call_kwargs, expected_output_shape=output_shape, expected_num_trainable_weights=3,
                   expected_num_non_trainable_weights=0, supports_masking=True)


def _constant_layer(layer_class):
    return layer_class(filters=2, kernel_size=3, kernel_initializer=kr.initializers.Constant(0.01),
                       recurrent_initializer=kr.initializers.Constant(0.02),
                       bias_initializer=kr.initializers.Constant(0.03))


def test_conv_lstm1d_correctness():
    sequence = np.arange(120).reshape((2, 3, 4, 5)).astype("float32") / 10
    expected = np.array([[[0.40807986, 0.40807986], [0.46421072, 0.46421072]],
                         [[0.80933154, 0.80933154], [0.8233646, 0.8233646]]])
    close(_constant_layer(kr.ConvLSTM1D)(torch.as_tensor(sequence)), expected)


def test_conv_lstm2d_correctness():
    sequence = np.arange(480).reshape((2, 3, 4, 4, 5)).astype("float32") / 100
    expected = np.array([
        [[[0.48694518, 0.48694518], [0.50237733, 0.50237733]], [[0.5461202, 0.5461202], [0.5598283, 0.5598283]]],
        [[[0.8661607, 0.8661607], [0.86909103, 0.86909103]], [[0.8774414, 0.8774414], [0.8800861, 0.8800861]]],
    ])
    close(_constant_layer(kr.ConvLSTM2D)(torch.as_tensor(sequence)), expected)


def test_conv_lstm3d_correctness():
    sequence = np.arange(1920).reshape((2, 3, 4, 4, 4, 5)).astype("float32") / 100
    first = [[[[0.99149036, 0.99149036], [0.99180907, 0.99180907]], [[0.99258363, 0.99258363], [0.9927925, 0.9927925]]],
             [[[0.99413764, 0.99413764], [0.99420583, 0.99420583]], [[0.9943788, 0.9943788], [0.9944278, 0.9944278]]]]
    expected = np.stack([np.array(first), np.full((2, 2, 2, 2), 0.9950547)])     # Keras's second sample: all equal
    close(_constant_layer(kr.ConvLSTM3D)(torch.as_tensor(sequence)), expected)


@pytest.mark.parametrize("layer_class", [kr.ConvLSTM1D, kr.ConvLSTM2D, kr.ConvLSTM3D])
def test_symbolic_invalid_strides_dilation_rate(layer_class):
    with pytest.raises(ValueError, match=r"Specifying `strides > 1` is not compatible with `dilation_rate > 1`"):
        layer_class(filters=1, kernel_size=1, strides=2, padding="same", dilation_rate=3, return_sequences=True)
