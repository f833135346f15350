"""Bad input to compile/fit/evaluate: Keras's kind of error, naming what was expected and what came; no weight moves."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

X = np.random.default_rng(0).normal(size=(10, 4)).astype("float32")


def model(compiled=True, **compile_kwargs):
    m = kr.Sequential([kr.Dense(3)])
    m.build((None, 4))
    if compiled:
        m.compile(optimizer=torch.optim.SGD(m.parameters(), lr=0.1), **{"loss": "mse", **compile_kwargs})
    return m


def two_inputs():
    a, b = kr.Input((4,), name="a"), kr.Input((4,), name="b")
    m = kr.Model([a, b], kr.Dense(3)(kr.Add()([a, b])))
    m.compile(optimizer=torch.optim.SGD(m.parameters(), lr=0.1), loss="mse")
    return m


CASES = {
    "x and y lengths": (model, lambda m: m.fit(X, np.zeros((8, 3)), verbose=0), ValueError,
                        r"Data cardinality is ambiguous.*'x' sizes: 10.*'y' sizes: 8"),
    "loss shape": (model, lambda m: m.fit(X, np.zeros((10, 5)), verbose=0), ValueError,
                   r"loss 'mse' of output .* targets of shape \(10, 5\), predictions of shape \(10, 3\)"),
    "crossentropy shape": (lambda: model(loss="categorical_crossentropy"),
                           lambda m: m.fit(X, np.zeros((10, 2)), verbose=0), ValueError,
                           r"categorical_crossentropy expects targets of the predictions' shape \(10, 3\)"),
    "unknown loss": (lambda: model(compiled=False), lambda m: m.compile(optimizer=torch.optim.SGD(m.parameters()),
                                                                       loss="msee"),
                     ValueError, "unknown loss 'msee'"),
    "unknown metric": (lambda: model(compiled=False),
                       lambda m: m.compile(optimizer=torch.optim.SGD(m.parameters()), loss="mse",
                                           metrics=["acuracy"]), ValueError, "unknown metric 'acuracy'"),
    "unknown optimizer": (lambda: model(compiled=False), lambda m: m.compile(optimizer=42, loss="mse"), ValueError,
                          "optimizer must be"),
    "fit before compile": (lambda: model(compiled=False), lambda m: m.fit(X, np.zeros((10, 3))), RuntimeError,
                           r"You must call `compile\(\)` before using the model's `fit\(\)`"),
    "unknown input name": (two_inputs, lambda m: m.fit({"a": X, "c": X}, np.zeros((10, 3)), verbose=0), ValueError,
                           r"inputs named \['a', 'b'\].*unknown: \['c'\]"),
    "steps_per_execution": (lambda: model(compiled=False),
                            lambda m: m.compile(optimizer=torch.optim.SGD(m.parameters()), loss="mse",
                                                steps_per_execution=2), ValueError, "must be 1"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_raises_and_changes_no_weight(case):
    make, call, error, message = CASES[case]
    m = make()
    before = [w.copy() for w in m.get_weights()]
    with pytest.raises(error, match=message):
        call(m)
    for a, b in zip(before, m.get_weights()):
        assert np.array_equal(a, b)


def test_keyboard_interrupt_keeps_the_last_finished_step():
    m = model()
    snapshots = []

    class Stop(kr.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            snapshots.append([w.copy() for w in self.model.get_weights()])
            if batch == 1:
                raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        m.fit(X, np.zeros((10, 3)), batch_size=2, verbose=0, callbacks=[Stop()])
    for a, b in zip(snapshots[-1], m.get_weights()):
        assert np.array_equal(a, b)


def test_torch_compile_stays_reachable_and_jit_compile_trains():
    m = model(jit_compile=False)
    assert callable(torch.nn.Module.compile)
    history = m.fit(X, np.zeros((10, 3)), epochs=2, verbose=0).history
    assert history["loss"][1] < history["loss"][0]
    assert m.train_on_batch(X, np.zeros((10, 3))) > 0
    assert isinstance(m.test_on_batch(X, np.zeros((10, 3))), float)
    assert m.predict_on_batch(X).shape == (10, 3)
    assert m.predict(torch.tensor(X, dtype=torch.float64), verbose=0).dtype == np.float32
