"""Sequential: layers in order, masks threaded as Keras does, Keras's weight API, builds from a hint."""
import warnings

import keras
import numpy as np
import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close, random_weights

VOCAB, DIM, TIMESTEPS = 20, 6, 7


def padded_ids(pattern: str) -> torch.Tensor:
    """Token ids with id 0 as padding: right-padded rows, or holes in the middle of rows."""
    ids = torch.randint(1, VOCAB, (4, TIMESTEPS))
    if pattern == "right_padded":
        ids[0, 4:] = 0
        ids[1, 1:] = 0
        ids[2, :] = 0                     # a row that is all padding
    else:
        ids[0, 2] = 0
        ids[1, ::2] = 0
        ids[3, 0] = 0
    return ids


def keras_twin(keras_layers, input_shape, dtype="float32"):
    """A built Keras Sequential with random weights everywhere."""
    model = keras.Sequential([keras.Input(input_shape, dtype=dtype), *keras_layers])
    random_weights(model)
    return model


# ---------------------------------------------------------------------------------------------- masks
@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("pattern", ["right_padded", "holes"])
def test_embedding_mask_reaches_lstm_as_a_hand_passed_mask_and_as_keras(pattern, path):
    model = kr.Sequential([kr.Embedding(VOCAB, DIM, mask_zero=True), kr.LSTM(5, return_sequences=True),
                           kr.LSTM(3)])
    theirs = keras_twin([keras.layers.Embedding(VOCAB, DIM, mask_zero=True),
                         keras.layers.LSTM(5, return_sequences=True), keras.layers.LSTM(3)], (TIMESTEPS,), "int32")
    model.build((None, TIMESTEPS))
    model.set_weights(theirs.get_weights())
    ids = padded_ids(pattern)
    with kr.force_path(path):
        threaded = model(ids)
        embedding, first, second = model.layers
        by_hand = second(first(embedding(ids), mask=ids != 0), mask=ids != 0)
    assert first.last_path == ("fused" if path == "auto" else "loop")       # any mask pattern runs fused
    assert_close(threaded, by_hand, 0.0, "threaded vs hand-passed mask")
    assert_close(threaded, theirs(ids, training=False), OUTPUT_ATOL, "ours vs keras.Sequential")
    unmasked = kr.Sequential([kr.Embedding(VOCAB, DIM), kr.LSTM(5, return_sequences=True), kr.LSTM(3)])
    unmasked.build((None, TIMESTEPS))
    unmasked.set_weights(theirs.get_weights())
    assert float((unmasked(ids) - threaded).detach().abs().max()) > 1e-3, "the mask changed nothing: it did not arrive"


def test_embedding_mask_reaches_bidirectional_as_keras():
    model = kr.Sequential([kr.Embedding(VOCAB, DIM, mask_zero=True),
                           kr.Bidirectional(kr.GRU(4, return_sequences=True)), kr.Dense(2)])
    theirs = keras_twin([keras.layers.Embedding(VOCAB, DIM, mask_zero=True),
                         keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True)),
                         keras.layers.Dense(2)], (TIMESTEPS,), "int32")
    model.build((None, TIMESTEPS))
    model.set_weights(theirs.get_weights())
    ids = padded_ids("right_padded")
    assert_close(model(ids), theirs(ids, training=False), OUTPUT_ATOL, "ours vs keras.Sequential")
    assert torch.equal(model.compute_mask(ids), ids != 0)


def test_user_mask_threads_through_a_torch_linear_as_keras_dense_would():
    model = kr.Sequential([kr.LSTM(5, return_sequences=True), nn.Linear(5, 4), kr.GRU(3, return_sequences=True)])
    theirs = keras_twin([keras.layers.LSTM(5, return_sequences=True), keras.layers.Dense(4),
                         keras.layers.GRU(3, return_sequences=True)], (TIMESTEPS, 2))
    model.build((None, TIMESTEPS, 2))
    keras_weights = theirs.get_weights()
    # nn.Linear keeps its weight as (out, in): transpose Keras's Dense kernel.
    model.set_weights(keras_weights[:3] + [keras_weights[3].T, keras_weights[4]] + keras_weights[5:])
    x = torch.randn(4, TIMESTEPS, 2)
    mask = torch.ones(4, TIMESTEPS, dtype=torch.bool)
    mask[0, 3:] = False
    mask[1, 1] = False
    ours = model(x, mask=mask)
    lstm, linear, gru = model.layers
    by_hand = gru(linear(lstm(x, mask=mask)), mask=mask)
    assert_close(ours, by_hand, 0.0, "threaded vs hand-passed mask")
    with warnings.catch_warnings():
        # keras.Sequential warns that it "does not support masking" itself, though its layers get the mask.
        warnings.filterwarnings("ignore", message=".*does not support masking", category=UserWarning)
        expected = theirs(x, mask=mask, training=False)
    assert_close(ours, expected, OUTPUT_ATOL, "ours vs keras.Sequential")
    assert model.compute_mask(x, mask) is mask


