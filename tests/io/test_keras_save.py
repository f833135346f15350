"""Keras files out: save_keras and save_keras_weights, read back by Keras 3 itself (torch backend).

Models are built here with random weights in every slot (BatchNormalization's
moving statistics included), saved with kr.save_keras / kr.save_keras_weights
and read by `keras.models.load_model` / `keras_model.load_weights`; Keras's
predictions must equal ours. Keras models also go round: Keras -> from_keras
-> save_keras -> Keras, with the same arrays in the same places of the file.
"""
import io
import json
import zipfile

import h5py
import keras
import numpy as np
import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from reference import assert_close, random_weights
from tests.models.test_functional import seq2seq
from tests.io.test_keras_io_programs import PROGRAMS
from tests.io.test_keras_models_in import new_layer_models


# ------------------------------------------------------------------ models
def sequential(lib):
    """Embedding(mask_zero) + Bidirectional(LSTM) + GRU + Dense, on token sequences of any length."""
    layers = lib.layers if lib is keras else lib
    return lib.Sequential([
        lib.Input((None,), dtype="int32"), layers.Embedding(20, 6, mask_zero=True),
        layers.Bidirectional(layers.LSTM(5, return_sequences=True)), layers.GRU(4), layers.Dense(3)])


def seq2seq_model(lib):
    """The Keras RNN guide's encoder-decoder with attention (two inputs, LSTM states passed on)."""
    return seq2seq(lib)[0]


def families(lib):
    """Every other family of layers in one functional model with two inputs."""
    layers = lib.layers if lib is keras else lib
    a, b = lib.Input((6, 4), name="a"), lib.Input((6, 4), name="b")
    x = layers.MaxPooling1D(2)(layers.Conv1D(5, 3, padding="same", activation="relu")(a))
    pooled = layers.GlobalMaxPooling1D()(x)
    y = layers.BatchNormalization()(layers.LayerNormalization()(b))
    z = layers.MultiHeadAttention(num_heads=2, key_dim=3)(y, y)
    stacked = layers.RNN(layers.StackedRNNCells([layers.SimpleRNNCell(3), layers.GRUCell(2, reset_after=False)]))(
        layers.TimeDistributed(layers.Dense(3))(b))
    s = layers.SimpleRNN(2, activation="relu")(z)
    g = layers.GRU(2, reset_after=False)(z)
    attended = layers.Add()([layers.AdditiveAttention()([z, y]), layers.Attention(use_scale=True)([z, y])])
    flat = layers.Flatten()(layers.Permute((2, 1))(layers.Dropout(0.2)(attended)))
    repeated = layers.Reshape((4,))(layers.RepeatVector(2)(g))
    merged = [layers.Subtract()([s, g]), layers.Multiply()([s, g]), layers.Average()([s, g]),
              layers.Maximum()([s, g]), layers.Minimum()([s, g]), layers.Dot(axes=1)([s, g])]
    joined = layers.Concatenate()([pooled, stacked, flat, repeated, *merged, layers.GlobalAveragePooling1D()(z)])
    return lib.Model([a, b], layers.Dense(2, activation="tanh")(layers.Activation("relu")(joined)))


def nested(lib):
    """A Sequential and a functional model inside a functional model."""
    layers = lib.layers if lib is keras else lib
    inner_input = lib.Input((4,))
    inner = lib.Model(inner_input, layers.Dense(4, activation="tanh")(inner_input), name="inner_functional")
    stack = lib.Sequential([layers.Dense(3), layers.Dense(2)], name="inner_sequential")
    x = lib.Input((4,))
    return lib.Model(x, layers.Dense(2)(stack(inner(x))))


