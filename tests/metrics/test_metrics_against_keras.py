"""kr.metrics against keras.metrics: states over several batches, weights, reset."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

rng = np.random.default_rng(2)


def batches(kind):
    for _ in range(3):
        pred = rng.uniform(0.01, 0.99, (5, 4)).astype("float32")
        if kind == "binary":
            yield (rng.random((5, 4)) > 0.5).astype("float32"), pred
        elif kind == "onehot":
            yield np.eye(4, dtype="float32")[rng.integers(0, 4, 5)], pred
        elif kind == "ids":
            yield rng.integers(0, 4, (5,)), pred
        else:
            yield rng.normal(size=(5, 4)).astype("float32"), pred


CASES = [("BinaryAccuracy", {}, "binary"), ("CategoricalAccuracy", {}, "onehot"),
         ("SparseCategoricalAccuracy", {}, "ids"), ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
         ("SparseTopKCategoricalAccuracy", {"k": 2}, "ids"), ("MeanSquaredError", {}, "real"),
         ("MeanAbsoluteError", {}, "real"), ("RootMeanSquaredError", {}, "real"), ("LogCoshError", {}, "real"),
         ("BinaryCrossentropy", {}, "binary"), ("CategoricalCrossentropy", {}, "onehot"),
         ("SparseCategoricalCrossentropy", {}, "ids"), ("Hinge", {}, "binary"), ("KLDivergence", {}, "onehot")]


@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=[c[0] for c in CASES])
def test_metric_matches_keras(name, kwargs, kind):
    ours, theirs = getattr(kr.metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for y_true, y_pred in batches(kind):
        weights = rng.random(5).astype("float32")
        ours.update_state(torch.tensor(y_true), torch.tensor(y_pred), sample_weight=torch.tensor(weights))
        theirs.update_state(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-5, atol=1e-6)
    assert ours.name == theirs.name
    ours.reset_state()
    assert float(ours.result()) == 0.0


def test_mean_and_get():
    m = kr.metrics.Mean()
    m.update_state(torch.tensor([1.0, 2.0, 6.0]), sample_weight=torch.tensor([1.0, 1.0, 0.5]))
    k = keras.metrics.Mean()
    k.update_state(np.array([1.0, 2.0, 6.0]), sample_weight=np.array([1.0, 1.0, 0.5]))
    assert float(m.result()) == pytest.approx(float(k.result()))
    assert kr.metrics.get("mae").name == "mae"
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        kr.metrics.get("acuracy")
