"""kr.ops.image against keras.ops.image (torch backend): values and dtypes on single and batched images in both
data formats, symbolic calls on kr.Input, Keras files both ways, and errors for bad images or arguments."""
from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops
from kerasrnn_torch.ops import image

from .test_ops_match_keras import check, check_keras_files_both_ways

RNG = np.random.default_rng(41)
FORMATS = ["channels_last", "channels_first"]


def images(dtype, batched, data_format, channels=3, height=5, width=7):
    """Random images of `dtype` (bytes over 0..255, other ints over 0..99, floats over [0, 1))."""
    shape = (height, width, channels) if data_format == "channels_last" else (channels, height, width)
    if batched:
        shape = (2, *shape)
    if dtype == "uint8":
        return RNG.integers(0, 256, size=shape).astype(dtype)
    if dtype.startswith("int"):
        return RNG.integers(0, 100, size=shape).astype(dtype)
    return RNG.uniform(0.0, 1.0, size=shape).astype(dtype)


def test_the_namespace_is_keras_s():
    assert ops.image is image
    assert kr.ops.image.resize is image.resize
    assert "image" in ops.__all__
    assert image._rgb_to_grayscale.spec.module == "keras.src.ops.image"


# ------------------------------------------------------------------ colour spaces
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int32"])
@pytest.mark.parametrize("channels", [3, 1])
def test_rgb_to_grayscale_matches_keras(channels, dtype, batched, data_format):
    x = images(dtype, batched, data_format, channels)
    expected = kops.image.rgb_to_grayscale(x, data_format=data_format)
    check(image.rgb_to_grayscale(x, data_format=data_format), expected, atol=1e-6)
    check(image.rgb_to_grayscale(torch.from_numpy(x), data_format=data_format), expected, atol=1e-6)


def test_rgb_to_grayscale_weights_and_default_format():
    x = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])      # one row: red, green, blue
    torch.testing.assert_close(image.rgb_to_grayscale(x).flatten(), torch.tensor([0.2989, 0.587, 0.114]))
    torch.testing.assert_close(image.rgb_to_grayscale(x, data_format=None), image.rgb_to_grayscale(x))
    bytes_ = torch.tensor([[[255, 255, 255]]], dtype=torch.uint8)     # 254.99: truncated, as Keras's cast does
    assert image.rgb_to_grayscale(bytes_).item() == 254


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_hsv_conversions_match_keras(dtype, batched, data_format):
    x = images(dtype, batched, data_format)
    x.reshape(-1)[:4] = [0.0, 1e-9, 0.5, 1.0]          # zeros, values below eps, greys, a full channel
    expected = kops.image.rgb_to_hsv(x, data_format=data_format)
    ours = image.rgb_to_hsv(torch.from_numpy(x), data_format=data_format)
    check(ours, expected, atol=1e-3 if dtype == "float16" else 1e-6)
    check(image.hsv_to_rgb(x, data_format=data_format), kops.image.hsv_to_rgb(x, data_format=data_format),
          atol=1e-3 if dtype == "float16" else 1e-6)
    back = image.hsv_to_rgb(ours, data_format=data_format)
    np.testing.assert_allclose(back.float().numpy(), x.astype("float32"), atol=1e-2 if dtype == "float16" else 1e-5)


def test_hsv_of_pure_colours_and_greys():
    rgb = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5], [1.0, 0.0, 1.0]]])
    hsv = image.rgb_to_hsv(rgb)
    torch.testing.assert_close(hsv[0, :, 0], torch.tensor([0.0, 1 / 3, 2 / 3, 0.0, 5 / 6]))
    torch.testing.assert_close(hsv[0, :, 1], torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0]))
    torch.testing.assert_close(hsv[0, :, 2], torch.tensor([1.0, 1.0, 1.0, 0.5, 1.0]))


# ------------------------------------------------------------------ resize
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("size", [(3, 4), (8, 11), (5, 2)])
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_matches_keras(antialias, size, interpolation, batched, data_format):
    x = images("float32", batched, data_format)
    expected = kops.image.resize(x, size, interpolation=interpolation, antialias=antialias, data_format=data_format)
    check(image.resize(torch.from_numpy(x), size, interpolation=interpolation, antialias=antialias,
                       data_format=data_format), expected, atol=1e-5)


