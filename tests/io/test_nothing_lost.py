"""Nothing lost on failure (docs/bad_input.md, "A failed write changes nothing").

Every operation that writes weights or states (`set_weights` on each layer,
`Bidirectional` and `Sequential`; `load_keras_weights`; `reset_state(states)`)
checks and converts everything before it writes: each refusal here asserts the
error type, what the message names, and that every weight and state is as it
was. Malformed Keras files raise ValueErrors naming the file; shape hints are
checked; a seeded layer's random streams travel with its `state_dict`, so
training resumed from a checkpoint is bit-identical to training that never
stopped.
"""
import io
import json
import re
import zipfile

import h5py
import keras
import numpy as np
import pytest
import torch
from keras.src.legacy.saving import legacy_h5_format

import kerasrnn_torch as kr
from kerasrnn_torch._checks import describe


def snapshot(module):
    """Every weight and state entry of `module`, copied."""
    return {key: value.clone() for key, value in module.state_dict().items()}


def assert_unchanged(before, module):
    after = module.state_dict()
    assert before.keys() == after.keys()
    for key in before:
        assert torch.equal(before[key], after[key]), f"{key} changed although the write was refused"


# ------------------------------------------------------------- set_weights
def layers():
    """One built instance of every entry point that has weights."""
    return {
        "SimpleRNN": kr.SimpleRNN(4, input_shape=(5, 3)),
        "LSTM": kr.LSTM(5, input_shape=(6, 3)),
        "GRU": kr.GRU(4, input_shape=(5, 3)),
        "RNN(cell)": kr.RNN(kr.LSTMCell(4), input_shape=(5, 3)),
        "RNN(stacked)": kr.RNN([kr.LSTMCell(4), kr.GRUCell(2)], input_shape=(5, 3)),
        "Bidirectional": kr.Bidirectional(kr.LSTM(4), input_shape=(5, 3)),
        "TimeDistributed": kr.TimeDistributed(kr.Dense(2), input_shape=(5, 3)),
        "Embedding": kr.Embedding(10, 3, input_shape=(5,)),
        "Dense": kr.Dense(2, input_shape=(3,)),
        "Attention": kr.Attention(use_scale=True, input_shape=(4, 3)),
        "Sequential": kr.Sequential([kr.LSTM(4, return_sequences=True, input_shape=(5, 3)), kr.GRU(3), kr.Dense(2)]),
    }


def spoiled(array, kind):
    """An array of `array`'s shape that is not real numbers."""
    if kind == "text":
        return np.full(array.shape, "a")
    if kind == "bytes":
        return np.full(array.shape, b"a")
    if kind == "objects":
        return np.full(array.shape, object(), dtype=object)
    if kind == "complex":
        return array.astype(np.complex64)
    return torch.as_tensor(array).to(torch.complex64)       # a complex tensor


DTYPE_TEXT = {"text": "<U1", "bytes": "|S1", "objects": "object", "complex": "complex64",
              "complex tensor": "torch.complex64"}


@pytest.mark.parametrize("kind", list(DTYPE_TEXT))
@pytest.mark.parametrize("name", list(layers()))
def test_refused_set_weights_changes_no_weight(name, kind):
    layer = layers()[name]
    weights = layer.get_weights()
    position = len(weights) // 2 if kind != "text" else len(weights) - 1     # a bad array in the middle, or last
    doubled = [w * 2 for w in weights]
    doubled[position] = spoiled(weights[position], kind)
    before = snapshot(layer)
    with pytest.raises(TypeError) as error:
        layer.set_weights(doubled)
    message = str(error.value)
    assert describe(layer) in message
    assert f"weight {position} (" in message and re.escape(DTYPE_TEXT[kind]) in re.escape(message)
    assert_unchanged(before, layer)


def test_refused_set_weights_names_keras_weight_and_layer():
    model = kr.Sequential([kr.LSTM(4, input_shape=(5, 3), name="encoder"), kr.Dense(2, name="head")])
    weights = model.get_weights()
    weights[4] = np.full(weights[4].shape, b"x")
    with pytest.raises(TypeError, match=r"Sequential '\w+': weight 4 \('bias' of Dense 'head'\) .*dtype \|S1 "
                                        r"\(bytes\)"):
        model.set_weights(weights)


