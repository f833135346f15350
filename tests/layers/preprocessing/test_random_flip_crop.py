"""RandomFlip and RandomCrop: unchanged outside training, in training each output is one of the allowed
transforms of its input, seeded layers repeat, shapes, dtypes and configs as keras.layers (torch backend), and
the deterministic cases (no room to move the window) against Keras's numbers."""

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, assert_same_config


def _axes(data_format, batched):
    rows = (1 if batched else 0) if data_format == "channels_last" else (2 if batched else 1)
    return rows, rows + 1


def _images(data_format, batched, height=5, width=6, channels=3, batch=8):
    shape = (height, width, channels) if data_format == "channels_last" else (channels, height, width)
    return torch.randn((batch, *shape) if batched else shape)


FLIPS = {"horizontal": lambda x, r, c: [x, x.flip(c)], "vertical": lambda x, r, c: [x, x.flip(r)],
         "horizontal_and_vertical": lambda x, r, c: [x, x.flip([r, c])]}


@pytest.mark.parametrize("mode", sorted(FLIPS))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_random_flip_gives_each_image_one_of_its_flips(mode, data_format, batched):
    layer = kr.RandomFlip(mode, seed=3, data_format=data_format)
    x = _images(data_format, batched, batch=32)
    rows, cols = _axes(data_format, batched)
    seen = set()
    for _ in range(4 if batched else 16):
        out = layer(x, training=True)
        assert out.shape == x.shape and out.dtype == torch.float32
        images = zip(out, x) if batched else [(out, x)]
        for got, image in images:
            choices = FLIPS[mode](image, rows - batched, cols - batched)
            matches = [i for i, choice in enumerate(choices) if torch.equal(got, choice)]
            assert matches, "an output that is no allowed flip of its input"
            seen.add(matches[0])
    assert seen == {0, 1}                              # both outcomes occur
    assert torch.equal(layer(x, training=False), x)
    assert torch.equal(layer.eval()(x), x)


def test_random_flip_seeded_layers_repeat_and_streams_move_on():
    x = _images("channels_last", True, batch=16)
    a, b = kr.RandomFlip(seed=7), kr.RandomFlip(seed=7)
    first = a(x, training=True)
    assert torch.equal(first, b(x, training=True))
    assert torch.equal(a(x, training=True), b(x, training=True))
    flips = [bool((kr.RandomFlip(seed=7)(x, training=True)[i] != x[i]).any()) for i in range(16)]
    assert 0 < sum(flips) < 16                        # one draw per image, not one per batch


def test_random_flip_dtype_shape_and_config_as_keras():
    pixels = np.random.default_rng(0).integers(0, 256, (2, 4, 5, 3)).astype("uint8")
    for training in (True, False):
        ours = kr.RandomFlip(seed=1)(torch.from_numpy(pixels), training=training)
        theirs = keras.layers.RandomFlip(seed=1)(pixels, training=training)
        assert ours.dtype == torch.float32 and str(theirs.dtype) == "torch.float32"
        assert tuple(ours.shape) == tuple(theirs.shape)
    assert torch.equal(kr.RandomFlip(seed=1)(torch.from_numpy(pixels), training=False),
                       torch.from_numpy(pixels).float())
    for kwargs in ({"mode": "vertical", "seed": 4}, {"mode": "horizontal", "data_format": "channels_first"}, {}):
        assert_same_config(kr.RandomFlip(**kwargs), keras.layers.RandomFlip(**kwargs))
    with pytest.raises(ValueError, match="mode"):
        kr.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="seed"):
        kr.RandomFlip(seed="one")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_random_crop_gives_one_window_of_the_batch(data_format, batched):
    layer = kr.RandomCrop(3, 4, seed=2, data_format=data_format)
    x = _images(data_format, batched, height=7, width=9, batch=4)
    rows, cols = _axes(data_format, batched)
    tops = set()
    for _ in range(12):
        out = layer(x, training=True)
        assert out.shape[rows] == 3 and out.shape[cols] == 4 and out.dtype == torch.float32
        windows = [(t, l) for t in range(5) for l in range(6)
                   if torch.equal(out, x.narrow(rows, t, 3).narrow(cols, l, 4))]
        assert len(windows) == 1, "the output is no single window of the whole batch"
        tops.add(windows[0])
    assert len(tops) > 1                              # the window moves
    assert torch.equal(layer(x, training=False), x)
    assert torch.equal(layer.eval()(x), x)


