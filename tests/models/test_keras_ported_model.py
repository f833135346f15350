"""Keras 3.15's keras/src/models/model_test.py, ported to kr's names.

`Functional` is `kr.Model` built from inputs and outputs (`model.is_functional`); fit-based cases run
kr's compile/fit with Keras's arguments and compare the history keys Keras gives. Cases left out are
listed, with their reasons, in tests/keras_ported_left_out.md.
"""
import pickle
from collections import namedtuple

import numpy as np
import pytest

import kerasrnn_torch as kr

layers = kr.layers
Input = kr.Input
Model = kr.Model


def _get_model():
    input_a = Input(shape=(3,), batch_size=2, name="input_a")
    input_b = Input(shape=(3,), batch_size=2, name="input_b")
    x = input_a + input_b
    x = layers.Dense(5)(x)
    outputs = layers.Dense(4)(x)
    return Model([input_a, input_b], outputs)


def _get_model_multi_outputs_list():
    x = Input(shape=(3,), name="input_a")
    output_a = layers.Dense(1, name="output_a")(x)
    output_b = layers.Dense(1, name="output_b", activation="sigmoid")(x)
    return Model(x, [output_a, output_b])


def _get_model_multi_outputs_list_no_output_names():
    x = Input(shape=(3,), name="input_a")
    output_a = layers.Dense(1)(x)
    output_b = layers.Dense(1, activation="sigmoid")(x)
    return Model(x, [output_a, output_b])


def _get_model_single_output():
    x = Input(shape=(3,), name="input_a")
    return Model(x, layers.Dense(1, name="output_a")(x))


def _get_model_single_output_list():
    x = Input(shape=(3,), name="input_a")
    return Model(x, [layers.Dense(1, name="output_a")(x)])


def _get_model_single_output_dict():
    x = Input(shape=(3,), name="input_a")
    return Model(x, {"output_a": layers.Dense(1, name="output_a")(x)})


def _get_model_multi_outputs_dict():
    x = Input(shape=(3,), name="input_a")
    output_a = layers.Dense(1, name="output_a")(x)
    output_b = layers.Dense(1, name="output_b", activation="sigmoid")(x)
    return Model(x, {"output_a": output_a, "output_b": output_b})


def _get_model_multi_outputs_dict_with_single_tensor():
    x = Input(shape=(3,), name="input_a")
    output = layers.Dense(1, name="output_a")(x)
    return Model(x, {"output_a": output, "output_b": output})


def _get_model_multi_outputs_struct_list_like(_type):
    x = Input(shape=(3,), name="x")
    y1 = layers.Dense(1, name="y1", activation="sigmoid")(x)
    y2 = layers.Dense(1, name="y2", activation="sigmoid")(x)
    return Model(x, _type([y1, y2]))


def _get_model_multi_outputs_struct_namedtuple():
    Y = namedtuple("Y", ["y1", "y2"])
    x = Input(shape=(3,), name="x")
    y1 = layers.Dense(1, name="y1", activation="sigmoid")(x)
    y2 = layers.Dense(1, name="y2", activation="sigmoid")(x)
    return Model(x, Y(y1, y2)), Y


def _get_model_multi_outputs_struct_dict():
    x = Input(shape=(3,), name="x")
    y1 = layers.Dense(1, name="y1", activation="sigmoid")(x)
    y2 = layers.Dense(1, name="y2", activation="sigmoid")(x)
    return Model(x, {"a": y1, "b": y2})


def _get_model_multi_outputs_struct():
    x = Input(shape=(3,), name="x")
    y1 = layers.Dense(1, name="y1", activation="sigmoid")(x)
    y2 = layers.Dense(1, name="y2", activation="sigmoid")(x)
    y3 = layers.Dense(1, name="y3", activation="sigmoid")(x)
    return Model(x, {"a": (y1, y2), "b": {"b1": y1, "b2": y2}, "c": {"c1": (y1, y2), "c2": y2}, "d": y3})


def _get_model_optional_inputs():
    class OptionalInputLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x, o=None):
            z = x if o is None else x + o
            return self.dense(z)

    x = Input((2,), name="x")
    o = Input((2,), name="o", optional=True)
    y = OptionalInputLayer()(x, o)
    return Model({"x": x, "o": o}, y)


def _data():
    return np.random.rand(8, 3), np.random.rand(8, 1), np.random.randint(0, 2, (8, 1))