def test_set_weights_still_accepts_ints_bools_lists_and_tensors():
    layer = kr.Dense(2, input_shape=(3,))
    layer.set_weights([np.ones((3, 2), dtype=np.int64), [True, False]])
    assert layer.get_weights()[1].tolist() == [1.0, 0.0]
    layer.set_weights([torch.full((3, 2), 2.0, dtype=torch.float64), np.zeros(2, dtype=">f8")])
    assert layer.get_weights()[0].tolist() == [[2.0, 2.0]] * 3
    scaled = kr.Attention(use_scale=True, input_shape=(4, 3))
    scaled.set_weights([np.float32(0.5)])           # a 0-d weight stays 0-d
    layer.set_weights([np.arange(6.0).reshape(2, 3).T, np.arange(2.0)[::-1]])    # strided views
    assert scaled.get_weights()[0].tolist() == 0.5 and layer.get_weights()[1].tolist() == [1.0, 0.0]


# ------------------------------------------------------------ reset_state
@pytest.mark.parametrize("make", [lambda: kr.LSTM(3, stateful=True), lambda: kr.GRU(3, stateful=True),
                                  lambda: kr.Bidirectional(kr.LSTM(3, stateful=True))],
                         ids=["LSTM", "GRU", "Bidirectional"])
def test_refused_reset_state_keeps_states(make):
    layer = make()
    layer(torch.randn(2, 4, 3))
    states = [s.clone() for s in layer.states]
    given = [torch.ones_like(s) for s in states]
    given[-1] = given[-1].to(torch.complex64)        # for Bidirectional: the backward direction's last state
    with pytest.raises(TypeError, match=r"initial_state must hold real numbers, got a tensor of dtype "
                                        r"torch.complex64"):
        layer.reset_state(given)
    assert all(torch.equal(a, b) for a, b in zip(layer.states, states))


# --------------------------------------------------------------- Keras files
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A Keras model (LSTM, Bidirectional GRU, Dense) saved as .keras, .weights.h5 and legacy .h5."""
    directory = tmp_path_factory.mktemp("nothing_lost")
    model = keras.Sequential([keras.Input((5, 3)),
                              keras.layers.LSTM(4, return_sequences=True, name="lstm"),
                              keras.layers.Bidirectional(keras.layers.GRU(3), name="bidirectional"),
                              keras.layers.Dense(2, name="dense")], name="model")
    paths = {"keras": directory / "m.keras", "weights.h5": directory / "m.weights.h5", "h5": directory / "m.h5"}
    model.save(paths["keras"])
    model.save_weights(paths["weights.h5"])
    legacy_h5_format.save_model_to_hdf5(model, str(paths["h5"]), include_optimizer=False)
    return paths


def our_model():
    return kr.Sequential([kr.LSTM(4, return_sequences=True, input_shape=(5, 3)), kr.Bidirectional(kr.GRU(3)),
                          kr.Dense(2)])


def h5_entry(fmt, which):
    """Where a weight sits in each format: the Dense bias, or the Bidirectional's backward bias."""
    if fmt == "h5":
        return {"dense bias": "model_weights/dense/model/dense/bias",
                "backward bias": backward_bias}[which]
    return {"dense bias": "layers/dense/vars/1",
            "backward bias": "layers/bidirectional/backward_layer/cell/vars/2"}[which]


def rewrite_h5(path, edit):
    with h5py.File(path, "r+") as file:
        edit(file)