@pytest.mark.parametrize("dtype", ["uint8", "int32", "int16", "float64", "float16"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_resize_keeps_the_dtype_as_keras_does(interpolation, dtype):
    x = images(dtype, True, "channels_last")
    expected = kops.image.resize(x, (9, 4), interpolation=interpolation)
    ours = image.resize(x, (9, 4), interpolation=interpolation)
    check(ours, expected, atol=1e-2 if dtype == "float16" else 1e-6)
    if dtype == "uint8" and interpolation == "bicubic":       # overshoots clipped to the bytes' range
        assert ours.dtype == torch.uint8 and ours.max() <= 255


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("size", [(3, 3), (4, 9), (9, 4), (1, 6)])
@pytest.mark.parametrize("aspect", [{"crop_to_aspect_ratio": True}, {"pad_to_aspect_ratio": True},
                                    {"pad_to_aspect_ratio": True, "fill_value": 0.5},
                                    {"pad_to_aspect_ratio": True, "fill_value": 3, "fill_mode": "constant"}])
def test_resize_to_the_aspect_ratio_matches_keras(aspect, size, batched, data_format):
    x = images("float32", batched, data_format)
    expected = kops.image.resize(x, size, data_format=data_format, **aspect)
    check(image.resize(x, size, data_format=data_format, **aspect), expected, atol=1e-5)
    xb = images("uint8", batched, data_format)
    check(image.resize(xb, size, data_format=data_format, **aspect),
          kops.image.resize(xb, size, data_format=data_format, **aspect))


def test_resize_takes_size_as_a_list_and_numpy_ints():
    x = images("float32", True, "channels_last")
    expected = kops.image.resize(x, (4, 6))
    check(image.resize(x, [4, 6]), expected, atol=1e-6)
    check(image.resize(x, (np.int64(4), np.int32(6))), expected, atol=1e-6)


# ------------------------------------------------------------------ pad_images and crop_images
PADDINGS = [dict(top_padding=1, bottom_padding=2, left_padding=0, right_padding=3),
            dict(top_padding=2, target_height=9, left_padding=1, target_width=8),
            dict(bottom_padding=0, target_height=5, right_padding=4, target_width=12)]
CROPPINGS = [dict(top_cropping=1, bottom_cropping=2, left_cropping=0, right_cropping=3),
             dict(top_cropping=2, target_height=3, left_cropping=1, target_width=4),
             dict(bottom_cropping=0, target_height=5, right_cropping=4, target_width=1)]


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "uint8", "int64"])
@pytest.mark.parametrize("edges", range(3))
def test_pad_and_crop_images_match_keras(edges, dtype, batched, data_format):
    x = images(dtype, batched, data_format)
    check(image.pad_images(x, data_format=data_format, **PADDINGS[edges]),
          kops.image.pad_images(x, data_format=data_format, **PADDINGS[edges]))
    check(image.crop_images(torch.from_numpy(x), data_format=data_format, **CROPPINGS[edges]),
          kops.image.crop_images(x, data_format=data_format, **CROPPINGS[edges]))


def test_pad_and_crop_take_positional_edges():
    x = images("float32", True, "channels_last")
    check(image.pad_images(x, 1, 2, 3, 4), kops.image.pad_images(x, 1, 2, 3, 4))
    check(image.crop_images(x, 1, 2, 0, 1), kops.image.crop_images(x, 1, 2, 0, 1))
    assert torch.equal(image.crop_images(image.pad_images(torch.from_numpy(x), 1, 2, 3, 4), 1, 2, 3, 4),
                       torch.from_numpy(x))


def test_pad_and_crop_edges_are_checked():
    x = torch.zeros(5, 7, 3)
    with pytest.raises(ValueError, match="pad_images: give exactly two of `top_padding`, `bottom_padding` and "
                                         "`target_height`, got top_padding=1, bottom_padding=None, "
                                         "target_height=None"):
        image.pad_images(x, top_padding=1, left_padding=1, right_padding=1)
    with pytest.raises(ValueError, match="crop_images: give exactly two of `left_cropping`, `right_cropping` and "
                                         "`target_width`, got left_cropping=1, right_cropping=1, target_width=2"):
        image.crop_images(x, 0, 1, 0, 1, target_width=2)
    with pytest.raises(ValueError, match="pad_images: `top_padding` must be >= 0, got -1"):
        image.pad_images(x, -1, 0, 0, 0)
    with pytest.raises(ValueError, match="crop_images: `top_cropping` must be a non-negative integer or None, "
                                         "got 1.5"):
        image.crop_images(x, 1.5, 0, 0, 0)
    with pytest.raises(ValueError, match="pad_images: `top_padding` comes out as -1 \\(must be >= 0\\) for images "
                                         "of 5 along that axis"):
        image.pad_images(x, bottom_padding=2, target_height=6, left_padding=0, right_padding=0)
    with pytest.raises(ValueError, match="crop_images: `bottom_cropping` comes out as -1 \\(must be >= 0\\)"):
        image.crop_images(x, top_cropping=3, target_height=3, left_cropping=0, right_cropping=0)
    with pytest.raises(ValueError, match="crop_images: `target_width` comes out as -1"):
        image.crop_images(kr.Input((5, 7, 3)), 0, 4, 0, 4)


# ------------------------------------------------------------------ patches and filters
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("arguments", [dict(size=2), dict(size=(2, 3)), dict(size=(3, 2), strides=1),
                                       dict(size=(2, 2), strides=(1, 3), padding="same"),
                                       dict(size=3, strides=1, dilation_rate=2), dict(size=[3, 3], padding="same")])
def test_extract_patches_matches_keras(arguments, batched, data_format):
    x = images("float32", batched, data_format)
    check(image.extract_patches(torch.from_numpy(x), data_format=data_format, **arguments),
          kops.image.extract_patches(x, data_format=data_format, **arguments))


@pytest.mark.parametrize("batched", [False, True])
def test_extract_patches_of_volumes_matches_keras(batched):
    x = RNG.uniform(size=(2, 4, 5, 6, 3)[0 if batched else 1:]).astype("float32")
    check(image.extract_patches(x, (2, 2, 3)), kops.image.extract_patches(x, (2, 2, 3)))
    check(image.extract_patches(x, (2, 3, 2), strides=1, padding="same", data_format="channels_first"),
          kops.image.extract_patches(x, (2, 3, 2), strides=1, padding="same", data_format="channels_first"))


def test_extract_patches_order_is_row_column_channel():
    x = torch.arange(2 * 2 * 2, dtype=torch.float32).reshape(1, 2, 2, 2)
    assert image.extract_patches(x, 2).flatten().tolist() == x.flatten().tolist()


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("arguments", [{}, dict(kernel_size=(5, 5), sigma=(2.0, 0.5)), dict(kernel_size=(3, 5)),
                                       dict(kernel_size=[4, 2], sigma=[1, 3]), dict(kernel_size=(1, 1))])
def test_gaussian_blur_matches_keras(arguments, dtype, batched, data_format):
    x = images(dtype, batched, data_format)
    check(image.gaussian_blur(x, data_format=data_format, **arguments),
          kops.image.gaussian_blur(x, data_format=data_format, **arguments), atol=1e-3 if dtype == "float16" else 1e-6)


