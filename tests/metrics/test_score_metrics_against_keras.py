"""kr.metrics CosineSimilarity, R2Score, FBetaScore, F1Score (and the regression metrics not covered elsewhere)
against keras.metrics (torch backend): the same batches streamed into both."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


def stream(kind, seed=12, batches=3):
    rng = np.random.default_rng(seed)
    for _ in range(batches):
        weights = rng.uniform(0.1, 2.0, 8).astype("float32")
        if kind == "real":
            y_true = rng.normal(size=(8, 3)).astype("float32")
            yield y_true, (y_true + 0.5 * rng.normal(size=(8, 3))).astype("float32"), weights
        elif kind == "onehot":
            ids = rng.integers(0, 4, 8)
            yield np.eye(4, dtype="float32")[ids], rng.dirichlet(np.ones(4), 8).astype("float32"), weights
        elif kind == "multilabel":
            yield ((rng.random((8, 4)) > 0.5).astype("float32"), rng.random((8, 4)).astype("float32"), weights)
        else:
            yield (rng.uniform(0.1, 2.0, (8, 3)).astype("float32"), rng.uniform(0.1, 2.0, (8, 3)).astype("float32"),
                   weights)


CASES = [("CosineSimilarity", {}, "real"),
         ("R2Score", {}, "real"), ("R2Score", {"class_aggregation": None}, "real"),
         ("R2Score", {"class_aggregation": "variance_weighted_average"}, "real"),
         ("R2Score", {"num_regressors": 2}, "real"),
         ("F1Score", {}, "onehot"), ("F1Score", {"average": "macro"}, "onehot"),
         ("F1Score", {"average": "micro", "threshold": 0.3}, "multilabel"),
         ("F1Score", {"average": "weighted", "threshold": 0.5}, "multilabel"),
         ("FBetaScore", {"beta": 2.0}, "onehot"), ("FBetaScore", {"beta": 0.5, "average": "macro"}, "multilabel"),
         ("FBetaScore", {"beta": 2.0, "threshold": 0.6, "average": "weighted"}, "multilabel"),
         ("PearsonCorrelation", {}, "real"), ("ConcordanceCorrelation", {}, "real"),
         ("MeanAbsolutePercentageError", {}, "positive"), ("MeanSquaredLogarithmicError", {}, "positive"),
         ("Poisson", {}, "positive"), ("SquaredHinge", {}, "real"), ("CategoricalHinge", {}, "onehot")]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_metric_matches_keras(name, kwargs, kind, weighted):
    ours, theirs = getattr(kr.metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for y_true, y_pred, weights in stream(kind):
        ours.update_state(torch.tensor(y_true), torch.tensor(y_pred),
                          sample_weight=torch.tensor(weights) if weighted else None)
        theirs.update_state(y_true, y_pred, sample_weight=weights if weighted else None)
    np.testing.assert_allclose(ours.result().numpy(), keras.ops.convert_to_numpy(theirs.result()),
                               rtol=1e-5, atol=1e-6)
    assert theirs.name.startswith(ours.name)
    ours.reset_state()
    assert not ours.result().any()


def test_cosine_similarity_along_the_batch_axis_matches_keras():
    ours, theirs = kr.metrics.CosineSimilarity(axis=0), keras.metrics.CosineSimilarity(axis=0)
    for y_true, y_pred, _ in stream("real"):
        ours.update_state(torch.tensor(y_true), torch.tensor(y_pred))
        theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, cls", [("r2_score", "R2Score"), ("f1_score", "F1Score"),
                                       ("f_beta_score", "FBetaScore"), ("cosine_similarity", "CosineSimilarity"),
                                       ("pearson_correlation", "PearsonCorrelation"),
                                       ("concordance_correlation", "ConcordanceCorrelation")])
def test_score_metrics_by_keras_names(name, cls):
    assert type(kr.metrics.get(name)).__name__ == type(keras.metrics.get(name)).__name__ == cls


def test_score_metric_bad_arguments_are_named():
    with pytest.raises(ValueError, match="class_aggregation must be one of"):
        kr.metrics.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match="num_regressors must be >= 0"):
        kr.metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="expects \\(batch_size, output_dim\\)"):
        kr.metrics.R2Score().update_state(torch.zeros(2, 3, 1), torch.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="beta must be a Python float > 0"):
        kr.metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="average must be"):
        kr.metrics.F1Score(average="sum")
    with pytest.raises(ValueError, match=r"threshold must be a Python float in \(0, 1\]"):
        kr.metrics.F1Score(threshold=0.0)


def test_r2_and_f1_in_fit_match_keras():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = (x @ rng.normal(size=(3, 2)) + 0.1 * rng.normal(size=(32, 2))).astype("float32")
    kernel = rng.normal(size=(3, 2)).astype("float32")
    ours = kr.Sequential([kr.layers.Dense(2, input_shape=(3,))])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    for model in (ours, theirs):
        model.set_weights([kernel, np.zeros(2, "float32")])
    ours.compile(optimizer="sgd", loss="mse", metrics=["r2_score", "cosine_similarity"])
    theirs.compile(optimizer="sgd", loss="mse", metrics=["r2_score", "cosine_similarity"])
    got = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    want = theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)
