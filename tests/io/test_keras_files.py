"""Keras files in: load_keras_weights (.keras, .weights.h5, legacy .h5) and from_keras, against Keras 3 itself.

Every file is written by Keras 3 (torch backend) in a temporary directory,
with random weights in every slot, and outputs are compared on inputs with
padding so masks matter.
"""
import builtins
import sys

import h5py
import keras
import numpy as np
import pytest
import torch
from keras.src.legacy.saving import legacy_h5_format

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, random_weights

FORMATS = ("keras", "weights.h5", "h5")


def save_all(model, directory, stem):
    """The model saved as a .keras archive, a Keras 3 .weights.h5 and a legacy .h5; paths by format."""
    paths = {fmt: directory / f"{stem}.{fmt}" for fmt in FORMATS}
    model.save(paths["keras"])
    model.save_weights(paths["weights.h5"])
    legacy_h5_format.save_model_to_hdf5(model, str(paths["h5"]), include_optimizer=False)
    return paths


def keras_output(model, inputs):
    return np.asarray(model(inputs, training=False).detach().cpu())


def state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def assert_unchanged(before, module):
    after = module.state_dict()
    assert before.keys() == after.keys()
    for key in before:
        assert torch.equal(before[key], after[key]), f"{key} changed although loading failed"


# ----------------------------------------------------------- the saved models
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Keras models with random weights, each saved in every format, with an input and Keras's output."""
    directory = tmp_path_factory.mktemp("keras_files")
    rng = np.random.default_rng(0)
    models = {}

    embedding_lstm = keras.Sequential([
        keras.Input((6,), dtype="int32"), keras.layers.Embedding(20, 4, mask_zero=True),
        keras.layers.LSTM(5), keras.layers.Dense(3)])
    ids = np.array([[3, 7, 1, 9, 0, 0], [5, 2, 8, 4, 6, 1], [2, 0, 0, 0, 0, 0]], dtype="int32")
    models["embedding_lstm"] = (embedding_lstm, ids)

    bidirectional_gru = keras.Sequential([
        # Named explicitly: Keras's automatic names depend on what the session created before.
        keras.Input((5, 3)), keras.layers.Masking(0.0, name="masking"),
        keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True), name="bidirectional"),
        keras.layers.TimeDistributed(keras.layers.Dense(2), name="time_distributed")])
    padded = rng.normal(size=(3, 5, 3)).astype("float32")
    padded[0, 3:] = 0.0
    padded[2, 1:] = 0.0
    models["bidirectional_gru"] = (bidirectional_gru, padded)

    stacked = keras.Sequential([
        keras.Input((7, 2)), keras.layers.SimpleRNN(6, return_sequences=True), keras.layers.Dropout(0.3),
        keras.layers.SimpleRNN(4, activation="relu", return_sequences=True), keras.layers.SimpleRNN(3),
        keras.layers.Dense(2, activation="sigmoid")])
    models["stacked_simple_rnn"] = (stacked, rng.normal(size=(4, 7, 2)).astype("float32"))

    inputs = keras.Input((4, 3))
    x = keras.layers.Masking()(inputs)
    x = keras.layers.LSTM(5, return_sequences=True, dropout=0.2)(x)
    x = keras.layers.Dropout(0.1)(x)
    x = keras.layers.RNN(keras.layers.GRUCell(3))(x)
    outputs = keras.layers.Dense(2)(x)
    functional = keras.Model(inputs, outputs)
    chain_input = rng.normal(size=(3, 4, 3)).astype("float32")
    chain_input[1, 2:] = 0.0
    models["functional_chain"] = (functional, chain_input)

    result = {}
    for seed, (name, (model, example)) in enumerate(models.items()):
        random_weights(model, seed=seed)
        result[name] = (save_all(model, directory, name), example, keras_output(model, example))
    return result


def built_by_hand(name):
    """The same architectures written with kerasrnn_torch, built, with weights other than the files'."""
    if name == "embedding_lstm":
        model = kr.Sequential([kr.Embedding(20, 4, mask_zero=True), kr.LSTM(5), kr.Dense(3)])
        model.build((None, 6))
    elif name == "bidirectional_gru":
        model = kr.Sequential([kr.Masking(0.0), kr.Bidirectional(kr.GRU(4, return_sequences=True)),
                               kr.TimeDistributed(kr.Dense(2))])
        model.build((None, 5, 3))
    elif name == "stacked_simple_rnn":
        model = kr.Sequential([kr.SimpleRNN(6, return_sequences=True, input_shape=(7, 2)), kr.Dropout(0.3),
                               kr.SimpleRNN(4, activation="relu", return_sequences=True), kr.SimpleRNN(3),
                               kr.Dense(2, activation="sigmoid")])
    else:
        model = kr.Sequential([kr.Masking(), kr.LSTM(5, return_sequences=True, dropout=0.2), kr.Dropout(0.1),
                               kr.RNN(kr.GRUCell(3)), kr.Dense(2)])
        model.build((None, 4, 3))
    return model.eval()


