"""Users' own metrics with Keras's `add_variable`, and `kr.utils.PyDataset`, as the keras.io guide
"Training & evaluation with the built-in methods" writes them: fit gives Keras 3's (torch backend) history
from the same weights and data."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(3)
X = RNG.random((96, 12)).astype("float32")
Y = RNG.integers(0, 4, (96, 1))


def true_positives_metric(lib):
    class CategoricalTruePositives(lib.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = lib.ops.reshape(lib.ops.argmax(y_pred, axis=1), (-1, 1))
            values = lib.ops.cast(lib.ops.cast(y_true, "int32") == lib.ops.cast(y_pred, "int32"), "float32")
            if sample_weight is not None:
                values = lib.ops.multiply(values, lib.ops.cast(sample_weight, "float32"))
            self.true_positives.assign_add(lib.ops.sum(values))

        def result(self):
            return self.true_positives.value

        def reset_state(self):
            self.true_positives.assign(0.0)

    return CategoricalTruePositives()


def model_of(lib):
    inputs = lib.Input(shape=(12,))
    outputs = lib.layers.Dense(4, activation="softmax")(lib.layers.Dense(8, activation="relu")(inputs))
    return lib.Model(inputs, outputs)


def _paired():
    theirs, ours = model_of(keras), model_of(kr)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _same_history(got, expected):
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)


def test_a_metric_with_add_variable_counts_as_keras_s():
    theirs, ours = _paired()
    for model, lib in ((theirs, keras), (ours, kr)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      metrics=[true_positives_metric(lib)])
    expected = theirs.fit(X, Y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    got = ours.fit(X, Y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    _same_history(got, expected)


def test_add_variable_makes_a_non_trainable_weight_and_the_default_reset_zeroes_it():
    class Total(kr.metrics.Metric):
        def __init__(self):
            super().__init__(name="total")
            self.total = self.add_variable(shape=(2,), initializer="ones", dtype="float64", name="total")

        def update_state(self, values):
            self.total.assign_add(values)

        def result(self):
            return self.total.value.sum()

    metric = Total()
    assert metric.variables == [metric.total] and not metric.total.requires_grad
    assert metric.total.dtype == torch.float64 and metric.total.tolist() == [1.0, 1.0]
    metric.update_state(torch.tensor([2.0, 3.0]))
    assert float(metric.result()) == 7.0
    metric.reset_state()
    assert metric.total.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="`aggregation` must be one of"):
        metric.add_variable(shape=(), aggregation="max")


def dataset_class(lib, calls):
    class Batches(lib.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return int(np.ceil(len(self.x) / float(self.batch_size)))

        def __getitem__(self, idx):
            cut = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
            return self.x[cut], self.y[cut]

        def on_epoch_end(self):
            calls.append("end")

    return Batches


def test_a_py_dataset_trains_as_keras_s_and_its_epoch_hook_runs():
    theirs, ours = _paired()
    for model in (theirs, ours):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    their_calls, our_calls = [], []
    expected = theirs.fit(dataset_class(keras, their_calls)(X, Y, 32), epochs=3, shuffle=False, verbose=0).history
    got = ours.fit(dataset_class(kr, our_calls)(X, Y, 32), epochs=3, shuffle=False, verbose=0).history
    _same_history(got, expected)
    assert our_calls == ["end"] * 3
    np.testing.assert_allclose(ours.evaluate(dataset_class(kr, [])(X, Y, 32), verbose=0),
                               theirs.evaluate(dataset_class(keras, [])(X, Y, 32), verbose=0), rtol=1e-5)


def test_a_shuffled_py_dataset_visits_every_batch_once_per_epoch():
    seen = []

    class Recording(kr.utils.Sequence):        # Keras's older name
        def __len__(self):
            return 5

        def __getitem__(self, index):
            seen.append(index)
            return np.full((2, 12), index, "float32"), np.zeros((2, 1))

    model = model_of(kr)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(Recording(), epochs=2, verbose=0)
    assert sorted(seen[:5]) == sorted(seen[5:]) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="its batches hold the targets"):
        model.fit(Recording(), Y, verbose=0)


def test_a_metric_with_several_thresholds_logs_one_value_per_threshold_as_keras(capsys):
    def program(lib):
        inputs = lib.Input((12,))
        model = lib.Model(inputs, lib.layers.Dense(1, activation="sigmoid")(inputs))
        model.compile(optimizer="sgd", loss="binary_crossentropy",
                      metrics=[lib.metrics.Precision(thresholds=[0.3, 0.5, 0.7], name="precision")])
        return model

    theirs, ours = program(keras), program(kr)
    ours.set_weights(theirs.get_weights())
    binary = (Y % 2).astype("float32")
    expected = theirs.fit(X, binary, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    got = ours.fit(X, binary, batch_size=32, epochs=2, shuffle=False, verbose=1).history
    assert "precision: " in capsys.readouterr().out            # the bar shows the mean, as Keras's
    for mine, theirs_epoch in zip(got["precision"], expected["precision"]):
        assert mine.shape == (3,)
        np.testing.assert_allclose(mine, theirs_epoch, rtol=1e-5)
    loss, precision = ours.evaluate(X, binary, verbose=0)
    np.testing.assert_allclose(precision, theirs.evaluate(X, binary, verbose=0)[1], rtol=1e-5)
