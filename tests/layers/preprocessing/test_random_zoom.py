"""RandomZoom: against keras.layers.RandomZoom (torch backend) where its factor ranges are single values (the
zoom is then fixed), for every fill mode and interpolation, both data formats, batched and not; unchanged
outside training; random zooms within range; seeded layers repeat; configs and Keras files."""

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, assert_same_config

FIXED_ZOOMS = [((0.3, 0.3), None), ((-0.4, -0.4), (0.25, 0.25)), ((0.9, 0.9), (-0.6, -0.6)), ((0.0, 0.0), (1.0, 1.0))]


def _images(data_format, batched, seed=0):
    shape = (6, 7, 3) if data_format == "channels_last" else (3, 6, 7)
    return np.random.default_rng(seed).standard_normal((2, *shape) if batched else shape).astype("float32")


@pytest.mark.parametrize("factors", FIXED_ZOOMS, ids=[str(f) for f in FIXED_ZOOMS])
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_fixed_zooms_match_keras(factors, fill_mode, interpolation, data_format, batched):
    kwargs = {"height_factor": factors[0], "width_factor": factors[1], "fill_mode": fill_mode,
              "interpolation": interpolation, "fill_value": 0.5, "data_format": data_format}
    x = _images(data_format, batched)
    ours = kr.RandomZoom(**kwargs)(torch.from_numpy(x), training=True)
    theirs = keras.layers.RandomZoom(**kwargs)(x, training=True)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == torch.float32
    assert_close(ours, keras.ops.convert_to_numpy(theirs), OUTPUT_ATOL)


def test_outside_training_the_images_come_back_and_integers_become_floats():
    pixels = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 5, 6, 3)).astype("uint8"))
    layer = kr.RandomZoom(0.3, seed=1)
    assert torch.equal(layer(pixels, training=False), pixels.float())
    assert torch.equal(layer.eval()(pixels), pixels.float())
    theirs = keras.layers.RandomZoom(0.3, seed=1)(pixels.numpy(), training=True)
    assert str(theirs.dtype) == "torch.float32" == str(layer(pixels, training=True).dtype)


def test_random_zooms_stay_in_range_and_seeded_layers_repeat():
    """Zooming out of a constant image with a "constant" fill of 0 leaves a frame of zeros whose width bounds
    the draw; without `width_factor` the columns take the rows' zoom."""
    x = torch.ones(64, 21, 21, 1)
    layer = kr.RandomZoom((0.2, 0.8), fill_mode="constant", interpolation="nearest", seed=4)
    out = layer(x, training=True)
    kept_rows = (out != 0).any(dim=2).squeeze(-1).sum(dim=1)
    kept_cols = (out != 0).any(dim=1).squeeze(-1).sum(dim=1)
    assert torch.equal(kept_rows, kept_cols)                          # one zoom for both axes
    assert int(kept_rows.min()) >= 21 // 1.8 - 1 and int(kept_rows.max()) <= 21 / 1.2 + 1
    assert len(set(kept_rows.tolist())) > 1
    again = kr.RandomZoom((0.2, 0.8), fill_mode="constant", interpolation="nearest", seed=4)
    assert torch.equal(again(x, training=True), out)


def test_config_matches_keras_and_bad_arguments():
    assert_same_config(kr.RandomZoom(0.2, seed=2), keras.layers.RandomZoom(0.2, seed=2))
    kwargs = {"height_factor": [-0.5, 0.1], "width_factor": 0.3, "fill_mode": "wrap", "interpolation": "nearest",
              "fill_value": 1.0, "data_format": "channels_first"}
    assert_same_config(kr.RandomZoom(**kwargs), keras.layers.RandomZoom(**kwargs))
    with pytest.raises(ValueError, match="height_factor"):
        kr.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="width_factor"):
        kr.RandomZoom(0.1, (0.1, 1.2))
    with pytest.raises(ValueError, match="interpolation"):
        kr.RandomZoom(0.1, interpolation="bicubic")


def test_goes_through_keras_files_both_ways(tmp_path):
    theirs = keras.Sequential([keras.Input((5, 6, 3)), keras.layers.RandomZoom(0.2, [-0.1, 0.3], seed=3)])
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    ours = kr.from_keras(tmp_path / "theirs.keras").eval()
    assert type(ours.layers[-1]) is kr.RandomZoom
    assert_close(ours(torch.from_numpy(x)), expected, OUTPUT_ATOL)
    kr.save_keras(ours, tmp_path / "ours.keras")
    again = keras.models.load_model(tmp_path / "ours.keras")
    assert {k: v for k, v in again.layers[-1].get_config().items() if k != "name"} == \
        {k: v for k, v in theirs.layers[-1].get_config().items() if k != "name"}
