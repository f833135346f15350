"""Losses laid over nested output structures (tuples, lists, namedtuples, dicts of tuples), against Keras 3:
the same history keys and the same loss values through `fit` and `evaluate`, given the same weights."""
from collections import namedtuple

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

Y = namedtuple("Y", ["y1", "y2"])


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _leaves(value[key])]
    if isinstance(value, (list, tuple)):
        return [leaf for entry in value for leaf in _leaves(entry)]
    return [value]


def struct_loss(y_true, y_pred):
    """One loss over a whole structure (Keras's and kr's calls give it torch tensors on the torch backend)."""
    total = 0
    for t, p in zip(_leaves(y_true), _leaves(y_pred)):
        total = total + torch.mean(torch.abs(torch.as_tensor(t) - torch.as_tensor(p)), dim=-1)
    return total


def _model(lib, kind):
    x = lib.Input(shape=(3,), name="x")
    y1 = lib.layers.Dense(1, name="y1", activation="sigmoid")(x)
    y2 = lib.layers.Dense(1, name="y2", activation="sigmoid")(x)
    y3 = lib.layers.Dense(1, name="y3", activation="sigmoid")(x)
    outputs = {"tuple": (y1, y2), "list": [y1, y2], "dict": {"a": y1, "b": y2}, "namedtuple": Y(y1, y2),
               "deep": {"a": (y1, y2), "b": {"b1": y1, "b2": y2}, "c": {"c1": (y1, y2), "c2": y2}, "d": y3}}[kind]
    return lib.Model(x, outputs)


rng = np.random.default_rng(0)
X = rng.random((8, 3)).astype("float32")
A, B, C = (rng.random((8, 1)).astype("float32") for _ in range(3))
DEEP_Y = {"a": (A, B), "b": {"b1": A, "b2": B}, "c": {"c1": (A, B), "c2": B}, "d": C}
f = struct_loss

CASES = {
    "tuple-outputs-list-of-whole-and-per-leaf": ("tuple", [f, (f, f)], None, (A, B)),
    "tuple-outputs-weighted": ("tuple", [f, (f, f)], [0.3, (0.7, 0.2)], (A, B)),
    "list-outputs-tuple-of-whole-and-per-leaf": ("list", (f, [f, f]), None, [A, B]),
    "list-outputs-weighted": ("list", (f, [f, f]), (0.3, [0.7, 0.2]), [A, B]),
    "dict-outputs": ("dict", [f, {"a": f, "b": f}], None, {"a": A, "b": B}),
    "dict-outputs-weighted": ("dict", [f, {"a": f, "b": f}], [0.3, {"a": 0.5, "b": 0.9}], {"a": A, "b": B}),
    "namedtuple-outputs": ("namedtuple", [f, Y(f, f)], None, Y(A, B)),
    "deep-partial": ("deep", {"a": [f, (None, f)], "b": [f, {"b1": f}], "c": [f, {"c1": f}], "d": f}, None, DEEP_Y),
    "deep-one-name-for-all": ("deep", "mse", None, DEEP_Y),
    "tuple-one-per-output": ("tuple", ["mse", "mae"], [0.5, 2.0], (A, B)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fit_and_evaluate_match_keras(case):
    kind, loss, loss_weights, y = CASES[case]
    theirs, ours = _model(keras, kind), _model(kr, kind)
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, loss_weights=loss_weights)
    ours.compile(optimizer="sgd", loss=loss, loss_weights=loss_weights)
    ours.optimizer.learning_rate = 0.1
    want = theirs.fit(X, y, batch_size=2, epochs=2, verbose=0, shuffle=False).history
    got = ours.fit(X, y, batch_size=2, epochs=2, verbose=0, shuffle=False).history
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)
    want_eval = theirs.evaluate(X, y, verbose=0, return_dict=True)
    got_eval = ours.evaluate(X, y, verbose=0, return_dict=True)
    assert sorted(got_eval) == sorted(want_eval)
    for key in want_eval:
        np.testing.assert_allclose(got_eval[key], want_eval[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_a_loss_path_missing_from_the_outputs_is_named():
    model = _model(kr, "dict")
    model.compile(optimizer="sgd", loss=[f, {"a": f, "zz": f}])
    with pytest.raises(KeyError, match=r"'zz'.*can't be found"):
        model.fit(X, {"a": A, "b": B}, batch_size=4, epochs=1, verbose=0)


def test_targets_of_another_structure_are_refused_with_both_structures():
    model = _model(kr, "deep")
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="different structures"):
        model.fit(X, {"a": (A, B), "b": {"b1": A, "b2": B}, "c": {"c1": (A,), "c2": B}, "d": C},
                  batch_size=4, epochs=1, verbose=0)


def test_metrics_on_nested_outputs_are_refused_with_the_structure():
    """Keras refuses these too (its metrics do not fit such outputs); ours says why."""
    model = _model(kr, "deep")
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    with pytest.raises(ValueError, match=r"Invalid `metrics`.*nest containers.*'a': \('\*', '\*'\)"):
        model.fit(X, DEEP_Y, batch_size=4, epochs=1, verbose=0)


def test_metrics_on_dict_outputs_with_a_structured_loss_match_keras():
    theirs, ours = _model(keras, "dict"), _model(kr, "dict")
    ours.set_weights(theirs.get_weights())
    loss, metrics, y = [f, {"a": f, "b": f}], {"a": "mae", "b": ["mse"]}, {"a": A, "b": B}
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, metrics=metrics)
    ours.compile(optimizer="sgd", loss=loss, metrics=metrics)
    ours.optimizer.learning_rate = 0.1
    want = theirs.fit(X, y, batch_size=4, epochs=1, verbose=0, shuffle=False).history
    got = ours.fit(X, y, batch_size=4, epochs=1, verbose=0, shuffle=False).history
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)


