"""RandomRotation: against keras.layers.RandomRotation (torch backend) where its factor range is a single value
(the turn is then fixed), for every fill mode and interpolation, both data formats, batched and not; unchanged
outside training; random turns within range; seeded layers repeat; configs and Keras files."""

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, assert_same_config

FIXED_TURNS = [(0.1, 0.1), (-0.3, -0.3), (0.5, 0.5), (0.0, 0.0), (0.77, 0.77)]


def _images(data_format, batched, seed=0):
    shape = (6, 7, 3) if data_format == "channels_last" else (3, 6, 7)
    return np.random.default_rng(seed).standard_normal((2, *shape) if batched else shape).astype("float32")


@pytest.mark.parametrize("factor", FIXED_TURNS, ids=[str(f) for f in FIXED_TURNS])
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_fixed_turns_match_keras(factor, fill_mode, interpolation, data_format, batched):
    kwargs = {"factor": factor, "fill_mode": fill_mode, "interpolation": interpolation, "fill_value": 0.5,
              "data_format": data_format}
    x = _images(data_format, batched)
    ours = kr.RandomRotation(**kwargs)(torch.from_numpy(x), training=True)
    theirs = keras.layers.RandomRotation(**kwargs)(x, training=True)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == torch.float32
    assert_close(ours, keras.ops.convert_to_numpy(theirs), OUTPUT_ATOL)


def test_outside_training_the_images_come_back_and_integers_become_floats():
    pixels = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 5, 6, 3)).astype("uint8"))
    layer = kr.RandomRotation(0.3, seed=1)
    assert torch.equal(layer(pixels, training=False), pixels.float())
    assert torch.equal(layer.eval()(pixels), pixels.float())
    theirs = keras.layers.RandomRotation(0.3, seed=1)(pixels.numpy(), training=True)
    assert str(theirs.dtype) == "torch.float32" == str(layer(pixels, training=True).dtype)


def test_a_quarter_turn_is_counter_clockwise_and_seeded_layers_repeat():
    """A fixed quarter turn with "nearest" interpolation on a square image is torch.rot90 (counter-clockwise as
    the image is shown); seeded layers repeat and their streams move on."""
    x = torch.randn(32, 5, 5, 1)
    out = kr.RandomRotation((0.25, 0.25), interpolation="nearest")(x, training=True)
    assert torch.equal(out, torch.rot90(x, k=1, dims=(1, 2)))
    moving = kr.RandomRotation(0.5, seed=9)
    first = moving(x, training=True)
    assert torch.equal(kr.RandomRotation(0.5, seed=9)(x, training=True), first)
    assert not torch.equal(moving(x, training=True), first)


def test_config_matches_keras_and_bad_arguments():
    assert_same_config(kr.RandomRotation(0.2, seed=2), keras.layers.RandomRotation(0.2, seed=2))
    kwargs = {"factor": (0.3, -0.1), "fill_mode": "wrap", "interpolation": "nearest", "fill_value": 1.0,
              "data_format": "channels_first"}
    assert_same_config(kr.RandomRotation(**kwargs), keras.layers.RandomRotation(**kwargs))
    with pytest.raises(ValueError, match="factor"):
        kr.RandomRotation(1.5)
    with pytest.raises(ValueError, match="fill_mode"):
        kr.RandomRotation(0.1, fill_mode="mirror")


def test_goes_through_keras_files_both_ways(tmp_path):
    theirs = keras.Sequential([keras.Input((5, 6, 3)), keras.layers.RandomRotation(0.2, seed=3)])
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    ours = kr.from_keras(tmp_path / "theirs.keras").eval()
    assert type(ours.layers[-1]) is kr.RandomRotation
    assert_close(ours(torch.from_numpy(x)), expected, OUTPUT_ATOL)
    kr.save_keras(ours, tmp_path / "ours.keras")
    again = keras.models.load_model(tmp_path / "ours.keras")
    assert {k: v for k, v in again.layers[-1].get_config().items() if k != "name"} == \
        {k: v for k, v in theirs.layers[-1].get_config().items() if k != "name"}
