"""ActivityRegularization, AlphaDropout and Rescaling against keras.layers: values, losses, training
behaviour, seeds, configs and masks."""

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test
from reference import OUTPUT_ATOL, assert_close, numpy, assert_same_config

SELU_ALPHA_SCALE = 1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.1, 0.0), (0.0, 0.3), (0.05, 0.2)])
def test_activity_regularization_adds_keras_s_loss(l1, l2):
    ours, theirs = kr.ActivityRegularization(l1=l1, l2=l2), keras.layers.ActivityRegularization(l1=l1, l2=l2)
    x = torch.randn(4, 5, 3)
    assert torch.equal(ours(x), x)
    theirs(x)
    assert len(ours.losses) == len(theirs.losses) == 1
    assert_close(ours.losses[0], theirs.losses[0], 1e-6, "activity loss")
    assert_same_config(ours, theirs)
    mask = torch.ones(4, 5, dtype=torch.bool)
    assert ours.compute_mask(x, mask) is mask


def test_activity_regularization_in_a_model_gives_keras_s_model_losses():
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.ActivityRegularization(l2=0.5)])
    ours = kr.Sequential([kr.Input((3,)), kr.Dense(2), kr.ActivityRegularization(l2=0.5)])
    ours.layers[0].set_weights(theirs.layers[0].get_weights())
    ours(torch.from_numpy(x))
    theirs(x)
    assert len(ours.losses) == len(theirs.losses) == 1
    assert_close(ours.losses[0], theirs.losses[0], 1e-6, "model loss term")


def test_activity_regularization_refuses_negative_factors():
    with pytest.raises(ValueError, match="`l1` must be a number >= 0"):
        kr.ActivityRegularization(l1=-1)


def test_activity_regularization_passes_keras_s_layer_test():
    run_layer_test(kr.ActivityRegularization, init_kwargs={"l1": 0.01, "l2": 0.01}, input_shape=(2, 3),
                   expected_output_shape=(2, 3), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, expected_num_losses=1, supports_masking=True,
                   assert_built_after_instantiation=True)


def test_alpha_dropout_outside_training_and_config_as_keras():
    ours, theirs = kr.AlphaDropout(0.3, seed=2), keras.layers.AlphaDropout(0.3, seed=2)
    x = torch.randn(2, 5, 4)
    assert torch.equal(ours(x, training=False), x) and torch.equal(ours.eval()(x), x)
    assert torch.equal(kr.AlphaDropout(0.0)(x, training=True), x)
    assert_same_config(ours, theirs)
    assert_same_config(kr.AlphaDropout(0.5, noise_shape=[None, 1, 4]), keras.layers.AlphaDropout(0.5, noise_shape=[None, 1, 4]))
    mask = torch.ones(2, 5, dtype=torch.bool)
    assert ours.compute_mask(x, mask) is mask


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_alpha_dropout_applies_keras_s_affine_map_and_keeps_selu_statistics(rate):
    x = torch.randn(400_000)
    out = kr.AlphaDropout(rate, seed=1)(x, training=True)
    theirs = keras.ops.convert_to_numpy(keras.layers.AlphaDropout(rate, seed=1)(x, training=True))
    a = ((1 - rate) * (1 + rate * SELU_ALPHA_SCALE ** 2)) ** -0.5
    b = a * SELU_ALPHA_SCALE * rate
    dropped_value = -a * SELU_ALPHA_SCALE + b
    for values in (numpy(out), theirs):      # kept entries: a * x + b; dropped ones: one value
        kept = ~np.isclose(values, dropped_value, atol=1e-6)
        np.testing.assert_allclose(values[kept], a * numpy(x)[kept] + b, rtol=1e-5, atol=1e-5)
        assert (~kept).mean() == pytest.approx(rate, abs=0.005)
        assert values.mean() == pytest.approx(0.0, abs=0.01) and values.var() == pytest.approx(1.0, abs=0.01)


def test_alpha_dropout_seeds_and_noise_shape():
    x = torch.randn(3, 6, 4)
    first, second = kr.AlphaDropout(0.5, seed=7), kr.AlphaDropout(0.5, seed=7)
    a1, a2 = first(x, training=True), first(x, training=True)
    assert torch.equal(a1, second(x, training=True)) and not torch.equal(a1, a2)
    shared = kr.AlphaDropout(0.5, noise_shape=(None, 1, None), seed=3)(torch.zeros(3, 6, 4), training=True)
    assert torch.equal(shared, shared[:, :1].expand_as(shared))        # one draw shared by every step
    with pytest.raises(ValueError, match="noise_shape"):
        kr.AlphaDropout(0.5, noise_shape=(None, 1))(x, training=True)
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        kr.AlphaDropout(1.5)


def test_alpha_dropout_takes_training_from_a_model():
    model = kr.Sequential([kr.Input((4,)), kr.AlphaDropout(0.5, seed=1)])
    x = torch.randn(3, 4)
    assert torch.equal(model(x, training=False), x) and not torch.equal(model(x, training=True), x)


@pytest.mark.parametrize("scale, offset", [(1 / 255, 0.0), (2.0, -1.0), (np.array([0.5, 2.0, -1.0]), 0.25),
                                           (0.5, np.array([1.0, 2.0, 3.0]))])
def test_rescaling_matches_keras(scale, offset):
    ours, theirs = kr.Rescaling(scale, offset), keras.layers.Rescaling(scale, offset)
    x = torch.randn(2, 4, 3)
    assert_close(ours(x), keras.ops.convert_to_numpy(theirs(x)), OUTPUT_ATOL, "rescaled")
    config, ref = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in ref.items() if k != "name"}
    again = kr.Rescaling.from_config(ref)
    assert_close(again(x), ours(x), 0, "from Keras's config")
    mask = torch.ones(2, 4, dtype=torch.bool)
    assert ours.compute_mask(x, mask) is mask


def test_rescaling_turns_integers_into_the_layer_s_floats_as_keras():
    pixels = torch.tensor([[0, 51, 255]], dtype=torch.uint8)
    ours = kr.Rescaling(1 / 255)(pixels)
    theirs = keras.ops.convert_to_numpy(keras.layers.Rescaling(1 / 255)(pixels))
    assert ours.dtype == torch.float32 and str(theirs.dtype) == "float32"
    assert_close(ours, theirs, 1e-7, "pixels")
    assert kr.Rescaling(2.0, dtype=torch.float64)(pixels).dtype == torch.float64
    with pytest.raises(ValueError, match="`scale` must be a number or an array"):
        kr.Rescaling("big")


def test_rescaling_passes_keras_s_layer_test():
    run_layer_test(kr.Rescaling, init_kwargs={"scale": 1.0 / 255, "offset": 0.5}, input_shape=(2, 3),
                   expected_output_shape=(2, 3), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, supports_masking=True,
                   assert_built_after_instantiation=True)
