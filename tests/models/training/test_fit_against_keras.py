"""fit/evaluate/predict against Keras 3 (torch backend): same weights, same data, shuffle=False, SGD(0.01)."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

EPOCHS = 3


def _pair(build, seed=0):
    """The same model in Keras and kr with Keras's (random) weights."""
    keras.utils.set_random_seed(seed)
    k_model = build(keras)
    ours = build(kr)
    ours.set_weights(k_model.get_weights())
    return k_model, ours


def _dense(api, units, activation=None):
    return (api.layers.Dense if api is keras else kr.Dense)(units, activation=activation)


def _mlp(out_units, activation=None):
    def build(api):
        if api is keras:
            return keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="tanh"),
                                     keras.layers.Dense(out_units, activation=activation)])
        model = kr.Sequential([kr.Dense(8, activation="tanh"), kr.Dense(out_units, activation=activation)])
        model.build((None, 5))
        return model
    return build


def _sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.01)


def _close_history(ours, theirs, atol=1e-5):
    assert set(ours) == set(theirs), (sorted(ours), sorted(theirs))
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], atol=atol, rtol=0, err_msg=key)
        assert all(type(v) is float for v in ours[key])


rng = np.random.default_rng(0)
X = rng.normal(size=(70, 5)).astype("float32")
CASES = {
    "mse": (_mlp(2), "mse", lambda: rng.normal(size=(70, 2)).astype("float32"), []),
    "binary": (_mlp(1, "sigmoid"), "binary_crossentropy", lambda: (rng.random((70, 1)) > 0.5).astype("float32"),
               ["accuracy"]),
    "binary_logits": (_mlp(1), "bce_logits", lambda: (rng.random((70, 1)) > 0.5).astype("float32"), ["accuracy"]),
    "categorical": (_mlp(3, "softmax"), "categorical_crossentropy",
                    lambda: np.eye(3, dtype="float32")[rng.integers(0, 3, 70)], ["accuracy"]),
    "categorical_logits": (_mlp(3), "cce_logits", lambda: np.eye(3, dtype="float32")[rng.integers(0, 3, 70)],
                           ["accuracy"]),
    "sparse": (_mlp(3, "softmax"), "sparse_categorical_crossentropy", lambda: rng.integers(0, 3, (70,)),
               ["accuracy"]),
    "sparse_logits": (_mlp(3), "scce_logits", lambda: rng.integers(0, 3, (70, 1)), ["acc"]),
}
LOGITS = {"bce_logits": ("BinaryCrossentropy", {}), "cce_logits": ("CategoricalCrossentropy", {}),
          "scce_logits": ("SparseCategoricalCrossentropy", {})}


def _loss(api, name):
    if name in LOGITS:
        return getattr(api.losses, LOGITS[name][0])(from_logits=True)
    return name


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_history_evaluate_predict_equal_keras(case):
    build, loss, make_y, metrics = CASES[case]
    y = make_y()
    k_model, ours = _pair(build)
    k_model.compile(optimizer="sgd", loss=_loss(keras, loss), metrics=metrics)
    ours.compile(optimizer=_sgd(ours), loss=_loss(kr, loss), metrics=metrics)
    theirs = k_model.fit(X, y, batch_size=16, epochs=EPOCHS, shuffle=False, verbose=0, validation_split=0.2)
    mine = ours.fit(X, y, batch_size=16, epochs=EPOCHS, shuffle=False, verbose=0, validation_split=0.2)
    _close_history(mine.history, theirs.history)
    k_eval = k_model.evaluate(X, y, batch_size=16, verbose=0)
    o_eval = ours.evaluate(X, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(o_eval, k_eval, atol=1e-5)
    assert type(o_eval) is type(k_eval) or (isinstance(o_eval, list) and isinstance(k_eval, list))
    np.testing.assert_allclose(ours.predict(X, verbose=0), k_model.predict(X, verbose=0), atol=1e-5)
    assert ours.evaluate(X, y, verbose=0, return_dict=True).keys() == k_model.evaluate(X, y, verbose=0,
                                                                                      return_dict=True).keys()


def test_sample_weight_class_weight_and_validation_data_equal_keras():
    y = (rng.random((70, 1)) > 0.5).astype("float32")
    weights = rng.random(70).astype("float32")
    val = (rng.normal(size=(20, 5)).astype("float32"), (rng.random((20, 1)) > 0.5).astype("float32"))
    for kwargs in ({"sample_weight": weights}, {"class_weight": {0: 0.3, 1: 2.0}}):
        k_model, ours = _pair(_mlp(1, "sigmoid"))
        k_model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"],
                        weighted_metrics=["accuracy"])
        ours.compile(optimizer=_sgd(ours), loss="binary_crossentropy", metrics=["accuracy"],
                     weighted_metrics=["accuracy"])
        theirs = k_model.fit(X, y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=val, **kwargs)
        mine = ours.fit(X, y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=val, **kwargs)
        _close_history(mine.history, theirs.history)
    np.testing.assert_allclose(ours.evaluate(X, y, sample_weight=weights, verbose=0),
                               k_model.evaluate(X, y, sample_weight=weights, verbose=0), atol=1e-5)


