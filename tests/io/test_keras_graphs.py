"""Keras files of any graph, both ways: random Keras graphs saved by Keras and read by kr, and back.

Each graph (tests/keras_graphs.py) is built by the same code in Keras and in
kr. For each one: `from_keras` gives Keras's outputs; `load_keras_weights`
puts the file's weights into the kr-built graph; `save_keras` of the loaded
model is read back by Keras with the same outputs; `save_keras_weights` of
the kr-built graph loads into the Keras-built one, every weight in its own
layer. KERASRNN_HYPOTHESIS_PROFILE=thorough runs thousands of graphs.
"""
import keras
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import kerasrnn_torch as kr
from hypothesis_profiles import scaled
from keras_graphs import KERAS, OURS, build_graph, inputs_for
from reference import random_weights

# Both libraries warn when a layer without mask support (Flatten, Conv1D) drops a mask.
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning:keras.*"),
              pytest.mark.filterwarnings("ignore:.*does not support masking:UserWarning")]
ATOL = 1e-5


def feed(model, data: dict):
    """The data as `model` (Keras's or ours, built from the same graph) takes it: dict, list or tensor."""
    tensors = {name: torch.as_tensor(value) for name, value in data.items()}
    structure = keras_model_structure(model)
    if structure == "dict":
        return tensors
    names = list(data)
    return [tensors[n] for n in names] if structure == "list" else tensors[names[0]]


def keras_model_structure(model) -> str:
    if isinstance(model, keras.Model):
        inputs = model._inputs_struct
    else:
        inputs = model.input_structure
    if isinstance(inputs, dict):
        return "dict"
    return "list" if isinstance(inputs, (list, tuple)) else "tensor"


def as_arrays(result) -> list[np.ndarray]:
    results = result if isinstance(result, (list, tuple)) else [result]
    return [keras.ops.convert_to_numpy(r) if not isinstance(r, torch.Tensor) else r.detach().numpy()
            for r in results]


def assert_same_outputs(got, expected, what: str):
    got, expected = as_arrays(got), as_arrays(expected)
    assert len(got) == len(expected), f"{what}: {len(got)} outputs, Keras has {len(expected)}"
    for i, (a, b) in enumerate(zip(got, expected)):
        assert a.shape == b.shape, f"{what}: output {i} has shape {a.shape}, Keras's {b.shape}"
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=0, err_msg=f"{what}: output {i}")


def check_graph(seed: int, directory) -> None:
    keras_model = build_graph(KERAS, seed)
    random_weights(keras_model, seed=seed)
    data = inputs_for(seed, keras_model)
    expected = keras_model(feed(keras_model, data))
    suffix = ".h5" if seed % 5 == 0 else ".keras"
    path = directory / f"graph{seed}{suffix}"
    keras_model.save(path)

    loaded = kr.from_keras(path).eval()
    with torch.no_grad():
        assert_same_outputs(loaded(feed(keras_model, data)), expected, f"graph {seed}: from_keras")

    ours = build_graph(OURS, seed).eval()
    kr.load_keras_weights(ours, path)
    with torch.no_grad():
        assert_same_outputs(ours(feed(keras_model, data)), expected, f"graph {seed}: load_keras_weights")

    written = directory / f"ours{seed}.keras"
    kr.save_keras(loaded, written)
    keras.backend.clear_session()            # Keras names its mask operations from a per-session count
    reread = keras.models.load_model(written)
    assert_same_outputs(reread(feed(keras_model, data)), expected, f"graph {seed}: save_keras read by Keras")

    weights = directory / f"ours{seed}.weights.h5"
    kr.save_keras_weights(ours, weights)
    fresh = build_graph(KERAS, seed)
    fresh.load_weights(weights)
    for layer in keras_model.layers:
        for a, b in zip(fresh.get_layer(layer.name).get_weights(), layer.get_weights()):
            np.testing.assert_array_equal(a, b, err_msg=f"graph {seed}: save_keras_weights, layer {layer.name}")


@scaled(2)
@given(seed=st.integers(0, 2**31 - 1))
def test_random_keras_graphs_load_and_save_with_keras_s_numbers(seed, tmp_path_factory):
    check_graph(seed, tmp_path_factory.mktemp("graph"))