def test_functional_rerouting():
    model = _get_model()
    assert isinstance(model, Model) and model.is_functional


def test_json_serialization():
    model = _get_model()
    json_string = model.to_json()
    new_model = kr.models.model_from_json(json_string)
    assert json_string == new_model.to_json()


def test_tuple_input_model_subclass():
    class MultiInputModel(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense1 = layers.Dense(4)

        def call(self, inputs):
            a, b = inputs
            r = self.dense1(a)
            return layers.Concatenate()([r, b])      # keras.layers.concatenate is this call

    model = MultiInputModel()
    out = model((np.random.rand(3, 3), np.random.rand(3, 2)))
    assert tuple(out.shape) == (3, 6)


def test_reviving_functional_from_config_custom_layer():
    class CustomDense(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    inputs = layers.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = Model(inputs, outputs)
    new_model = Model.from_config(model.get_config(), custom_objects={"CustomDense": CustomDense})
    assert isinstance(new_model, Model) and new_model.is_functional


def test_reviving_functional_from_config_custom_model():
    class CustomModel(Model):
        def __init__(self, *args, param=1, **kwargs):
            super().__init__(*args, **kwargs)
            self.param = param

        def get_config(self):
            return super().get_config() | {"param": self.param}

    inputs = layers.Input((3,))
    outputs = layers.Dense(5)(inputs)
    model = CustomModel(inputs=inputs, outputs=outputs, param=3)
    new_model = CustomModel.from_config(model.get_config())
    assert new_model.param == 3


@pytest.mark.parametrize("model_fn", [_get_model_single_output, _get_model_single_output_list],
                         ids=["single_output", "single_list_output"])
def test_functional_pickling(model_fn):
    model = model_fn()
    assert model.is_functional
    model.compile()
    x = np.random.rand(8, 3)
    reloaded_pickle = pickle.loads(pickle.dumps(model))
    pred_reloaded = reloaded_pickle.predict(x, verbose=0)
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(np.array(pred_reloaded), np.array(pred), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("model_fn", [_get_model_single_output, _get_model_single_output_list,
                                      _get_model_single_output_dict],
                         ids=["single_output", "single_list_output", "single_dict_output"])
@pytest.mark.parametrize("loss_type", [None, "list", "dict", "dict_list"])
def test_functional_single_output(model_fn, loss_type):
    model = model_fn()
    loss = "mean_squared_error"
    if loss_type == "list":
        loss = [loss]
    elif loss_type == "dict":
        loss = {"output_a": loss}
    elif loss_type == "dict_list":
        loss = {"output_a": [loss]}
    model.compile(optimizer="sgd", loss=loss,
                  metrics={"output_a": ["mean_squared_error", "mean_absolute_error"]},
                  weighted_metrics={"output_a": "mean_squared_error"})
    hist = model.fit(np.random.rand(8, 3), np.random.rand(8, 1), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "mean_absolute_error", "mean_squared_error", "weighted_mean_squared_error"])


def test_functional_list_outputs_list_losses():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss=["mean_squared_error", "binary_crossentropy"],
                  metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]], loss_weights=[0.1, 2])
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error", "output_b_accuracy", "output_b_loss",
         "output_b_mean_squared_error"])


def test_functional_list_outputs_list_losses_abbr():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss=["mse", "bce"], metrics=[["bce", "mse", "mae"], ["mse", "acc"]],
                  loss_weights=[0.1, 2])
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "output_a_loss", "output_a_bce", "output_a_mae", "output_a_mse", "output_b_acc", "output_b_loss",
         "output_b_mse"])


def test_functional_list_outputs_nested_list_losses():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss=["mean_squared_error", ["binary_crossentropy"]],
                  metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]], loss_weights=[0.1, 2])
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error", "output_b_accuracy", "output_b_loss",
         "output_b_mean_squared_error"])


def test_functional_dict_outputs_dict_losses():
    model = _get_model_multi_outputs_dict()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd",
                  loss={"output_a": "mean_squared_error", "output_b": ["binary_crossentropy"]},
                  metrics={"output_a": ["mean_squared_error"], "output_b": ["mean_squared_error", "accuracy"]},
                  weighted_metrics={"output_a": ["mean_squared_error"],
                                    "output_b": ["mean_squared_error", "accuracy"]})
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, dict)
    assert outputs["output_a"].shape == (8, 1) and outputs["output_b"].shape == (8, 1)
    hist = model.fit(x, {"output_a": y1, "output_b": y2}, batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error", "output_a_weighted_mean_squared_error",
         "output_b_accuracy", "output_b_loss", "output_b_mean_squared_error", "output_b_weighted_accuracy",
         "output_b_weighted_mean_squared_error"])


