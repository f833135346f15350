"""SpatialDropout1D, GaussianNoise and GaussianDropout: Keras's behaviour in and out of training, seeds,
statistics, configs and masks."""
import re

import keras
import pytest
import torch

import kerasrnn_torch as kr

LAYERS = [("SpatialDropout1D", {"rate": 0.5}), ("GaussianNoise", {"stddev": 0.5}),
          ("GaussianDropout", {"rate": 0.5})]
SPATIAL = [("SpatialDropout2D", {"rate": 0.5}, (2, 3, 4, 5)),
           ("SpatialDropout3D", {"rate": 0.3, "data_format": "channels_first"}, (2, 3, 4, 4, 5))]


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=[n for n, _ in LAYERS])
def test_noise_layer_is_the_identity_outside_training_and_matches_keras_config(name, kwargs):
    ours, theirs = getattr(kr, name)(**kwargs, seed=3), getattr(keras.layers, name)(**kwargs, seed=3)
    x = torch.randn(2, 5, 4)
    assert torch.equal(ours(x, training=False), x)
    assert torch.equal(ours.eval()(x), x)
    assert not torch.equal(ours(x, training=True), x)
    config, ref_config = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in ref_config.items() if k != "name"}
    assert type(ours).from_config(config).get_config() == config
    assert re.sub(r"_\d+$", "", ours.name) == re.sub(r"_\d+$", "", theirs.name)   # counters differ by test order
    mask = torch.ones(2, 5, dtype=torch.bool)
    assert ours.compute_mask(x, mask) is mask


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=[n for n, _ in LAYERS])
def test_noise_layer_seed_gives_a_reproducible_stream(name, kwargs):
    x = torch.randn(2, 5, 4)
    first, second = getattr(kr, name)(**kwargs, seed=7), getattr(kr, name)(**kwargs, seed=7)
    a1, a2 = first(x, training=True), first(x, training=True)
    assert torch.equal(a1, second(x, training=True)) and torch.equal(a2, second(x, training=True))
    assert not torch.equal(a1, a2)


def test_spatial_dropout_drops_whole_channels():
    layer = kr.SpatialDropout1D(0.5, seed=0)
    out = layer(torch.ones(64, 6, 8), training=True)
    assert torch.all((out == 0) | (out == 2.0))
    assert torch.all(out.eq(out[:, :1]))            # the same draw at every step
    assert 0.35 < (out[:, 0] == 0).float().mean() < 0.65
    assert kr.SpatialDropout1D(0.0)(torch.ones(1, 2, 3), training=True).sum() == 6
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        layer(torch.ones(2, 3), training=True)


def test_gaussian_layers_have_keras_statistics():
    x = torch.ones(200_000)
    noisy = kr.GaussianNoise(0.3, seed=1)(x, training=True)
    assert abs(noisy.mean().item() - 1) < 0.01 and abs(noisy.std().item() - 0.3) < 0.01
    dropped = kr.GaussianDropout(0.2, seed=1)(x, training=True)
    assert abs(dropped.mean().item() - 1) < 0.01 and abs(dropped.std().item() - 0.5) < 0.01   # sqrt(.2 / .8)


@pytest.mark.parametrize("make, pattern", [
    (lambda: kr.GaussianNoise(1.5), "`stddev` must be a float in"), (lambda: kr.GaussianDropout(-0.1), "`rate`"),
    (lambda: kr.SpatialDropout1D(2.0), "argument `rate`. Expected a float value between 0 and 1"),
], ids=["stddev", "gaussian_rate", "spatial_rate"])
def test_noise_layers_reject_bad_arguments(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_noise_layers_take_training_from_a_model():
    model = kr.Sequential([kr.Input((5, 4)), kr.SpatialDropout1D(0.5, seed=1), kr.GaussianNoise(0.1, seed=1)])
    x = torch.randn(3, 5, 4)
    assert torch.equal(model(x, training=False), x)
    assert not torch.equal(model(x, training=True), x)


@pytest.mark.parametrize("name, kwargs, shape", SPATIAL, ids=[n for n, *_ in SPATIAL])
def test_spatial_dropout_2d_3d_matches_keras_config_and_seeds(name, kwargs, shape):
    ours, theirs = getattr(kr, name)(**kwargs, seed=3), getattr(keras.layers, name)(**kwargs, seed=3)
    config, ref_config = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in ref_config.items() if k != "name"}
    x = torch.randn(*shape)
    assert torch.equal(ours.eval()(x), x)
    again = getattr(kr, name)(**kwargs, seed=3)
    assert torch.equal(ours(x, training=True), again(x, training=True))
    with pytest.raises(ValueError, match=f"expects {len(shape)}-D inputs"):
        ours(torch.randn(2, 3), training=True)
