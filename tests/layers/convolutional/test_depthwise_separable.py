"""DepthwiseConv1D/2D and SeparableConv1D/2D against their keras.layers namesakes (torch backend):
outputs and gradients, weights (names, layout, order), configs, masks, regularizers, errors."""
import re

import keras
import numpy as np
import pytest
import torch
from keras.src import backend as keras_backend

import kerasrnn_torch as kr
from reference import assert_close, random_weights, weighted_sum


def automatic_name(layer):
    """A layer's automatic name without the counter Keras and kr add ("conv3d_transpose_2" -> "conv3d_transpose")."""
    return re.sub(r"_\d+$", "", layer.name)

OUTPUT_ATOL, GRAD_ATOL = 1e-6, 1e-5
CHANNELS = 4
CONFIG_ONLY = {"depthwise_initializer", "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
               "pointwise_regularizer", "bias_regularizer", "activity_regularizer", "depthwise_constraint",
               "pointwise_constraint", "bias_constraint"}

CASES = [
    ("DepthwiseConv1D", {"kernel_size": 3}, (2, 9)),
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 3, "padding": "same", "strides": 2}, (2, 9)),
    ("DepthwiseConv1D", {"kernel_size": 4, "padding": "same", "strides": 3, "dilation_rate": 2}, (2, 10)),
    ("DepthwiseConv1D", {"kernel_size": 2, "depth_multiplier": 2, "padding": "same", "activation": "relu",
                         "data_format": "channels_first"}, (2, 7)),
    ("DepthwiseConv1D", {"kernel_size": 3, "use_bias": False, "activation": "tanh"}, (2, 6)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (2, 6, 7)),
    ("DepthwiseConv2D", {"kernel_size": (2, 3), "depth_multiplier": 2, "padding": "same", "strides": (2, 1)},
     (2, 7, 6)),
    ("DepthwiseConv2D", {"kernel_size": 3, "padding": "same", "dilation_rate": (2, 1),
                         "data_format": "channels_first"}, (2, 6, 5)),
    ("SeparableConv1D", {"filters": 5, "kernel_size": 3}, (2, 9)),
    ("SeparableConv1D", {"filters": 6, "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2},
     (2, 9)),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 2, "padding": "same", "dilation_rate": 3,
                         "activation": "relu", "data_format": "channels_first"}, (2, 8)),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "use_bias": False}, (2, 5)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3}, (2, 6, 7)),
    ("SeparableConv2D", {"filters": 2, "kernel_size": (3, 2), "depth_multiplier": 3, "padding": "same",
                         "strides": 2, "data_format": "channels_first"}, (2, 7, 6)),
]


def shape_of(kwargs, spatial, channels=CHANNELS):
    batch, *sizes = spatial
    return (batch, channels, *sizes) if kwargs.get("data_format") == "channels_first" else (batch, *sizes, channels)


@pytest.mark.parametrize("name, kwargs, spatial", CASES, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(CASES)])
def test_depthwise_and_separable_match_keras(name, kwargs, spatial):
    shape = shape_of(kwargs, spatial)
    theirs = getattr(keras.layers, name)(**kwargs)
    theirs.build(shape)
    random_weights(theirs)
    ours = getattr(kr, name)(**kwargs)
    ours.build(shape)
    ours.set_weights(theirs.get_weights())
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
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("name, kwargs", [
    ("DepthwiseConv1D", {"kernel_size": 3}),
    ("DepthwiseConv2D", {"kernel_size": (1, 2), "strides": 2, "padding": "SAME", "depth_multiplier": 4,
                         "activation": "relu", "use_bias": False, "data_format": "channels_first"}),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3}),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "strides": 2, "depth_multiplier": 2,
                         "activation": "tanh"}),
])
def test_depthwise_and_separable_configs_match_keras_and_round_trip(name, kwargs):
    mine, ref = getattr(kr, name)(**kwargs).get_config(), getattr(keras.layers, name)(**kwargs).get_config()
    assert set(mine) == set(ref)
    for key in set(ref) - CONFIG_ONLY - {"name"}:
        assert mine[key] == ref[key], key
    assert getattr(kr, name).from_config(mine).get_config() == mine
    default = {"filters": 2} if name.startswith("Separable") else {}
    assert automatic_name(getattr(kr, name)(kernel_size=3, **default)) == \
        automatic_name(getattr(keras.layers, name)(kernel_size=3, **default))


@pytest.mark.parametrize("name", ["DepthwiseConv1D", "SeparableConv1D"])
def test_depthwise_and_separable_drop_the_mask_like_keras(name):
    x = torch.randn(2, 3, CHANNELS)
    mask = torch.ones(2, 3, dtype=torch.bool)
    args = {"filters": 2} if name == "SeparableConv1D" else {}
    theirs = getattr(keras.layers, name)(kernel_size=1, **args)
    keras_input = x.clone()
    keras_backend.set_keras_mask(keras_input, mask)
    with pytest.warns(UserWarning, match="does not support masking"):
        assert keras_backend.get_keras_mask(theirs(keras_input)) is None
    ours = getattr(kr, name)(kernel_size=1, **args)
    assert ours.compute_mask(x, mask) is None
    with pytest.warns(UserWarning, match="does not support masking"):
        ours(x, mask=mask)


