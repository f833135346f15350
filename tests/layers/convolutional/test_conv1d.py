"""Conv1D against keras.layers.Conv1D: padding modes (Keras's asymmetric "same"), strides, dilation, groups, masks."""
import keras
import pytest
import torch
from keras.src import backend as keras_backend

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

BATCH, STEPS, CHANNELS, FILTERS = 2, 9, 4, 6
CONFIG_ONLY = {"kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
               "activity_regularizer", "kernel_constraint", "bias_constraint"}

CASES = {
    "valid_k3": {"kernel_size": 3},
    "same_k3": {"kernel_size": 3, "padding": "same"},
    "same_k4_even": {"kernel_size": 4, "padding": "same"},
    "same_k3_stride2": {"kernel_size": 3, "padding": "same", "strides": 2},
    "same_k4_stride3": {"kernel_size": 4, "padding": "same", "strides": 3},
    "same_k2_dilation3": {"kernel_size": 2, "padding": "same", "dilation_rate": 3},
    "valid_k2_stride2": {"kernel_size": 2, "strides": 2},
    "causal_k3": {"kernel_size": 3, "padding": "causal"},
    "causal_k3_dilation2": {"kernel_size": 3, "padding": "causal", "dilation_rate": 2},
    "groups2_relu": {"kernel_size": 3, "groups": 2, "activation": "relu"},
    "no_bias_tanh": {"kernel_size": 1, "use_bias": False, "activation": "tanh"},
    "channels_first_same_stride2": {"kernel_size": 3, "padding": "same", "strides": 2,
                                    "data_format": "channels_first"},
}


def make_pair(kwargs, shape):
    theirs = keras.layers.Conv1D(FILTERS, **kwargs)
    theirs.build(shape)
    random_weights(theirs)
    ours = kr.Conv1D(FILTERS, **kwargs, input_shape=shape[1:])
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.parametrize("steps", [STEPS, 8], ids=["odd_steps", "even_steps"])
@pytest.mark.parametrize("case", CASES)
def test_conv1d_matches_keras_outputs_and_gradients(case, steps):
    kwargs = CASES[case]
    shape = (BATCH, CHANNELS, steps) if kwargs.get("data_format") == "channels_first" else (BATCH, steps, CHANNELS)
    ours, theirs = make_pair(kwargs, shape)
    x = torch.randn(shape)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    for weight, ref_weight in zip(ours.parameters(), theirs.weights, strict=True):
        assert_close(weight.grad, ref_weight.value.grad, GRAD_ATOL, f"d/d {ref_weight.path}")