def test_functional_dict_outputs_dict_losses_with_undefined_loss():
    model = _get_model_multi_outputs_dict()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_b": ["binary_crossentropy"]},
                  metrics={"output_b": ["mean_squared_error", "accuracy"]},
                  weighted_metrics={"output_b": ["mean_squared_error", "accuracy"]})
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, dict)
    assert outputs["output_a"].shape == (8, 1) and outputs["output_b"].shape == (8, 1)
    hist = model.fit(x, {"output_a": y1, "output_b": y2}, batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "output_b_accuracy", "output_b_mean_squared_error", "output_b_weighted_accuracy",
         "output_b_weighted_mean_squared_error"])


def test_functional_list_outputs_dict_losses_metrics():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                  metrics={"output_a": ["mean_squared_error"], "output_b": ["mean_squared_error", "accuracy"]},
                  weighted_metrics={"output_a": ["mean_squared_error"],
                                    "output_b": ["mean_squared_error", "accuracy"]})
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, list)
    assert outputs[0].shape == (8, 1) and outputs[1].shape == (8, 1)
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error", "output_a_weighted_mean_squared_error",
         "output_b_accuracy", "output_b_loss", "output_b_mean_squared_error", "output_b_weighted_accuracy",
         "output_b_weighted_mean_squared_error"])


def test_functional_list_outputs_dict_losses_metrics_uniq_weighted():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                  metrics={"output_a": ["mean_squared_error"], "output_b": ["mean_squared_error"]},
                  weighted_metrics={"output_a": ["mean_squared_error"], "output_b": ["accuracy"]})
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    # A metric only among the weighted ones has no `weighted_` prefix, as in Keras.
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error", "output_a_weighted_mean_squared_error",
         "output_b_accuracy", "output_b_loss", "output_b_mean_squared_error"])


def test_functional_list_outputs_dict_losses_partial_metrics():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                  metrics={"output_b": ["mean_squared_error", "accuracy"]})
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["loss", "output_a_loss", "output_b_accuracy", "output_b_loss", "output_b_mean_squared_error"])


def test_functional_dict_outputs_with_single_tensor():
    model = _get_model_multi_outputs_dict_with_single_tensor()
    x, y1, y2 = _data()
    assert len(model.outputs) == 2
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"})
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(["loss", "output_a_loss", "output_b_loss"])


def _get_model_with_custom_compute_loss():
    class MyModel(Model):
        def __init__(self):
            inputs = Input(shape=(3,), name="inputs")
            outputs = layers.Dense(1, name="a")(inputs)
            super().__init__(inputs=inputs, outputs=outputs)

        def compute_loss(self, x, y, y_pred, sample_weight=None, **kwargs):
            y_pred = [y_pred, y_pred]  # To list
            return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, **kwargs)

    return MyModel()


def test_functional_list_outputs_with_custom_compute_loss():
    model = _get_model_with_custom_compute_loss()
    assert model.is_functional
    x = np.random.rand(8, 3)
    y1 = np.random.rand(8, 1)
    y2 = np.random.randint(0, 2, (8, 1))
    # `model` has 1 output, but in `compute_loss` it is separated into 2.
    assert len(model.outputs) == 1
    model.compile(optimizer="sgd", loss=["mean_squared_error", "binary_crossentropy"])
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(["binary_crossentropy_loss", "loss", "mean_squared_error_loss"])


def test_functional_list_outputs_dict_losses_invalid_keys():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error", "output_c": "binary_crossentropy"})
    with pytest.raises(ValueError, match="Expected keys"):
        model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)


def test_functional_list_outputs_dict_losses_no_output_names():
    model = _get_model_multi_outputs_list_no_output_names()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error"})
    with pytest.raises(ValueError, match="Expected keys"):
        model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)


def test_functional_list_outputs_dict_metrics_invalid_keys():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                  metrics={"output_c": ["mean_squared_error", "accuracy"]})
    with pytest.raises(ValueError, match="(?s)Invalid `metrics`.*output_c"):
        model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)


def test_functional_dict_outputs_dict_losses_invalid_keys():
    model = _get_model_multi_outputs_dict()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error", "output_c": "binary_crossentropy"})
    with pytest.raises(KeyError, match="in the `loss` argument, can't be found in either the model's output"):
        model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)