def test_gaussian_blur_keeps_a_constant_image_inside():
    blurred = image.gaussian_blur(torch.ones(1, 6, 6, 2), kernel_size=3, sigma=0.7)
    torch.testing.assert_close(blurred[0, 1:-1, 1:-1], torch.ones(4, 4, 2))
    assert blurred[0, 0, 0, 0] < 1          # zeros beyond the edges


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int32"])
def test_sobel_edges_match_keras(dtype, data_format):
    x = images(dtype, True, data_format, channels=2)
    check(image.sobel_edges(x, data_format=data_format), kops.image.sobel_edges(x, data_format=data_format))


def test_sobel_edges_of_a_vertical_edge():
    x = torch.zeros(1, 5, 6, 1)
    x[0, :, 3:] = 1.0
    edges = image.sobel_edges(x)
    assert edges.shape == (1, 5, 6, 1, 2)
    assert edges[0, 2, :, 0, 0].tolist() == [0.0] * 6                    # no change down the columns
    assert edges[0, 2, :, 0, 1].tolist() == [0.0, 0.0, 4.0, 4.0, 0.0, -4.0]   # across the edge (zeros beyond)


def test_patch_and_filter_arguments_are_checked():
    x = torch.zeros(2, 6, 6, 3)
    with pytest.raises(TypeError, match="extract_patches: `size` must be an int or a tuple of 2 or 3 ints, got "
                                        "str '3'"):
        image.extract_patches(x, "3")
    with pytest.raises(ValueError, match="extract_patches: `size` must be a positive int or a tuple of 2 or 3 of "
                                         "them, got \\(2, 2, 2, 2\\)"):
        image.extract_patches(x, (2, 2, 2, 2))
    with pytest.raises(ValueError, match="extract_patches: `strides` must be a positive int or a tuple of 2 of them"):
        image.extract_patches(x, 2, strides=(1, 1, 1))
    for padding in ["full", "SAME"]:
        with pytest.raises(ValueError, match=f"extract_patches: `padding` must be 'valid' or 'same' \\(lower case\\), "
                                             f"got '{padding}'"):
            image.extract_patches(x, 2, padding=padding)
    with pytest.raises(ValueError, match="extract_patches: 3-D patches \\(size \\(2, 2, 2\\)\\) need one volume "
                                         "\\(rank 4\\) or a batch of them \\(rank 5\\), got shape \\(6, 6, 3\\)"):
        image.extract_patches(x[0], (2, 2, 2))
    with pytest.raises(ValueError, match="gaussian_blur: `kernel_size` must be two positive ints \\(height, width\\), "
                                         "got \\(3, 0\\)"):
        image.gaussian_blur(x, kernel_size=(3, 0))
    with pytest.raises(ValueError, match="gaussian_blur: `sigma` must be two positive numbers"):
        image.gaussian_blur(x, sigma=(1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="gaussian_blur: images must have a float dtype, got uint8"):
        image.gaussian_blur(x.to(torch.uint8))
    with pytest.raises(ValueError, match="sobel_edges: images must be a batch \\(batch, channels, height, width\\) "
                                         "\\(rank 4\\), got shape \\(6, 6, 3\\)"):
        image.sobel_edges(x[0], data_format="channels_first")


# ------------------------------------------------------------------ map_coordinates and affine_transform
FILL_MODES = ["constant", "nearest", "wrap", "mirror", "reflect"]
TRANSFORMS = np.array([[1.1, 0.2, -1.0, 0.1, 0.9, 0.5, 0.0, 0.0],      # a little rotation, shear and zoom
                       [0.8, -0.3, 2.0, 0.2, 1.2, -1.0, 0.0, 0.0],
                       [1.0, 0.0, -2.5, 0.0, 1.0, 1.5, 0.0, 0.0],       # a shift by half pixels
                       [-1.0, 0.0, 6.0, 0.0, 1.0, 0.0, 0.0, 0.0]], dtype="float32")    # a mirror image


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int32"])
def test_map_coordinates_matches_keras(dtype, order, fill_mode):
    x = images(dtype, False, "channels_last", channels=2)                # (5, 7, 2)
    coordinates = RNG.uniform(-3.0, 9.0, size=(3, 4, 6)).astype("float32")
    coordinates[2] = RNG.integers(-1, 3, size=(4, 6))
    expected = kops.image.map_coordinates(x, coordinates, order, fill_mode=fill_mode, fill_value=7)
    check(image.map_coordinates(torch.from_numpy(x), torch.from_numpy(coordinates), order, fill_mode=fill_mode,
                                fill_value=7), expected, atol=1e-5)
    rows = [coordinates[0], coordinates[1], coordinates[2].astype("int32")]     # a list of rows, integer ones too
    check(image.map_coordinates(x, rows, order, fill_mode=fill_mode, fill_value=7),
          kops.image.map_coordinates(x, rows, order, fill_mode=fill_mode, fill_value=7), atol=1e-5)


def test_map_coordinates_fill_modes_on_a_line():
    line = torch.tensor([0.0, 1.0, 2.0, 3.0])
    where = torch.tensor([[-2.0, -1.0, 4.0, 5.0]])
    expected = {"constant": [9.0, 9.0, 9.0, 9.0], "nearest": [0.0, 0.0, 3.0, 3.0], "wrap": [2.0, 3.0, 0.0, 1.0],
                "mirror": [2.0, 1.0, 2.0, 1.0], "reflect": [1.0, 0.0, 3.0, 2.0]}
    for fill_mode, values in expected.items():
        assert image.map_coordinates(line, where, 0, fill_mode=fill_mode, fill_value=9).tolist() == values


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_affine_transform_matches_keras(dtype, interpolation, fill_mode, data_format):
    x = images(dtype, True, data_format, height=6, width=7)
    x = np.concatenate([x, x])                     # four images, one transform each
    arguments = dict(interpolation=interpolation, fill_mode=fill_mode, fill_value=0.5 if dtype == "float32" else 3,
                     data_format=data_format)
    check(image.affine_transform(torch.from_numpy(x), torch.from_numpy(TRANSFORMS), **arguments),
          kops.image.affine_transform(x, TRANSFORMS, **arguments), atol=1e-5)


def test_affine_transform_of_one_image_and_a_float64_transform():
    x = images("float32", False, "channels_first", height=6, width=7)
    transform = TRANSFORMS[0].astype("float64")
    check(image.affine_transform(x, transform, data_format="channels_first"),
          kops.image.affine_transform(x, transform, data_format="channels_first"), atol=1e-6)
    identity = np.array([1, 0, 0, 0, 1, 0, 0, 0], dtype="float32")
    np.testing.assert_array_equal(image.affine_transform(x, identity, data_format="channels_first").numpy(), x)


def test_affine_transform_leaves_the_transform_as_it_was():
    transform = torch.from_numpy(TRANSFORMS[:1].copy())
    image.affine_transform(torch.ones(1, 4, 4, 1), transform)
    assert torch.equal(transform, torch.from_numpy(TRANSFORMS[:1]))


def test_sampling_arguments_are_checked():
    x = torch.zeros(2, 5, 5, 3)
    with pytest.raises(ValueError, match="map_coordinates: `order` must be 0 \\(nearest\\) or 1 \\(linear\\), got 3"):
        image.map_coordinates(x, torch.zeros(4, 2), 3)
    with pytest.raises(ValueError, match="map_coordinates: `fill_mode` must be one of 'constant', 'nearest', "
                                         "'wrap', 'mirror', 'reflect'; got 'edge'"):
        image.map_coordinates(x, torch.zeros(4, 2), 1, fill_mode="edge")
    with pytest.raises(ValueError, match="map_coordinates: `coordinates` must have one row per axis of the inputs "
                                         "\\(4 for shape \\(2, 5, 5, 3\\)\\), got 2"):
        image.map_coordinates(x, torch.zeros(2, 6), 1)
    with pytest.raises(ValueError, match="map_coordinates: `coordinates` must have at least 2 axes"):
        image.map_coordinates(x[0, 0, 0], torch.zeros(3), 1)       # one row per axis, but no output axes
    with pytest.raises(ValueError, match="affine_transform: `interpolation` must be 'nearest' or 'bilinear', got "
                                         "'bicubic'"):
        image.affine_transform(x, TRANSFORMS[:2], interpolation="bicubic")
    with pytest.raises(ValueError, match="affine_transform: `fill_mode` must be one of"):
        image.affine_transform(x, TRANSFORMS[:2], fill_mode="edge")
    with pytest.raises(ValueError, match="affine_transform: `transform` must be 8 numbers or a batch of them "
                                         "\\(shape \\(8,\\) or \\(batch, 8\\)\\), got shape \\(2, 6\\)"):
        image.affine_transform(x, torch.zeros(2, 6))
    with pytest.raises(ValueError, match="affine_transform: one transform per image: 2 images but transform has "
                                         "shape \\(4, 8\\)"):
        image.affine_transform(x, TRANSFORMS)
    with pytest.raises(ValueError, match="affine_transform: `fill_value` must be a number, got None"):
        image.affine_transform(x, TRANSFORMS[:2], fill_value=None)


def test_affine_transform_and_map_coordinates_in_models_with_keras_files(tmp_path):
    coordinates = RNG.uniform(-1.0, 6.0, size=(3, 4, 5)).astype("float32")

    def build(lib, o):
        pictures, transforms = lib.Input((6, 7, 3)), lib.Input((8,))
        return lib.Model([pictures, transforms], [
            o.image.affine_transform(pictures, transforms),
            # Keras's torch backend rearranges the transform tensor in place: the second call gets its own
            o.image.affine_transform(o.transpose(pictures, (0, 3, 1, 2)), transforms * 1.0, interpolation="nearest",
                                     fill_mode="reflect", data_format="channels_first"),
            o.image.map_coordinates(pictures[0], coordinates, 1, fill_mode="wrap"),
            o.image.perspective_transform(pictures, START, END, interpolation="nearest", fill_value=0.5),
            o.image.extract_patches_3d(o.expand_dims(pictures, -1), (2, 2, 3), strides=1),
            o.image.ssim(pictures, o.image.gaussian_blur(pictures), filter_size=5)])

    model, keras_model = build(kr, ops), build(keras, kops)
    x = [images("float32", True, "channels_last", height=6, width=7), TRANSFORMS[:2]]
    expected = keras_model(x)
    check(list(model([torch.from_numpy(a) for a in x])), list(expected), atol=1e-5)
    assert tuple(model.outputs[2].shape) == (4, 5)
    assert tuple(model.outputs[3].shape) == (None, 6, 7, 3)
    kr.save_keras(model, tmp_path / "ours.keras")
    check(list(keras.models.load_model(tmp_path / "ours.keras")(x)), list(expected), atol=1e-5)
    keras_model.save(tmp_path / "theirs.keras")
    check(list(kr.from_keras(tmp_path / "theirs.keras")([torch.from_numpy(a) for a in x])), list(expected), atol=1e-5)


# ------------------------------------------------------------------ extract_patches_3d and perspective_transform
@pytest.mark.parametrize("arguments", [dict(size=2), dict(size=(2, 3, 2), strides=1),
                                       dict(size=2, strides=(1, 2, 3), padding="same", data_format="channels_first")])
@pytest.mark.parametrize("batched", [False, True])
def test_extract_patches_3d_matches_keras(batched, arguments):
    x = RNG.uniform(size=(2, 4, 5, 6, 3)[0 if batched else 1:]).astype("float32")
    check(image.extract_patches_3d(x, **arguments), kops.image.extract_patches_3d(x, **arguments))


START = np.array([[0, 0], [0, 9], [11, 0], [11, 9]], dtype="float32")
END = np.array([[1, 2], [0.5, 8], [10, -1], [12, 9.5]], dtype="float32")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("per_image", [False, True])
def test_perspective_transform_matches_keras(per_image, interpolation, batched, data_format):
    x = images("float32", batched, data_format, height=9, width=11)
    start, end = START, END
    if per_image and batched:
        start, end = np.stack([START, START + 0.5]), np.stack([END, END[::-1]])
    arguments = dict(interpolation=interpolation, fill_value=0.25, data_format=data_format)
    check(image.perspective_transform(torch.from_numpy(x), start, end, **arguments),
          kops.image.perspective_transform(x, start, end, **arguments), atol=1e-5)


def test_perspective_transform_with_the_same_corners_changes_nothing():
    x = torch.rand(9, 11, 2, dtype=torch.float64)
    torch.testing.assert_close(image.perspective_transform(x, START, START), x)
    moved = image.homography(torch.from_numpy(START[None]), torch.from_numpy(END[None]))[0].double()
    for (sx, sy), (ex, ey) in zip(START, END):       # each end corner maps back onto its start corner
        scale = moved[6] * ex + moved[7] * ey + 1
        assert abs((moved[0] * ex + moved[1] * ey + moved[2]) / scale - sx) < 1e-3
        assert abs((moved[3] * ex + moved[4] * ey + moved[5]) / scale - sy) < 1e-3


def test_perspective_and_3d_patch_arguments_are_checked():
    x = torch.zeros(2, 9, 11, 3)
    with pytest.raises(ValueError, match="perspective_transform: `start_points` must be 4 \\(x, y\\) corners, shape "
                                         "\\(4, 2\\), or a batch of them, \\(batch, 4, 2\\); got shape \\(3, 2\\)"):
        image.perspective_transform(x, START[:3], END[:3])
    with pytest.raises(ValueError, match="`start_points` and `end_points` must have the same shape, got \\(1, 4, 2\\) "
                                         "and \\(2, 4, 2\\)"):
        image.perspective_transform(x, START, np.stack([END, END]))
    with pytest.raises(ValueError, match="one set of corners, or one per image: 2 images but 3 sets"):
        image.perspective_transform(x, np.stack([START] * 3), np.stack([END] * 3))
    with pytest.raises(ValueError, match="perspective_transform: `interpolation` must be 'nearest' or 'bilinear'"):
        image.perspective_transform(x, START, END, interpolation="bicubic")
    with pytest.raises(ValueError, match="extract_patches_3d: `size` must be an int or a tuple of 3 ints, got "
                                         "\\(2, 2\\)"):
        image.extract_patches_3d(x, (2, 2))


# ------------------------------------------------------------------ ssim
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "uint8"])
def test_ssim_matches_keras(dtype, batched, data_format):
    x = images(dtype, batched, data_format, height=13, width=15)
    y = images(dtype, batched, data_format, height=13, width=15)
    max_val = 255.0 if dtype == "uint8" else 1.0
    check(image.ssim(torch.from_numpy(x), y, max_val=max_val, data_format=data_format),
          kops.image.ssim(x, y, max_val=max_val, data_format=data_format), atol=1e-3 if dtype == "float16" else 1e-6)
    noisy = np.clip(x.astype("float64") + RNG.normal(0, 0.05 * max_val, size=x.shape), 0, max_val).astype(dtype)
    arguments = dict(max_val=max_val, filter_size=5, filter_sigma=0.8, k1=0.02, k2=0.05, data_format=data_format)
    check(image.ssim(x, noisy, **arguments), kops.image.ssim(x, noisy, **arguments),
          atol=1e-3 if dtype == "float16" else 1e-6)


