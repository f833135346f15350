"""ZeroPadding1D, Cropping1D and UpSampling1D against keras.layers: values, gradients, shapes, configs, masks."""
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
    ("ZeroPadding1D", {}, (2, 4, 3)), ("ZeroPadding1D", {"padding": (0, 3)}, (2, 4, 3)),
    ("ZeroPadding1D", {"padding": 2, "data_format": "channels_first"}, (2, 3, 4)),
    ("Cropping1D", {}, (2, 5, 3)), ("Cropping1D", {"cropping": (2, 0)}, (2, 5, 3)),
    ("Cropping1D", {"cropping": 1}, (2, 5, 3)),
    ("UpSampling1D", {}, (2, 4, 3)), ("UpSampling1D", {"size": 3}, (2, 4, 3)),
]


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_sequence_layer_matches_keras(name, kwargs, shape):
    ours, theirs = getattr(kr, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    x = torch.randn(shape)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    for probe in (shape, (None, None, shape[2])):
        if name == "ZeroPadding1D" and kwargs.get("data_format") == "channels_first":
            probe = (probe[0], shape[1], probe[1])
        assert tuple(ours.compute_output_shape(probe)) == tuple(theirs.compute_output_shape(probe))
    config, ref_config = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in ref_config.items() if k != "name"}
    assert type(ours).from_config(config).get_config() == config
    assert automatic_name(ours) == automatic_name(theirs)
    assert ours.compute_mask(x, torch.ones(shape[:2], dtype=torch.bool)) is None


@pytest.mark.parametrize("make, shape, error, pattern", [
    (lambda: kr.ZeroPadding1D(-1), None, ValueError, "`padding` must be a non-negative integer"),
    (lambda: kr.Cropping1D((1, 2, 3)), None, ValueError, "`cropping` must be"),
    (lambda: kr.UpSampling1D(2.0), None, TypeError, "Expected an integer value for `size`"),
    (lambda: kr.UpSampling1D(0), None, ValueError, "`size` should be a positive integer"),
    (lambda: kr.Cropping1D((2, 2)), (1, 4, 2), ValueError, "must be smaller than the input length"),
    (lambda: kr.ZeroPadding1D(), (1, 4), ValueError, r"expects inputs of shape \(batch, steps, features\)"),
], ids=["padding", "cropping", "size_type", "size_zero", "crop_all", "rank"])
def test_sequence_layers_reject_bad_arguments(make, shape, error, pattern):
    with pytest.raises(error, match=pattern):
        make()(torch.randn(shape))