def test_torch_module_that_drops_the_time_axis_drops_the_mask_with_a_warning():
    model = kr.Sequential([kr.Embedding(VOCAB, DIM, mask_zero=True), nn.Flatten(), nn.Linear(TIMESTEPS * DIM, 2)])
    ids = padded_ids("right_padded")
    with pytest.warns(UserWarning, match="Flatten received a mask of shape \\(4, 7\\).*stops here"):
        out = model(ids)
    assert out.shape == (4, 2)
    assert model.compute_mask(ids) is None


class RecordsMask(nn.Module):
    """A per-step module of the user's that asks for Keras masks."""
    supports_masking = True

    def __init__(self):
        super().__init__()
        self.received = "never called"

    def forward(self, x, mask=None):
        self.received = mask
        return x


class AttentionStyleMask(nn.Module):
    """A torch module whose `mask` means something else (as nn.TransformerEncoder's)."""

    def __init__(self):
        super().__init__()
        self.received = "never called"

    def forward(self, x, mask=None):
        self.received = mask
        return x


def test_mask_goes_only_to_modules_that_declare_keras_masking():
    asks, other = RecordsMask(), AttentionStyleMask()
    model = kr.Sequential([kr.Embedding(VOCAB, DIM, mask_zero=True), asks, other, kr.LSTM(3)])
    ids = padded_ids("right_padded")
    model(ids)
    assert torch.equal(asks.received, ids != 0)
    assert other.received is None


def test_nested_sequential_passes_its_mask_on():
    inner = kr.Sequential([kr.Embedding(VOCAB, DIM, mask_zero=True), kr.LSTM(4, return_sequences=True)])
    outer = kr.Sequential([inner, kr.GRU(3)])
    ids = padded_ids("holes")
    expected = outer.layers[1](inner(ids), mask=ids != 0)
    assert_close(outer(ids), expected, 0.0, "nested Sequential")
    assert torch.equal(inner.compute_mask(ids), ids != 0)


def test_compute_mask_on_new_inputs_changes_nothing():
    model = kr.Sequential([kr.Embedding(VOCAB, DIM, mask_zero=True), kr.LSTM(4, return_sequences=True, stateful=True)])
    ids = padded_ids("right_padded")
    assert torch.equal(model.compute_mask(ids), ids != 0)
    assert model.layers[1].states is None and model.layers[1].last_path is None


# ------------------------------------------------------------------------------------------- training
def test_training_argument_reaches_keras_layers_and_torch_modules():
    model = kr.Sequential([kr.Dropout(0.5), nn.Dropout(0.5)])
    x = torch.ones(64, 8)
    model.train()
    assert torch.equal(model(x, training=False), x)
    assert all(m.training for m in model.modules()), "train/eval flags are restored after the call"
    model.eval()
    dropped = model(x, training=True)
    assert set(dropped.unique().tolist()) <= {0.0, 4.0} and (dropped == 0).any()
    assert not any(m.training for m in model.modules())
    assert torch.equal(model(x), x), "training=None follows each module's mode"


# -------------------------------------------------------------------------------------- build, weights
def test_input_shape_hint_on_the_first_layer_builds_every_layer():
    model = kr.Sequential([kr.LSTM(8, input_shape=(10, 5), return_sequences=True), kr.GRU(4, stateful=True)])
    model.add(kr.Dense(3))
    assert model.built and all(layer.built for layer in model.layers)
    assert model.input_shape == (None, 10, 5)
    theirs = keras.Sequential([keras.Input((10, 5)), keras.layers.LSTM(8, return_sequences=True),
                               keras.layers.GRU(4), keras.layers.Dense(3)])
    assert model.count_params() == theirs.count_params() == sum(p.numel() for p in model.parameters())
    gru = model.layers[1]
    assert gru.states is None and gru.last_path is None, "the build left no trace of its dummy call"
    assert model(torch.randn(6, 10, 5)).shape == (6, 3), "a stateful layer accepts any first batch size"


def test_build_creates_the_weights_of_an_unhinted_model():
    model = kr.Sequential([kr.Embedding(VOCAB, DIM), kr.SimpleRNN(4), kr.Dense(2)])
    assert not model.built
    model.build((None, TIMESTEPS))
    assert model.built and model.count_params() == VOCAB * DIM + (DIM * 4 + 4 * 4 + 4) + (4 * 2 + 2)