def test_functional_dict_outputs_dict_metrics_invalid_keys():
    model = _get_model_multi_outputs_dict()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                  metrics={"output_c": ["mean_squared_error", "accuracy"]})
    with pytest.raises(ValueError, match="(?s)Invalid `metrics`.*output_c"):
        model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)


def test_functional_list_outputs_invalid_nested_list_losses():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss=["mean_squared_error", ["mean_squared_error", "binary_crossentropy"]])
    hist = model.fit(x, (y1, y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(["loss", "output_a_loss", "output_b_loss"])


def test_layers_setter():
    class Empty(Model):          # Keras's `Model()`: a subclassed model with nothing in it
        def call(self, x):
            return x

    model = Empty()
    with pytest.raises(AttributeError, match="`Model.layers` attribute is reserved"):
        model.layers = [layers.Dense(4)]


@pytest.mark.parametrize("is_optional_none", [True, False], ids=["optional_none", "optional_tensor"])
def test_functional_optional_inputs(is_optional_none):
    model = _get_model_optional_inputs()
    x = np.ones((2, 2))
    o = None if is_optional_none else np.ones((2, 2))
    y_true = np.ones((2, 2))
    model.compile(loss="mse", optimizer="adam")
    model.fit(x={"x": x, "o": o}, y=y_true, verbose=0)
    model.evaluate(x={"x": x, "o": o}, y=y_true, verbose=0)
    assert model.predict(x={"x": x, "o": o}, verbose=0).shape == (2, 2)


@pytest.mark.parametrize("is_optional_none", [True, False], ids=["optional_none", "optional_tensor"])
def test_functional_optional_inputs_generator(is_optional_none):
    model = _get_model_optional_inputs()
    x = np.ones((2, 2))
    o = None if is_optional_none else np.ones((2, 2))
    y_true = np.ones((2, 2))

    def data_generator(with_y=True):
        for _ in range(4):
            yield ({"x": x, "o": o},) + ((y_true,) if with_y else ())

    model.compile(loss="mse", optimizer="adam")
    model.fit(data_generator(), verbose=0)
    model.evaluate(data_generator(), verbose=0)
    assert model.predict(data_generator(with_y=False), verbose=0).shape == (8, 2)


def test_two_losses_for_one_output_are_added_as_keras_adds_them():
    """Beyond Keras's test (which checks the history keys only): the numbers, against Keras."""
    import keras

    def build(lib):
        x = lib.Input((3,), name="input_a")
        a = lib.layers.Dense(1, name="output_a")(x)
        b = lib.layers.Dense(1, name="output_b", activation="sigmoid")(x)
        return lib.Model(x, [a, b])

    theirs, ours = build(keras), build(kr)
    ours.set_weights(theirs.get_weights())
    x, y1, y2 = _data()
    y2 = y2.astype("float32")
    loss = ["mean_squared_error", ["mean_squared_error", "binary_crossentropy"]]
    theirs.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    ours.compile(optimizer="sgd", loss=loss)
    ours.optimizer.learning_rate = 0.0
    want = theirs.fit(x, (y1, y2), batch_size=8, epochs=1, verbose=0).history
    got = ours.fit(x, (y1, y2), batch_size=8, epochs=1, verbose=0).history
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- one loss over nested output structures
def _leaves(value):
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _leaves(value[key])]
    if isinstance(value, (list, tuple)):
        return [leaf for entry in value for leaf in _leaves(entry)]
    return [value]


def _assert_same_structure(spec, value):
    """Keras's `tree.assert_same_structure` for this test: same containers all the way down."""
    if isinstance(spec, (list, tuple, dict)):
        if type(value) is not type(spec):
            raise ValueError(f"Expected {type(spec).__name__} but got {type(value).__name__}")
        keys = sorted(spec) if isinstance(spec, dict) else range(len(spec))
        if (sorted(value) if isinstance(value, dict) else range(len(value))) != keys:
            raise ValueError(f"Expected {type(spec).__name__} with entries {list(keys)}")
        for key in keys:
            _assert_same_structure(spec[key], value[key])
    elif isinstance(value, (list, tuple, dict)):
        raise ValueError(f"Expected a tensor but got {type(value).__name__}")


def get_struct_loss(structure):
    """Keras's test loss: asserts it receives `structure`'s containers and ranks, then sums the leaves' MAE."""
    def loss_fn(y_true, y_pred):
        _assert_same_structure(structure, y_true)
        _assert_same_structure(structure, y_pred)
        for spec, tensor in zip(_leaves(structure), _leaves(y_true)):
            assert spec.ndim == tensor.ndim
        for spec, tensor in zip(_leaves(structure), _leaves(y_pred)):
            assert spec.ndim == tensor.ndim
        diff = 0
        for y_p, y_t in zip(_leaves(y_pred), _leaves(y_true)):
            diff += kr.losses.mean_absolute_error(y_t, y_p)
        return diff
    return loss_fn


def _map(fn, value):
    if isinstance(value, dict):
        return {key: _map(fn, entry) for key, entry in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_map(fn, entry) for entry in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_map(fn, entry) for entry in value)
    return fn(value)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("other_type", [list, tuple])
@pytest.mark.parametrize("_type", [tuple, list])
def test_functional_struct_outputs_struct_losses(_type, other_type, weighted):
    model = _get_model_multi_outputs_struct_list_like(_type)
    assert model.is_functional
    x = np.random.rand(8, 3)
    y1 = np.random.rand(8, 1)
    y2 = np.random.rand(8, 1)
    y = _type([y1, y2])
    output = model.output
    loss = other_type([get_struct_loss(output),
                       _type([get_struct_loss(output[0]), get_struct_loss(output[1])])])
    loss_weights = _map(lambda _: np.random.rand(), loss) if weighted else None
    model.compile(optimizer="sgd", loss=loss, loss_weights=loss_weights)
    if _type is other_type:
        with pytest.raises(ValueError, match=f"[Ee]xpected.*{_type.__name__}"):
            model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    else:
        outputs = model.predict(x, verbose=0)
        assert isinstance(outputs, _type)
        hist = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
        assert sorted(hist.history.keys()) == sorted(["loss", "y1_loss", "y2_loss", "y1_y2_loss"])


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "not_weighted"])
def test_functional_struct_outputs_dict_struct_losses(weighted):
    model = _get_model_multi_outputs_struct_dict()
    assert model.is_functional
    x = np.random.rand(8, 3)
    y1 = np.random.rand(8, 1)
    y2 = np.random.rand(8, 1)
    y = {"a": y1, "b": y2}
    output = model.output
    loss = [get_struct_loss(output), {"a": get_struct_loss(output["a"]), "b": get_struct_loss(output["a"])}]
    loss_weights = _map(lambda _: np.random.rand(), loss) if weighted else None
    model.compile(optimizer="sgd", loss=loss, loss_weights=loss_weights)
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, dict)
    hist = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(["loss", "a_loss", "b_loss", "a_b_loss"])


