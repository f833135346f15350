"""Subclassed models as Keras writes them (`class M(kr.Model)`, layers in `__init__`, a `call`) against Keras 3.

Each model is written once, in a function taking the library's namespace (`kr` or `keras`) and its
operations, and made twice; the same weights must give the same numbers, histories and files.
"""
import types

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch import ops as kr_ops
from reference import assert_close, random_weights

pytest.importorskip("h5py")


def models(lib, ops):
    """Keras's guide models ("Making new layers and models via subclassing"), bodies as the guide writes them
    (the Sampling layer draws no noise, so both libraries compute the same thing)."""
    Layer, Dense = lib.layers.Layer, lib.layers.Dense

    class Sampling(Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            return z_mean + ops.exp(0.5 * z_log_var) * 0.1

    class Encoder(Layer):
        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = Dense(intermediate_dim, activation="relu")
            self.dense_mean = Dense(latent_dim)
            self.dense_log_var = Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            z = self.sampling((z_mean, z_log_var))
            return z_mean, z_log_var, z

    class Decoder(Layer):
        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = Dense(intermediate_dim, activation="relu")
            self.dense_output = Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            return self.dense_output(self.dense_proj(inputs))

    class VariationalAutoEncoder(lib.Model):
        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    class MyModel(lib.Model):
        def __init__(self, units=3):
            super().__init__()
            self.units = units
            self.dense1 = Dense(8, activation="relu")
            self.dropout = lib.layers.Dropout(0.5)
            self.dense2 = Dense(units)

        def call(self, inputs, training=False):
            return self.dense2(self.dropout(self.dense1(inputs), training=training))

    return types.SimpleNamespace(VAE=VariationalAutoEncoder, MyModel=MyModel, Encoder=Encoder)


OURS = models(kr, kr_ops)
THEIRS = models(keras, keras.ops)


def data(seed, shape):
    return np.random.default_rng(seed).uniform(size=shape).astype(np.float32)


def built_pair(make, x):
    ours, theirs = make(OURS), make(THEIRS)
    ours(torch.tensor(x))
    theirs(x)
    ours.set_weights(random_weights(theirs, 3))
    return ours, theirs


# ------------------------------------------------------------------ construction and weights
def test_a_subclassed_model_builds_at_its_first_call_with_keras_names_and_order():
    ours, theirs = OURS.MyModel(), THEIRS.MyModel()
    assert not ours.built and not theirs.built
    assert ours.name == "my_model" or ours.name.startswith("my_model_")
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    with pytest.raises(ValueError, match="no weights yet"):
        ours.count_params()
    x = data(0, (4, 5))
    ours(torch.tensor(x))
    theirs(x)
    assert ours.built
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    weights = random_weights(theirs, 1)
    ours.set_weights(weights)
    for a, e in zip(ours.get_weights(), weights):
        np.testing.assert_array_equal(a, e)


def test_build_with_a_shape_builds_the_layers_with_batch_none():
    seen = []

    class Recorder(kr.layers.Layer):
        def build(self, input_shape):
            seen.append(input_shape)

        def call(self, inputs):
            return inputs

    class Net(kr.Model):
        def __init__(self):
            super().__init__()
            self.recorder = Recorder()
            self.dense = kr.layers.Dense(2)

        def call(self, inputs):
            return self.dense(self.recorder(inputs))
    net = Net()
    net.build((None, 6))
    assert net.built and seen == [(None, 6)]
    assert net.count_params() == 14


def test_summary_lists_the_layers_and_counts():
    ours, _ = built_pair(lambda lib: lib.MyModel(), data(0, (4, 5)))
    text = ours.summary(print_fn=None)
    assert "dense (Dense)" in text or "(Dense)" in text
    assert "(None, 8)" in text and "(None, 3)" in text
    assert f"Total params: {ours.count_params():,}" in text


def test_call_matches_keras_and_training_follows_the_call_default():
    ours, theirs = built_pair(lambda lib: lib.MyModel(), data(0, (4, 5)))
    x = data(1, (64, 5))
    ours.train()                      # the module's mode does not override the call's default training=False
    assert_close(ours(torch.tensor(x)), theirs(x))
    dropped = ours(torch.tensor(x), training=True)
    assert not torch.allclose(dropped, ours(torch.tensor(x)))


# ------------------------------------------------------------------ training
def test_fit_evaluate_predict_match_keras():
    x, y = data(2, (32, 5)), data(3, (32, 3))
    ours, theirs = built_pair(lambda lib: lib.MyModel(), x[:2])
    ours.dropout.rate = theirs.dropout.rate = 0.0      # dropout draws differ between the libraries
    ours.compile(optimizer=kr.optimizers.SGD(0.1), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    h_ours = ours.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    h_theirs = theirs.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_the_guide_vae_trains_with_its_add_loss_term_like_keras():
    x = data(4, (64, 20))
    ours, theirs = built_pair(lambda lib: lib.VAE(20, 16, 4), x[:2])
    ours(torch.tensor(x[:2]))
    theirs(x[:2])
    assert len(ours.losses) == len(theirs.losses) == 1
    assert_close(ours.losses[0], theirs.losses[0])
    ours.compile(optimizer=kr.optimizers.SGD(0.5), loss=kr.losses.MeanSquaredError())
    theirs.compile(optimizer=keras.optimizers.SGD(0.5), loss=keras.losses.MeanSquaredError())
    h_ours = ours.fit(x, x, epochs=3, batch_size=16, shuffle=False, verbose=0)
    h_theirs = theirs.fit(x, x, epochs=3, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=1e-5, atol=1e-5)
    for a, e in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


def test_a_subclassed_model_s_own_train_step_is_what_fit_runs():
    """It was refused at class creation before `fit` ran a model's own step; now `fit` calls it."""
    seen = []

    class Custom(kr.Model):
        def __init__(self):
            super().__init__()
            self.dense = kr.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            x, y = data
            seen.append(tuple(x.shape))
            return {"batches": float(len(seen))}

    model = Custom()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), batch_size=4, epochs=2, verbose=0)
    assert seen == [(4, 3)] * 4 and history.history == {"batches": [2.0, 4.0]}


