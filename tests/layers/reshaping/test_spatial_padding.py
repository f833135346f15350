"""ZeroPadding2D/3D, Cropping2D/3D and UpSampling2D/3D against keras.layers (torch backend):
values, gradients, output shapes (known and unknown sizes), configs, names, masks, errors."""
import re

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import assert_close, weighted_sum


def automatic_name(layer):
    """A layer's automatic name without the counter Keras and kr add ("conv3d_transpose_2" -> "conv3d_transpose")."""
    return re.sub(r"_\d+$", "", layer.name)

ATOL = 1e-6

CASES = [
    ("ZeroPadding2D", {}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": ((1, 0), (2, 3))}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": (2, 1), "data_format": "channels_first"}, (2, 2, 3, 4)),
    ("ZeroPadding3D", {}, (2, 2, 3, 4, 2)),
    ("ZeroPadding3D", {"padding": ((0, 1), (2, 0), (1, 1))}, (2, 2, 3, 4, 2)),
    ("ZeroPadding3D", {"padding": 2, "data_format": "channels_first"}, (2, 2, 3, 2, 2)),
    ("Cropping2D", {}, (2, 5, 6, 2)),
    ("Cropping2D", {"cropping": ((1, 2), (0, 3))}, (2, 5, 6, 2)),
    ("Cropping2D", {"cropping": 1, "data_format": "channels_first"}, (2, 2, 5, 6)),
    ("Cropping3D", {}, (2, 4, 5, 6, 2)),
    ("Cropping3D", {"cropping": (1, 0, 2)}, (2, 4, 5, 6, 2)),
    ("Cropping3D", {"cropping": ((0, 1), (2, 0), (1, 3)), "data_format": "channels_first"}, (2, 2, 4, 5, 6)),
    ("UpSampling2D", {}, (2, 3, 4, 2)),
    ("UpSampling2D", {"size": (1, 3), "data_format": "channels_first"}, (2, 2, 3, 4)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 4, 2)),
    ("UpSampling2D", {"size": 3, "interpolation": "Bilinear", "data_format": "channels_first"}, (2, 2, 3, 4)),
    ("UpSampling2D", {"size": (3, 2), "interpolation": "bicubic"}, (2, 4, 3, 2)),
    ("UpSampling3D", {}, (2, 2, 3, 2, 2)),
    ("UpSampling3D", {"size": (1, 2, 3), "data_format": "channels_first"}, (2, 2, 2, 3, 2)),
]


def unknown_spatial(shape, data_format):
    """`shape` with its spatial sizes unknown (None)."""
    rank = len(shape) - 2
    if data_format == "channels_first":
        return (None, shape[1], *([None] * rank))
    return (None, *([None] * rank), shape[-1])


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(CASES)])
def test_spatial_layer_matches_keras(name, kwargs, shape):
    ours, theirs = getattr(kr, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    x = torch.randn(shape)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, ATOL, "d/d inputs")
    for probe in (shape, unknown_spatial(shape, kwargs.get("data_format"))):
        assert tuple(ours.compute_output_shape(probe)) == tuple(theirs.compute_output_shape(probe))
    config, ref_config = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in ref_config.items() if k != "name"}
    assert type(ours).from_config(config).get_config() == config
    assert automatic_name(ours) == automatic_name(theirs)
    assert ours.compute_mask(x, torch.ones(shape[:2], dtype=torch.bool)) is None and not ours.supports_masking
    assert not list(ours.parameters())


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
def test_upsampling2d_integer_images_match_keras(interpolation):
    # Keras's torch backend resizes integers in float32, then rounds and casts back.
    x = torch.arange(2 * 3 * 2 * 3).reshape(2, 3, 2, 3)
    ours = kr.UpSampling2D((2, 3), interpolation=interpolation)(x)
    theirs = keras.layers.UpSampling2D((2, 3), interpolation=interpolation)(x)
    assert ours.dtype == theirs.dtype == torch.int64
    assert torch.equal(ours, theirs)


def test_spatial_layers_in_a_model_go_through_keras_files(tmp_path):
    # A small image model (keras.io's autoencoder shape): pad, convolve, pool, upsample, crop.
    def build(layers, inputs):
        x = layers.ZeroPadding2D(((1, 0), (0, 1)))(inputs)
        x = layers.Conv2D(3, 3, padding="same")(x)
        x = layers.AveragePooling2D(2)(x)
        x = layers.UpSampling2D(2, interpolation="bilinear")(x)
        return layers.Cropping2D(((1, 0), (0, 1)))(x)

    keras_inputs = keras.Input((5, 5, 2))
    theirs = keras.Model(keras_inputs, build(keras.layers, keras_inputs))
    path = tmp_path / "image.keras"
    theirs.save(path)
    ours = kr.from_keras(path)
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 2)).astype("float32")
    assert_close(ours(torch.from_numpy(x)), theirs(x), 1e-5, "from_keras")
    kr.save_keras(ours, tmp_path / "ours.keras")
    again = keras.models.load_model(tmp_path / "ours.keras")
    assert_close(again(x), theirs(x), 1e-5, "save_keras then load_model")


ERRORS = [
    (lambda: kr.ZeroPadding2D((1, 2, 3)), None, "`padding` must be an integer, a tuple of 2 integers"),
    (lambda: kr.ZeroPadding2D(((1, 2), (3, -4))), None, "`padding` must be a non-negative integer"),
    (lambda: kr.ZeroPadding3D("1"), None, "`padding` must be an integer, a tuple of 3"),
    (lambda: kr.Cropping2D(-1), None, "`cropping` must be a non-negative integer"),
    (lambda: kr.Cropping3D(((1, 2), (3, 4), (5, 6, 7))), None, "`cropping` must be a non-negative integer"),
    (lambda: kr.Cropping2D(((3, 2), (0, 0))), (1, 5, 6, 1), "must leave at least one position"),
    (lambda: kr.UpSampling2D(0), None, r"The `size` argument must be a tuple of 2 integers. Received size=0, including values \{0\}"),
    (lambda: kr.UpSampling2D(interpolation="lanczos3"), None, "`interpolation` must be one of"),
    (lambda: kr.UpSampling3D((2, 2)), None, "`size` must be a positive integer or a tuple of 3"),
    (lambda: kr.ZeroPadding3D(data_format="ndhwc"), None, "`data_format` must be one of"),
    (lambda: kr.UpSampling3D(), (1, 2, 2, 2), r"expects inputs of shape \(batch, dim1, dim2, dim3, channels\)"),
]


@pytest.mark.parametrize("make, shape, pattern", ERRORS, ids=[p for *_, p in ERRORS])
def test_spatial_layers_reject_bad_arguments_and_inputs(make, shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()(torch.randn(shape))