def ids(*shape):
    ids = torch.randint(1, 20, shape, dtype=torch.int32)
    ids[0, shape[1] // 2:] = 0                          # padding, so the mask matters
    return ids


MODELS = {
    "sequential": (sequential, lambda: [ids(3, 7)]),
    "seq2seq": (seq2seq_model, lambda: [torch.randn(2, 6, 7), torch.randn(2, 3, 5)]),
    "families": (families, lambda: [torch.randn(3, 6, 4), torch.randn(3, 6, 4)]),
    "nested": (nested, lambda: [torch.randn(3, 4)]),
}


def with_random_weights(keras_model, seed=0):
    """The Keras model with random weights everywhere; BatchNormalization's variances positive."""
    random_weights(keras_model, seed=seed)
    for layer in keras_model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([gamma, beta, mean, np.abs(variance) + 0.5])
    return keras_model


def ours_with_random_weights(build):
    """Our model from `build`, holding random weights (set through a Keras twin's get_weights)."""
    ours = build(kr)
    ours.set_weights(with_random_weights(build(keras), seed=5).get_weights())
    return ours.eval()


def predict(model, inputs):
    result = model(inputs if len(inputs) > 1 else inputs[0], training=False) if isinstance(model, keras.Model) \
        else model(inputs if len(inputs) > 1 else inputs[0])
    return result


def h5_arrays(file) -> dict:
    """{dataset path: array} of an HDF5 file's weight arrays (groups without arrays are not weights)."""
    arrays = {}
    file.visititems(lambda name, item: arrays.__setitem__(name, np.asarray(item)) if hasattr(item, "shape") else None)
    return arrays


def archive_arrays(path) -> dict:
    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as file:
        return h5_arrays(file)


# -------------------------------------------------------------- save_keras
@pytest.mark.parametrize("name", MODELS)
def test_keras_load_model_predicts_what_the_saved_module_predicts(tmp_path, name):
    build, make_inputs = MODELS[name]
    ours = ours_with_random_weights(build)
    path = tmp_path / f"{name}.keras"
    kr.save_keras(ours, path)
    loaded = keras.models.load_model(path)
    assert type(loaded).__name__ == ("Sequential" if name == "sequential" else "Functional")
    inputs = make_inputs()
    assert_close(predict(loaded, inputs), predict(ours, inputs), what=f"{name}: Keras's load_model vs ours")
    # The archive is Keras's: metadata, configuration and weights tree; from_keras reads it back too.
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    again = kr.from_keras(path).eval()
    assert_close(predict(again, inputs), predict(ours, inputs), what=f"{name}: from_keras of our file")


def test_a_sequential_without_an_input_saves_the_input_it_was_built_or_called_with(tmp_path):
    hinted = kr.Sequential([kr.Embedding(20, 4, input_shape=(5,)), kr.LSTM(3), kr.Dense(2)])
    called = kr.Sequential([kr.LSTM(3, return_sequences=True), kr.SimpleRNN(2)])
    called(torch.randn(2, 6, 3))
    built = kr.Sequential([kr.GRU(3), kr.Dense(2)])
    built.build((None, None, 4))
    cases = [(hinted, ids(2, 5), (None, 5), "int64"), (called, torch.randn(2, 6, 3), (None, 6, 3), "float32"),
             (built, torch.randn(2, 9, 4), (None, None, 4), "float32")]
    for i, (model, x, batch_shape, dtype) in enumerate(cases):
        path = tmp_path / f"model_{i}.keras"
        kr.save_keras(model.eval(), path)
        loaded = keras.models.load_model(path)
        assert tuple(loaded.inputs[0].shape) == batch_shape and loaded.inputs[0].dtype == dtype
        assert_close(loaded(x), model(x), what=f"case {i}")


# ------------------------------------------------------ save_keras_weights
@pytest.mark.parametrize("name", MODELS)
def test_keras_load_weights_into_the_same_model_built_in_keras(tmp_path, name):
    build, make_inputs = MODELS[name]
    ours = ours_with_random_weights(build)
    path = tmp_path / f"{name}.weights.h5"
    kr.save_keras_weights(ours, path)
    theirs = build(keras)
    theirs.load_weights(path)
    inputs = make_inputs()
    assert_close(predict(theirs, inputs), predict(ours, inputs), what=f"{name}: Keras's load_weights vs ours")
    fresh = build(kr)
    kr.load_keras_weights(fresh, path)
    assert_close(predict(fresh.eval(), inputs), predict(ours, inputs), what=f"{name}: load_keras_weights")


def test_a_single_layer_is_saved_as_a_one_layer_sequential(tmp_path):
    layer = kr.Bidirectional(kr.GRU(4, return_sequences=True), input_shape=(None, 3))
    layer.set_weights(random_weights(_built_bidirectional(), seed=2))
    path = tmp_path / "layer.weights.h5"
    kr.save_keras_weights(layer, path)
    theirs = keras.Sequential([keras.Input((None, 3)),
                               keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True))])
    theirs.load_weights(path)
    x = torch.randn(2, 5, 3)
    assert_close(theirs(x), layer(x))
    again = kr.Bidirectional(kr.GRU(4, return_sequences=True), input_shape=(None, 3))
    kr.load_keras_weights(again, path)
    assert_close(again(x), layer(x))