def test_a_subclass_without_call_says_so():
    class Empty(kr.Model):
        def __init__(self):
            super().__init__()
            self.dense = kr.layers.Dense(2)
    with pytest.raises(NotImplementedError, match="does not define `call`"):
        Empty()(torch.ones(1, 3))


# ------------------------------------------------------------------ config
def test_get_config_and_from_config_follow_keras():
    ours, theirs = OURS.MyModel(5), THEIRS.MyModel(5)
    config = ours.get_config()
    assert set(config) == set(theirs.get_config()) == {"units", "trainable", "dtype"}
    assert config["units"] == 5 and config["dtype"] == theirs.get_config()["dtype"]
    # As Keras: the automatic config holds trainable and dtype, which this constructor does not take.
    with pytest.raises(TypeError, match="Unable to revive model from config"):
        OURS.MyModel.from_config(config)
    with pytest.raises(TypeError, match="Unable to revive model from config"):
        THEIRS.MyModel.from_config(theirs.get_config())

    class WithConfig(kr.Model):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = kr.layers.Dense(units)

        def call(self, inputs):
            return self.dense(inputs)

        def get_config(self):
            return {**super().get_config(), "units": self.units}
    clone = WithConfig.from_config(WithConfig(4, name="with").get_config())
    assert isinstance(clone, WithConfig) and clone.units == 4 and clone.name == "with"


def test_get_config_without_plain_arguments_asks_for_get_config_as_keras():
    class Holder(kr.Model):
        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def call(self, inputs):
            return self.layer(inputs)

    class KerasHolder(keras.Model):
        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def call(self, inputs):
            return self.layer(inputs)
    with pytest.raises(NotImplementedError, match="get_config"):
        Holder(kr.layers.Dense(2)).get_config()
    with pytest.raises(NotImplementedError, match="get_config"):
        KerasHolder(keras.layers.Dense(2)).get_config()


# ------------------------------------------------------------------ files
@pytest.mark.parametrize("make", [lambda lib: lib.MyModel(), lambda lib: lib.VAE(20, 16, 4)], ids=["dense", "vae"])
def test_weights_files_round_trip_both_ways_with_keras(tmp_path, make):
    x = data(5, (3, 20)) if isinstance(make(OURS), OURS.VAE) else data(5, (3, 5))
    ours, theirs = built_pair(make, x)
    theirs.save_weights(tmp_path / "keras.weights.h5")
    fresh = make(OURS)
    fresh(torch.tensor(x))
    fresh.load_weights(tmp_path / "keras.weights.h5")
    for a, e in zip(fresh.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, e)
    ours.save_weights(tmp_path / "ours.weights.h5")
    k_fresh = make(THEIRS)
    k_fresh(x)
    k_fresh.load_weights(tmp_path / "ours.weights.h5")
    for a, e in zip(ours.get_weights(), k_fresh.get_weights()):
        np.testing.assert_array_equal(a, np.asarray(e))
    ours.eval()
    assert_close(ours(torch.tensor(x)), k_fresh(x))


def test_loading_a_file_of_another_model_changes_nothing(tmp_path):
    ours, _ = built_pair(lambda lib: lib.MyModel(), data(0, (2, 5)))
    other = OURS.MyModel(units=4)
    other(torch.ones(2, 5))
    other.save_weights(tmp_path / "other.weights.h5")
    before = ours.get_weights()
    with pytest.raises(ValueError, match="does not fit"):
        ours.load_weights(tmp_path / "other.weights.h5")
    for a, e in zip(ours.get_weights(), before):
        np.testing.assert_array_equal(a, e)


