"""Keras 3.15's keras/src/models/sequential_test.py, ported to kr's names.

Keras's `backend.KerasTensor((3, 2))` is `kr.Input(batch_shape=(3, 2))`; its private `model._functional`
checks are left out of the cases that hold them (kr's Sequential runs its layers in order without building
a functional model), and its private `run_class_serialization_test` is its essence here:
`from_config(get_config())` gives the same configuration again. Cases left out are listed, with their
reasons, in tests/keras_ported_left_out.md.
"""
import pickle

import numpy as np
import pytest

import kerasrnn_torch as kr

layers = kr.layers
Input = kr.Input
Model = kr.Model
Sequential = kr.Sequential


def assert_config_round_trip(model, custom_objects=None):
    config = model.get_config()
    revived = Sequential.from_config(config, custom_objects=custom_objects)
    assert revived.get_config() == config
    return revived


def test_basic_flow_with_input():
    model = Sequential(name="seq")
    model.add(Input(shape=(2,), batch_size=3))
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    model.summary()
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4
    y = model(np.random.random((3, 2)))
    assert tuple(y.shape) == (3, 5)
    y = model(Input(batch_shape=(3, 2)))
    assert tuple(y.shape) == (3, 5)

    model = Sequential(layers=[Input(shape=(2,), batch_size=3), layers.Dense(4), layers.Dense(5)])
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4
    assert tuple(model(np.random.random((3, 2))).shape) == (3, 5)

    model.pop()
    assert len(model.layers) == 1
    assert model.built
    assert len(model.weights) == 2
    assert tuple(model(np.random.random((3, 2))).shape) == (3, 4)


def test_legacy_flow_with_input_shape():
    model = Sequential(name="seq")
    model.add(layers.Dense(4, input_shape=(2,)))
    model.add(layers.Dense(5))
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4

    model = Sequential(name="seq")
    model.add(layers.Dense(4, input_dim=2))
    model.add(layers.Dense(5))
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4

    # Subsequent input_shapes are ignored
    model = Sequential(name="seq")
    model.add(layers.Dense(4, input_shape=(2,)))
    model.add(layers.Dense(5, input_shape=(3, 4)))
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4


def test_basic_flow_deferred():
    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    model.summary()
    assert len(model.layers) == 2
    y = model(np.random.random((3, 2)))
    assert model.built
    model.summary()
    assert tuple(y.shape) == (3, 5)
    y = model(Input(batch_shape=(3, 2)))
    assert tuple(y.shape) == (3, 5)

    model = Sequential(layers=[layers.Dense(4), layers.Dense(5)])
    assert tuple(model(np.random.random((3, 2))).shape) == (3, 5)
    model.pop()
    assert len(model.layers) == 1
    assert model.built
    assert len(model.weights) == 2
    assert tuple(model(np.random.random((3, 2))).shape) == (3, 4)


def test_basic_flow_as_a_submodel():
    submodel = Sequential()
    submodel.add(layers.Flatten())
    assert not submodel.built
    inputs = Input((None, 4))
    outputs = layers.TimeDistributed(submodel)(inputs)
    model = Model(inputs=inputs, outputs=outputs)
    y = model(np.random.random((2, 3, 4)))
    assert tuple(y.shape) == (2, 3, 4)


def test_basic_flow_with_functional_model_as_first_layer():
    inputs = Input((16, 16, 3))
    outputs = layers.Conv2D(4, 3, padding="same")(inputs)
    functional_model = Model(inputs=inputs, outputs=outputs)
    model = Sequential([functional_model, layers.Flatten(), layers.Dense(1)])
    model.summary()
    assert len(model.layers) == 3
    assert model.built
    for layer in model.layers:
        assert layer.built
    y = model(np.random.random((1, 16, 16, 3)))
    assert tuple(y.shape) == (1, 1)
    y = model(Input(batch_shape=(1, 16, 16, 3)))
    assert tuple(y.shape) == (1, 1)


def test_basic_flow_with_sequential_model_as_first_layer():
    sequential_model = Sequential([Input((16, 16, 3)), layers.Conv2D(4, 3, padding="same")])
    model = Sequential([sequential_model, layers.Flatten(), layers.Dense(1)])
    model.summary()
    assert len(model.layers) == 3
    assert model.built
    for layer in model.layers:
        assert layer.built
    y = model(np.random.random((1, 16, 16, 3)))
    assert tuple(y.shape) == (1, 1)
    y = model(Input(batch_shape=(1, 16, 16, 3)))
    assert tuple(y.shape) == (1, 1)


