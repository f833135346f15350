"""Resizing and CenterCrop against keras.layers (torch backend): values on random images in both data formats,
batched and unbatched, integer images, output shapes and configs."""

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, assert_same_config


def _images(shape, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    if dtype == "uint8":
        return rng.integers(0, 256, shape).astype("uint8")
    return rng.standard_normal(shape).astype(dtype)


def _shape(batched, data_format, height, width, channels=3):
    spatial = (height, width, channels) if data_format == "channels_last" else (channels, height, width)
    return (2, *spatial) if batched else spatial


def _compare(ours, theirs, x):
    got = ours(torch.from_numpy(x))
    expected = keras.ops.convert_to_numpy(theirs(x))
    assert tuple(got.shape) == expected.shape
    assert str(got.dtype).replace("torch.", "") == str(expected.dtype)
    assert_close(got, expected, OUTPUT_ATOL)
    assert tuple(ours.compute_output_shape(x.shape)) == tuple(theirs.compute_output_shape(x.shape))


RESIZINGS = [
    {"height": 3, "width": 4},
    {"height": 9, "width": 11},
    {"height": 4, "width": 9, "interpolation": "nearest"},
    {"height": 3, "width": 5, "interpolation": "bicubic"},
    {"height": 4, "width": 4, "crop_to_aspect_ratio": True},
    {"height": 2, "width": 7, "crop_to_aspect_ratio": True, "interpolation": "nearest"},
    {"height": 4, "width": 4, "pad_to_aspect_ratio": True, "fill_value": 0.5},
    {"height": 3, "width": 2, "antialias": True},
]


@pytest.mark.parametrize("kwargs", RESIZINGS, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_resizing_matches_keras(kwargs, data_format, batched):
    x = _images(_shape(batched, data_format, 6, 8))
    _compare(kr.Resizing(**kwargs, data_format=data_format), keras.layers.Resizing(**kwargs, data_format=data_format),
             x)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_resizing_keeps_integer_images_integer_as_keras(interpolation):
    x = _images((2, 5, 7, 3), dtype="uint8")
    _compare(kr.Resizing(8, 4, interpolation=interpolation), keras.layers.Resizing(8, 4, interpolation=interpolation),
             x)
    assert kr.Resizing(8, 4)(torch.from_numpy(x)).dtype == torch.uint8


def test_resizing_config_matches_keras():
    kwargs = {"height": 5, "width": 2, "interpolation": "nearest", "crop_to_aspect_ratio": True,
              "data_format": "channels_first"}
    assert_same_config(kr.Resizing(**kwargs), keras.layers.Resizing(**kwargs))
    assert_same_config(kr.Resizing(3, 4, pad_to_aspect_ratio=True, fill_value=2.0, antialias=True),
                 keras.layers.Resizing(3, 4, pad_to_aspect_ratio=True, fill_value=2.0, antialias=True))


def test_resizing_float64_layer_and_bad_arguments():
    x = torch.randn(2, 5, 6, 3)
    assert kr.Resizing(3, 3, dtype=torch.float64)(x).dtype == torch.float64
    with pytest.raises(ValueError, match="interpolation"):
        kr.Resizing(3, 3, interpolation="lanczos3")
    with pytest.raises(ValueError, match="height"):
        kr.Resizing(0, 3)
    with pytest.raises(ValueError, match="only one of"):
        kr.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="rank 3 or 4"):
        kr.Resizing(3, 3)(torch.randn(5, 6))
    image = np.arange(90, dtype="float32").reshape(5, 6, 3)
    assert torch.equal(kr.Resizing(3, 3)(image), kr.Resizing(3, 3)(torch.from_numpy(image)))


CROPS = [(3, 4), (6, 8), (1, 1), (4, 10), (9, 5), (12, 16)]


@pytest.mark.parametrize("size", CROPS, ids=[f"{h}x{w}" for h, w in CROPS])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_center_crop_matches_keras(size, data_format, batched):
    x = _images(_shape(batched, data_format, 6, 8), seed=1)
    _compare(kr.CenterCrop(*size, data_format=data_format), keras.layers.CenterCrop(*size, data_format=data_format), x)


def test_center_crop_casts_integer_images_and_config_matches_keras():
    x = _images((2, 7, 5, 3), dtype="uint8")
    _compare(kr.CenterCrop(4, 3), keras.layers.CenterCrop(4, 3), x)
    assert_same_config(kr.CenterCrop(4, 3, data_format="channels_first"),
                 keras.layers.CenterCrop(4, 3, data_format="channels_first"))
    with pytest.raises(ValueError, match="width"):
        kr.CenterCrop(3, -1)


@pytest.mark.parametrize("layer", [lambda: kr.Resizing(3, 4), lambda: kr.CenterCrop(3, 4)])
def test_image_layers_in_a_functional_model(layer):
    inputs = kr.Input((6, 8, 3))
    model = kr.Model(inputs, layer()(inputs))
    assert tuple(model.output_shape) == (None, 3, 4, 3)
    assert model(torch.randn(2, 6, 8, 3)).shape == (2, 3, 4, 3)
