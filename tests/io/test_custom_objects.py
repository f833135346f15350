"""A user's own layer class through Keras files both ways: `register_keras_serializable`, `custom_objects=`,
`custom_object_scope`, and the refusal of a class nothing names."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.core import registry


def keras_scaled_dense(package):
    @keras.saving.register_keras_serializable(package=package)
    class ScaledDense(keras.layers.Layer):
        def __init__(self, units, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.units, self.factor = units, factor

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                          name="kernel")
            self.scale = self.add_weight(shape=(self.units,), initializer="random_normal", name="scale")

        def call(self, x):
            return self.factor * keras.ops.matmul(x, self.kernel) * self.scale

        def get_config(self):
            return {**super().get_config(), "units": self.units, "factor": self.factor}
    return ScaledDense


def kr_scaled_dense():
    """The same layer written the kerasrnn_torch way: a kr.Layer with build and forward."""
    class ScaledDense(kr.Layer):
        def __init__(self, units, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.units, self.factor = units, factor

        def build(self, input_shape):
            self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")
            self.add_weight("scale", (self.units,), "random_normal")
            self.built = True

        def forward(self, x):
            self.maybe_build(x.shape)
            return self.factor * (x @ self.kernel) * self.scale

        def get_config(self):
            return {**super().get_config(), "units": self.units, "factor": self.factor}
    return ScaledDense


@pytest.fixture
def keras_file(tmp_path):
    layer_class = keras_scaled_dense("KrTests")
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5), layer_class(3, factor=1.5)])
    path = tmp_path / "custom.keras"
    theirs.save(path)
    x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    return path, theirs, x


def predict(model, x):
    return model(torch.from_numpy(x)).detach().numpy()


def test_a_keras_file_with_a_custom_layer_loads_with_custom_objects_and_goes_back(keras_file, tmp_path):
    path, theirs, x = keras_file
    ours_class = kr_scaled_dense()
    ours = kr.from_keras(path, custom_objects={"ScaledDense": ours_class})
    assert type(ours.layers[1]) is ours_class and ours.layers[1].factor == 1.5
    np.testing.assert_allclose(predict(ours, x), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-6)

    # Back to Keras: registered under the Keras class's registered name, Keras's load_model rebuilds it.
    kr.saving.register_keras_serializable(package="KrTests")(ours_class)
    try:
        back_path = tmp_path / "back.keras"
        kr.save_keras(ours, back_path)
        back = keras.models.load_model(back_path)
        assert type(back.layers[1]).__name__ == "ScaledDense"
        np.testing.assert_allclose(back.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
        # And the weights alone, in Keras's layout and order, both ways.
        weights = tmp_path / "back.weights.h5"
        kr.save_keras_weights(ours, weights)
        fresh = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5), type(theirs.layers[1])(3, factor=1.5)])
        fresh.load_weights(weights)
        np.testing.assert_allclose(fresh.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
        again = kr.Sequential([kr.Input((4,)), kr.Dense(5), ours_class(3, factor=1.5)])
        kr.load_keras_weights(again, path)
        np.testing.assert_allclose(predict(again, x), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    finally:
        registry.unregister_keras_class(ours_class)


def test_a_registered_class_needs_no_custom_objects(keras_file):
    path, theirs, x = keras_file
    ours_class = kr.saving.register_keras_serializable(package="KrTests")(kr_scaled_dense())
    try:
        assert kr.saving.get_registered_name(ours_class) == "KrTests>ScaledDense"
        assert kr.saving.get_registered_object("KrTests>ScaledDense") is ours_class
        ours = kr.saving.load_model(path)
        np.testing.assert_allclose(predict(ours, x), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
        assert kr.models.load_model(path).layers[1].units == 3
    finally:
        registry.unregister_keras_class(ours_class)
    assert kr.saving.get_registered_object("KrTests>ScaledDense") is None


def test_an_unknown_class_is_refused_with_the_fix(keras_file):
    path, _, _ = keras_file
    with pytest.raises(ValueError, match=r"ScaledDense.*custom_objects=\{'ScaledDense': ScaledDense\}.*"
                                         r"register_keras_serializable"):
        kr.from_keras(path)


def test_custom_object_scope_and_the_weights_of_a_user_layer(keras_file):
    path, theirs, x = keras_file
    ours_class = kr_scaled_dense()
    with kr.saving.custom_object_scope({"ScaledDense": ours_class}):
        ours = kr.from_keras(path)
        assert registry.class_for("ScaledDense") is ours_class
    assert registry.class_for("ScaledDense") is None
    np.testing.assert_allclose(predict(ours, x), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-6)

    # load_keras_weights into a model built here: a user's class is keyed by its own name, as Keras keys it
    # (no custom_objects needed, as Keras's load_weights needs none); custom_objects may say so too.
    again = kr.Sequential([kr.Input((4,)), kr.Dense(5), ours_class(3, factor=1.5)])
    kr.load_keras_weights(again, path)
    np.testing.assert_allclose(predict(again, x), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    again = kr.Sequential([kr.Input((4,)), kr.Dense(5), ours_class(3, factor=1.5)])
    kr.load_keras_weights(again, path, custom_objects={"ScaledDense": ours_class})
    np.testing.assert_allclose(predict(again, x), theirs.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


def test_from_config_takes_custom_objects():
    ours_class = kr_scaled_dense()
    with kr.saving.custom_object_scope({"ScaledDense": ours_class}):
        model = kr.Sequential([kr.Input((4,)), ours_class(2, factor=3.0)])
        config = model.get_config()
        inputs = kr.Input((4,))
        functional = kr.Model(inputs, ours_class(2)(inputs))
        functional_config = functional.get_config()
    with pytest.raises(ValueError, match="custom_objects="):
        kr.Sequential.from_config(config)
    rebuilt = kr.Sequential.from_config(config, custom_objects={"ScaledDense": ours_class})
    assert type(rebuilt.layers[0]) is ours_class and rebuilt.layers[0].factor == 3.0
    again = kr.Model.from_config(functional_config, custom_objects={"ScaledDense": ours_class})
    assert any(type(layer) is ours_class for layer in again.layers)
    entry = kr.saving.serialize_keras_object(rebuilt.layers[0])
    assert type(kr.saving.deserialize_keras_object(entry, custom_objects={"ScaledDense": ours_class})) is ours_class


def test_register_keras_serializable_as_keras():
    @kr.saving.register_keras_serializable()
    class Doubler(kr.Layer):
        def forward(self, x):
            return 2 * x

    @kr.saving.register_keras_serializable(package="KrTests", name="double_it")
    def double_it(x):
        return 2 * x
    try:
        assert kr.saving.get_registered_name(Doubler) == "Custom>Doubler"
        assert kr.saving.get_registered_name(double_it) == "KrTests>double_it"
        assert kr.saving.get_registered_object("KrTests>double_it") is double_it
        assert kr.saving.deserialize_keras_object(kr.saving.serialize_keras_object(double_it)) is double_it
        entry = kr.saving.serialize_keras_object(Doubler(name="d"))
        assert entry["registered_name"] == "Custom>Doubler" and entry["class_name"] == "Doubler"
        assert type(kr.saving.deserialize_keras_object(entry)) is Doubler

        # A later class under the same registered name replaces the earlier one, as in Keras.
        @kr.saving.register_keras_serializable()
        class Doubler(kr.Layer):  # noqa: F811
            pass
        assert kr.saving.get_registered_object("Custom>Doubler") is Doubler
    finally:
        registry.unregister_keras_class(Doubler)
        kr.saving.get_custom_objects().pop("KrTests>double_it", None)
    with pytest.raises(ValueError, match="get_config"):
        kr.saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_get_custom_objects_is_the_global_dictionary():
    ours_class = kr_scaled_dense()
    kr.saving.get_custom_objects()["ScaledDense"] = ours_class
    try:
        assert registry.class_for("ScaledDense") is ours_class
    finally:
        del kr.saving.get_custom_objects()["ScaledDense"]
    assert registry.class_for("ScaledDense") is None


def test_serialize_keras_object_for_what_we_have():
    assert kr.saving.serialize_keras_object(kr.initializers.GlorotUniform(seed=1))["class_name"] == "GlorotUniform"
    assert kr.saving.serialize_keras_object(kr.regularizers.L2(0.1)) == {
        "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.1}, "registered_name": None}
    relu = kr.saving.serialize_keras_object(kr.activations.relu)
    assert relu["config"] == "relu" and kr.saving.deserialize_keras_object(relu) is kr.activations.relu
    dense = kr.saving.deserialize_keras_object(kr.saving.serialize_keras_object(kr.Dense(3, activation="tanh")))
    assert type(dense) is kr.Dense and dense.units == 3
    assert kr.saving.serialize_keras_object((1, "a", None)) == [1, "a", None]
    # Keras's own serialized objects read as ours.
    ks = keras.saving.serialize_keras_object(keras.constraints.MaxNorm(2.0))
    assert isinstance(kr.saving.deserialize_keras_object(ks), kr.constraints.MaxNorm)


def test_save_model_and_load_model_with_keras_arguments(tmp_path):
    model = kr.Sequential([kr.Input((3,)), kr.Dense(2)])
    path = tmp_path / "m.keras"
    kr.models.save_model(model, path)
    with pytest.raises(FileExistsError):
        kr.saving.save_model(model, path, overwrite=False)
    with pytest.raises(ValueError, match="zipped=False"):
        kr.saving.save_model(model, tmp_path / "n.keras", zipped=False)
    loaded = kr.models.load_model(path, compile=False)
    x = torch.randn(2, 3)
    torch.testing.assert_close(loaded(x), model(x))
