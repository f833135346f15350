"""kr.losses against keras.losses on random data: values, sample weights, reductions."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

rng = np.random.default_rng(1)
PROBS = rng.uniform(0.01, 0.99, (6, 4)).astype("float32")
LOGITS = rng.normal(size=(6, 4)).astype("float32")
BINARY = (rng.random((6, 4)) > 0.5).astype("float32")
ONE_HOT = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
IDS = rng.integers(0, 4, 6)
PROBS_R = PROBS[::-1].copy()
REAL = rng.normal(size=(6, 4)).astype("float32")
WEIGHTS = rng.random(6).astype("float32")

CASES = [
    ("MeanSquaredError", {}, REAL, LOGITS), ("MeanAbsoluteError", {}, REAL, LOGITS),
    ("MeanAbsolutePercentageError", {}, REAL, LOGITS), ("MeanSquaredLogarithmicError", {}, PROBS, PROBS_R),
    ("CosineSimilarity", {}, REAL, LOGITS), ("Huber", {"delta": 0.7}, REAL, LOGITS), ("LogCosh", {}, REAL, LOGITS),
    ("KLDivergence", {}, PROBS, PROBS_R), ("Poisson", {}, PROBS, PROBS_R), ("Hinge", {}, BINARY, LOGITS),
    ("SquaredHinge", {}, BINARY, LOGITS), ("CategoricalHinge", {}, ONE_HOT, LOGITS),
    ("BinaryCrossentropy", {}, BINARY, PROBS), ("BinaryCrossentropy", {"from_logits": True}, BINARY, LOGITS),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, BINARY, PROBS),
    ("CategoricalCrossentropy", {}, ONE_HOT, PROBS), ("CategoricalCrossentropy", {"from_logits": True}, ONE_HOT, LOGITS),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, ONE_HOT, PROBS),
    ("SparseCategoricalCrossentropy", {}, IDS, PROBS),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, IDS, LOGITS),
]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("name, kwargs, y_true, y_pred", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_loss_matches_keras(name, kwargs, y_true, y_pred, reduction):
    ours = getattr(kr.losses, name)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    for weights in (None, WEIGHTS):
        got = ours(torch.tensor(y_true), torch.tensor(y_pred), sample_weight=None if weights is None
                   else torch.tensor(weights))
        want = theirs(y_true, y_pred, sample_weight=weights)
        np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(want), rtol=1e-5, atol=1e-6)


def test_names_and_errors():
    assert kr.losses.get("mse") is kr.losses.mean_squared_error
    assert isinstance(kr.losses.get("Huber"), kr.losses.Huber)
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        kr.losses.get("msee")
    with pytest.raises(ValueError, match="categorical_crossentropy expects targets"):
        kr.losses.CategoricalCrossentropy()(torch.zeros(2, 3), torch.ones(2, 4))
