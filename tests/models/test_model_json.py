"""Model.to_json and kr.models.model_from_json, both ways with Keras's."""
import json

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


def _sequential():
    return kr.Sequential([kr.Input((5, 3)), kr.LSTM(4, return_sequences=True), kr.GRU(2), kr.Dense(1)])


def _functional():
    inputs = kr.Input((5, 3), name="x")
    hidden = kr.LSTM(4, name="rnn")(inputs)
    return kr.Model(inputs, kr.Dense(2, activation="softmax", name="head")(hidden))


@pytest.mark.parametrize("make", [_sequential, _functional])
def test_to_json_builds_the_same_model_here_and_in_keras(make):
    model = make()
    text = model.to_json()
    assert json.loads(text)["class_name"] in ("Sequential", "Functional")
    again = kr.models.model_from_json(text)
    assert type(again) is type(model)
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in model.layers]
    again.load_state_dict(model.state_dict())
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(again(x), model(x))
    theirs = keras.models.model_from_json(text)
    def names(layers, input_layer):
        return [layer.name for layer in layers if not isinstance(layer, input_layer)]
    assert names(theirs.layers, keras.layers.InputLayer) == names(model.layers, kr.InputLayer)
    assert theirs.count_params() == sum(p.numel() for p in model.parameters())


def test_model_from_json_reads_keras_s_json():
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(1)])
    ours = kr.models.model_from_json(theirs.to_json())
    assert isinstance(ours, kr.Sequential) and ours.layers[0].units == 3
    ours.layers[0].set_weights([w.numpy() for w in theirs.layers[0].weights])
    ours.layers[1].set_weights([w.numpy() for w in theirs.layers[1].weights])
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(),
                               keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)


def test_to_json_passes_json_arguments():
    model = _sequential()
    assert model.to_json(indent=2).startswith('{\n  "')
    assert json.loads(model.to_json(indent=2)) == json.loads(model.to_json())


def test_model_from_json_takes_custom_objects():
    class JsonOnlyScale(kr.Layer):
        def call(self, x):
            return 3 * x

    model = kr.Sequential([kr.Input((2,)), JsonOnlyScale(name="scale")])
    text = model.to_json()
    with pytest.raises(ValueError, match="JsonOnlyScale"):
        kr.models.model_from_json(text)
    again = kr.models.model_from_json(text, custom_objects={"JsonOnlyScale": JsonOnlyScale})
    assert isinstance(again.layers[0], JsonOnlyScale)


def test_model_from_json_refuses_what_is_not_a_model():
    with pytest.raises(ValueError, match="not JSON"):
        kr.models.model_from_json("{nope")
    with pytest.raises(ValueError, match="class_name"):
        kr.models.model_from_json("[1, 2]")
    with pytest.raises(TypeError, match="expected the JSON string"):
        kr.models.model_from_json({"class_name": "Sequential"})
