"""fit with Keras's optimizers by name: the same histories and weights as Keras 3 (torch backend).

Keras's Adam, RMSprop and Adagrad differ from torch's rules of the same names (epsilon, where it
is added, the accumulator's start), so these runs fail if compile resolved a name to torch's.
"""
import keras
import numpy as np
import pytest

import kerasrnn_torch as kr

rng = np.random.default_rng(1)
X = rng.normal(size=(48, 6, 3)).astype("float32")
Y = rng.normal(size=(48, 2)).astype("float32")


def build(api):
    layers = api.layers if api is keras else api
    return api.Sequential([api.Input((6, 3)), layers.LSTM(5), layers.Dense(2)])


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam"])
def test_fit_with_an_optimizer_by_name_matches_keras(optimizer):
    keras.utils.set_random_seed(3)
    theirs = build(keras)
    ours = build(kr)
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    ours.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    expected = theirs.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    got = ours.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], atol=1e-4, rtol=0, err_msg=key)
    for mine, ref in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, ref, atol=1e-4, rtol=0)


def test_compile_defaults_to_keras_s_rmsprop():
    model = build(kr)
    model.compile(loss="mse")
    assert isinstance(model.optimizer, kr.optimizers.RMSprop)
    assert model.optimizer.get_config()["rho"] == 0.9


def test_model_checkpoint_writes_files_keras_reads(tmp_path):
    model = build(kr)
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "best.keras"
    model.fit(X, Y, batch_size=16, epochs=2, verbose=0, validation_split=0.25,
              callbacks=[kr.callbacks.ModelCheckpoint(str(path), save_best_only=True)])
    reread = keras.models.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reread(X[:4])), model.predict(X[:4], verbose=0),
                               atol=1e-5, rtol=0)