def test_conv1d_causal_output_does_not_see_the_future():
    layer = kr.Conv1D(3, 3, padding="causal", dilation_rate=2)
    x = torch.randn(1, 10, 2)
    later = x.clone()
    later[:, 6:] += 5.0
    assert torch.equal(layer(x)[:, :6], layer(later)[:, :6])


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
def test_conv1d_weights_shapes_names_and_count_match_keras(use_bias):
    theirs = keras.layers.Conv1D(FILTERS, 3, groups=2, use_bias=use_bias)
    theirs.build((None, STEPS, CHANNELS))
    ours = kr.Conv1D(FILTERS, 3, groups=2, use_bias=use_bias, input_dim=CHANNELS)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert ours.get_weights()[0].shape == (3, CHANNELS // 2, FILTERS)
    assert [n for n, _ in ours.named_parameters()] == [w.name for w in theirs.weights]
    assert ours.count_params() == theirs.count_params() == sum(p.numel() for p in ours.parameters())


def test_conv1d_builds_lazily_from_the_channel_axis():
    layer = kr.Conv1D(FILTERS, 2)
    assert not layer.built
    assert layer(torch.randn(BATCH, 5, 3)).shape == (BATCH, 4, FILTERS)
    assert tuple(layer.kernel.shape) == (2, 3, FILTERS)


def test_conv1d_drops_the_mask_like_keras():
    mask = torch.tensor([[True, True, False], [True, False, False]])
    x = torch.randn(2, 3, CHANNELS)
    theirs = keras.layers.Conv1D(FILTERS, 1)
    keras_input = x.clone()
    keras_backend.set_keras_mask(keras_input, mask)
    with pytest.warns(UserWarning, match="does not support masking"):
        keras_output = theirs(keras_input)
    assert keras_backend.get_keras_mask(keras_output) is None
    ours = kr.Conv1D(FILTERS, 1)
    assert ours.compute_mask(x, mask) is None
    with pytest.warns(UserWarning, match="does not support masking"):
        ours(x, mask=mask)


def test_conv1d_records_activity_and_kernel_regularization():
    layer = kr.Conv1D(FILTERS, 3, input_dim=CHANNELS, kernel_regularizer=kr.regularizers.L2(0.1),
                      activity_regularizer=lambda y: y.abs().sum())
    out = layer(torch.randn(BATCH, STEPS, CHANNELS))
    kernel_term, activity_term = layer.losses
    assert torch.allclose(kernel_term, 0.1 * layer.kernel.square().sum())
    assert torch.allclose(activity_term, out.abs().sum() / BATCH)


@pytest.mark.parametrize("kwargs", [{"kernel_size": 3}, {"kernel_size": (2,), "strides": 2, "padding": "same",
                                                          "activation": "relu", "groups": 3,
                                                          "data_format": "channels_first"}],
                         ids=["defaults", "everything_set"])
def test_conv1d_config_matches_keras_and_round_trips(kwargs):
    mine, ref = kr.Conv1D(FILTERS, **kwargs).get_config(), keras.layers.Conv1D(FILTERS, **kwargs).get_config()
    assert set(mine) == set(ref)
    for key in set(ref) - CONFIG_ONLY - {"name"}:
        assert mine[key] == ref[key], key
    assert kr.Conv1D.from_config(mine).get_config() == mine
    assert kr.Conv1D(2, 3).name.split("_")[0] == "conv1d"       # Keras's automatic name


ERRORS = [
    ({"filters": 0, "kernel_size": 3}, None, ValueError, "Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0."),
    ({"filters": 2, "kernel_size": 0}, None, ValueError, r"The `kernel_size` argument must be a tuple of 1 integers. Received kernel_size=0, including values \{0\}"),
    ({"filters": 2, "kernel_size": (3, 3)}, None, ValueError, "`kernel_size` must be a positive integer or a tuple of 1"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"}, None, ValueError, "`padding` must be one of"),
    ({"filters": 2, "kernel_size": 3, "data_format": "nwc"}, None, ValueError, "`data_format` must be one of"),
    ({"filters": 3, "kernel_size": 3, "groups": 2}, None, ValueError, r"The number of filters must be evenly divisible by the number of groups. Received: groups=2, filters=3."),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, None, ValueError,
     "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    ({"filters": 2, "kernel_size": 3, "groups": 2}, (2, 5, 3), ValueError, "3 channels must be divisible"),
    ({"filters": 2, "kernel_size": 3}, (2, 5), ValueError, r"\(batch, steps, channels\).*2-D shape"),
    ({"filters": 2, "kernel_size": 4}, (2, 3, 1), ValueError, "a spatial size of 3 .* smaller than the kernel's span of 4"),
    ({"filters": 2, "kernel_size": 3, "input_dim": 4}, (2, 5, 3), ValueError, r"built for 3-D inputs .* with 4 channels"),
]


@pytest.mark.parametrize("kwargs, shape, error, pattern", ERRORS, ids=[p for *_, p in ERRORS])
def test_conv1d_rejects_bad_arguments_and_inputs(kwargs, shape, error, pattern):
    with pytest.raises(error, match=pattern):
        kr.Conv1D(**kwargs)(torch.randn(shape))


def test_conv1d_rejects_integer_input():
    with pytest.raises(TypeError, match="floating-point inputs"):
        kr.Conv1D(2, 1)(torch.ones(1, 3, 2, dtype=torch.long))


def test_conv1d_lstm_layer_norm_dense_model_matches_keras():
    # A keras.io-style sequence model: Conv1D features, an LSTM over them, LayerNormalization, a Dense head.
    theirs = keras.Sequential([keras.Input((STEPS, CHANNELS)),
                               keras.layers.Conv1D(8, 3, padding="causal", activation="relu"),
                               keras.layers.Conv1D(8, 3, padding="same", strides=2),
                               keras.layers.LSTM(5, return_sequences=True),
                               keras.layers.LayerNormalization(),
                               keras.layers.Dense(3)])
    for layer in theirs.layers:
        random_weights(layer)
    ours = kr.Sequential([kr.Conv1D(8, 3, padding="causal", activation="relu", input_shape=(STEPS, CHANNELS)),
                          kr.Conv1D(8, 3, padding="same", strides=2),
                          kr.LSTM(5, return_sequences=True),
                          kr.LayerNormalization(),
                          kr.Dense(3)])
    ours.set_weights(theirs.get_weights())
    assert ours.count_params() == theirs.count_params()
    x = torch.randn(BATCH, STEPS, CHANNELS)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert out_ours.shape == (BATCH, 5, 3)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "model output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    for weight, ref_weight in zip(ours.parameters(), theirs.weights, strict=True):
        assert_close(weight.grad, ref_weight.value.grad, GRAD_ATOL, f"d/d {ref_weight.path}")


@pytest.mark.parametrize("case", ["valid_k3", "same_k4_stride3", "causal_k3", "channels_first_same_stride2"])
def test_conv1d_adds_its_bias_after_the_convolution_as_keras_does(case):
    """The same float32 roundings as Keras (bias added to the convolution's output, not fused into it): equal
    bit for bit on wide inputs, where a fused bias differs in the last place."""
    kwargs = CASES[case]
    steps, channels = 24, 32
    shape = (BATCH, channels, steps) if kwargs.get("data_format") == "channels_first" else (BATCH, steps, channels)
    ours, theirs = make_pair(kwargs, shape)
    x = 3 * torch.randn(shape)
    assert_close(ours(x), theirs(x), 0.0, "output")