# -------------------------------------------------------------- the cases found
def shared_lstm_graph(api):
    """The issue's graph: a layer shared by calls on inputs of different lengths, second call first in the file."""
    layers = api.layers
    t0 = api.Input((None,), dtype="int32", name="t0")
    t2 = api.Input((2,), dtype="int32", name="t2")
    e1 = layers.Embedding(7, 5, mask_zero=True, name="e1")(t0)
    e3 = layers.Embedding(9, 5, mask_zero=True, name="e3")(t2)
    shared = layers.LSTM(1, use_bias=False, return_sequences=True, go_backwards=True, name="shared")
    t4, t5 = shared(e3), shared(e1)
    t6 = layers.Bidirectional(layers.LSTM(7, return_sequences=True), merge_mode="mul", name="bi")(t5)
    t10 = layers.GlobalAveragePooling1D(name="pool")(layers.LayerNormalization(scale=False, name="norm")(t6))
    out = layers.Concatenate(name="cat")([t10, layers.Flatten(name="flat")(t4)])
    return api.Model({"t0": t0, "t2": t2}, out)


SHARED_DATA = {"t0": np.array([[1, 2, 3, 0], [4, 5, 0, 0], [6, 1, 2, 3]], dtype="int32"),
               "t2": np.array([[1, 8], [3, 0], [7, 2]], dtype="int32")}


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_shared_layer_s_calls_keep_keras_s_order_when_loaded(tmp_path, suffix):
    keras_model = shared_lstm_graph(KERAS)
    random_weights(keras_model, seed=3)
    keras_model.save(tmp_path / f"m{suffix}")
    expected = keras_model(feed(keras_model, SHARED_DATA))
    loaded = kr.from_keras(tmp_path / f"m{suffix}").eval()
    with torch.no_grad():
        assert_same_outputs(loaded(feed(keras_model, SHARED_DATA)), expected, "from_keras")
    assert tuple(expected.shape) == (3, 9)


def test_a_shared_layer_s_calls_keep_their_order_from_kr_to_keras(tmp_path):
    ours = shared_lstm_graph(OURS).eval()
    keras_model = shared_lstm_graph(KERAS)
    ours.set_weights(random_weights(keras_model, seed=4))
    kr.save_keras(ours, tmp_path / "ours.keras")
    reread = keras.models.load_model(tmp_path / "ours.keras")
    with torch.no_grad():
        assert_same_outputs(reread(feed(keras_model, SHARED_DATA)), ours(feed(keras_model, SHARED_DATA)),
                            "save_keras read by Keras")


def nested_graph(api):
    """A functional model called twice as a layer; the outer model outputs its first call."""
    layers = api.layers
    inner_in = api.Input((None, 3), name="inner_in")
    inner = api.Model(inner_in, layers.LSTM(2, return_sequences=True, name="inner_lstm")(
        layers.Dense(2, name="inner_dense")(inner_in)), name="inner")
    a, b = api.Input((None, 3), name="a"), api.Input((4, 3), name="b")
    first, second = inner(a), inner(b)
    head = layers.Dense(1, name="head")(layers.GlobalAveragePooling1D(name="pool")(second))
    return api.Model([a, b], [head, first])


def test_a_nested_functional_model_s_calls_are_numbered_as_keras_numbers_them(tmp_path):
    keras_model = nested_graph(KERAS)
    random_weights(keras_model, seed=5)
    # Keras counts the nested model's construction as its node 0: its first call is node 1.
    assert keras_model.get_config()["output_layers"][1] == ["inner", 1, 0]
    keras_model.save(tmp_path / "nested.keras")
    inputs = [torch.randn(2, 5, 3), torch.randn(2, 4, 3)]
    loaded = kr.from_keras(tmp_path / "nested.keras").eval()
    with torch.no_grad():
        assert_same_outputs(loaded(inputs), keras_model(inputs), "from_keras")
    assert loaded.get_config()["output_layers"] == keras_model.get_config()["output_layers"]