def test_early_stopping_stops_at_keras_epoch():
    y = rng.normal(size=(70, 2)).astype("float32")
    k_model, ours = _pair(_mlp(2))
    k_model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    ours.compile(optimizer=torch.optim.SGD(ours.parameters(), lr=0.5), loss="mse")
    common = dict(batch_size=16, epochs=30, shuffle=False, verbose=0, validation_split=0.3)
    theirs = k_model.fit(X, y, callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)],
                         **common)
    stopper = kr.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    mine = ours.fit(X, y, callbacks=[stopper], **common)
    assert len(mine.history["loss"]) == len(theirs.history["loss"]) < 30
    _close_history(mine.history, theirs.history, atol=1e-4)
    for a, b in zip(ours.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)


def _two_outputs(api):
    inputs = api.Input((5,), name="x") if api is kr else keras.Input((5,), name="x")
    dense = kr.Dense if api is kr else keras.layers.Dense
    hidden = dense(8, activation="tanh", name="hidden")(inputs)
    first = dense(2, name="reg")(hidden)
    second = dense(3, activation="softmax", name="cls")(hidden)
    return (kr.Model if api is kr else keras.Model)(inputs, [first, second])


@pytest.mark.parametrize("style", ["dict", "list"])
def test_multi_output_losses_and_weights_equal_keras(style):
    y = [rng.normal(size=(70, 2)).astype("float32"), rng.integers(0, 3, (70,))]
    loss = {"reg": "mse", "cls": "sparse_categorical_crossentropy"} if style == "dict" \
        else ["mse", "sparse_categorical_crossentropy"]
    weights = {"reg": 0.5, "cls": 2.0} if style == "dict" else [0.5, 2.0]
    metrics = {"cls": ["accuracy"]} if style == "dict" else [[], ["accuracy"]]
    k_model, ours = _pair(_two_outputs)
    k_model.compile(optimizer="sgd", loss=loss, loss_weights=weights, metrics=metrics)
    ours.compile(optimizer=_sgd(ours), loss=loss, loss_weights=weights, metrics=metrics)
    theirs = k_model.fit(X, y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_split=0.2)
    mine = ours.fit(X, y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_split=0.2)
    _close_history(mine.history, theirs.history)
    np.testing.assert_allclose(ours.evaluate(X, y, verbose=0), k_model.evaluate(X, y, verbose=0), atol=1e-5)
    for a, b in zip(ours.predict(X, verbose=0), k_model.predict(X, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_masked_embedding_lstm_sequence_loss_equals_keras():
    ids = rng.integers(1, 20, (40, 6))
    ids[::2, 4:] = 0
    ids[1::3, 2:] = 0
    y = rng.normal(size=(40, 6, 1)).astype("float32")

    def build(api):
        if api is keras:
            return keras.Sequential([keras.Input((6,), dtype="int32"), keras.layers.Embedding(20, 4, mask_zero=True),
                                     keras.layers.LSTM(5, return_sequences=True), keras.layers.Dense(1)])
        model = kr.Sequential([kr.Embedding(20, 4, mask_zero=True), kr.LSTM(5, return_sequences=True), kr.Dense(1)])
        model(torch.ones(1, 6, dtype=torch.long))
        return model
    k_model, ours = _pair(build)
    k_model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    ours.compile(optimizer=_sgd(ours), loss="mse", metrics=["mae"])
    theirs = k_model.fit(ids, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    mine = ours.fit(ids, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    _close_history(mine.history, theirs.history)


def test_generator_dataloader_and_dict_inputs_train():
    y = rng.normal(size=(70, 2)).astype("float32")
    k_model, ours = _pair(_mlp(2))
    ours.compile(optimizer=_sgd(ours), loss="mse")
    k_model.compile(optimizer="sgd", loss="mse")
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y)),
                                         batch_size=16)
    theirs = k_model.fit(loader, epochs=2, verbose=0, shuffle=False)
    mine = ours.fit(loader, epochs=2, verbose=0)
    _close_history(mine.history, theirs.history)

    def batches():
        while True:
            for start in range(0, 64, 16):
                yield X[start:start + 16], y[start:start + 16]
    assert len(ours.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0).history["loss"]) == 2
    two = kr.Model([a := kr.Input((5,), name="a"), b := kr.Input((5,), name="b")],
                   kr.Dense(2)(kr.Concatenate()([a, b])))
    two.compile(optimizer=torch.optim.SGD(two.parameters(), lr=0.01), loss="mse")
    before = [w.copy() for w in two.get_weights()]
    two.fit({"b": X, "a": X}, y, epochs=1, verbose=0)
    assert not np.allclose(before[0], two.get_weights()[0])


def test_evaluate_and_on_batch_calls_count_regularization_terms_as_keras():
    """Weight and activity penalties enter the loss `evaluate`, `test_on_batch` and `train_on_batch` report,
    as in Keras (evaluate once left them out: it runs without gradients)."""
    def build(api):
        inputs = api.Input((5,))
        hidden = api.layers.Dense(4, activity_regularizer="l2", kernel_regularizer="l1")(inputs)
        model = api.Model(inputs, api.layers.Dense(1)(hidden))
        model.compile(optimizer=api.optimizers.SGD(0.01), loss="mse")
        return model

    k_model, ours = _pair(build)
    x = np.random.default_rng(1).random((16, 5)).astype("float32")
    y = np.random.default_rng(2).random((16, 1)).astype("float32")
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), k_model.evaluate(x, y, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(x, y), k_model.test_on_batch(x, y), rtol=1e-5)
    np.testing.assert_allclose(ours.train_on_batch(x, y), k_model.train_on_batch(x, y), rtol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), k_model.evaluate(x, y, verbose=0), rtol=1e-5)
