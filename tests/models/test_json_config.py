"""`model.to_json()` and `kr.models.model_from_json`: Keras's JSON form of a model, read and written both
ways with Keras (`keras.Model.to_json`, `keras.models.model_from_json`)."""
import json

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


def _functional(lib):
    a = lib.Input(shape=(6, 3), name="a")
    b = lib.Input(shape=(4,), name="b")
    x = lib.layers.LSTM(5, name="lstm")(a)
    x = lib.layers.Concatenate(name="concat")([x, b])
    return lib.Model([a, b], lib.layers.Dense(2, activation="relu", name="head")(x), name="two_inputs")


def _sequential(lib):
    return lib.Sequential([lib.Input((6, 3)), lib.layers.GRU(4, return_sequences=True, name="gru"),
                           lib.layers.GlobalAveragePooling1D(name="pool"), lib.layers.Dense(1, name="out")],
                          name="stack")


@pytest.mark.parametrize("make", [_functional, _sequential], ids=["functional", "sequential"])
def test_kr_json_round_trips_and_keras_reads_it(make):
    model = make(kr)
    text = model.to_json()
    again = kr.models.model_from_json(text)
    assert type(again) is type(model) and again.to_json() == text
    theirs = keras.models.model_from_json(text)
    assert [layer.name for layer in theirs.layers] == [layer.name for layer in model.layers]
    theirs.set_weights(model.get_weights())
    x = [np.random.rand(2, 6, 3).astype("float32"), np.random.rand(2, 4).astype("float32")]
    x = x if make is _functional else x[0]
    with torch.no_grad():
        ours = model(x).numpy()
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [_functional, _sequential], ids=["functional", "sequential"])
def test_keras_json_is_read(make):
    theirs = make(keras)
    ours = kr.models.model_from_json(theirs.to_json())
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert json.loads(ours.to_json())["config"]["name"] == theirs.name


def test_json_keywords_and_custom_objects():
    @kr.saving.register_keras_serializable(package="json_test")
    class Doubled(kr.Layer):
        def call(self, x):
            return x * 2
    model = kr.Sequential([kr.Input((3,)), Doubled(name="doubled")])
    text = model.to_json(indent=2)
    assert "\n  " in text
    assert isinstance(kr.models.model_from_json(text).layers[0], Doubled)


def test_bad_json_is_refused():
    with pytest.raises(ValueError, match="the string is not JSON"):
        kr.models.model_from_json("{not json")
    with pytest.raises(ValueError, match="does not describe a model"):
        kr.models.model_from_json("[1, 2]")