class DictLayer(layers.Layer):
    def call(self, inputs):
        assert isinstance(inputs, dict)
        return inputs


def test_dict_inputs():
    model = Sequential([DictLayer()])
    y = model({"a": np.random.random((3, 2)), "b": np.random.random((3, 2))})
    assert type(y) is dict
    model.summary()


def test_list_inputs():
    class ListLayer(layers.Layer):
        def call(self, inputs):
            assert isinstance(inputs, list)
            return inputs

    model = Sequential([ListLayer()])
    y = model([np.random.random((3, 2)), np.random.random((3, 2))])
    assert type(y) is list
    model.summary()


def test_nested_sequential():
    model = Sequential()
    model.add(Input(shape=(16,)))
    outer = Sequential([model])
    assert outer.layers == [model]


def test_errors():
    model = Sequential()
    model.add(Input(shape=(2,), batch_size=3))
    with pytest.raises(ValueError, match="already been configured"):
        model.add(Input(shape=(2,), batch_size=3))
    with pytest.raises(ValueError, match="already been configured"):
        model.add(layers.InputLayer(shape=(2,), batch_size=3))

    model = Sequential()
    model.add(layers.Dense(2, name="dense"))
    with pytest.raises(ValueError, match="should have unique names"):
        model.add(layers.Dense(2, name="dense"))

    model = Sequential()
    with pytest.raises(ValueError, match="no layers"):
        model(np.random.random((3, 2)))

    model = Sequential()
    model.add(Input(shape=(2,), batch_size=3))
    model.add(layers.Dense(2))
    with pytest.raises(ValueError, match="already been configured"):
        model.build((3, 4))
    model.build((3, 2))


def test_shape_inference_failure():
    class DynamicLayer(layers.Layer):
        def call(self, inputs):
            return inputs + 1.0

    model = Sequential([DynamicLayer()])
    x = np.random.random((3, 2))
    y = model(x)
    np.testing.assert_allclose(y.detach().numpy(), x + 1, atol=1e-6, rtol=1e-6)
    model.summary()


def test_serialization():
    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    assert len(assert_config_round_trip(model).layers) == 2

    model.build((2, 3))
    assert len(assert_config_round_trip(model).layers) == 2

    model = Sequential(name="seq")
    model.add(Input(shape=(2,), batch_size=3))
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    model.add(layers.Dense(6))
    assert len(assert_config_round_trip(model).layers) == 3

    model = Sequential([DictLayer()])
    assert len(assert_config_round_trip(model, custom_objects={"DictLayer": DictLayer}).layers) == 1


def test_functional_properties():
    model = Sequential(name="seq")
    inputs = Input(shape=(2,))
    model.add(inputs)
    model.add(layers.Dense(4))
    assert model.inputs == [inputs]
    assert model.outputs == [model.layers[-1].output]
    assert model.input_shape == (None, 2)
    assert model.output_shape == (None, 4)


def test_pickleable():
    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    result = pickle.loads(pickle.dumps(model))
    assert len(result.layers) == 1


def test_bad_layer():
    model = Sequential(name="seq")
    with pytest.raises(ValueError, match="Only instances of"):
        model.add({})

    model = Sequential(name="seq")

    class BadLayer(layers.Layer):
        def call(self, inputs, training):
            return inputs

    model.add(BadLayer())
    with pytest.raises(ValueError, match="can only have a single.*positional"):
        model.build((None, 2))


def test_compute_output_shape():
    layer = Sequential([layers.Dense(4), layers.Dense(8)])
    assert layer.compute_output_shape((1, 2)) == (1, 8)


def test_hasattr():
    model = Sequential()
    assert not hasattr(model, "input_shape")
    assert not hasattr(model, "output_shape")
    assert not hasattr(model, "inputs")
    assert not hasattr(model, "outputs")

    model = Sequential([layers.Input((4,)), layers.Dense(8)])
    assert hasattr(model, "input_shape")
    assert hasattr(model, "output_shape")
    assert hasattr(model, "inputs")
    assert hasattr(model, "outputs")


def test_layers_setter():
    model = Sequential()
    with pytest.raises(AttributeError, match=r"Use `add\(\)` and `pop\(\)`"):
        model.layers = [layers.Dense(4)]
