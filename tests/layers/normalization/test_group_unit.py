"""GroupNormalization and UnitNormalization against keras.layers: values, gradients, weights, configs, masks."""
import re

import keras
import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

CASES = [
    ("GroupNormalization", {"groups": 2}, (2, 5, 4)),
    ("GroupNormalization", {"groups": -1}, (2, 5, 4)),
    ("GroupNormalization", {"groups": 3, "axis": 1, "epsilon": 1e-5}, (2, 6, 3, 2)),
    ("GroupNormalization", {"groups": 1, "center": False}, (2, 3, 3, 4)),
    ("GroupNormalization", {"groups": 2, "scale": False}, (2, 5, 4)),
    ("UnitNormalization", {}, (2, 5, 4)),
    ("UnitNormalization", {"axis": [1, 2]}, (2, 5, 4)),
]


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_normalization_matches_keras(name, kwargs, shape):
    theirs = getattr(keras.layers, name)(**kwargs)
    theirs.build(shape)
    random_weights(theirs)
    ours = getattr(kr, name)(**kwargs)
    ours.build(shape)
    ours.set_weights(theirs.get_weights())
    assert [n for n, _ in ours.named_parameters()] == [w.name for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    x = torch.randn(shape) * 2 + 1
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    for weight, ref_weight in zip(ours.parameters(), theirs.weights, strict=True):
        assert_close(weight.grad, ref_weight.value.grad, GRAD_ATOL, f"d/d {ref_weight.path}")
    config, ref_config = ours.get_config(), theirs.get_config()
    assert set(config) == set(ref_config)
    for key in ("groups", "axis", "epsilon", "center", "scale"):
        assert config.get(key) == ref_config.get(key), key
    assert type(ours).from_config(config).get_config() == config
    assert re.sub(r"_\d+$", "", ours.name) == re.sub(r"_\d+$", "", theirs.name)   # counters differ by test order
    mask = torch.ones(shape[:2], dtype=torch.bool)
    assert ours.compute_mask(x, mask) is mask


def test_unit_normalization_keras_numbers():
    # keras/src/layers/normalization/unit_normalization_test.py: unit norms, zero vectors stay zero.
    x = torch.randn(4, 3) * 10
    assert torch.allclose(kr.UnitNormalization()(x).norm(dim=-1), torch.ones(4), atol=1e-6)
    assert torch.equal(kr.UnitNormalization()(torch.zeros(1, 3)), torch.zeros(1, 3))


@pytest.mark.parametrize("kwargs, shape, pattern", [
    ({"groups": 0}, None, "`groups` must be a positive integer"),
    ({"groups": 3}, (2, 4), r"groups \(3\) must divide"),
    ({"groups": 8}, (2, 4), r"groups \(8\) cannot be more than"),
    ({"groups": 2, "axis": 0}, (2, 4), "is not a feature axis"),
], ids=["zero", "divide", "more", "batch_axis"])
def test_group_normalization_rejects_bad_arguments(kwargs, shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        kr.GroupNormalization(**kwargs)(torch.randn(shape))