def as_torch_input(example):
    return torch.as_tensor(example).long() if example.dtype.kind == "i" else torch.as_tensor(example)


MODELS = ("embedding_lstm", "bidirectional_gru", "stacked_simple_rnn", "functional_chain")


# ------------------------------------------------------------------ loading
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", MODELS)
def test_load_keras_weights_matches_keras_outputs(saved, name, fmt):
    paths, example, expected = saved[name]
    model = built_by_hand(name)
    kr.load_keras_weights(model, paths[fmt])
    assert_close(model(as_torch_input(example)), expected, OUTPUT_ATOL, f"{name} loaded from .{fmt}")


@pytest.mark.parametrize("name", MODELS)
def test_from_keras_builds_the_model_with_keras_outputs(saved, name):
    paths, example, expected = saved[name]
    model = kr.from_keras(paths["keras"])
    assert isinstance(model, kr.Model if name == "functional_chain" else kr.Sequential)
    assert len(model.get_weights()) == len(built_by_hand(name).get_weights())
    assert_close(model.eval()(as_torch_input(example)), expected, OUTPUT_ATOL, f"{name} from_keras")


def test_from_keras_reads_a_legacy_h5_saved_with_its_model(saved):
    paths, example, expected = saved["bidirectional_gru"]
    model = kr.from_keras(paths["h5"])
    assert_close(model.eval()(as_torch_input(example)), expected, OUTPUT_ATOL, "from_keras(.h5)")


def test_from_keras_keeps_names_configuration_and_masks(saved):
    model = kr.from_keras(saved["bidirectional_gru"][0]["keras"])
    masking, bidirectional, time_distributed = model.layers
    assert (masking.name, bidirectional.name, time_distributed.name) == ("masking", "bidirectional", "time_distributed")
    assert isinstance(bidirectional.forward_layer, kr.GRU) and bidirectional.forward_layer.units == 4
    assert bidirectional.return_sequences and bidirectional.merge_mode == "concat"
    assert bidirectional.backward_layer.go_backwards
    stacked = kr.from_keras(saved["stacked_simple_rnn"][0]["keras"])
    assert stacked[2].cell.activation is kr.activations.get("relu")
    assert stacked[1].rate == pytest.approx(0.3)
    assert stacked.input_shape == (None, 7, 2)


def test_legacy_weights_only_h5_matches_by_order(saved, tmp_path):
    """A Keras 2 `save_weights("x.h5")` file: layer names and weight names, no configuration."""
    keras_model = keras.saving.load_model(saved["stacked_simple_rnn"][0]["keras"])
    path = tmp_path / "weights_only.h5"
    with h5py.File(path, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, keras_model)
    model = built_by_hand("stacked_simple_rnn")
    kr.load_keras_weights(model, path)
    _, example, expected = saved["stacked_simple_rnn"]
    assert_close(model(as_torch_input(example)), expected, OUTPUT_ATOL, "weights-only legacy .h5")


def test_loads_into_a_single_layer_and_a_plain_module(tmp_path):
    keras_model = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4, return_sequences=True)])
    random_weights(keras_model, seed=3)
    keras_model.save_weights(tmp_path / "gru.weights.h5")
    x = np.random.default_rng(1).normal(size=(2, 5, 3)).astype("float32")
    expected = keras_output(keras_model, x)

    layer = kr.GRU(4, return_sequences=True, input_dim=3)
    kr.load_keras_weights(layer, tmp_path / "gru.weights.h5")
    assert_close(layer(torch.as_tensor(x)), expected, OUTPUT_ATOL, "single layer")

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = kr.GRU(4, return_sequences=True, input_dim=3)
            self.activation = torch.nn.Identity()

        def forward(self, x):
            return self.activation(self.encoder(x))

    plain = Model()
    kr.load_keras_weights(plain, tmp_path / "gru.weights.h5")
    assert_close(plain(torch.as_tensor(x)), expected, OUTPUT_ATOL, "plain module")


