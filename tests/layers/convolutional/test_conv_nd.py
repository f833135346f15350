"""Conv2D, Conv3D and the transposed Conv1D/2D/3D against their keras.layers namesakes (torch backend)."""
import re

import keras
import numpy as np
import pytest
import torch
from keras.src import backend as keras_backend

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum


def automatic_name(layer):
    """A layer's automatic name without the counter Keras and kr add ("conv3d_transpose_2" -> "conv3d_transpose")."""
    return re.sub(r"_\d+$", "", layer.name)

CONFIG_ONLY = {"kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
               "activity_regularizer", "kernel_constraint", "bias_constraint"}
CHANNELS, FILTERS = 4, 6

CASES = [
    ("Conv2D", {"kernel_size": 3}, (2, 7, 6)),
    ("Conv2D", {"kernel_size": (3, 2), "padding": "same", "strides": 2}, (2, 7, 6)),
    ("Conv2D", {"kernel_size": (4, 3), "padding": "same", "strides": (3, 2)}, (2, 8, 7)),
    ("Conv2D", {"kernel_size": 2, "padding": "same", "dilation_rate": (2, 3)}, (2, 7, 8)),
    ("Conv2D", {"kernel_size": 3, "groups": 2, "activation": "relu", "use_bias": False}, (2, 6, 6)),
    ("Conv2D", {"kernel_size": 3, "padding": "same", "strides": 2, "data_format": "channels_first"}, (2, 7, 6)),
    ("Conv3D", {"kernel_size": 2}, (2, 4, 5, 4)),
    ("Conv3D", {"kernel_size": 3, "padding": "same", "strides": (1, 2, 2), "activation": "tanh"}, (2, 4, 5, 6)),
    ("Conv3D", {"kernel_size": (2, 3, 3), "padding": "same", "data_format": "channels_first"}, (2, 3, 5, 4)),
    ("Conv1DTranspose", {"kernel_size": 3}, (2, 5)),
    ("Conv1DTranspose", {"kernel_size": 3, "strides": 2, "padding": "same"}, (2, 5)),
    ("Conv1DTranspose", {"kernel_size": 4, "strides": 2, "padding": "same"}, (2, 5)),
    ("Conv1DTranspose", {"kernel_size": 2, "strides": 3}, (2, 5)),
    ("Conv1DTranspose", {"kernel_size": 3, "strides": 3, "padding": "same", "output_padding": 2}, (2, 5)),
    ("Conv1DTranspose", {"kernel_size": 4, "strides": 2, "padding": "valid", "output_padding": 1}, (2, 5)),
    ("Conv1DTranspose", {"kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 6)),
    ("Conv1DTranspose", {"kernel_size": 5, "strides": 2, "padding": "same", "data_format": "channels_first"},
     (2, 6)),
    ("Conv2DTranspose", {"kernel_size": 3, "strides": 2, "padding": "same"}, (2, 4, 5)),
    ("Conv2DTranspose", {"kernel_size": (2, 3), "strides": (2, 1), "activation": "relu"}, (2, 4, 5)),
    ("Conv2DTranspose", {"kernel_size": 3, "strides": 2, "padding": "same", "output_padding": (1, 0),
                         "data_format": "channels_first"}, (2, 4, 5)),
    ("Conv3DTranspose", {"kernel_size": 2}, (2, 3, 4, 3)),
    ("Conv3DTranspose", {"kernel_size": 3, "strides": 2, "padding": "same"}, (2, 3, 4, 2)),
    ("Conv3DTranspose", {"kernel_size": (2, 3, 3), "strides": (1, 2, 3), "padding": "same",
                         "output_padding": (0, 1, 2), "activation": "relu"}, (2, 2, 3, 2)),
    ("Conv3DTranspose", {"kernel_size": 3, "dilation_rate": (1, 2, 1), "data_format": "channels_first"},
     (2, 2, 3, 3)),
]


def shape_of(kwargs, spatial, channels=CHANNELS):
    batch, *sizes = spatial
    if kwargs.get("data_format") == "channels_first":
        return (batch, channels, *sizes)
    return (batch, *sizes, channels)


def make_pair(name, kwargs, shape):
    theirs = getattr(keras.layers, name)(FILTERS, **kwargs)
    theirs.build(shape)
    random_weights(theirs)
    ours = getattr(kr, name)(FILTERS, **kwargs)
    ours.build(shape)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.parametrize("name, kwargs, spatial", CASES, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(CASES)])
def test_conv_matches_keras_outputs_gradients_and_shapes(name, kwargs, spatial):
    shape = shape_of(kwargs, spatial)
    ours, theirs = make_pair(name, kwargs, shape)
    x = torch.randn(shape)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    for weight, ref_weight in zip(ours.parameters(), theirs.weights, strict=True):
        assert_close(weight.grad, ref_weight.value.grad, GRAD_ATOL, f"d/d {ref_weight.path}")
    assert [n for n, _ in ours.named_parameters()] == [w.name for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("name, kwargs", [
    ("Conv2D", {"kernel_size": 3}),
    ("Conv3D", {"kernel_size": (1, 2, 3), "strides": 2, "padding": "same", "groups": 2, "activation": "relu",
                "data_format": "channels_first"}),
    ("Conv1DTranspose", {"kernel_size": 3}),
    ("Conv1DTranspose", {"kernel_size": 3, "strides": 2, "output_padding": 1, "padding": "SAME"}),
    ("Conv2DTranspose", {"kernel_size": (2, 3), "strides": 2, "output_padding": (1, 0), "dilation_rate": 1}),
    ("Conv3DTranspose", {"kernel_size": 3}),
    ("Conv3DTranspose", {"kernel_size": (1, 2, 3), "strides": (2, 1, 2), "output_padding": (1, 0, 0),
                         "padding": "same", "data_format": "channels_first", "use_bias": False}),
])
def test_conv_config_matches_keras_and_round_trips(name, kwargs):
    mine, ref = getattr(kr, name)(FILTERS, **kwargs).get_config(), getattr(keras.layers, name)(
        FILTERS, **kwargs).get_config()
    assert set(mine) == set(ref)
    for key in set(ref) - CONFIG_ONLY - {"name"}:
        assert mine[key] == ref[key], key
    assert getattr(kr, name).from_config(mine).get_config() == mine
    assert automatic_name(getattr(kr, name)(2, 3)) == automatic_name(getattr(keras.layers, name)(2, 3))


@pytest.mark.parametrize("name", ["Conv2D", "Conv1DTranspose"])
def test_conv_drops_the_mask_like_keras(name):
    x = torch.randn(2, 3, 3, CHANNELS) if name == "Conv2D" else torch.randn(2, 3, CHANNELS)
    mask = torch.ones(x.shape[:-1], dtype=torch.bool)
    theirs = getattr(keras.layers, name)(FILTERS, 1)
    keras_input = x.clone()
    keras_backend.set_keras_mask(keras_input, mask)
    with pytest.warns(UserWarning, match="does not support masking"):
        assert keras_backend.get_keras_mask(theirs(keras_input)) is None
    ours = getattr(kr, name)(FILTERS, 1)
    assert ours.compute_mask(x, mask) is None
    with pytest.warns(UserWarning, match="does not support masking"):
        ours(x, mask=mask)


ERRORS = [
    ("Conv2D", {"filters": 0, "kernel_size": 3}, None, "Invalid value for argument `filters`. Expected a strictly positive value"),
    ("Conv2D", {"filters": 2, "kernel_size": (3, 3, 3)}, None, "`kernel_size` must be a positive integer or a tuple of 2"),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "causal"}, None, "`padding` must be one of"),
    ("Conv2D", {"filters": 3, "kernel_size": 3, "groups": 2}, None, r"The number of filters must be evenly divisible by the number of groups. Received: groups=2, filters=3."),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, None,
     "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    ("Conv2D", {"filters": 2, "kernel_size": 3}, (2, 5, 3), r"expects inputs of shape \(batch, rows, cols"),
    ("Conv2D", {"filters": 2, "kernel_size": 4}, (2, 3, 5, 1), "smaller than the kernel's span of 4"),
    ("Conv3D", {"filters": 2, "kernel_size": 3, "groups": 2}, (1, 3, 3, 3, 3), "3 channels must be divisible"),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2}, None,
     "`output_padding` must be strictly less than `strides`"),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "padding": "causal"}, None, "`padding` must be one of"),
]


