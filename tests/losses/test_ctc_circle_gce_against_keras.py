"""`CTC`, `Circle` and `CategoricalGeneralizedCrossEntropy` against keras.losses: by object and by name,
every reduction, with sample weights; their configs and Keras's names load them."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

rng = np.random.default_rng(7)
# CTC: labels (batch, max_length) with 0 the blank/padding; logits (batch, steps, classes).
CTC_TRUE = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [2, 0, 0, 0], [1, 3, 2, 1], [4, 4, 1, 0]], dtype="int64")
CTC_PRED = rng.normal(size=(5, 9, 5)).astype("float32")
# Circle: integer labels and unit-norm embeddings (one class alone, so its row has no positive pair).
CIRCLE_TRUE = np.array([0, 0, 1, 1, 2, 0], dtype="int32")
_emb = rng.normal(size=(6, 4)).astype("float32")
CIRCLE_PRED = (_emb / np.linalg.norm(_emb, axis=-1, keepdims=True)).astype("float32")
# Generalized crossentropy: class ids and probabilities.
GCE_TRUE = rng.integers(0, 4, 6)
_p = rng.uniform(0.05, 1.0, (6, 4)).astype("float32")
GCE_PRED = (_p / _p.sum(-1, keepdims=True)).astype("float32")
WEIGHTS = {"ctc": rng.random(5).astype("float32"), "other": rng.random(6).astype("float32")}

CASES = [
    ("CTC", "ctc", {}, CTC_TRUE, CTC_PRED),
    ("Circle", "circle", {}, CIRCLE_TRUE, CIRCLE_PRED),
    ("Circle", "circle", {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}, CIRCLE_TRUE, CIRCLE_PRED),
    ("CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy", {}, GCE_TRUE, GCE_PRED),
    ("CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy", {"q": 0.8}, GCE_TRUE,
     GCE_PRED),
]
IDS = [f"{c[0]}{c[2]}" for c in CASES]


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"])
@pytest.mark.parametrize("cls, fn, kwargs, y_true, y_pred", CASES, ids=IDS)
def test_object_matches_keras(cls, fn, kwargs, y_true, y_pred, reduction):
    ours = getattr(kr.losses, cls)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, cls)(reduction=reduction, **kwargs)
    weights = WEIGHTS["ctc" if cls == "CTC" else "other"]
    for sample_weight in (None, weights):
        got = ours(torch.tensor(y_true), torch.tensor(y_pred),
                   sample_weight=None if sample_weight is None else torch.tensor(sample_weight))
        want = theirs(y_true, y_pred, sample_weight=sample_weight)
        np.testing.assert_allclose(got.numpy(), _numpy(want), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls, fn, kwargs, y_true, y_pred", CASES, ids=IDS)
def test_function_by_name_matches_keras(cls, fn, kwargs, y_true, y_pred):
    # Keras's `get` does not know the generalized crossentropy (its module has it); kr's does.
    ours = kr.losses.get(fn)
    theirs = getattr(keras.losses, fn) if cls == "CategoricalGeneralizedCrossEntropy" else keras.losses.get(fn)
    if cls == "CategoricalGeneralizedCrossEntropy":       # q has no default in either function
        kwargs = {"q": 0.5, **kwargs}
    got = ours(torch.tensor(y_true), torch.tensor(y_pred), **kwargs)
    want = theirs(keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred), **kwargs)
    np.testing.assert_allclose(got.numpy(), _numpy(want), rtol=1e-6, atol=1e-6)
    # by the class's name, and from Keras's own config
    by_name = kr.losses.get(cls)
    assert isinstance(by_name, getattr(kr.losses, cls))
    keras_loss = getattr(keras.losses, cls)(**kwargs) if cls != "CTC" else keras.losses.CTC()
    rebuilt = kr.losses.get(keras.losses.serialize(keras_loss))
    assert rebuilt.get_config() == keras_loss.get_config()
    np.testing.assert_allclose(rebuilt(torch.tensor(y_true), torch.tensor(y_pred)).numpy(),
                               _numpy(keras_loss(y_true, y_pred)), rtol=1e-6, atol=1e-6)


def test_ctc_gradients_match_keras():
    logits = torch.tensor(CTC_PRED, requires_grad=True)
    kr.losses.CTC()(torch.tensor(CTC_TRUE), logits).backward()
    theirs = torch.tensor(CTC_PRED, requires_grad=True)
    keras.losses.CTC()(torch.tensor(CTC_TRUE), theirs).backward()
    np.testing.assert_allclose(logits.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_bad_shapes_and_q_are_refused():
    with pytest.raises(ValueError, match=r"y_true.*\(batch_size, max_length\).*Received: y_true.shape"):
        kr.losses.CTC()(torch.zeros(5, 4, 1, dtype=torch.long), torch.tensor(CTC_PRED))
    with pytest.raises(ValueError, match=r"y_pred.*\(batch_size, max_length, num_classes\)"):
        kr.losses.CTC()(torch.tensor(CTC_TRUE), torch.zeros(5, 9))
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\); got q=1.5"):
        kr.losses.CategoricalGeneralizedCrossEntropy(q=1.5)


def test_circle_trains_a_model_as_keras_does():
    def build(lib):
        return lib.Sequential([lib.Input((3,)), lib.layers.Dense(4), lib.layers.UnitNormalization()])
    theirs, ours = build(keras), build(kr)
    ours.set_weights(theirs.get_weights())
    x = rng.normal(size=(6, 3)).astype("float32")
    theirs.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.Circle(gamma=10.0))
    ours.compile(optimizer="sgd", loss=kr.losses.Circle(gamma=10.0))
    ours.optimizer.learning_rate = 0.01
    want = theirs.fit(x, CIRCLE_TRUE, batch_size=6, epochs=3, verbose=0, shuffle=False).history["loss"]
    got = ours.fit(x, CIRCLE_TRUE, batch_size=6, epochs=3, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
