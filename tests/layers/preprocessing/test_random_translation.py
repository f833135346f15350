"""RandomTranslation: against keras.layers.RandomTranslation (torch backend) where its factor ranges are single
values (the move is then fixed), for every fill mode and interpolation, both data formats, batched and not;
unchanged outside training; random moves within range; seeded layers repeat; configs and Keras files."""

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, assert_same_config

FIXED_MOVES = [((0.2, 0.2), (-0.34, -0.34)), ((-0.5, -0.5), (0.1, 0.1)), ((0.9, 0.9), (0.75, 0.75)),
               ((0.0, 0.0), (-1.0, -1.0))]


def _images(data_format, batched, seed=0):
    shape = (5, 7, 3) if data_format == "channels_last" else (3, 5, 7)
    return np.random.default_rng(seed).standard_normal((2, *shape) if batched else shape).astype("float32")


@pytest.mark.parametrize("factors", FIXED_MOVES, ids=[str(f) for f in FIXED_MOVES])
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_fixed_moves_match_keras(factors, fill_mode, interpolation, data_format, batched):
    kwargs = {"height_factor": factors[0], "width_factor": factors[1], "fill_mode": fill_mode,
              "interpolation": interpolation, "fill_value": 0.5, "data_format": data_format}
    x = _images(data_format, batched)
    ours = kr.RandomTranslation(**kwargs)(torch.from_numpy(x), training=True)
    theirs = keras.layers.RandomTranslation(**kwargs)(x, training=True)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == torch.float32
    assert_close(ours, keras.ops.convert_to_numpy(theirs), OUTPUT_ATOL)


def test_outside_training_the_images_come_back_and_integers_become_floats():
    pixels = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 5, 6, 3)).astype("uint8"))
    layer = kr.RandomTranslation(0.3, 0.3, seed=1)
    assert torch.equal(layer(pixels, training=False), pixels.float())
    assert torch.equal(layer.eval()(pixels), pixels.float())
    theirs = keras.layers.RandomTranslation(0.3, 0.3, seed=1)(pixels.numpy(), training=True)
    assert str(theirs.dtype) == "torch.float32" == str(layer(pixels, training=True).dtype)


def test_random_moves_stay_in_range_and_seeded_layers_repeat():
    """With "nearest" interpolation and "constant" fill of a value no pixel has, a move of (dy, dx) leaves a
    band of fill at the top or bottom `|dy|` rows: the band's size bounds the draw."""
    x = torch.rand(64, 20, 20, 1) + 1.0
    layer = kr.RandomTranslation((0.1, 0.3), (-0.2, 0.0), fill_mode="constant", interpolation="nearest", seed=4)
    out = layer(x, training=True)
    empty_rows = (out == 0).all(dim=2).squeeze(-1)          # (batch, rows): rows left wholly empty
    top_band = empty_rows.int().cumprod(dim=1).sum(dim=1)
    assert int(top_band.min()) >= 2 and int(top_band.max()) <= 6     # 0.1 * 20 to 0.3 * 20 rows, rounded
    assert len(set(top_band.tolist())) > 1
    empty_cols = (out == 0).all(dim=1).squeeze(-1)
    right_band = empty_cols.flip(1).int().cumprod(dim=1).sum(dim=1)
    assert int(right_band.max()) <= 4 and not bool(empty_cols[:, 0].any())    # moved left, 0 to 4 columns
    again = kr.RandomTranslation((0.1, 0.3), (-0.2, 0.0), fill_mode="constant", interpolation="nearest", seed=4)
    assert torch.equal(again(x, training=True), out)


def test_config_matches_keras_and_bad_arguments():
    assert_same_config(kr.RandomTranslation(0.2, [-0.1, 0.3], seed=2), keras.layers.RandomTranslation(0.2, [-0.1, 0.3],
                                                                                                 seed=2))
    kwargs = {"height_factor": 0.5, "width_factor": 0.1, "fill_mode": "wrap", "interpolation": "nearest",
              "fill_value": 1.0, "data_format": "channels_first"}
    assert_same_config(kr.RandomTranslation(**kwargs), keras.layers.RandomTranslation(**kwargs))
    with pytest.raises(ValueError, match="height_factor"):
        kr.RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="width_factor"):
        kr.RandomTranslation(0.1, (0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="fill_mode"):
        kr.RandomTranslation(0.1, 0.1, fill_mode="mirror")


def test_goes_through_keras_files_both_ways(tmp_path):
    theirs = keras.Sequential([keras.Input((5, 6, 3)), keras.layers.RandomTranslation(0.2, 0.1, seed=3)])
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    ours = kr.from_keras(tmp_path / "theirs.keras").eval()
    assert type(ours.layers[-1]) is kr.RandomTranslation
    assert_close(ours(torch.from_numpy(x)), expected, OUTPUT_ATOL)
    kr.save_keras(ours, tmp_path / "ours.keras")
    again = keras.models.load_model(tmp_path / "ours.keras")
    assert {k: v for k, v in again.layers[-1].get_config().items() if k != "name"} == \
        {k: v for k, v in theirs.layers[-1].get_config().items() if k != "name"}
