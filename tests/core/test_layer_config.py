"""get_config / from_config: Keras's keys and values, round trips, and Keras's configurations accepted."""
import keras
import pytest
import torch

import kerasrnn_torch as kr

L = keras.layers


def pairs():
    """(our layer, the same Keras layer) for every layer, with non-default arguments where it tells."""
    reg = dict(kernel_regularizer="l2")
    return {
        "SimpleRNN": (kr.SimpleRNN(3, activation="relu", return_sequences=True, **reg),
                      L.SimpleRNN(3, activation="relu", return_sequences=True, kernel_regularizer=keras.regularizers.L2())),
        "LSTM": (kr.LSTM(4, go_backwards=True, unit_forget_bias=False, dropout=0.25, seed=3,
                         recurrent_initializer="glorot_normal", bias_constraint="non_neg"),
                 L.LSTM(4, go_backwards=True, unit_forget_bias=False, dropout=0.25, seed=3,
                        recurrent_initializer="glorot_normal", bias_constraint="non_neg")),
        "GRU": (kr.GRU(2, reset_after=False, return_state=True, activity_regularizer="l1"),
                L.GRU(2, reset_after=False, return_state=True, activity_regularizer="l1")),
        "SimpleRNNCell": (kr.SimpleRNNCell(3), L.SimpleRNNCell(3)),
        "LSTMCell": (kr.LSTMCell(3, recurrent_activation="hard_sigmoid"), L.LSTMCell(3, recurrent_activation="hard_sigmoid")),
        "GRUCell": (kr.GRUCell(3, kernel_initializer=kr.initializers.HeNormal(seed=1)),
                    L.GRUCell(3, kernel_initializer=keras.initializers.HeNormal(seed=1))),
        "StackedRNNCells": (kr.StackedRNNCells([kr.LSTMCell(3), kr.GRUCell(2)]),
                            L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(2)])),
        "RNN": (kr.RNN(kr.LSTMCell(3), stateful=True), L.RNN(L.LSTMCell(3), stateful=True)),
        "Bidirectional": (kr.Bidirectional(kr.LSTM(3), merge_mode="sum"), L.Bidirectional(L.LSTM(3), merge_mode="sum")),
        "TimeDistributed": (kr.TimeDistributed(kr.Dense(3)), L.TimeDistributed(L.Dense(3))),
        "Embedding": (kr.Embedding(10, 3, mask_zero=True), L.Embedding(10, 3, mask_zero=True)),
        "Masking": (kr.Masking(-1.0), L.Masking(-1.0)),
        "Dense": (kr.Dense(3, activation="tanh", use_bias=False), L.Dense(3, activation="tanh", use_bias=False)),
        "Dropout": (kr.Dropout(0.3, seed=2), L.Dropout(0.3, seed=2)),
        "Attention": (kr.Attention(use_scale=True, score_mode="concat"), L.Attention(use_scale=True, score_mode="concat")),
        "Sequential": (kr.Sequential([kr.Dense(3), kr.Dropout(0.1)]), keras.Sequential([L.Dense(3), L.Dropout(0.1)])),
    }


def without_names(value):
    """The configuration with every layer name left out (automatic names differ between the libraries)."""
    if isinstance(value, dict):
        return {k: without_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, (list, tuple)):
        return [without_names(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-6)
    return value


PAIRS = pairs()


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_config_has_keras_keys_and_values(name):
    ours, theirs = PAIRS[name]
    assert without_names(ours.get_config()) == without_names(theirs.get_config())


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_from_config_rebuilds_an_equal_layer(name):
    ours, _ = PAIRS[name]
    rebuilt = type(ours).from_config(ours.get_config())
    assert type(rebuilt) is type(ours)
    assert rebuilt.get_config() == ours.get_config()


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_from_config_takes_the_keras_layers_config(name):
    ours, theirs = PAIRS[name]
    rebuilt = type(ours).from_config(theirs.get_config())
    assert without_names(rebuilt.get_config()) == without_names(theirs.get_config())


def test_keras_lstm_config_gives_a_working_layer_with_keras_numbers():
    theirs = L.LSTM(5, return_sequences=True, kernel_regularizer="l2")
    x = torch.randn(2, 4, 3)
    expected = theirs(x)
    ours = kr.LSTM.from_config(theirs.get_config())
    ours(x)
    ours.set_weights(theirs.get_weights())
    torch.testing.assert_close(ours(x), expected.detach(), atol=1e-5, rtol=0)
    assert isinstance(ours.cell.kernel_regularizer, kr.regularizers.L2)


def test_trainable_and_dtype_survive_a_round_trip():
    layer = kr.GRU(3, dtype=torch.float64)
    layer.trainable = False
    rebuilt = kr.GRU.from_config(layer.get_config())
    assert rebuilt.trainable is False and rebuilt.get_config()["dtype"]["config"]["name"] == "float64"


def test_a_plain_callable_cannot_go_into_a_configuration_and_the_message_says_which():
    layer = kr.Dense(3, kernel_initializer=torch.nn.init.ones_, name="head")
    with pytest.raises(ValueError, match=r"Dense 'head': `kernel_initializer`: Cannot serialize"):
        layer.get_config()
    with pytest.raises(ValueError, match=r"Dense 'head2': the activation .* has no Keras name"):
        kr.Dense(3, activation=lambda t: t, name="head2").get_config()


def test_unknown_nested_layer_class_is_refused_naming_it():
    config = kr.TimeDistributed(kr.Dense(2)).get_config()
    config["layer"] = {"class_name": "Conv9D", "config": {}}
    with pytest.raises(ValueError, match="a Conv9D layer has no kerasrnn_torch counterpart"):
        kr.TimeDistributed.from_config(config)