def _built_bidirectional():
    layer = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True))
    layer.build((None, None, 3))
    return layer


class Tagger(nn.Module):
    """A plain torch module holding kerasrnn_torch layers (registration order: embedding, lstm, dense)."""

    def __init__(self, head=None):
        super().__init__()
        self.embedding = kr.Embedding(20, 6, mask_zero=True)
        self.lstm = kr.LSTM(5, return_sequences=True, input_dim=6)
        self.dense = kr.Dense(3, input_dim=5)
        if head is not None:
            self.head = head

    def forward(self, ids):
        x = self.embedding(ids)
        return self.dense(self.lstm(x, mask=self.embedding.compute_mask(ids)))


def test_a_plain_module_s_layers_are_saved_as_a_sequential_s_in_registration_order(tmp_path):
    tagger = Tagger()
    keras_twin = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(20, 6, mask_zero=True),
                                   keras.layers.LSTM(5, return_sequences=True), keras.layers.Dense(3)])
    weights = random_weights(keras_twin, seed=4)
    for layer, count in ((tagger.embedding, 1), (tagger.lstm, 3), (tagger.dense, 2)):
        layer.set_weights(weights[:count])
        weights = weights[count:]
    path = tmp_path / "tagger.weights.h5"
    kr.save_keras_weights(tagger, path)
    theirs = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(20, 6, mask_zero=True),
                               keras.layers.LSTM(5, return_sequences=True), keras.layers.Dense(3)])
    theirs.load_weights(path)
    x = ids(3, 6)
    assert_close(theirs(x), tagger(x))


# ------------------------------------------------------------ round trips
def round_trip_models():
    for name, keras_model, _ in new_layer_models():
        yield name, keras_model
    for name, (build, _) in PROGRAMS.items():
        yield name, build(keras)
    for name in MODELS:
        yield name, MODELS[name][0](keras)


def test_keras_to_ours_to_keras_keeps_every_array_in_its_place(tmp_path):
    for name, keras_model in round_trip_models():
        original = tmp_path / f"{name}.keras"
        with_random_weights(keras_model, seed=7)
        keras_model.save(original)
        back = tmp_path / f"{name}_back.keras"
        kr.save_keras(kr.from_keras(original), back)
        theirs, ours = archive_arrays(original), archive_arrays(back)
        assert sorted(ours) == sorted(theirs), f"{name}: the weights trees differ"
        for key in theirs:
            assert ours[key].dtype == theirs[key].dtype and np.array_equal(ours[key], theirs[key]), f"{name}: {key}"
        reloaded = keras.models.load_model(back)
        for i, (a, b) in enumerate(zip(keras_model.get_weights(), reloaded.get_weights(), strict=True)):
            assert np.array_equal(a, b), f"{name}: weight {i}"
        # The weights file alone, too.
        weights = tmp_path / f"{name}.weights.h5"
        kr.save_keras_weights(kr.from_keras(original), weights)
        with h5py.File(weights, "r") as file:
            alone = h5_arrays(file)
        assert sorted(alone) == sorted(theirs) and all(np.array_equal(alone[k], theirs[k]) for k in theirs), name


# ---------------------------------------------------------------- refusals
def refused(tmp_path, save, module, name, *fragments):
    """`save(module, path)` raises a ValueError naming every fragment and leaves no file (nor a temporary one)."""
    with pytest.raises(ValueError) as error:
        save(module, tmp_path / name)
    for fragment in fragments:
        assert fragment in str(error.value), f"{fragment!r} not in: {error.value}"
    assert list(tmp_path.iterdir()) == []
    return str(error.value)