@pytest.mark.parametrize("name, kwargs, shape, pattern", ERRORS, ids=[p for *_, p in ERRORS])
def test_conv_rejects_bad_arguments_and_inputs(name, kwargs, shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(kr, name)(**kwargs)(torch.randn(shape))


def test_conv_input_dim_means_the_channels():
    assert kr.Conv2D(2, 3, input_dim=5).kernel.shape == (3, 3, 5, 2)
    assert kr.Conv1DTranspose(2, 3, input_dim=5, data_format="channels_first").kernel.shape == (3, 2, 5)
    assert kr.Conv2DTranspose(2, 3, input_shape=(None, None, 5)).kernel.shape == (3, 3, 2, 5)
    assert kr.Conv3DTranspose(2, (1, 2, 3), input_dim=5).kernel.shape == (1, 2, 3, 2, 5)


def test_conv_transpose_is_the_adjoint_of_the_convolution():
    # <conv(x), y> == <x, conv_transpose(y)> for a shared kernel laid out as each layer keeps it.
    conv = kr.Conv1D(3, 4, strides=2, use_bias=False, input_dim=2)
    deconv = kr.Conv1DTranspose(2, 4, strides=2, use_bias=False, input_dim=3)
    with torch.no_grad():
        deconv.kernel.copy_(conv.kernel)
    x, y = torch.randn(1, 10, 2), torch.randn(1, 4, 3)
    assert torch.allclose((conv(x) * y).sum(), (x * deconv(y)[:, :10]).sum(), atol=1e-5)


def test_conv3d_next_frame_model_matches_keras():
    # The keras.io conv_lstm next-frame shape of model, small: ConvLSTM2D frames into a Conv3D head.
    shape = (4, 6, 6, 1)
    theirs = keras.Sequential([keras.Input(shape), keras.layers.ConvLSTM2D(3, 3, padding="same",
                                                                           return_sequences=True),
                               keras.layers.Conv3D(1, 3, padding="same", activation="sigmoid")])
    for layer in theirs.layers:
        random_weights(layer)
    ours = kr.Sequential([kr.Input(shape), kr.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                          kr.Conv3D(1, 3, padding="same", activation="sigmoid")])
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype("float32")
    assert_close(ours(torch.from_numpy(x)), theirs(x), OUTPUT_ATOL, "model output")