def _masked_model(lib):
    ids = lib.Input(shape=(5,), dtype="int32", name="ids")
    hidden = lib.layers.LSTM(3, return_sequences=True, name="lstm")(
        lib.layers.Embedding(12, 4, mask_zero=True, name="embed")(ids))
    steps = lib.layers.Dense(1, name="steps")(hidden)
    other = lib.layers.Dense(2, name="other")(hidden)
    last = lib.layers.Dense(1, name="last")(lib.layers.LSTM(2, name="summary")(hidden))
    return lib.Model(ids, {"seq": (steps, other), "last": last})


@pytest.mark.parametrize("loss", [{"seq": ("mse", "mae"), "last": "mse"}, "mse"])
def test_the_output_masks_reach_the_losses_of_nested_outputs_as_in_keras(loss):
    """Each loss of a leaf sees that output's mask (the padded steps of a sequence output count for nothing),
    as Keras's losses read it from the output."""
    ids = rng.integers(1, 12, (8, 5))
    ids[::2, 3:] = 0
    ids[1::3, 1:] = 0
    y = {"seq": (rng.normal(size=(8, 5, 1)).astype("float32"), rng.normal(size=(8, 5, 2)).astype("float32")),
         "last": rng.normal(size=(8, 1)).astype("float32")}
    theirs, ours = _masked_model(keras), _masked_model(kr)
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    ours.compile(optimizer="sgd", loss=loss)
    ours.optimizer.learning_rate = 0.1
    want_eval = theirs.evaluate(ids, y, verbose=0, return_dict=True)
    got_eval = ours.evaluate(ids, y, verbose=0, return_dict=True)
    assert sorted(got_eval) == sorted(want_eval)
    for key in want_eval:
        np.testing.assert_allclose(got_eval[key], want_eval[key], rtol=1e-5, atol=1e-6, err_msg=key)
    want = theirs.fit(ids, y, batch_size=4, epochs=2, verbose=0, shuffle=False).history
    got = ours.fit(ids, y, batch_size=4, epochs=2, verbose=0, shuffle=False).history
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)