def test_separable_regularizers_and_constraints_reach_their_kernels():
    layer = kr.SeparableConv1D(3, 2, input_dim=CHANNELS, depthwise_regularizer=kr.regularizers.L2(0.1),
                               pointwise_regularizer=kr.regularizers.L1(0.2),
                               pointwise_constraint=kr.constraints.NonNeg())
    layer(torch.randn(2, 5, CHANNELS))
    depthwise_term, pointwise_term = layer.losses
    assert torch.allclose(depthwise_term, 0.1 * layer.depthwise_kernel.square().sum())
    assert torch.allclose(pointwise_term, 0.2 * layer.pointwise_kernel.abs().sum())
    with torch.no_grad():
        layer.pointwise_kernel.fill_(-1.0)
    kr.apply_constraints(layer)
    assert float(layer.pointwise_kernel.detach().min()) == 0.0


def test_depthwise_input_dim_means_the_channels():
    assert tuple(kr.DepthwiseConv1D(3, depth_multiplier=2, input_dim=5).kernel.shape) == (3, 5, 2)
    layer = kr.SeparableConv2D(4, 3, depth_multiplier=2, input_shape=(None, None, 5))
    assert [tuple(w.shape) for w in layer.get_weights()] == [(3, 3, 5, 2), (1, 1, 10, 4), (4,)]


def test_depthwise_is_one_convolution_per_channel():
    # Output channel c * depth_multiplier + m sees input channel c only, as Keras lays it out.
    layer = kr.DepthwiseConv1D(1, depth_multiplier=2, use_bias=False, input_dim=3)
    with torch.no_grad():
        layer.kernel.copy_(torch.tensor([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]]))
    out = layer(torch.tensor([[[1.0, 100.0, 10000.0]]]))
    assert out.flatten().tolist() == [1.0, 10.0, 200.0, 2000.0, 30000.0, 300000.0]


ERRORS = [
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 0}, None, "Invalid value for argument `depth_multiplier`. Expected a strictly positive value"),
    ("DepthwiseConv2D", {"kernel_size": (1, 0)}, None, r"The `kernel_size` argument must be a tuple of 2 integers. Received kernel_size=\(1, 0\)"),
    ("DepthwiseConv2D", {"kernel_size": 2, "strides": (1, 0)}, None, r"The `strides` argument must be a tuple of 2 integers. Received strides=\(1, 0\)"),
    ("DepthwiseConv1D", {"kernel_size": 3, "padding": "causal"}, None, "`padding` must be one of"),
    ("SeparableConv1D", {"filters": 0, "kernel_size": 1}, None, "Invalid value for argument `filters`. Expected a strictly positive value"),
    ("SeparableConv1D", {"filters": 1, "kernel_size": 1, "depth_multiplier": 0}, None,
     "Invalid value for argument `depth_multiplier`. Expected a strictly positive value"),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 11, "strides": 5}, (4, 10, 12),
     "smaller than the kernel's span of 11"),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3}, (2, 5, 3), r"expects inputs of shape \(batch, rows, cols"),
    ("DepthwiseConv1D", {"kernel_size": 3, "input_dim": 4}, (2, 5, 3), r"built for 3-D inputs .* with 4 channels"),
]


@pytest.mark.parametrize("name, kwargs, shape, pattern", ERRORS, ids=[p for *_, p in ERRORS])
def test_depthwise_and_separable_reject_bad_arguments_and_inputs(name, kwargs, shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(kr, name)(**kwargs)(torch.randn(shape))


def test_separable_conv1d_lstm_model_matches_keras():
    # A sequence model of the kind keras.io builds: separable features, then an LSTM, then a Dense head.
    steps = 9
    theirs = keras.Sequential([keras.Input((steps, CHANNELS)),
                               keras.layers.SeparableConv1D(6, 3, padding="same", activation="relu"),
                               keras.layers.DepthwiseConv1D(2, depth_multiplier=2),
                               keras.layers.LSTM(5), keras.layers.Dense(2)])
    for layer in theirs.layers:
        random_weights(layer)
    ours = kr.Sequential([kr.Input((steps, CHANNELS)), kr.SeparableConv1D(6, 3, padding="same", activation="relu"),
                          kr.DepthwiseConv1D(2, depth_multiplier=2), kr.LSTM(5), kr.Dense(2)])
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(0).standard_normal((3, steps, CHANNELS)).astype("float32")
    assert_close(ours(torch.from_numpy(x)), theirs(x), 1e-5, "model output")
