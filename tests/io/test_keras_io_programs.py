"""keras-io programs' models, written once and built in Keras 3 and here: the same layers, weights and numbers.

Each builder below is the keras-io code with the library passed in (sizes cut
down for the test), so what a user ports by changing `keras.` to `kr.` is
what runs here.
"""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import assert_close, random_weights


def layers_of(lib):
    return keras.layers if lib is keras else lib


def bidirectional_lstm_imdb(lib, max_features=50):
    """keras-io nlp/bidirectional_lstm_imdb.py."""
    layers = layers_of(lib)
    inputs = lib.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 16)(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(8))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return lib.Model(inputs, outputs)


def addition_rnn(lib, maxlen=7, chars=12, digits=3):
    """keras-io nlp/addition_rnn.py (Keras 3 version: Sequential starting with an Input)."""
    layers = layers_of(lib)
    return lib.Sequential([
        lib.Input(shape=(maxlen, chars)),
        layers.LSTM(16),
        layers.RepeatVector(digits + 1),
        layers.LSTM(16, return_sequences=True),
        layers.Dense(chars, activation="softmax"),
    ])


def weather_forecasting(lib):
    """keras-io timeseries/timeseries_weather_forecasting.py."""
    inputs = layers_of(lib).Input(shape=(12, 7)) if lib is keras else kr.Input(shape=(12, 7))
    lstm_out = layers_of(lib).LSTM(32)(inputs)
    outputs = layers_of(lib).Dense(1)(lstm_out)
    return lib.Model(inputs=inputs, outputs=outputs)


def pretrained_word_embeddings(lib, num_tokens=40, embedding_dim=8, classes=5):
    """keras-io nlp/pretrained_word_embeddings.py (its 1D convnet)."""
    layers = layers_of(lib)
    int_sequences_input = lib.Input(shape=(None,), dtype="int64")
    embedded_sequences = layers.Embedding(num_tokens, embedding_dim)(int_sequences_input)
    x = layers.Conv1D(16, 3, activation="relu")(embedded_sequences)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(16, 3, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    preds = layers.Dense(classes, activation="softmax")(x)
    return lib.Model(int_sequences_input, preds)


def masking_guide(lib):
    """Keras guide 'Understanding masking & padding': a functional model whose mask flows from the Embedding."""
    layers = layers_of(lib)
    inputs = lib.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=50, output_dim=8, mask_zero=True)(inputs)
    outputs = layers.LSTM(8)(x)
    return lib.Model(inputs, outputs)


def multi_input_output(lib, num_tags=4, num_words=30, num_departments=3):
    """Keras guide 'The Functional API': the ticket-ranking model with three inputs and two outputs."""
    layers = layers_of(lib)
    title_input = lib.Input(shape=(None,), name="title")
    body_input = lib.Input(shape=(None,), name="body")
    tags_input = lib.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 8)(title_input)
    body_features = layers.Embedding(num_words, 8)(body_input)
    title_features = layers.LSTM(6)(title_features)
    body_features = layers.LSTM(5)(body_features)
    x = layers.Concatenate()([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    return lib.Model(inputs=[title_input, body_input, tags_input],
                     outputs={"priority": priority_pred, "department": department_pred})


def ids(*shape, high=30):
    return torch.randint(1, high, shape)


PROGRAMS = {
    "bidirectional_lstm_imdb": (bidirectional_lstm_imdb, lambda: [ids(3, 9, high=50)]),
    "addition_rnn": (addition_rnn, lambda: [torch.rand(3, 7, 12)]),
    "weather_forecasting": (weather_forecasting, lambda: [torch.randn(3, 12, 7)]),
    "pretrained_word_embeddings": (pretrained_word_embeddings, lambda: [ids(3, 20, high=40)]),
    "masking_guide": (masking_guide, lambda: [torch.tensor([[3, 4, 0, 0], [1, 2, 3, 0], [5, 0, 0, 0]])]),
    "multi_input_output": (multi_input_output, lambda: [ids(3, 6), ids(3, 9), torch.rand(3, 4)]),
}


@pytest.mark.parametrize("program", PROGRAMS)
def test_keras_io_model_gives_keras_numbers_with_keras_weights(program):
    build, make_inputs = PROGRAMS[program]
    theirs = build(keras)
    ours = build(kr)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    ours.set_weights(random_weights(theirs))
    ours.eval()
    inputs = make_inputs()
    expected = theirs(inputs if len(inputs) > 1 else inputs[0], training=False)
    got = ours(inputs if len(inputs) > 1 else inputs[0])
    if isinstance(expected, dict):
        assert set(got) == set(expected)
        for key in expected:
            assert_close(got[key], expected[key], what=key)
    else:
        assert_close(got, expected)


def test_keras_io_summaries_count_what_keras_counts():
    for build, _ in PROGRAMS.values():
        ours, theirs = build(kr), build(keras)
        text = ours.summary(print_fn=None)
        assert f"Total params: {theirs.count_params():,}" in text
        assert len(ours.layers) == len(theirs.layers) - (1 if isinstance(theirs, keras.Sequential) else 0) or \
            len(ours.layers) == len(theirs.layers)


def test_the_ported_multi_input_model_trains():
    torch.manual_seed(0)
    model = multi_input_output(kr)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    title, body, tags = ids(16, 6), ids(16, 9), torch.rand(16, 4)
    priority, department = torch.rand(16, 1), torch.randint(0, 3, (16,))
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        out = model({"title": title, "body": body, "tags": tags})
        loss = torch.nn.functional.mse_loss(out["priority"], priority) + \
            torch.nn.functional.cross_entropy(out["department"], department)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    assert all(np.isfinite(losses))