def rewrite_archive(source, target, config=None, weights_edit=None):
    """A copy of a .keras archive with its config.json replaced and/or its weights edited."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if config is not None:
        members["config.json"] = config if isinstance(config, bytes) else json.dumps(config).encode()
    if weights_edit is not None:
        buffer = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buffer, "r+") as file:
            weights_edit(file)
        members["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def backward_bias(file):
    """The legacy file's backward GRU bias (its cell's name depends on what the Keras session created before)."""
    found = []
    file["model_weights/bidirectional"].visit(lambda name: found.append(name) if "backward" in name
                                              and name.endswith("bias") else None)
    return f"model_weights/bidirectional/{found[0]}"


def as_bytes(entry):
    def edit(file):
        path = entry(file) if callable(entry) else entry
        shape = file[path].shape
        del file[path]
        file[path] = np.full(shape, b"ab")
    return edit


def spoiled_copy(files, fmt, edit, tmp_path):
    target = tmp_path / files[fmt].name
    if fmt == "keras":
        return rewrite_archive(files[fmt], target, weights_edit=edit)
    target.write_bytes(files[fmt].read_bytes())
    rewrite_h5(target, edit)
    return target


@pytest.mark.parametrize("which", ["dense bias", "backward bias"])
@pytest.mark.parametrize("fmt", ["keras", "weights.h5", "h5"])
def test_non_numeric_array_in_a_file_changes_no_weight(files, fmt, which, tmp_path):
    path = spoiled_copy(files, fmt, as_bytes(h5_entry(fmt, which)), tmp_path)
    model = our_model()
    before = snapshot(model)
    layer = "Dense" if which == "dense bias" else "Bidirectional"
    with pytest.raises(ValueError, match=rf"(?s){re.escape(str(path))}.*no weight was changed.*{layer} '.*"
                                         r"weight \d+ \('[\w.]*bias'\).*dtype \|S2 \(bytes\)"):
        kr.load_keras_weights(model, path)
    assert_unchanged(before, model)


def test_the_unspoiled_files_still_load(files):
    for path in files.values():
        model = our_model()
        kr.load_keras_weights(model, path)


@pytest.mark.parametrize("fmt", ["keras", "weights.h5"])
def test_a_group_where_a_weight_array_belongs_is_refused(files, fmt, tmp_path):
    def edit(file):
        del file["layers/dense/vars/0"]
        file.create_group("layers/dense/vars/0")
    path = spoiled_copy(files, fmt, edit, tmp_path)
    model = our_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"Dense '.*{re.escape(str(path))}.*'layers/dense/vars/0' should be a "
                                         "weight array, found a group"):
        kr.load_keras_weights(model, path)
    assert_unchanged(before, model)


def test_legacy_h5_missing_a_listed_dataset_names_file_layer_and_weight(files, tmp_path):
    path = spoiled_copy(files, "h5", lambda file: file.__delitem__("model_weights/dense/model/dense/bias"), tmp_path)
    model = our_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"layer 'dense': {re.escape(str(path))} has no weight array "
                                         r"'dense/model/dense/bias'"):
        kr.load_keras_weights(model, path)
    assert_unchanged(before, model)


def test_legacy_h5_missing_a_listed_layer_group(files, tmp_path):
    path = spoiled_copy(files, "h5", lambda file: file.__delitem__("model_weights/dense"), tmp_path)
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}: layer 'dense' is listed in 'layer_names' but "
                                         "has no group"):
        kr.load_keras_weights(our_model(), path)


def keras_config(files):
    with zipfile.ZipFile(files["keras"]) as archive:
        return json.loads(archive.read("config.json"))


def without_layers(config):
    config["config"].pop("layers")
    return config


def without_class_name(config):
    config["config"]["layers"][1].pop("class_name")
    return config


def without_cell(config):
    config["config"]["layers"][2]["config"]["layer"]["config"].pop("cell", None)
    config["config"]["layers"][2]["config"].pop("layer")
    return config


@pytest.mark.parametrize("spoil, expected", [
    (without_layers, r"the (Sequential )?model's configuration has no 'layers' entry"),
    (without_class_name, r"a layer entry of the configuration has no 'class_name' entry"),
    (without_cell, r"Bidirectional 'bidirectional': its config has no 'layer' entry"),
    (lambda config: b'{"class_name": "Seq', r"config.json is not valid JSON"),
], ids=["no layers", "no class_name", "no inner layer", "truncated json"])
@pytest.mark.parametrize("entry", ["load_keras_weights", "from_keras"])
def test_malformed_config_json_names_the_file(files, tmp_path, spoil, expected, entry):
    path = rewrite_archive(files["keras"], tmp_path / "spoiled.keras", config=spoil(keras_config(files)))
    if entry == "from_keras" and spoil is without_cell:
        expected = r": Bidirectional 'bidirectional': its config has no 'layer' entry"
    if entry == "load_keras_weights" and spoil is without_cell:
        kr.load_keras_weights(our_model(), path)       # the weights do not need the inner layer's config
        return
    model = our_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}.*{expected}"):
        if entry == "from_keras":
            kr.from_keras(path)
        else:
            kr.load_keras_weights(model, path)
    assert_unchanged(before, model)


@pytest.mark.parametrize("fmt", ["keras", "weights.h5", "h5"])
def test_truncated_files_raise_value_errors_naming_the_file(files, fmt, tmp_path):
    data = files[fmt].read_bytes()
    path = tmp_path / files[fmt].name
    path.write_bytes(data[: len(data) // 2])
    model = our_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        kr.load_keras_weights(model, path)
    assert_unchanged(before, model)


def test_truncated_weights_inside_an_archive(files, tmp_path):
    with zipfile.ZipFile(files["keras"]) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model.weights.h5"] = members["model.weights.h5"][:2000]
    path = tmp_path / "cut.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} \(model.weights.h5\) cannot be read as HDF5"):
        kr.load_keras_weights(our_model(), path)


# ------------------------------------------------------------- shape hints
HINTED = {
    "SimpleRNN": lambda **hint: kr.SimpleRNN(3, **hint),
    "LSTM": lambda **hint: kr.LSTM(3, **hint),
    "GRU": lambda **hint: kr.GRU(3, **hint),
    "RNN": lambda **hint: kr.RNN(kr.GRUCell(3), **hint),
    "Bidirectional": lambda **hint: kr.Bidirectional(kr.LSTM(3), **hint),
    "TimeDistributed": lambda **hint: kr.TimeDistributed(kr.Dense(2), **hint),
    "Dense": lambda **hint: kr.Dense(2, **hint),
    "Embedding": lambda **hint: kr.Embedding(10, 2, **hint),
    "Masking": lambda **hint: kr.Masking(**hint),
}


BAD_HINTS = [({"input_shape": (-1, 4)}, "input_shape"), ({"input_shape": (5, 0)}, "input_shape"),
             ({"input_shape": (2.5, 4)}, "input_shape"), ({"input_shape": 4}, "input_shape"),
             ({"input_dim": 0}, "input_dim"), ({"input_dim": -3}, "input_dim")]


@pytest.mark.parametrize("name, hint, argument", [
    (name, hint, argument) for name in HINTED for hint, argument in BAD_HINTS
    if not (name == "Embedding" and argument == "input_dim")])      # Embedding's input_dim is its vocabulary size
def test_shape_hints_must_be_positive_or_none(name, hint, argument):
    with pytest.raises(ValueError, match=rf"{name}.*`{argument}` must be .*positive integer"):
        HINTED[name](**hint)


def test_unknown_sizes_stay_allowed_in_hints():
    assert kr.LSTM(3, input_shape=(None, 4)).built
    assert kr.Dense(2, input_shape=(np.int64(3),)).built


def test_summary_and_build_name_input_shape():
    with pytest.raises(ValueError, match=r"summary\(\): `input_shape` must be a tuple of positive integers or None"
                                         r".*got \(-1, 4\)"):
        kr.summary(kr.LSTM(3), input_shape=(-1, 4))
    model = kr.Sequential([kr.LSTM(3)])
    with pytest.raises(ValueError, match=r"Sequential '\w+': `input_shape` must be .*got \(5, 0\)"):
        model.build((None, 5, 0))
    assert not model.built


# ------------------------------------------------------ seeded random state
def seeded_model():
    return kr.Sequential([kr.LSTM(8, dropout=0.3, seed=7, return_sequences=True, input_shape=(6, 3)),
                          kr.GRU(4, recurrent_dropout=0.2, seed=7), kr.Dropout(0.25, seed=3), kr.Dense(1)])


def train(model, optimizer, data, steps):
    losses = []
    for x, y in data[:steps]:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x, training=True), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_training_resumed_from_a_checkpoint_is_bit_identical():
    generator = torch.Generator().manual_seed(1)
    data = [(torch.randn(4, 6, 3, generator=generator), torch.randn(4, 1, generator=generator)) for _ in range(30)]

    torch.manual_seed(0)
    straight = seeded_model()
    straight_optimizer = torch.optim.Adam(straight.parameters(), lr=0.01)
    straight_losses = train(straight, straight_optimizer, data, 30)

    torch.manual_seed(0)
    first = seeded_model()
    first_optimizer = torch.optim.Adam(first.parameters(), lr=0.01)
    losses = train(first, first_optimizer, data, 15)
    checkpoint = io.BytesIO()
    torch.save({"model": first.state_dict(), "optimizer": first_optimizer.state_dict(),
                "rng": torch.get_rng_state()}, checkpoint)
    del first, first_optimizer

    checkpoint.seek(0)
    saved = torch.load(checkpoint, weights_only=True)
    torch.manual_seed(123)                        # a fresh model with other weights, and another global stream
    resumed = seeded_model()
    resumed.load_state_dict(saved["model"])
    resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=0.01)
    resumed_optimizer.load_state_dict(saved["optimizer"])
    torch.set_rng_state(saved["rng"])
    losses += train(resumed, resumed_optimizer, data[15:], 15)

    assert losses == straight_losses
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        assert np.array_equal(a, b)


SEEDED = {
    "Dropout": (lambda: kr.Dropout(0.5, seed=4), lambda: (torch.ones(3, 8),)),
    "Attention": (lambda: kr.Attention(dropout=0.5, seed=4), lambda: ([torch.ones(2, 3, 4), torch.ones(2, 5, 4)],)),
    "LSTM": (lambda: kr.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=4), lambda: (torch.ones(2, 4, 3),)),
    "RNN(stacked)": (lambda: kr.RNN([kr.GRUCell(3, dropout=0.5, seed=4), kr.SimpleRNNCell(2, dropout=0.5, seed=5)]),
                     lambda: (torch.ones(2, 4, 3),)),
    "Bidirectional": (lambda: kr.Bidirectional(kr.GRU(3, dropout=0.5, seed=4)), lambda: (torch.ones(2, 4, 3),)),
    "TimeDistributed": (lambda: kr.TimeDistributed(kr.Dropout(0.5, seed=4)), lambda: (torch.ones(2, 4, 3),)),
}


@pytest.mark.parametrize("name", list(SEEDED))
def test_every_seeded_layer_restores_its_random_streams(name):
    make, inputs = SEEDED[name]
    layer = make()
    layer(*inputs(), training=True)                  # the streams have moved on
    state = layer.state_dict()
    expected = layer(*inputs(), training=True)
    twin = make()
    twin(*inputs(), training=True)
    twin(*inputs(), training=True)                   # further on than the checkpoint
    twin.load_state_dict(state)
    assert torch.equal(twin(*inputs(), training=True), expected)


def test_random_state_entries_and_refusals():
    layer = kr.Dropout(0.5, seed=4)
    assert list(layer.state_dict()) == ["_generators.seed"]      # nothing drawn yet
    layer(torch.ones(2, 3), training=True)
    assert list(layer.state_dict()) == ["_generators.seed", "_generators.rng_state.cpu"]
    assert list(kr.Dropout(0.5).state_dict()) == []                # unseeded: torch's global RNG, saved by the user
    with pytest.raises(RuntimeError, match=r"Unexpected key.*_generators.seed"):
        kr.Dropout(0.5).load_state_dict(layer.state_dict())
    with pytest.raises(RuntimeError, match=r"saved with seed 4, this layer has seed 5"):
        kr.Dropout(0.5, seed=5).load_state_dict(layer.state_dict())


def test_loading_a_fresh_checkpoint_restarts_the_streams():
    fresh = kr.Dropout(0.5, seed=4)
    expected = fresh(torch.ones(4, 6), training=True)
    used = kr.Dropout(0.5, seed=4)
    used(torch.ones(4, 6), training=True)
    used.load_state_dict(kr.Dropout(0.5, seed=4).state_dict())
    assert torch.equal(used(torch.ones(4, 6), training=True), expected)
