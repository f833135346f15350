"""Keras files both ways for the layers around recurrent ones: `kr.save_keras` then Keras's `load_model`
gives the same numbers, and a Keras-saved model loads with `kr.from_keras` with the same numbers."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, random_weights

# (class name, constructor arguments, input shape without the batch axis)
LAYERS = [
    ("Conv2D", {"filters": 3, "kernel_size": 2, "padding": "same", "strides": 2}, (5, 4, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": (1, 2, 2), "data_format": "channels_first"}, (2, 3, 4, 4)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (5, 2)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1}, (3, 4, 2)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2, "strides": (1, 2, 2), "padding": "same"}, (2, 3, 3, 2)),
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"}, (5, 3)),
    ("DepthwiseConv2D", {"kernel_size": 2, "data_format": "channels_first"}, (2, 4, 4)),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "strides": 2}, (7, 3)),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 2, "padding": "same", "use_bias": False}, (4, 5, 2)),
    ("ReLU", {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.2}, (5, 3)),
    ("LeakyReLU", {"negative_slope": 0.2}, (5, 3)),
    ("PReLU", {"shared_axes": [1]}, (5, 3)),
    ("ELU", {"alpha": 0.5}, (5, 3)),
    ("Softmax", {"axis": 1}, (5, 3)),
    ("Identity", {}, (5, 3)),
    ("MaxPooling2D", {"pool_size": 2, "padding": "same"}, (5, 4, 2)),
    ("MaxPooling3D", {"pool_size": (1, 2, 2)}, (2, 4, 4, 2)),
    ("AveragePooling1D", {"pool_size": 2, "strides": 1}, (5, 3)),
    ("AveragePooling2D", {"pool_size": 2, "data_format": "channels_first"}, (2, 4, 4)),
    ("AveragePooling3D", {"pool_size": 2, "padding": "same"}, (3, 4, 3, 2)),
    ("GlobalAveragePooling2D", {"keepdims": True}, (3, 4, 2)),
    ("GlobalAveragePooling3D", {}, (2, 3, 4, 2)),
    ("GlobalMaxPooling2D", {"data_format": "channels_first"}, (3, 4, 2)),
    ("GlobalMaxPooling3D", {}, (2, 3, 4, 2)),
    ("ZeroPadding1D", {"padding": (1, 2)}, (5, 3)),
    ("Cropping1D", {"cropping": (1, 2)}, (5, 3)),
    ("UpSampling1D", {"size": 3}, (5, 3)),
    ("ZeroPadding2D", {"padding": ((1, 0), (2, 1))}, (3, 4, 2)),
    ("ZeroPadding3D", {"padding": (1, 0, 2), "data_format": "channels_first"}, (2, 2, 3, 2)),
    ("Cropping2D", {"cropping": ((1, 0), (2, 1))}, (4, 5, 2)),
    ("Cropping3D", {"cropping": 1}, (3, 4, 5, 2)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (3, 4, 2)),
    ("UpSampling3D", {"size": (1, 2, 2)}, (2, 3, 2, 2)),
    ("SpatialDropout1D", {"rate": 0.3, "seed": 1}, (5, 3)),
    ("AlphaDropout", {"rate": 0.3, "seed": 1}, (5, 3)),
    ("ActivityRegularization", {"l1": 0.1, "l2": 0.01}, (5, 3)),
    ("Rescaling", {"scale": 1 / 255, "offset": -0.5}, (5, 3)),
    ("Resizing", {"height": 3, "width": 5, "crop_to_aspect_ratio": True}, (6, 4, 2)),
    ("Resizing", {"height": 7, "width": 3, "interpolation": "nearest", "data_format": "channels_first"}, (2, 4, 5)),
    ("CenterCrop", {"height": 3, "width": 2}, (6, 4, 2)),
    ("RandomFlip", {"mode": "horizontal", "seed": 1}, (4, 5, 2)),
    ("RandomCrop", {"height": 2, "width": 3, "seed": 1, "data_format": "channels_first"}, (2, 4, 5)),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": [-0.1, 0.3], "fill_mode": "wrap"}, (4, 5, 2)),
    ("RandomZoom", {"height_factor": [-0.3, 0.2], "interpolation": "nearest", "seed": 2}, (4, 5, 2)),
    ("RandomRotation", {"factor": 0.1, "fill_mode": "constant", "data_format": "channels_first"}, (2, 4, 5)),
    ("RMSNormalization", {"epsilon": 1e-4}, (5, 3)),
    ("RMSNormalization", {"axis": [1, 2]}, (5, 3)),
    ("Normalization", {"mean": [1.0, 2.0, 3.0], "variance": [4.0, 1.0, 0.5]}, (5, 3)),
    ("SpatialDropout2D", {"rate": 0.3, "seed": 1}, (4, 4, 3)),
    ("SpatialDropout3D", {"rate": 0.3, "data_format": "channels_first"}, (3, 2, 2, 2)),
    ("GaussianNoise", {"stddev": 0.2, "seed": 1}, (5, 3)),
    ("GaussianDropout", {"rate": 0.2}, (5, 3)),
    ("UnitNormalization", {"axis": [1, 2]}, (5, 3)),
    ("GroupNormalization", {"groups": 2, "epsilon": 1e-4}, (5, 4)),
    ("EinsumDense", {"equation": "abc,cde->abde", "output_shape": (None, 2, 3), "bias_axes": "de",
                     "activation": "tanh"}, (5, 4)),
    ("EinsumDense", {"equation": "...b,bc->...c", "output_shape": 4, "bias_axes": "c"}, (3, 5)),
    ("EinsumDense", {"equation": "bc...,cd->bd...", "output_shape": (3,)}, (2, 4)),
]


def inputs_for(shape, seed=0):
    return np.random.default_rng(seed).standard_normal((2, *shape)).astype("float32")


@pytest.mark.parametrize("name, kwargs, shape", LAYERS, ids=[n for n, *_ in LAYERS])
def test_layer_goes_through_keras_files_both_ways(name, kwargs, shape, tmp_path):
    theirs = keras.Sequential([keras.Input(shape), getattr(keras.layers, name)(**kwargs)])
    random_weights(theirs.layers[0])
    x = inputs_for(shape)
    expected = np.asarray(theirs.predict(x, verbose=0))
    keras_path = tmp_path / "keras.keras"
    theirs.save(keras_path)
    ours = kr.from_keras(keras_path).eval()
    assert type(ours.layers[-1]) is getattr(kr, name)
    assert_close(ours(torch.from_numpy(x)), expected, OUTPUT_ATOL, "from_keras")

    our_path = tmp_path / "ours.keras"
    kr.save_keras(ours, our_path)
    again = keras.models.load_model(our_path)
    assert type(again.layers[-1]).__name__ == name
    assert_close(again.predict(x, verbose=0), expected, OUTPUT_ATOL, "save_keras then load_model")
    assert again.count_params() == ours.count_params() == theirs.count_params()
