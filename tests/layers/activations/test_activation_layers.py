"""ReLU, LeakyReLU, PReLU, ELU, Softmax and Identity against their keras.layers namesakes: values,
gradients, masks, configs, errors (with the numeric cases of Keras's own tests)."""
import re
import keras
import numpy as np
import pytest
import torch
from keras.src import backend as keras_backend

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

MASK = torch.tensor([[True, True, False], [True, False, False]])

CASES = [
    ("ReLU", {}), ("ReLU", {"max_value": 6.0}), ("ReLU", {"max_value": 1.5}),
    ("ReLU", {"negative_slope": 0.2}), ("ReLU", {"threshold": 0.3}),
    ("ReLU", {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.2}),
    ("ReLU", {"negative_slope": 0.5, "max_value": 6.0}),
    ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.05}),
    ("ELU", {}), ("ELU", {"alpha": 0.7}),
    ("Softmax", {}), ("Softmax", {"axis": 1}), ("Softmax", {"axis": [1, 2]}),
    ("Identity", {}),
]


def both(name, kwargs):
    return getattr(kr, name)(**kwargs), getattr(keras.layers, name)(**kwargs)


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_activation_layer_matches_keras_and_passes_the_mask_on(name, kwargs):
    ours, theirs = both(name, kwargs)
    x = torch.randn(2, 3, 4) * 3
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    assert ours.compute_mask(x, MASK) is MASK and ours.supports_masking
    assert tuple(ours.compute_output_shape((None, 3, 4))) == tuple(theirs.compute_output_shape((None, 3, 4)))
    config, ref_config = ours.get_config(), theirs.get_config()
    assert set(config) == set(ref_config)
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in ref_config.items() if k != "name"}
    assert type(ours).from_config(config).get_config() == config
    assert re.sub(r"_\d+$", "", ours.name) == re.sub(r"_\d+$", "", theirs.name)


def test_relu_keras_numbers():
    # keras/src/layers/activations/relu_test.py's cases.
    x = torch.tensor([-10, -5, 0.0, 5, 10])
    assert kr.ReLU(max_value=10, negative_slope=0.0, threshold=0)(x).tolist() == [0.0, 0.0, 0.0, 5.0, 10.0]
    assert kr.ReLU(max_value=10, negative_slope=0.5, threshold=0)(x).tolist() == [-5.0, -2.5, 0.0, 5.0, 10.0]
    assert kr.ReLU(max_value=8, negative_slope=0.0, threshold=5)(torch.tensor([6.0, 7.0, 0.0, 5, 10])).tolist() == [
        6.0, 7.0, 0.0, 0.0, 8.0]
    leaky = kr.LeakyReLU(negative_slope=0.5)(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]))
    assert leaky.tolist() == [-5.0, -2.5, 0.0, 5.0, 10.0]
    assert np.allclose(kr.ELU()(torch.tensor([-1.0, 0.0, 1.0])).numpy(), [np.exp(-1) - 1, 0, 1])


@pytest.mark.parametrize("mask_shape", [(2, 3, 4), (3, 4), (2, 1, 4), (4,)], ids=str)
def test_softmax_uses_a_mask_like_keras(mask_shape):
    x = torch.randn(2, 3, 4)
    mask = torch.rand(mask_shape) > 0.4
    mask[..., 0] = False          # a fully masked row somewhere
    ours, theirs = kr.Softmax(), keras.layers.Softmax()
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine, mask=mask), theirs(ref, mask=mask)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "masked softmax")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    float_mask = mask.float()
    assert_close(ours(x, mask=float_mask), out_theirs, OUTPUT_ATOL, "float mask")


@pytest.mark.parametrize("shared_axes", [None, [1], [1, 2], 2], ids=str)
def test_prelu_matches_keras(shared_axes):
    shape = (2, 3, 4)
    theirs = keras.layers.PReLU(shared_axes=shared_axes)
    theirs.build(shape)
    random_weights(theirs)
    ours = kr.PReLU(shared_axes=shared_axes, input_shape=shape[1:])
    ours.set_weights(theirs.get_weights())
    assert ours.alpha.shape == tuple(theirs.alpha.shape)
    assert ours.count_params() == theirs.count_params()
    x = torch.randn(shape)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    assert_close(ours.alpha.grad, theirs.alpha.value.grad, GRAD_ATOL, "d/d alpha")
    config, ref_config = ours.get_config(), theirs.get_config()
    assert set(config) == set(ref_config) and config["shared_axes"] == ref_config["shared_axes"]
    assert kr.PReLU.from_config(config).get_config() == config
    assert ours.compute_mask(x, MASK) is MASK


def test_prelu_builds_with_unknown_steps_on_a_shared_axis():
    layer = kr.PReLU(shared_axes=[1])
    layer.build((None, None, 4))
    assert layer.alpha.shape == (1, 4)
    assert layer(torch.randn(2, 7, 4)).shape == (2, 7, 4)


ERRORS = [
    ("ReLU", {"max_value": -1.0}, "max_value of a ReLU layer cannot be a negative"),
    ("ReLU", {"negative_slope": -1.0}, "negative_slope of a ReLU layer cannot be None or a negative"),
    ("ReLU", {"threshold": None}, "threshold of a ReLU layer cannot be None"),
    ("LeakyReLU", {"negative_slope": -0.1}, "negative_slope of a LeakyReLU layer"),
    ("PReLU", {"shared_axes": [0]}, "`shared_axes` must be axes >= 1"),
    ("Softmax", {"axis": "x"}, "`axis` must be an integer"),
]


@pytest.mark.parametrize("name, kwargs, pattern", ERRORS, ids=[p for *_, p in ERRORS])
def test_activation_layers_reject_bad_arguments(name, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(kr, name)(**kwargs)


def test_softmax_rejects_a_mask_that_does_not_broadcast():
    with pytest.raises(ValueError, match="broadcastable"):
        kr.Softmax()(torch.randn(2, 3, 4), mask=torch.ones(2, 3, dtype=torch.bool))


def test_identity_passes_structures_and_masks():
    x = [torch.ones(2), {"a": torch.zeros(1)}]
    assert kr.Identity()(x) is x
    assert kr.Identity().compute_mask(None, MASK) is MASK
