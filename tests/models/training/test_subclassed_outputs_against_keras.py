"""A subclassed `kr.Model` returning several outputs (a list, a tuple or a dict), compiled with one loss, a
loss per output (list or dict form) and per-output metrics: the history keys and values Keras gives for
its own subclassed model on the torch backend, from the same weights, with SGD."""
import warnings

import keras
import numpy as np
import pytest

import kerasrnn_torch as kr


def _model(lib, kind):
    class TwoHeads(lib.Model):
        def __init__(self):
            super().__init__()
            self.first = lib.layers.Dense(1, name="first")
            self.second = lib.layers.Dense(1, activation="sigmoid", name="second")

        def call(self, x):
            a, b = self.first(x), self.second(x)
            return {"list": [a, b], "tuple": (a, b), "dict": {"p": a, "q": b}}[kind]
    return TwoHeads()


rng = np.random.default_rng(1)
X = rng.random((8, 3)).astype("float32")
A = rng.random((8, 1)).astype("float32")
B = (rng.random((8, 1)) > 0.5).astype("float32")
TARGETS = {"list": [A, B], "tuple": (A, B), "dict": {"p": A, "q": B}}
COMPILES = {
    "one-loss": ("mse", None, None),
    "loss-list": (["mse", "binary_crossentropy"], None, None),
    "same-loss-twice": (["mse", "mse"], None, None),
    "loss-list-weighted-metrics-per-output": (["mse", "mae"], [0.5, 2.0], [["mae"], ["mse"]]),
    "loss-dict": ({"p": "mse", "q": "mae"}, None, None),
    "loss-dict-metrics-dict": ({"p": "mse", "q": "binary_crossentropy"}, {"p": 1.5, "q": 0.5}, {"p": "mae"}),
}


def _fit(lib, model, kind, loss, loss_weights, metrics):
    optimizer = keras.optimizers.SGD(0.1) if lib is keras else "sgd"
    model.compile(optimizer=optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics)
    if lib is kr:
        model.optimizer.learning_rate = 0.1
    history = model.fit(X, TARGETS[kind], batch_size=4, epochs=2, verbose=0, shuffle=False).history
    return history, model.evaluate(X, TARGETS[kind], verbose=0, return_dict=True)


# Keras cannot key losses by name on a subclassed model's list or tuple (those outputs have no names):
# test_a_loss_dict_on_unnamed_outputs_is_refused covers those pairs.
PAIRS = [(kind, compiled) for kind in ("list", "tuple", "dict") for compiled in COMPILES
         if kind == "dict" or not isinstance(COMPILES[compiled][0], dict)]


@pytest.mark.parametrize("kind, compiled", PAIRS)
def test_history_and_evaluate_match_keras(kind, compiled):
    loss, loss_weights, metrics = COMPILES[compiled]
    theirs, ours = _model(keras, kind), _model(kr, kind)
    theirs(X[:1])
    ours(X[:1])
    ours.set_weights(theirs.get_weights())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, want_eval = _fit(keras, theirs, kind, loss, loss_weights, metrics)
    got, got_eval = _fit(kr, ours, kind, loss, loss_weights, metrics)
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)
    assert sorted(got_eval) == sorted(want_eval)
    for key in want_eval:
        np.testing.assert_allclose(got_eval[key], want_eval[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("kind", ["list", "tuple"])
def test_a_loss_dict_on_unnamed_outputs_is_refused(kind):
    model = _model(kr, kind)
    model.compile(optimizer="sgd", loss={"output_1": "mse", "output_2": "mae"})
    with pytest.raises((KeyError, ValueError), match="loss"):
        model.fit(X, TARGETS[kind], batch_size=4, epochs=1, verbose=0)