def test_ssim_of_an_image_with_itself_is_one():
    x = torch.rand(2, 12, 12, 3, dtype=torch.float64)
    torch.testing.assert_close(image.ssim(x, x), torch.ones(2, dtype=torch.float64))
    assert image.ssim(x, 1 - x).max() < 0.5


def test_ssim_arguments_are_checked():
    x = torch.rand(2, 12, 12, 3)
    with pytest.raises(ValueError, match="ssim: image1 and image2 must have the same shape, got \\(2, 12, 12, 3\\) "
                                         "and \\(12, 12, 3\\)"):
        image.ssim(x, x[0])
    with pytest.raises(ValueError, match="ssim: the images \\(\\(2, 12, 12, 3\\), channels_last\\) must be at least "
                                         "filter_size=13 high and wide"):
        image.ssim(x, x, filter_size=13)
    with pytest.raises(ValueError, match="ssim: `filter_size` must be a positive int, got 0"):
        image.ssim(x, x, filter_size=0)
    with pytest.raises(ValueError, match="ssim: `max_val` must be a number, got '1'"):
        image.ssim(x, x, max_val="1")


# ------------------------------------------------------------------ scale_and_translate
@pytest.mark.parametrize("method", ["linear", "bilinear", "cubic", "tricubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
def test_scale_and_translate_matches_keras(dtype, antialias, method):
    x = images(dtype, True, "channels_last", height=9, width=11)
    scale, translation = np.array([0.6, 1.7], "float32"), np.array([0.3, -1.2], "float32")
    expected = kops.image.scale_and_translate(x, (2, 6, 19, 3), scale, translation, (1, 2), method, antialias)
    check(image.scale_and_translate(torch.from_numpy(x), (2, 6, 19, 3), torch.from_numpy(scale), translation,
                                    (1, 2), method, antialias), expected, atol=1e-5)


def test_scale_and_translate_on_other_axes_and_dtypes():
    x = RNG.uniform(size=(7, 4, 5)).astype("float64")
    arguments = ((14, 4, 3), np.array([2.0, 0.5]), np.array([-0.5, 0.25]), (0, -1), "cubic")
    check(image.scale_and_translate(x, *arguments), kops.image.scale_and_translate(x, *arguments))
    assert torch.equal(image.scale_and_translate(torch.from_numpy(x), x.shape, [], [], (), "linear"),
                       torch.from_numpy(x))


def test_scale_and_translate_arguments_are_checked():
    x = torch.zeros(2, 5, 5, 3)
    with pytest.raises(ValueError, match="scale_and_translate: `method` must be one of 'linear', .*; got 'area'"):
        image.scale_and_translate(x, (2, 6, 6, 3), [1.0, 1.0], [0.0, 0.0], (1, 2), "area")
    with pytest.raises(ValueError, match="scale_and_translate: `output_shape` must give all 4 axes of the images "
                                         "\\(shape \\(2, 5, 5, 3\\)\\), got \\(6, 6\\)"):
        image.scale_and_translate(x, (6, 6), [1.0, 1.0], [0.0, 0.0], (1, 2), "linear")
    with pytest.raises(ValueError, match="scale_and_translate: `scale` and `translation` must have one value per "
                                         "spatial axis \\(2: \\(1, 2\\)\\), got 1 and 2"):
        image.scale_and_translate(x, (2, 6, 6, 3), [1.0], [0.0, 0.0], (1, 2), "linear")


def test_scale_and_translate_in_a_model_with_keras_files(tmp_path):
    def build(lib, o):
        inputs = lib.Input((9, 11, 3))
        return lib.Model(inputs, o.image.scale_and_translate(inputs, (2, 6, 19, 3), np.array([0.6, 1.7], "float32"),
                                                             np.array([0.3, -1.2], "float32"), (1, 2), "bicubic"))

    model, keras_model = build(kr, ops), build(keras, kops)
    assert tuple(model.outputs[0].shape) == (None, 6, 19, 3)      # Keras says (2, 6, 19, 3): output_shape as given
    check_keras_files_both_ways(model, keras_model, images("float32", True, "channels_last", height=9, width=11),
                                tmp_path, atol=1e-5)


# ------------------------------------------------------------------ elastic_transform
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("arguments", [dict(alpha=5.0, sigma=1.5), dict(alpha=8.0, sigma=1.0, interpolation="nearest",
                                                                        fill_mode="constant", fill_value=0.5),
                                       dict(alpha=3, sigma=0.7, fill_mode="wrap")])
def test_elastic_transform_matches_keras_on_the_same_global_generator(arguments, dtype, batched, data_format):
    x = images(dtype, batched, data_format, height=9, width=11)
    torch.manual_seed(3)
    ours = image.elastic_transform(torch.from_numpy(x), data_format=data_format, **arguments)
    torch.manual_seed(3)
    check(ours, kops.image.elastic_transform(x, data_format=data_format, **arguments), atol=1e-6)


def test_elastic_transform_with_a_seed_repeats_and_moves_pixels():
    x = torch.rand(2, 12, 12, 3)
    first = image.elastic_transform(x, alpha=4.0, sigma=1.0, seed=7)
    assert torch.equal(first, image.elastic_transform(x, alpha=4.0, sigma=1.0, seed=7))
    assert not torch.equal(first, image.elastic_transform(x, alpha=4.0, sigma=1.0, seed=8))
    assert not torch.equal(first, x)
    torch.testing.assert_close(image.elastic_transform(x, alpha=0.0, sigma=1.0, seed=7), x)   # no push: no change


def test_elastic_transform_arguments_are_checked():
    x = torch.rand(2, 12, 12, 3)
    with pytest.raises(ValueError, match="elastic_transform: images must have a float dtype, got uint8"):
        image.elastic_transform(x.to(torch.uint8))
    with pytest.raises(ValueError, match="elastic_transform: `sigma` must be positive, got 0"):
        image.elastic_transform(x, sigma=0)
    with pytest.raises(ValueError, match="elastic_transform: `seed` must be an int or None, got 'a'"):
        image.elastic_transform(x, seed="a")
    with pytest.raises(ValueError, match="elastic_transform: `interpolation` must be 'nearest' or 'bilinear'"):
        image.elastic_transform(x, interpolation="bicubic")
    with pytest.raises(ValueError, match="elastic_transform: `fill_mode` must be one of"):
        image.elastic_transform(x, fill_mode="edge")


def test_elastic_transform_in_a_model_with_keras_files(tmp_path):
    def build(lib, o):
        inputs = lib.Input((9, 11, 3))
        return lib.Model(inputs, o.image.elastic_transform(inputs, alpha=5.0, sigma=1.5, fill_mode="nearest"))

    model, keras_model = build(kr, ops), build(keras, kops)
    x = images("float32", True, "channels_last", height=9, width=11)

    def seeded(run):
        torch.manual_seed(5)
        return run()

    expected = seeded(lambda: keras_model(x))
    check(seeded(lambda: model(torch.from_numpy(x))), expected, atol=1e-6)
    kr.save_keras(model, tmp_path / "ours.keras")
    loaded = keras.models.load_model(tmp_path / "ours.keras")
    check(seeded(lambda: loaded(x)), expected, atol=1e-6)
    keras_model.save(tmp_path / "theirs.keras")
    ours_loaded = kr.from_keras(tmp_path / "theirs.keras")
    check(seeded(lambda: ours_loaded(torch.from_numpy(x))), expected, atol=1e-6)


# ------------------------------------------------------------------ on kr.Input and in Keras files
SYMBOLIC = {
    "grayscale": lambda o, x: o.image.rgb_to_grayscale(x),
    "grayscale_first": lambda o, x: o.image.rgb_to_grayscale(o.transpose(x, (0, 3, 1, 2)),
                                                               data_format="channels_first"),
    "hsv": lambda o, x: o.image.rgb_to_hsv(x),
    "rgb": lambda o, x: o.image.hsv_to_rgb(x),
    "resize": lambda o, x: o.image.resize(x, (3, 4)),
    "resize_first": lambda o, x: o.image.resize(o.transpose(x, (0, 3, 1, 2)), (8, 2), data_format="channels_first"),
    "resize_single": lambda o, x: o.image.resize(x[0], (3, 4), crop_to_aspect_ratio=True),
    "resize_bytes": lambda o, x: o.image.resize(o.cast(x * 255, "uint8"), (2, 9), interpolation="bicubic"),
    "pad": lambda o, x: o.image.pad_images(x, 1, 2, 3, 4),
    "pad_targets": lambda o, x: o.image.pad_images(o.transpose(x, (0, 3, 1, 2)), top_padding=1, target_height=8,
                                                   right_padding=0, target_width=9, data_format="channels_first"),
    "crop": lambda o, x: o.image.crop_images(x, 1, 2, 0, 1),
    "patches": lambda o, x: o.image.extract_patches(x, (2, 3)),
    "patches_same": lambda o, x: o.image.extract_patches(x, 2, strides=1, padding="same", dilation_rate=1),
    "blur": lambda o, x: o.image.gaussian_blur(x),
    "blur_first": lambda o, x: o.image.gaussian_blur(o.transpose(x, (0, 3, 1, 2)), kernel_size=(5, 5),
                                                     data_format="channels_first"),
    "sobel": lambda o, x: o.image.sobel_edges(x),
    "affine": lambda o, x: o.image.affine_transform(x, o.concatenate([x[:, 0, :, 0], x[:, 1, :1, 0]], axis=1)),
    "perspective": lambda o, x: o.image.perspective_transform(x, START, END),
    "patches_3d": lambda o, x: o.image.extract_patches_3d(o.expand_dims(x, 1), (1, 2, 2)),
    "ssim": lambda o, x: o.image.ssim(x, x * 0.5, filter_size=5),
    "elastic": lambda o, x: o.image.elastic_transform(x, sigma=1.0, seed=3),
    "map_coordinates": lambda o, x: o.image.map_coordinates(x, np.zeros((4, 2, 3), dtype="float32"), 0),
    "crop_targets": lambda o, x: o.image.crop_images(x, bottom_cropping=1, target_height=2, left_cropping=3,
                                                     target_width=4),
}


def described(t):
    return tuple(t.shape), keras.backend.standardize_dtype(str(t.dtype).replace("torch.", ""))


@pytest.mark.parametrize("name", sorted(SYMBOLIC))
def test_symbolic_shapes_and_dtypes_match_keras(name):
    build = SYMBOLIC[name]
    assert described(build(ops, kr.Input((5, 7, 3)))) == described(build(kops, keras.Input((5, 7, 3))))


def test_a_wider_than_tall_blur_kernel_narrows_the_symbolic_output_as_it_does_the_values():
    # Keras's torch backend pads kernel_size[0] // 2 on both axes, so a (3, 5) kernel takes 2 columns off; Keras's
    # symbolic shape keeps the input's, ours says what the model will output.
    x = kr.Input((5, 7, 3))
    assert tuple(image.gaussian_blur(x, kernel_size=(3, 5)).shape) == (None, 5, 5, 3)
    assert tuple(image.gaussian_blur(torch.zeros(2, 5, 7, 3), kernel_size=(3, 5)).shape) == (2, 5, 5, 3)


def test_single_symbolic_images_keep_their_axes():
    single = kr.Input((5, 7, 3))[0]           # rank 3: one image
    assert tuple(image.rgb_to_grayscale(single).shape) == (*single.shape[:2], 1)
    assert tuple(image.rgb_to_hsv(single).shape) == tuple(single.shape)
    first = kr.Input((3, 5, 7))[0]
    assert tuple(image.rgb_to_grayscale(first, data_format="channels_first").shape) == (1, *first.shape[1:])
    assert tuple(image.resize(first, (2, 9), data_format="channels_first").shape) == (first.shape[0], 2, 9)


def test_the_operations_record_keras_s_class_names_and_configs():
    x = kr.Input((5, 7, 3))
    model = kr.Model(x, [image.rgb_to_grayscale(x), image.resize(x, [3, 4], interpolation="nearest")])
    entries = {entry["class_name"]: entry for entry in model.get_config()["layers"]}
    assert entries["RGBToGrayscale"]["config"]["data_format"] == "channels_last"
    assert entries["Resize"]["module"] == "keras.src.ops.image"
    resize_config = dict(entries["Resize"]["config"])
    resize_config.pop("name")
    assert resize_config == {"size": [3, 4], "interpolation": "nearest", "antialias": False,
                             "crop_to_aspect_ratio": False, "pad_to_aspect_ratio": False, "fill_mode": "constant",
                             "fill_value": 0.0, "data_format": "channels_last"}


def test_the_operations_in_a_model_with_keras_files(tmp_path):
    def build(lib, o):
        inputs = lib.Input((5, 7, 3))
        first = o.transpose(inputs, (0, 3, 1, 2))
        return lib.Model(inputs, [
            o.image.rgb_to_grayscale(inputs), o.image.rgb_to_grayscale(first, data_format="channels_first"),
            o.image.hsv_to_rgb(o.image.rgb_to_hsv(inputs)), o.image.rgb_to_hsv(first, data_format="channels_first"),
            o.image.resize(inputs, (3, 4)), o.image.resize(inputs, (8, 9), interpolation="bicubic", antialias=True),
            o.image.resize(first, (4, 4), interpolation="nearest", crop_to_aspect_ratio=True,
                           data_format="channels_first"),
            o.image.resize(inputs, (6, 3), pad_to_aspect_ratio=True, fill_value=0.25),
            o.image.pad_images(inputs, 1, 0, 2, 3), o.image.pad_images(first, top_padding=0, target_height=7,
                                                                       left_padding=1, target_width=8,
                                                                       data_format="channels_first"),
            o.image.crop_images(inputs, 1, 2, target_height=3, target_width=4),
            o.image.crop_images(first, bottom_cropping=1, target_height=3, right_cropping=2, target_width=4,
                                data_format="channels_first"),
            o.image.extract_patches(inputs, (2, 3)), o.image.extract_patches(first, 2, strides=1, padding="same",
                                                                             data_format="channels_first"),
            o.image.gaussian_blur(inputs, kernel_size=(5, 3), sigma=(1.5, 0.5)),
            o.image.gaussian_blur(first, data_format="channels_first"),
            o.image.sobel_edges(inputs), o.image.sobel_edges(first, data_format="channels_first")])

    model, keras_model = build(kr, ops), build(keras, kops)
    x = RNG.uniform(size=(2, 5, 7, 3)).astype("float32")
    check_keras_files_both_ways(model, keras_model, x, tmp_path, atol=1e-5)


# ------------------------------------------------------------------ bad input
WRONG_RANK_ARGS = {"rgb_to_grayscale": (), "rgb_to_hsv": (), "hsv_to_rgb": (), "resize": ((3, 3),),
                   "pad_images": (1, 1, 1, 1), "crop_images": (1, 1, 1, 1), "gaussian_blur": (),
                   "affine_transform": (np.zeros(8, dtype="float32"),),
                   "perspective_transform": (START, END), "ssim": (torch.zeros(4, 4, 3, 3),),
                   "elastic_transform": ()}


@pytest.mark.parametrize("name", sorted(WRONG_RANK_ARGS))
@pytest.mark.parametrize("shape", [(4, 3), (1, 2, 4, 4, 3)])
def test_images_of_the_wrong_rank_are_refused(name, shape):
    args = WRONG_RANK_ARGS[name]
    message = (f"kr.ops.image.{name}: images must be one image (height, width, channels) (rank 3) or a batch of "
               f"them (rank 4), got shape {shape}")
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(image, name)(torch.zeros(shape), *args)


def test_the_wrong_channel_count_is_refused():
    with pytest.raises(ValueError, match="rgb_to_grayscale: images must have 1 \\(grayscale\\) or 3 \\(RGB\\) "
                                         "channels on axis -1 \\(channels_last\\), got shape \\(4, 4, 2\\) "
                                         "\\(2 channels\\)"):
        image.rgb_to_grayscale(torch.zeros(4, 4, 2))
    with pytest.raises(ValueError, match="rgb_to_hsv: images must have 3 \\(RGB\\) channels on axis -3 "
                                         "\\(channels_first\\), got shape \\(2, 4, 5, 5\\) \\(4 channels\\)"):
        image.rgb_to_hsv(torch.zeros(2, 4, 5, 5), data_format="channels_first")
    with pytest.raises(ValueError, match="hsv_to_rgb: images must have 3 \\(HSV\\) channels"):
        image.hsv_to_rgb(torch.zeros(5, 5, 1))
    with pytest.raises(ValueError, match="rgb_to_grayscale: images must have 1 \\(grayscale\\) or 3"):
        image.rgb_to_grayscale(kr.Input((4, 4, 4)))


def test_hsv_needs_float_images():
    with pytest.raises(ValueError, match="kr.ops.image.rgb_to_hsv: images must have a float dtype, got uint8"):
        image.rgb_to_hsv(torch.zeros(4, 4, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="kr.ops.image.hsv_to_rgb: images must have a float dtype, got int32"):
        image.hsv_to_rgb(np.zeros((4, 4, 3), dtype="int32"))


def test_bad_data_formats_and_resize_arguments_are_refused():
    x = torch.zeros(4, 4, 3)
    with pytest.raises(ValueError, match="kr.ops.image.rgb_to_grayscale: `data_format` must be one of"):
        image.rgb_to_grayscale(x, data_format="channels_middle")
    with pytest.raises(ValueError, match="`interpolation` must be one of 'bilinear', 'nearest', 'bicubic'; "
                                         "got 'area'"):
        image.resize(x, (2, 2), interpolation="area")
    with pytest.raises(ValueError, match="interpolation='lanczos3' is not available with torch"):
        image.resize(x, (2, 2), interpolation="lanczos3")
    with pytest.raises(ValueError, match="`fill_mode` must be 'constant' \\(the only one\\), got 'reflect'"):
        image.resize(x, (2, 2), pad_to_aspect_ratio=True, fill_mode="reflect")
    with pytest.raises(ValueError, match="only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio`"):
        image.resize(x, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    for size in [(2,), (2, 2, 2), 5, (2.0, 2)]:
        with pytest.raises(ValueError, match="`size` must be two integers \\(height, width\\), got"):
            image.resize(x, size)
    with pytest.raises(ValueError, match="`size` must have a positive height and width, got \\(0, 3\\)"):
        image.resize(x, (0, 3))
    with pytest.raises(ValueError, match="`fill_value` must be a number, got 'black'"):
        image.resize(x, (2, 2), fill_value="black")