def test_functional_struct_outputs_namedtuple_struct_losses():
    model, Y = _get_model_multi_outputs_struct_namedtuple()
    assert model.is_functional
    x = np.random.rand(8, 3)
    y1 = np.random.rand(8, 1)
    y2 = np.random.rand(8, 1)
    y = Y(y1, y2)
    output = model.output
    model.compile(optimizer="sgd", loss=[get_struct_loss(output),
                                         Y(get_struct_loss(output.y1), get_struct_loss(output.y2))])
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, tuple)
    hist = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(["loss", "y1_loss", "y2_loss", "y1_y2_loss"])


def test_functional_deeply_nested_outputs_struct_losses():
    model = _get_model_multi_outputs_struct()
    assert model.is_functional
    x = np.random.rand(8, 3)
    y1 = np.random.rand(8, 1)
    y2 = np.random.rand(8, 1)
    y3 = np.random.rand(8, 1)
    y = {"a": (y1, y2), "b": {"b1": y1, "b2": y2}, "c": {"c1": (y1, y2), "c2": y2}, "d": y3}
    output = model.output
    model.compile(
        optimizer="sgd",
        loss={
            "a": [get_struct_loss(output["a"]), (None, get_struct_loss(output["a"][1]))],
            "b": [get_struct_loss(output["b"]), {"b1": get_struct_loss(output["b"]["b1"])}],
            "c": [get_struct_loss(output["c"]), {"c1": get_struct_loss(output["c"]["c1"])}],
            "d": get_struct_loss(output["d"]),
        },
    )
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, dict)
    hist = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history.keys()) == sorted(
        ["a/y2_loss", "a_loss", "b/b1_loss", "b_loss", "c/c1_loss", "c_loss", "d_loss", "loss"])