def test_nested_sequential_models_load_and_build(tmp_path):
    inner = keras.Sequential([keras.layers.LSTM(3, return_sequences=True), keras.layers.Dense(2)])
    keras_model = keras.Sequential([keras.Input((4, 2)), inner, keras.layers.GRU(2)])
    random_weights(keras_model, seed=6)
    paths = save_all(keras_model, tmp_path, "nested")
    x = np.random.default_rng(4).normal(size=(2, 4, 2)).astype("float32")
    expected = keras_output(keras_model, x)
    for fmt in FORMATS:
        model = kr.Sequential([kr.Sequential([kr.LSTM(3, return_sequences=True, input_shape=(4, 2)), kr.Dense(2)]),
                               kr.GRU(2)])
        kr.load_keras_weights(model, paths[fmt])
        assert_close(model(torch.as_tensor(x)), expected, OUTPUT_ATOL, f"nested from .{fmt}")
    assert_close(kr.from_keras(paths["keras"])(torch.as_tensor(x)), expected, OUTPUT_ATOL, "nested from_keras")


def test_stateful_model_from_keras_keeps_states_between_calls(tmp_path):
    keras_model = keras.Sequential([keras.Input(batch_shape=(2, 3, 4)), keras.layers.LSTM(5, stateful=True),
                                    keras.layers.Dense(1)])
    random_weights(keras_model, seed=4)
    keras_model.save(tmp_path / "stateful.keras")
    rng = np.random.default_rng(2)
    chunks = [rng.normal(size=(2, 3, 4)).astype("float32") for _ in range(2)]
    expected = [keras_output(keras_model, chunk) for chunk in chunks]
    model = kr.from_keras(tmp_path / "stateful.keras")
    assert model[0].stateful
    for chunk, reference in zip(chunks, expected):
        assert_close(model(torch.as_tensor(chunk)), reference, OUTPUT_ATOL, "stateful chunk")


def test_float64_policy_gives_float64_layers(tmp_path):
    keras_model = keras.Sequential([keras.Input((3, 2)), keras.layers.LSTM(3, dtype="float64")])
    random_weights(keras_model, seed=5)
    keras_model.save(tmp_path / "double.keras")
    x = np.random.default_rng(3).normal(size=(2, 3, 2))
    model = kr.from_keras(tmp_path / "double.keras")
    assert model[0].cell.kernel.dtype == torch.float64
    assert_close(model(torch.as_tensor(x)), keras_output(keras_model, x), 1e-8, "float64")


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("fmt", FORMATS)
def test_mismatched_shapes_raise_naming_layer_and_shapes_and_change_nothing(saved, fmt):
    model = kr.Sequential([kr.Embedding(20, 4, mask_zero=True), kr.LSTM(6), kr.Dense(3)])
    model.build((None, 6))
    before = state(model)
    with pytest.raises(ValueError, match=r"LSTM 'lstm\w*' \(layer 1 of Sequential .*\(4, 24\), \(6, 24\), \(24,\)"
                                         r".*\(4, 20\), \(5, 20\), \(20,\)"):
        kr.load_keras_weights(model, saved["embedding_lstm"][0][fmt])
    assert_unchanged(before, model)


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_or_extra_layers_raise_and_change_nothing(saved, fmt):
    model = kr.Sequential([kr.Embedding(20, 4, mask_zero=True), kr.LSTM(5)])
    model.build((None, 6))
    before = state(model)
    with pytest.raises(ValueError, match=r"dense|Dense|2 layers|3 layers"):
        kr.load_keras_weights(model, saved["embedding_lstm"][0][fmt])
    assert_unchanged(before, model)


@pytest.mark.parametrize("fmt", ("keras", "h5"))
def test_layers_of_another_type_in_the_same_position_raise(saved, fmt):
    model = kr.Sequential([kr.Embedding(20, 4, mask_zero=True), kr.GRU(5), kr.Dense(3)])
    model.build((None, 6))
    before = state(model)
    with pytest.raises(ValueError, match=r"LSTM"):
        kr.load_keras_weights(model, saved["embedding_lstm"][0][fmt])
    assert_unchanged(before, model)


def test_unbuilt_module_raises_before_reading(saved):
    model = kr.Sequential([kr.Embedding(20, 4), kr.LSTM(5), kr.Dense(3)])
    with pytest.raises(ValueError, match=r"LSTM 'lstm\w*'.* has no weights yet"):
        kr.load_keras_weights(model, saved["embedding_lstm"][0]["keras"])


