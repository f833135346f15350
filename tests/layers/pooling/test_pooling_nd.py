"""MaxPooling2D/3D, AveragePooling1D/2D/3D and the 2D/3D global poolings against keras.layers (torch backend)."""
import re

import keras
import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, weighted_sum


def automatic_name(layer):
    """A layer's automatic name without the counter Keras and kr add ("conv3d_transpose_2" -> "conv3d_transpose")."""
    return re.sub(r"_\d+$", "", layer.name)

CASES = [
    ("MaxPooling2D", {}, (2, 5, 6, 3)),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 3)),
    ("MaxPooling2D", {"pool_size": (2, 3), "strides": 1, "padding": "same"}, (2, 5, 6, 3)),
    ("MaxPooling2D", {"pool_size": 2, "padding": "same", "data_format": "channels_first"}, (2, 3, 5, 6)),
    ("MaxPooling3D", {}, (2, 4, 5, 4, 2)),
    ("MaxPooling3D", {"pool_size": (1, 2, 2), "padding": "same", "strides": (1, 2, 2)}, (2, 3, 5, 4, 2)),
    ("AveragePooling1D", {"pool_size": 2}, (2, 7, 3)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 7, 3)),
    ("AveragePooling1D", {"pool_size": 2, "strides": 1, "padding": "same"}, (2, 7, 3)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"},
     (2, 3, 8)),
    ("AveragePooling2D", {"pool_size": 2}, (2, 5, 6, 3)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 5, 6, 3)),
    ("AveragePooling2D", {"pool_size": (2, 3), "strides": 2, "padding": "same"}, (2, 5, 6, 3)),
    ("AveragePooling3D", {"pool_size": 2}, (2, 4, 5, 4, 2)),
    ("AveragePooling3D", {"pool_size": (2, 3, 2), "strides": (2, 2, 1), "padding": "same"}, (2, 3, 5, 4, 2)),
    ("AveragePooling3D", {"pool_size": 3, "strides": 1, "padding": "same", "data_format": "channels_first"},
     (2, 2, 4, 5, 3)),
    ("GlobalAveragePooling2D", {}, (2, 3, 4, 5)),
    ("GlobalAveragePooling2D", {"keepdims": True, "data_format": "channels_first"}, (2, 3, 4, 5)),
    ("GlobalAveragePooling3D", {"keepdims": True}, (2, 3, 4, 2, 5)),
    ("GlobalMaxPooling2D", {"data_format": "channels_first"}, (2, 3, 4, 5)),
    ("GlobalMaxPooling3D", {}, (2, 3, 4, 2, 5)),
    ("GlobalMaxPooling3D", {"keepdims": True, "data_format": "channels_first"}, (2, 3, 4, 2, 5)),
]


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(CASES)])
def test_pooling_matches_keras(name, kwargs, shape):
    ours, theirs = getattr(kr, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    x = torch.randn(shape)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))
    config, ref_config = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in ref_config.items() if k != "name"}
    assert type(ours).from_config(config).get_config() == config
    assert automatic_name(ours) == automatic_name(theirs)
    assert ours.compute_mask(x, torch.ones(shape[:2], dtype=torch.bool)) is None and not ours.supports_masking


def test_average_pooling_keras_numbers():
    # keras/src/layers/pooling/average_pooling_test.py: 1D "valid" and "same" on a ramp.
    x = torch.arange(8.0).reshape(1, 8, 1)
    assert kr.AveragePooling1D(2)(x).flatten().tolist() == [0.5, 2.5, 4.5, 6.5]
    assert kr.AveragePooling1D(3, strides=3, padding="same")(x).shape == (1, 3, 1)


@pytest.mark.parametrize("name, kwargs, pattern", [
    ("AveragePooling1D", {"pool_size": (2, 2)}, "tuple of 1 positive"),
    ("MaxPooling2D", {"padding": "causal"}, "`padding` must be 'valid' or 'same'"),
    ("MaxPooling2D", {"data_format": "nhwc"}, "`data_format` must be one of"),
])
def test_pooling_rejects_bad_arguments(name, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(kr, name)(**kwargs)


def test_pooling_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, rows, cols, channels\)"):
        kr.MaxPooling2D()(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="does not fit"):
        kr.AveragePooling2D(3)(torch.randn(1, 2, 5, 1))
    with pytest.raises(ValueError, match=r"\(batch, channels, dim1, dim2, dim3\)"):
        kr.GlobalMaxPooling3D(data_format="channels_first")(torch.randn(2, 3, 4))