def test_random_crop_seeded_layers_repeat():
    x = torch.randn(2, 10, 10, 1)
    a, b = kr.RandomCrop(4, 4, seed=5), kr.RandomCrop(4, 4, seed=5)
    for _ in range(3):
        assert torch.equal(a(x, training=True), b(x, training=True))


# Images not larger than the window on both sides: Keras's result is fixed (no draw), so compare numbers.
SMALL = [((3, 4), (3, 9)), ((5, 5), (3, 9)), ((4, 6), (4, 6)), ((8, 3), (5, 6)), ((3, 8), (6, 4))]


@pytest.mark.parametrize("window, image", SMALL, ids=[f"{w}-{i}" for w, i in SMALL])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_random_crop_without_room_matches_keras(window, image, data_format, batched):
    x = _images(data_format, batched, *image, batch=2).numpy()
    ours = kr.RandomCrop(*window, seed=1, data_format=data_format)(torch.from_numpy(x), training=True)
    theirs = keras.layers.RandomCrop(*window, seed=1, data_format=data_format)(x, training=True)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert_close(ours, keras.ops.convert_to_numpy(theirs), OUTPUT_ATOL)


def test_random_crop_dtype_shape_and_config_as_keras():
    pixels = np.random.default_rng(0).integers(0, 256, (2, 6, 7, 3)).astype("uint8")
    ours, theirs = kr.RandomCrop(3, 4, seed=1), keras.layers.RandomCrop(3, 4, seed=1)
    for training in (True, False):
        got, expected = ours(torch.from_numpy(pixels), training=training), theirs(pixels, training=training)
        assert got.dtype == expected.dtype and tuple(got.shape) == tuple(expected.shape)
    assert tuple(ours.compute_output_shape((None, 6, 7, 3))) == theirs.compute_output_shape((None, 6, 7, 3))
    for kwargs in ({"height": 3, "width": 2, "seed": 4}, {"height": 5, "width": 5, "seed": 0,
                                                        "data_format": "channels_first"}):
        assert_same_config(kr.RandomCrop(**kwargs), keras.layers.RandomCrop(**kwargs))
    with pytest.raises(ValueError, match="height"):
        kr.RandomCrop(0, 2)
    with pytest.raises(ValueError, match="rank 3 or 4"):
        kr.RandomCrop(2, 2)(torch.randn(2, 3, 4, 5, 6))


@pytest.mark.parametrize("name, kwargs", [("RandomFlip", {"mode": "vertical", "seed": 1}),
                                          ("RandomCrop", {"height": 3, "width": 4, "seed": 1})])
def test_random_layers_go_through_keras_files_both_ways(name, kwargs, tmp_path):
    """A Keras model's random layer loads as ours (inference: the images unchanged, as Keras predicts) and ours
    saves to a file Keras loads with the same config and predictions."""
    theirs = keras.Sequential([keras.Input((6, 7, 3)), getattr(keras.layers, name)(**kwargs)])
    x = np.random.default_rng(0).standard_normal((2, 6, 7, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    ours = kr.from_keras(tmp_path / "theirs.keras").eval()
    assert type(ours.layers[-1]) is getattr(kr, name)
    assert_close(ours(torch.from_numpy(x)), expected, OUTPUT_ATOL)
    kr.save_keras(ours, tmp_path / "ours.keras")
    again = keras.models.load_model(tmp_path / "ours.keras")
    assert {k: v for k, v in again.layers[-1].get_config().items() if k != "name"} == \
        {k: v for k, v in theirs.layers[-1].get_config().items() if k != "name"}
    assert_close(again.predict(x, verbose=0), expected, OUTPUT_ATOL)