def test_torch_module_with_parameters_has_no_keras_counterpart(saved):
    model = kr.Sequential([kr.Embedding(20, 4), kr.LSTM(5), torch.nn.Linear(5, 3)])
    model.build((None, 6))
    with pytest.raises(ValueError, match=r"Linear \(layer 2 of Sequential .*no Keras counterpart"):
        kr.load_keras_weights(model, saved["embedding_lstm"][0]["keras"])
    wrapped = kr.Sequential([kr.Masking(), kr.Bidirectional(kr.GRU(4, return_sequences=True)),
                             kr.TimeDistributed(torch.nn.Linear(8, 2))])
    wrapped.build((None, 5, 3))
    with pytest.raises(ValueError, match=r"TimeDistributed .* holds a Linear, a torch module with parameters"):
        kr.load_keras_weights(wrapped, saved["bidirectional_gru"][0]["keras"])


def test_from_keras_names_the_layer_it_cannot_map(tmp_path):
    keras_model = keras.Sequential([keras.Input((8, 3)), keras.layers.Solarization(addition_factor=0.1, name="noise"),
                                    keras.layers.LSTM(2)])
    keras_model.save(tmp_path / "noise.keras")
    with pytest.raises(ValueError, match=r"'noise' is a Solarization, which has no kerasrnn_torch counterpart"):
        kr.from_keras(tmp_path / "noise.keras")


def test_from_keras_builds_graphs_that_are_not_chains(tmp_path):
    first, second = keras.Input((4, 3)), keras.Input((4, 3))
    merged = keras.layers.Add(name="merge")([keras.layers.LSTM(2, return_sequences=True)(first),
                                             keras.layers.LSTM(2, return_sequences=True)(second)])
    two_inputs = keras.Model([first, second], merged)
    inputs = keras.Input((4, 3))
    sequence = keras.layers.LSTM(2, return_sequences=True)(inputs)
    skip = keras.Model(inputs, keras.layers.Add(name="skip")([sequence, keras.layers.Dense(2)(sequence)]))
    x = torch.randn(2, 4, 3)
    for keras_model, arguments in ((two_inputs, [x, x.flip(1)]), (skip, [x])):
        random_weights(keras_model)
        for suffix in (".keras", ".h5"):
            path = tmp_path / f"{keras_model.name}{suffix}"
            keras_model.save(path)
            model = kr.from_keras(path)
            assert isinstance(model, kr.Model)
            assert_close(model(*arguments), keras_model(arguments if len(arguments) > 1 else arguments[0]))


def test_from_keras_needs_a_configuration(saved):
    with pytest.raises(ValueError, match=r"weights only.*load_keras_weights"):
        kr.from_keras(saved["embedding_lstm"][0]["weights.h5"])


def test_files_that_are_not_keras_files_raise(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    with pytest.raises(ValueError, match=r"neither a .keras archive"):
        kr.load_keras_weights(kr.LSTM(2, input_dim=3), text)
    with pytest.raises(FileNotFoundError, match=r"No Keras file"):
        kr.load_keras_weights(kr.LSTM(2, input_dim=3), tmp_path / "missing.keras")


def test_missing_h5py_says_how_to_install_it(saved, monkeypatch):
    real_import = builtins.__import__

    def without_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)
    monkeypatch.delitem(sys.modules, "h5py")
    monkeypatch.setattr(builtins, "__import__", without_h5py)
    with pytest.raises(ImportError, match=r"kerasrnn_torch\[keras-io\]"):
        kr.load_keras_weights(built_by_hand("embedding_lstm"), saved["embedding_lstm"][0]["keras"])


def test_a_model_without_weights_round_trips_both_ways(tmp_path):
    """Keras writes no 'layers' group for a model without weights (only operations): such a file loads, ours
    and Keras's; a file that holds weights without that group is still refused."""
    inputs = kr.Input((4,))
    ours = kr.Model(inputs, kr.ops.relu(kr.ops.multiply(inputs, 2.0)))
    path = tmp_path / "ops.keras"
    kr.save_keras(ours, path)
    x = torch.randn(3, 4)
    assert torch.equal(kr.from_keras(path)(x), ours(x))
    keras_inputs = keras.Input((4,))
    theirs = keras.Model(keras_inputs, keras.ops.relu(keras_inputs * 2.0))
    keras_path = tmp_path / "keras_ops.keras"
    theirs.save(keras_path)
    assert torch.equal(kr.from_keras(keras_path)(x), torch.relu(2.0 * x))
    with h5py.File(tmp_path / "stray.weights.h5", "w") as f:
        f.create_dataset("vars/0", data=np.zeros(3))
    with pytest.raises(ValueError, match="has no 'layers' group"):
        kr.load_keras_weights(kr.Sequential([kr.Input((4,)), kr.layers.Dense(3)]), tmp_path / "stray.weights.h5")