# ------------------------------------------------------------------ functional subclass
def functional_subclass(lib):
    class Classifier(lib.Model):
        def __init__(self, units=3, **kwargs):
            inputs = lib.Input((6,))
            outputs = lib.layers.Dense(units)(lib.layers.Dense(4, activation="relu")(inputs))
            super().__init__(inputs, outputs, **kwargs)
            self.units = units

        def scores(self, x):
            return self(x) * 2
    return Classifier


def test_the_functional_subclass_pattern_matches_keras():
    ours, theirs = functional_subclass(kr)(), functional_subclass(keras)()
    assert ours.is_functional
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    ours.set_weights(random_weights(theirs, 6))
    x = data(7, (3, 6))
    assert_close(ours.scores(torch.tensor(x)), theirs.scores(x))
    assert ours.count_params() == theirs.count_params()
    assert ours.units == 3


def test_saving_a_subclassed_model_as_a_keras_archive_is_refused_naming_the_way_out(tmp_path):
    ours, _ = built_pair(lambda lib: lib.MyModel(), data(0, (2, 5)))
    with pytest.raises(ValueError, match="subclassed model.*save_weights"):
        ours.save(tmp_path / "model.keras")
    assert not (tmp_path / "model.keras").exists()


# ------------------------------------------------------------------ the functional API guide's mixing of styles
def functional_api_guide(lib, ops):
    """The guide's "Mixing and matching API styles": a functional model inside a subclassed layer, that layer in a
    functional model with a fixed batch (`batch_shape`), and a subclassed model called on `Input`."""
    layers = lib.layers
    units, timesteps, input_dim, batch_size = 8, 6, 5, 4
    inputs = lib.Input((None, units))
    outputs = layers.Dense(1)(layers.GlobalAveragePooling1D()(inputs))
    classifier = lib.Model(inputs, outputs)

    class CustomRNN(layers.Layer):
        def __init__(self):
            super().__init__()
            self.units = units
            self.projection_1 = layers.Dense(units=units, activation="tanh")
            self.projection_2 = layers.Dense(units=units, activation="tanh")
            self.classifier = classifier

        def call(self, inputs):
            outputs = []
            state = ops.zeros(shape=(inputs.shape[0], self.units))
            for t in range(inputs.shape[1]):
                x = inputs[:, t, :]
                h = self.projection_1(x)
                y = h + self.projection_2(state)
                state = y
                outputs.append(y)
            features = ops.stack(outputs, axis=1)
            return self.classifier(features)

    inputs = lib.Input(batch_shape=(batch_size, timesteps, input_dim))
    x = layers.Conv1D(units, 3)(inputs)
    model = lib.Model(inputs, CustomRNN()(x))

    class MLP(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense_1 = layers.Dense(16, activation="relu")
            self.dense_2 = layers.Dense(3)

        def call(self, inputs):
            return self.dense_2(self.dense_1(inputs))
    mlp_inputs = lib.Input((input_dim,))
    mlp_model = lib.Model(mlp_inputs, MLP()(mlp_inputs))
    return model, mlp_model


def test_the_functional_api_guide_mixing_styles_matches_keras():
    (ours, ours_mlp), (theirs, theirs_mlp) = functional_api_guide(kr, kr_ops), functional_api_guide(keras, keras.ops)
    assert ours.output_shape == theirs.output_shape == (4, 1)
    assert ours.count_params() == theirs.count_params()
    ours.set_weights(random_weights(theirs, 9))
    x = data(10, (4, 6, 5))
    assert_close(ours(torch.tensor(x)), theirs(x))
    assert ours_mlp.output_shape == theirs_mlp.output_shape == (None, 3)
    ours_mlp.set_weights(random_weights(theirs_mlp, 11))
    assert_close(ours_mlp(torch.tensor(x[:, 0])), theirs_mlp(x[:, 0]))


def test_a_subclassed_model_with_its_own_build_gets_the_input_shape_as_keras():
    def make(lib, seen):
        class Scaled(lib.Model):
            def __init__(self):
                super().__init__()
                self.dense = lib.layers.Dense(2)

            def build(self, input_shape):
                seen.append(tuple(input_shape))
                self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

            def call(self, inputs):
                return self.dense(inputs * self.scale)
        return Scaled()
    ours_seen, theirs_seen = [], []
    ours, theirs = make(kr, ours_seen), make(keras, theirs_seen)
    x = data(12, (3, 4))
    ours(torch.tensor(x))
    theirs(x)
    assert ours_seen == theirs_seen == [(3, 4)]
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    ours.set_weights(random_weights(theirs, 13))
    assert_close(ours(torch.tensor(x)), theirs(x))


def test_the_functional_subclass_takes_trainable_and_refuses_unknown_arguments():
    frozen = functional_subclass(kr)(trainable=False)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 4
    with pytest.raises(TypeError, match="unexpected arguments"):
        functional_subclass(kr)(colour="red")
