"""`compile(metrics=[...])` on a model with several outputs, against Keras 3: a list has one entry per output,
and a list of another length fails at the first batch with Keras's message (Keras 2 put each on every output)."""
import keras
import numpy as np
import pytest

import kerasrnn_torch as kr

X = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
Y = [np.zeros((4, 2), "float32"), np.ones((4, 1), "float32")]


def functional(lib, dict_outputs=False):
    inputs = lib.Input((3,))
    a, b = lib.layers.Dense(2, name="a")(inputs), lib.layers.Dense(1, name="b")(inputs)
    return lib.Model(inputs, {"a": a, "b": b} if dict_outputs else [a, b])


def subclassed(lib, dict_outputs=False):
    class TwoHeads(lib.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = lib.layers.Dense(2), lib.layers.Dense(1)

        def call(self, x):
            return {"a": self.a(x), "b": self.b(x)} if dict_outputs else [self.a(x), self.b(x)]

    return TwoHeads()


def targets(dict_outputs):
    return {"a": Y[0], "b": Y[1]} if dict_outputs else Y


def fit(lib, make, dict_outputs, **compile_kwargs):
    model = make(lib, dict_outputs)
    model.compile(optimizer="sgd", loss="mse", **compile_kwargs)
    return model.fit(X, targets(dict_outputs), epochs=1, verbose=0)


CASES = [(make, dict_outputs) for make in (functional, subclassed) for dict_outputs in (False, True)]
IDS = [f"{make.__name__}-{'dict' if d else 'list'}" for make, d in CASES]


@pytest.mark.parametrize("argument", ["metrics", "weighted_metrics"])
@pytest.mark.parametrize("given", [["mae"], ("mae",), ["mae", "mse", "mape"], [["mae"]]], ids=str)
@pytest.mark.parametrize("make, dict_outputs", CASES, ids=IDS)
def test_a_list_of_another_length_than_the_outputs_fails_with_keras_s_message(make, dict_outputs, given, argument):
    messages = []
    for lib in (kr, keras):
        model = make(lib, dict_outputs)
        model.compile(optimizer="sgd", loss="mse", **{argument: given})        # accepted, as Keras's
        with pytest.raises(ValueError) as caught:
            model.fit(X, targets(dict_outputs), epochs=1, verbose=0)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("given", [["mae", "mse"], ["mae", ["mse", "mae"]], [None, "mae"], ("mse", "mae")],
                         ids=str)
@pytest.mark.parametrize("make, dict_outputs", CASES, ids=IDS)
def test_a_list_with_one_entry_per_output_gives_keras_s_metrics(make, dict_outputs, given):
    ours, theirs = fit(kr, make, dict_outputs, metrics=given), fit(keras, make, dict_outputs, metrics=given)
    assert sorted(ours.history) == sorted(theirs.history)
