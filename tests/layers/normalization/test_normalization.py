"""LayerNormalization and BatchNormalization against Keras 3: numbers, gradients, moving statistics, masks, config."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

SHAPE = (4, 5, 6)
CONFIG_ONLY = {"beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
               "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}


def make_pair(name, shape, **kwargs):
    theirs = getattr(keras.layers, name)(**kwargs)
    theirs.build(shape)
    weights = random_weights(theirs)
    if name == "BatchNormalization":       # a valid moving variance: positive
        weights[-1] = np.abs(weights[-1]) + 0.5
        theirs.set_weights(weights)
    ours = getattr(kr, name)(**kwargs)
    ours.maybe_build(shape)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def compare(ours, theirs, x, **call):
    """Outputs and gradients (inputs, every trainable weight) of both layers on `x`."""
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine, **call), theirs(ref, **call)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    for weight, ref_weight in zip(ours.trainable_weights, theirs.trainable_weights, strict=True):
        assert_close(weight.grad, ref_weight.value.grad, GRAD_ATOL, f"d/d {ref_weight.path}")
    return out_ours


def check_config(ours, theirs):
    mine, ref = ours.get_config(), theirs.get_config()
    assert set(mine) == set(ref)
    for key in set(ref) - CONFIG_ONLY - {"name"}:
        assert mine[key] == ref[key], key
    rebuilt = type(ours).from_config(mine)
    assert rebuilt.get_config() == mine


# ------------------------------------------------------- LayerNormalization
LAYER_NORM = {
    "default": ({}, SHAPE),
    "no_center": ({"center": False}, SHAPE),
    "no_scale": ({"scale": False}, SHAPE),
    "neither": ({"center": False, "scale": False}, SHAPE),
    "eps_1e-5": ({"epsilon": 1e-5}, SHAPE),
    "last_two_axes": ({"axis": [1, 2]}, SHAPE),
    "negative_axes_rank4": ({"axis": (-2, -1)}, (2, 3, 4, 5)),
    "rank2": ({}, (4, 6)),
}


@pytest.mark.parametrize("case", LAYER_NORM)
def test_layer_normalization_matches_keras(case):
    kwargs, shape = LAYER_NORM[case]
    ours, theirs = make_pair("LayerNormalization", shape, **kwargs)
    compare(ours, theirs, torch.randn(shape) * 3 + 1)
    assert ours.count_params() == theirs.count_params() == sum(p.numel() for p in ours.parameters())
    assert [n for n, _ in ours.named_parameters()] == [w.name for w in theirs.weights]


def test_layer_normalization_rms_scaling_matches_keras_and_warns():
    with pytest.warns(UserWarning, match="rms_scaling"):
        theirs = keras.layers.LayerNormalization(rms_scaling=True)
    theirs.build(SHAPE)
    random_weights(theirs)
    with pytest.warns(UserWarning, match="deprecated"):
        ours = kr.LayerNormalization(rms_scaling=True, input_shape=SHAPE[1:])
    ours.set_weights(theirs.get_weights())
    assert [n for n, _ in ours.named_parameters()] == ["gamma"]
    with pytest.warns(UserWarning, match="rms_scaling"):      # Keras warns again at each call
        compare(ours, theirs, torch.randn(SHAPE) + 2)


def test_layer_normalization_inner_axis_normalizes_over_that_axis():
    # Keras's torch backend hands non-trailing axes to F.layer_norm, which normalizes the trailing ones
    # instead; we compute what the other Keras backends compute.
    layer = kr.LayerNormalization(axis=1, epsilon=1e-5)
    layer.maybe_build((2, 5, 3))
    with torch.no_grad():
        layer.gamma.uniform_(0.5, 1.5)
        layer.beta.uniform_(-1, 1)
    x = torch.randn(2, 5, 3)
    expected = torch.nn.functional.layer_norm(x.transpose(1, 2), (5,), layer.gamma, layer.beta, 1e-5).transpose(1, 2)
    assert_close(layer(x), expected, OUTPUT_ATOL, "axis=1 output")


def test_layer_normalization_builds_lazily_passes_the_mask_and_configs_like_keras():
    layer = kr.LayerNormalization(axis=[1, 2], epsilon=1e-4, center=False)
    assert not layer.built
    layer(torch.randn(2, 3, 4))
    assert tuple(layer.gamma.shape) == (3, 4) and layer.beta is None
    mask = torch.tensor([[True, False, True]])
    assert layer.compute_mask(torch.randn(1, 3, 4), mask) is mask
    check_config(layer, keras.layers.LayerNormalization(axis=[1, 2], epsilon=1e-4, center=False))
    check_config(kr.LayerNormalization(), keras.layers.LayerNormalization())


# ------------------------------------------------------- BatchNormalization
BATCH_NORM = {
    "default": ({}, SHAPE),
    "no_center_no_scale": ({"center": False, "scale": False}, SHAPE),
    "momentum_0.5_eps_1e-2": ({"momentum": 0.5, "epsilon": 1e-2}, SHAPE),
    "channels_axis1": ({"axis": 1}, SHAPE),
    "rank2": ({}, (8, 6)),
}


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("case", BATCH_NORM)
def test_batch_normalization_matches_keras_and_updates_moving_statistics(case, training):
    kwargs, shape = BATCH_NORM[case]
    ours, theirs = make_pair("BatchNormalization", shape, **kwargs)
    x = torch.randn(shape) * 2 + 0.5
    compare(ours, theirs, x, training=training)
    for mine, ref in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert_close(mine, ref, OUTPUT_ATOL, "weights after the call")
    if not training:
        assert_close(ours.moving_mean, make_pair("BatchNormalization", shape, **kwargs)[0].moving_mean, 0.0,
                     "moving mean unchanged in inference")


MASKS = {"right_padded": [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0], [0, 1, 1, 0, 1]],
         "one_row_empty": [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 1, 0, 0], [1, 1, 1, 1, 0]]}


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("mask", MASKS)
def test_batch_normalization_masked_moments_match_keras(mask, training):
    ours, theirs = make_pair("BatchNormalization", SHAPE, momentum=0.8)
    mask = torch.tensor(MASKS[mask], dtype=torch.bool)
    compare(ours, theirs, torch.randn(SHAPE) * 2 + 1, training=training, mask=mask)
    for mine, ref in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert_close(mine, ref, OUTPUT_ATOL, "weights after the call")
    assert ours.compute_mask(torch.randn(SHAPE), mask) is mask


def test_batch_normalization_follows_module_mode_and_frozen_layers_use_moving_statistics():
    ours, theirs = make_pair("BatchNormalization", SHAPE)
    x = torch.randn(SHAPE)
    start = ours.get_weights()
    assert_close(ours.eval()(x), theirs(x, training=False), OUTPUT_ATOL, "eval() output")
    assert_close(ours.train()(x), theirs(x, training=True), OUTPUT_ATOL, "train() output")
    assert not np.allclose(ours.get_weights()[2], start[2])
    ours.trainable, theirs.trainable = False, False          # Keras: a frozen BN runs in inference mode
    frozen = ours.get_weights()
    assert_close(ours(x, training=True), theirs(x, training=True), OUTPUT_ATOL, "frozen output")
    for before, after in zip(frozen, ours.get_weights()):
        assert np.array_equal(before, after)


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)],
                         ids=["both", "no_center", "no_scale"])
def test_batch_normalization_weights_order_count_and_trainability(center, scale):
    theirs = keras.layers.BatchNormalization(center=center, scale=scale)
    theirs.build(SHAPE)
    ours = kr.BatchNormalization(center=center, scale=scale, input_shape=SHAPE[1:])
    assert [n for n, _ in ours.named_parameters()] == [w.name for w in theirs.weights]
    assert [p.requires_grad for p in ours.parameters()] == [w.trainable for w in theirs.weights]
    assert ours.count_params() == theirs.count_params() == sum(p.numel() for p in ours.parameters())
    for mine, ref in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert np.array_equal(mine, ref)


def test_batch_normalization_config_matches_keras_and_round_trips():
    kwargs = {"axis": 1, "momentum": 0.9, "epsilon": 1e-5, "center": False}
    check_config(kr.BatchNormalization(**kwargs), keras.layers.BatchNormalization(**kwargs))
    check_config(kr.BatchNormalization(), keras.layers.BatchNormalization())


ERRORS = [
    ("LayerNormalization", {"axis": "x"}, None, TypeError,
     "Expected an int or a list/tuple of ints for the argument 'axis'"),
    ("LayerNormalization", {"axis": 3}, SHAPE, ValueError, r"`axis` 3 is out of range for a 3-D input"),
    ("LayerNormalization", {"axis": [0, 1]}, SHAPE, ValueError, "includes the batch axis"),
    ("LayerNormalization", {"epsilon": -1.0}, None, ValueError, "`epsilon` must be a number >= 0"),
    ("LayerNormalization", {"input_shape": (5, 6)}, (4, 5, 7), ValueError,
     r"built for sizes \(6,\) on axes -1, got input of shape \(4, 5, 7\)"),
    ("BatchNormalization", {"axis": 1.5}, None, TypeError, "`axis` must be an int"),
    ("BatchNormalization", {"synchronized": True}, None, ValueError, "synchronized=True .* not supported"),
    ("BatchNormalization", {"renorm": True, "renorm_clipping": {"rmax": 1.0, "dmax": -1.0}}, None, ValueError,
     "dmax should be non-negative"),
    ("BatchNormalization", {"input_shape": (5, 6)}, (4, 5, 7), ValueError, r"6 channels on axis -1.*\(4, 5, 7\)"),
    ("BatchNormalization", {}, "bad_mask", ValueError, r"mask must have one axis fewer.*got \(4, 5, 6\)"),
    ("BatchNormalization", {}, "int_input", TypeError, "floating-point inputs"),
]


@pytest.mark.parametrize("name, kwargs, shape, error, pattern", ERRORS, ids=[p for *_, p in ERRORS])
def test_normalization_rejects_bad_arguments_and_inputs(name, kwargs, shape, error, pattern):
    with pytest.raises(error, match=pattern):
        layer = getattr(kr, name)(**kwargs)
        if shape == "bad_mask":
            layer(torch.randn(SHAPE), mask=torch.ones(SHAPE, dtype=torch.bool))
        elif shape == "int_input":
            layer(torch.ones(SHAPE, dtype=torch.long))
        elif shape is not None:
            layer(torch.randn(shape))