def test_layers_without_a_keras_configuration_are_refused_before_any_file_is_written(tmp_path):
    with_lambda = kr.Sequential([kr.Input((4,)), kr.Dense(3), kr.Lambda(lambda x: x * 2, name="doubler")])
    refused(tmp_path, kr.save_keras, with_lambda, "m.keras", "Lambda 'doubler'", "Python function",
            "kr.save_keras_weights")
    x = kr.Input((5, 3))
    inside = kr.Model(x, kr.TimeDistributed(kr.Lambda(torch.sin, name="sine"), name="per_step")(x))
    refused(tmp_path, kr.save_keras, inside, "m.keras", "Lambda 'sine'", "inside TimeDistributed 'per_step'")
    custom = kr.Sequential([kr.Input((4,)), kr.Dense(3, activation=lambda t: t * torch.sigmoid(t), name="swishy")])
    refused(tmp_path, kr.save_keras, custom, "m.keras", "Dense 'swishy'", "activation", "no Keras name")
    torch_module = kr.Sequential([kr.Input((4,)), kr.Dense(3), nn.Linear(3, 2)])
    refused(tmp_path, kr.save_keras, torch_module, "m.keras", "its layer 1 is a Linear",
            "kerasrnn_torch layers only")
    refused(tmp_path, kr.save_keras_weights, torch_module, "m.weights.h5", "its layer 1 is a Linear")
    refused(tmp_path, kr.save_keras_weights, Tagger(head=nn.Linear(3, 2)), "m.weights.h5", "'head' of Tagger",
            "Linear")
    tensor_value = kr.Sequential([kr.Input((3, 2)), kr.Masking(mask_value=torch.tensor([0.0, 1.0]), name="pad")])
    refused(tmp_path, kr.save_keras, tensor_value, "m.keras", "Masking 'pad'", "config['mask_value'] is a Tensor",
            "expected JSON values")
    scalars = kr.Sequential([kr.Input((3, 2)), kr.Masking(mask_value=torch.tensor(0.5)),
                             kr.Dropout(0.1, seed=np.int64(3))])
    kr.save_keras(scalars, tmp_path / "scalars.keras")        # one-number tensors and numpy scalars are numbers
    loaded = keras.models.load_model(tmp_path / "scalars.keras")
    assert loaded.layers[0].mask_value == 0.5 and loaded.layers[1].seed == 3
    (tmp_path / "scalars.keras").unlink()
    nested_torch = kr.Sequential([kr.Input((4,)), kr.Sequential([kr.Dense(3), nn.ReLU()], name="block")])
    refused(tmp_path, kr.save_keras, nested_torch, "m.keras", "Sequential 'block''s layer 1 is a ReLU")

    class Gated(kr.LSTM):
        pass
    subclass = kr.Sequential([kr.Input((None, 2)), kr.Bidirectional(Gated(3, name="gated"), name="both_ways")])
    refused(tmp_path, kr.save_keras, subclass, "m.keras", "Gated 'forward_gated' (inside Bidirectional 'both_ways')",
            "not one of Keras's", "kr.save_keras_weights")
    # Weights alone need no configuration: the Lambda model's weights can be saved.
    kr.save_keras_weights(with_lambda, tmp_path / "lambda.weights.h5")
    assert (tmp_path / "lambda.weights.h5").exists()


def test_what_cannot_be_a_keras_model_is_refused(tmp_path):
    refused(tmp_path, kr.save_keras, kr.LSTM(3, input_shape=(None, 2)), "m.keras", "kr.Sequential or a kr.Model",
            "got LSTM 'lstm")
    refused(tmp_path, kr.save_keras, kr.Sequential([kr.LSTM(3), kr.Dense(2)]), "m.keras", "expected a built model")
    refused(tmp_path, kr.save_keras_weights, kr.Sequential([kr.LSTM(3), kr.Dense(2)]), "m.weights.h5",
            "has no weights yet")
    model = kr.Sequential([kr.Input((None, 2)), kr.LSTM(3)])
    refused(tmp_path, kr.save_keras, model, "m.h5", "files whose names end in '.keras'", "got 'm.h5'")
    refused(tmp_path, kr.save_keras_weights, model, "m.h5", "end in '.weights.h5'", "got 'm.h5'")