def test_unbuilt_model_says_which_layers_lack_weights():
    model = kr.Sequential([kr.LSTM(4), kr.Dense(2)])
    with pytest.raises(ValueError, match="no weights yet for LSTM 'lstm.*', Dense 'dense.*': call it on an input"):
        model.count_params()
    model(torch.randn(2, 3, 5))
    assert model.built and model.count_params() == 4 * (5 * 4 + 4 * 4 + 4) + 4 * 2 + 2


def test_get_and_set_weights_round_trip_with_keras_sequential():
    theirs = keras_twin([keras.layers.Embedding(VOCAB, DIM), keras.layers.GRU(5, return_sequences=True),
                         keras.layers.SimpleRNN(4), keras.layers.Dense(3)], (TIMESTEPS,), "int32")
    model = kr.Sequential([kr.Embedding(VOCAB, DIM), kr.GRU(5, return_sequences=True), kr.SimpleRNN(4), kr.Dense(3)])
    model.build((None, TIMESTEPS))
    model.set_weights(theirs.get_weights())
    assert [w.shape for w in model.get_weights()] == [w.shape for w in theirs.get_weights()]
    for mine, keras_weight in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(mine, keras_weight)
    assert [p.data_ptr() for p in model.parameters()] == [w.data_ptr() for w in model.weights]
    ids = padded_ids("holes")
    assert_close(model(ids), theirs(ids, training=False), OUTPUT_ATOL, "same weights, same outputs")
    theirs.set_weights([w * 0.5 for w in model.get_weights()])
    model.set_weights(theirs.get_weights())
    assert_close(model(ids), theirs(ids, training=False), OUTPUT_ATOL, "after the way back")


def test_set_weights_names_the_expected_shapes():
    model = kr.Sequential([kr.Dense(3, input_dim=2), kr.Dense(1)])
    with pytest.raises(ValueError, match=r"expects 4 weight arrays with shapes \[\(2, 3\), \(3,?\), \(3, 1\), \(1,?\)\]"):
        model.set_weights([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"weight 2 must have shape \(3, 1\)"):
        model.set_weights([np.zeros((2, 3)), np.zeros(3), np.zeros((1, 3)), np.zeros(1)])


def test_torch_modules_count_their_parameters_frozen_ones_last():
    linear = nn.Linear(4, 2)
    linear.bias.requires_grad_(False)
    model = kr.Sequential([kr.LSTM(4, input_shape=(3, 2)), linear])
    weights = model.weights
    assert weights[-2] is linear.weight and weights[-1] is linear.bias
    assert model.count_params() == 4 * (2 * 4 + 4 * 4 + 4) + 10
    assert [w.shape for w in model.non_trainable_weights] == [(2,)]


# ---------------------------------------------------------------------------------------- the stack
def test_layers_add_pop_and_indexing():
    lstm, dense = kr.LSTM(3), kr.Dense(2)
    model = kr.Sequential([lstm])
    model.add(dense)
    assert model.layers == [lstm, dense] and model[1] is dense and len(model) == 2 and list(model) == [lstm, dense]
    assert model.pop() is dense and model.layers == [lstm]


@pytest.mark.parametrize("bad, error, pattern", [
    ("dense", ValueError, "Only instances of `kr.layers.Layer`"),
    (kr.Dense(2, name="twin"), ValueError, "already holds a layer named 'twin'"),
], ids=["not_a_module", "duplicate_name"])
def test_add_rejects(bad, error, pattern):
    model = kr.Sequential([kr.Dense(3, name="twin")])
    with pytest.raises(error, match=pattern):
        model.add(bad)


def test_empty_model_refuses_to_run():
    with pytest.raises(ValueError, match="has no layers"):
        kr.Sequential()(torch.zeros(1, 2))


def test_a_called_model_saves_and_loads_whole_and_by_state_dict(tmp_path):
    model = kr.Sequential([kr.Embedding(VOCAB, DIM, mask_zero=True), kr.GRU(3)])
    ids = padded_ids("holes")
    expected = model(ids).detach()
    torch.save(model, tmp_path / "model.pt")
    assert_close(torch.load(tmp_path / "model.pt", weights_only=False)(ids), expected, 0.0, "torch.save / torch.load")
    twin = kr.Sequential([kr.Embedding(VOCAB, DIM, mask_zero=True), kr.GRU(3)])
    twin.build((None, TIMESTEPS))
    twin.load_state_dict(model.state_dict())
    assert_close(twin(ids), expected, 0.0, "state_dict")