@pytest.mark.parametrize("merge", ["Concatenate", "Attention"])
def test_masks_past_a_nested_model_reach_later_calls_as_in_keras(merge):
    """Keras's nested model passes no mask while the graph is built but does when it runs; a list
    argument takes the runtime masks, a plain call the masks its graph recorded."""
    def build(api):
        layers = api.layers
        ids = api.Input((None,), dtype="int32", name="ids")
        embedded = layers.Embedding(6, 3, mask_zero=True, name="embedding")(ids)
        inner_in = api.Input((None, 3), name="inner_in")
        inner = api.Model(inner_in, layers.GRU(3, return_sequences=True, name="gru")(inner_in), name="inner")
        nested = inner(embedded)
        merged = getattr(layers, merge)(name="merge")([nested, embedded])
        return api.Model(ids, [layers.SimpleRNN(2, name="after_merge")(merged),
                               layers.SimpleRNN(2, name="after_nested")(nested)])
    keras_model, ours = build(KERAS), build(OURS)
    ours.set_weights(random_weights(keras_model, seed=6))
    ids = torch.tensor([[0, 2, 0, 3], [4, 0, 0, 0], [1, 1, 1, 1]])
    assert_same_outputs(ours(ids), keras_model(ids), "outputs")


def two_embeddings_graph(api, names, dims=(3, 3)):
    """Two Embeddings of one class in one graph; `names` picks which call gets which name."""
    layers = api.layers
    ids = api.Input((None,), dtype="int32", name="ids")
    first = layers.Embedding(5, dims[0], name=names[0])(ids)
    second = layers.Embedding(5, dims[1], name=names[1])(ids)
    return api.Model(ids, [layers.GlobalAveragePooling1D(name="pool_a")(first),
                           layers.GlobalAveragePooling1D(name="pool_b")(second)])


def test_weights_go_to_the_layer_of_the_same_name_when_two_same_shaped_layers_swap_names(tmp_path):
    keras_model = two_embeddings_graph(KERAS, ("left", "right"))
    random_weights(keras_model, seed=7)
    keras_model.save(tmp_path / "two.keras")
    ours = two_embeddings_graph(OURS, ("right", "left"))
    kr.load_keras_weights(ours, tmp_path / "two.keras")
    for name in ("left", "right"):
        np.testing.assert_array_equal(ours.get_layer(name).get_weights()[0],
                                      keras_model.get_layer(name).get_weights()[0])


def test_names_that_would_put_weights_of_another_shape_in_a_layer_are_refused(tmp_path):
    keras_model = two_embeddings_graph(KERAS, ("left", "right"), dims=(3, 4))
    random_weights(keras_model, seed=8)
    keras_model.save(tmp_path / "two.keras")
    ours = two_embeddings_graph(OURS, ("right", "left"), dims=(3, 4))
    before = [w.copy() for w in ours.get_weights()]
    with pytest.raises(ValueError, match="left|right"):
        kr.load_keras_weights(ours, tmp_path / "two.keras")
    for a, b in zip(ours.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_a_nested_sequential_keeps_its_unknown_length_through_a_file(tmp_path):
    """Keras writes the nested Sequential's Input; without it Keras fixes the length of its first call."""
    def build(api):
        layers = api.layers
        inner = api.Sequential([api.Input((None, 4)), layers.LSTM(3, name="inner_lstm")], name="inner")
        long, short = api.Input((5, 4), name="long"), api.Input((2, 4), name="short")
        return api.Model([long, short], [inner(long), inner(short)])
    keras_model = build(KERAS)
    random_weights(keras_model, seed=9)
    keras_model.save(tmp_path / "nested.keras")
    loaded = kr.from_keras(tmp_path / "nested.keras")
    assert loaded.get_layer("inner").get_config()["layers"][0]["config"]["batch_shape"] == (None, None, 4)
    kr.save_keras(loaded, tmp_path / "back.keras")
    reread = keras.models.load_model(tmp_path / "back.keras")
    inputs = [torch.randn(2, 5, 4), torch.randn(2, 2, 4)]
    assert_same_outputs(reread(inputs), keras_model(inputs), "save_keras read by Keras")


def test_a_sequential_from_a_keras_config_keeps_its_input_dtype():
    keras_model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(9, 3)])
    ours = kr.Sequential.from_config(keras_model.get_config())
    assert ours.input_dtype == torch.int32
    assert ours.get_config()["layers"][0]["config"]["dtype"] == "int32"
