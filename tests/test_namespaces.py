"""Keras's namespaces: a Keras program's names after `import kerasrnn_torch as keras`."""
import os

import keras
import pytest

import kerasrnn_torch as kr

LAYER_FAMILIES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kerasrnn_torch", "layers")


def test_a_keras_program_s_names():
    import kerasrnn_torch as keras_
    from kerasrnn_torch import layers
    assert keras_.layers.LSTM is kr.LSTM is layers.LSTM
    assert keras_.Input is layers.Input and keras_.Model is keras_.models.Model
    assert keras_.layers.InputLayer is kr.InputLayer and keras_.layers.Layer is kr.Layer
    assert keras_.models.Sequential is kr.Sequential
    assert callable(keras_.utils.pad_sequences) and callable(keras_.saving.load_model)


def test_kr_layers_is_every_family_s_layers():
    families = sorted(name for name in os.listdir(LAYER_FAMILIES)
                      if os.path.isfile(os.path.join(LAYER_FAMILIES, name, "__init__.py")))
    names = set()
    for family in families:
        module = __import__(f"kerasrnn_torch.layers.{family}", fromlist=["__all__"])
        names.update(module.__all__)
    assert set(kr.layers.__all__) == names | {"Input", "InputLayer", "InputSpec", "Layer"}
    for name in kr.layers.__all__:
        assert getattr(kr.layers, name) is getattr(kr, name), name
    assert set(kr.layers.__all__) <= set(kr.__all__)


def test_every_kr_layer_is_a_keras_layer_name():
    missing = [name for name in kr.layers.__all__ if not hasattr(keras.layers, name) and name != "ConvLSTMCell"]
    assert missing == []


@pytest.mark.parametrize("name", ["GlorotUniform", "Orthogonal", "Zeros", "glorot_uniform", "HeNormal"])
def test_initializers_hold_keras_names(name):
    assert hasattr(kr.initializers, name) or kr.initializers.get(name) is not None
    assert callable(kr.initializers.get(name))


def test_the_small_object_modules_have_get_serialize_deserialize():
    for module in (kr.activations, kr.initializers, kr.regularizers, kr.constraints):
        for function in ("get", "serialize", "deserialize"):
            assert callable(getattr(module, function)), (module.__name__, function)
    for name in ("relu", "tanh", "sigmoid", "softmax", "gelu", "silu", "elu", "selu", "softplus", "linear"):
        fn = getattr(kr.activations, name)
        assert kr.activations.get(name) is fn and kr.activations.serialize(fn) == name
    assert kr.activations.deserialize(keras.activations.serialize(keras.activations.relu)) is kr.activations.relu
    assert isinstance(kr.regularizers.deserialize(keras.regularizers.serialize(keras.regularizers.L1(0.2))),
                      kr.regularizers.L1)
    assert kr.constraints.serialize(kr.constraints.NonNeg())["class_name"] == "NonNeg"
    assert kr.regularizers.serialize(None) is None


def test_clone_model_has_the_same_layers_and_new_weights():
    import torch
    model = kr.Sequential([kr.Input((4,)), kr.Dense(3, activation="relu"), kr.Dense(2)])
    clone = kr.models.clone_model(model)
    assert type(clone) is kr.Sequential and [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert clone.built and clone.layers[0].units == 3
    assert not torch.equal(clone.layers[0].kernel, model.layers[0].kernel)
    inputs = kr.Input((4,))
    functional = kr.Model(inputs, kr.Dense(2)(inputs))
    assert type(kr.models.clone_model(functional)) is kr.Model
    with pytest.raises(ValueError, match="clone_function"):
        kr.models.clone_model(model, clone_function=lambda layer: layer)