def test_a_failed_save_leaves_the_older_file_as_it_was(tmp_path):
    model = kr.Sequential([kr.Input((4,)), kr.Dense(3, name="dense")])
    path = tmp_path / "m.keras"
    kr.save_keras(model, path)
    before = path.read_bytes()
    model.add(kr.Lambda(torch.tanh, name="squash"))
    with pytest.raises(ValueError, match="Lambda 'squash'"):
        kr.save_keras(model, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.keras"]


# ------------------------------------------------------- the user's own layers
class Scaled(kr.Layer):
    """A user's Keras-style layer (a `call`, a constructor without **kwargs, Keras's automatic config)."""
    def __init__(self, units, factor=2.0):
        super().__init__()
        self.dense = kr.Dense(units, activation="tanh")
        self.factor = factor

    def call(self, inputs):
        return self.dense(inputs) * self.factor


def keras_scaled():
    """The same layer written for Keras (the same class name: Keras keys a custom layer's weights by it)."""
    class Scaled(keras.layers.Layer):
        def __init__(self, units, factor=2.0):
            super().__init__()
            self.dense = keras.layers.Dense(units, activation="tanh")
            self.factor = factor

        def call(self, inputs):
            return self.dense(inputs) * self.factor
    return Scaled


def saved_entries(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))["config"]["layers"]


def test_a_user_layer_is_saved_as_keras_saves_a_custom_layer_and_keras_loads_it(tmp_path):
    x = kr.Input((3,))
    model = kr.Model(x, kr.Dense(2)(Scaled(4, factor=0.5)(x)))
    model.set_weights([w * 3 for w in model.get_weights()])
    kr.save_keras(model, tmp_path / "m.keras")
    entry = next(e for e in saved_entries(tmp_path / "m.keras") if e["class_name"] == "Scaled")
    assert entry["registered_name"] == "Scaled" and entry["module"] == Scaled.__module__
    # Keras rebuilds a custom layer as cls(**config): the base keys this constructor does not take are left out
    assert entry["config"] == {"units": 4, "factor": 0.5}
    sample = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    keras_class = keras_scaled()
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"Scaled": keras_class})
    assert isinstance(loaded.layers[1], keras_class)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded.predict(sample, verbose=0)),
                               model.predict(sample, verbose=0), rtol=0, atol=1e-6)
    back = kr.from_keras(tmp_path / "m.keras", custom_objects={"Scaled": Scaled})
    assert type(back.layers[1]) is Scaled and back.layers[1].factor == 0.5
    np.testing.assert_allclose(back.predict(sample, verbose=0), model.predict(sample, verbose=0), rtol=0, atol=0)


def test_a_frozen_user_layer_keeps_its_trainable_flag(tmp_path):
    model = kr.Sequential([kr.Input((3,)), Scaled(2)])
    model.layers[0].trainable = False
    kr.save_keras(model, tmp_path / "m.keras")
    entry = saved_entries(tmp_path / "m.keras")[1]
    assert entry["config"]["trainable"] is False and "dtype" not in entry["config"]
    assert kr.from_keras(tmp_path / "m.keras", custom_objects={"Scaled": Scaled}).layers[0].trainable is False


def test_a_user_layer_holding_a_torch_module_with_weights_is_refused(tmp_path):
    class Projected(kr.Layer):
        def __init__(self):
            super().__init__()
            self.projection = nn.Linear(3, 3)

        def call(self, inputs):
            return self.projection(inputs)
    model = kr.Sequential([kr.Input((3,)), Projected()])
    model(torch.zeros(1, 3))
    refused(tmp_path, kr.save_keras, model, "m.keras", "Projected 'projected", "'projection' is a Linear",
            "kerasrnn_torch layers inside a layer")
