"""keras-io programs train with their own compile/fit lines, only the library changed.

The models come from tests/io/test_keras_io_programs.py (the keras-io code with the library passed
in) and the seq2seq of tests/models/test_functional.py (the Keras RNN guide's, as keras-io's
lstm_seq2seq). Each program's `compile` and `fit` are written here as keras-io writes them, on
random data of the programs' shapes. With `shuffle=False` the histories equal Keras's; as written
(shuffled), training lowers the loss.
"""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from tests.io.test_keras_io_programs import addition_rnn, bidirectional_lstm_imdb, weather_forecasting
from tests.models.test_functional import N_SRC, N_TGT, seq2seq

rng = np.random.default_rng(5)


def imdb(lib, model, shuffle):
    x = rng.integers(1, 50, (64, 9)).astype("int32")
    y = rng.integers(0, 2, (64,)).astype("float32")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model.fit(x[:48], y[:48], batch_size=16, epochs=2, validation_data=(x[48:], y[48:]), shuffle=shuffle,
                     verbose=0)


def addition(lib, model, shuffle):
    x = (rng.random((60, 7, 12)) > 0.8).astype("float32")
    y = np.eye(12, dtype="float32")[rng.integers(0, 12, (60, 4))]
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model.fit(x[:48], y[:48], batch_size=16, epochs=2, validation_data=(x[48:], y[48:]), shuffle=shuffle,
                     verbose=0)


def weather(lib, model, shuffle):
    x = rng.normal(size=(64, 12, 7)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    model.compile(optimizer=lib.optimizers.Adam(learning_rate=0.001), loss="mse")
    callbacks = [lib.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)]
    return model.fit(x[:48], y[:48], epochs=2, validation_data=(x[48:], y[48:]), callbacks=callbacks,
                     shuffle=shuffle, verbose=0)


def lstm_seq2seq(lib, model, shuffle):
    encoder_input = rng.normal(size=(40, 6, N_SRC)).astype("float32")
    decoder_input = np.eye(N_TGT, dtype="float32")[rng.integers(0, N_TGT, (40, 4))]
    decoder_target = np.eye(N_TGT, dtype="float32")[rng.integers(0, N_TGT, (40, 4))]
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model.fit([encoder_input, decoder_input], decoder_target, batch_size=8, epochs=2, validation_split=0.2,
                     shuffle=shuffle, verbose=0)


PROGRAMS = {
    "bidirectional_lstm_imdb": (bidirectional_lstm_imdb, imdb),
    "addition_rnn": (addition_rnn, addition),
    "timeseries_weather_forecasting": (weather_forecasting, weather),
    "lstm_seq2seq": (lambda lib: seq2seq(lib)[0], lstm_seq2seq),
}


@pytest.mark.parametrize("program", PROGRAMS)
def test_keras_io_fit_gives_keras_s_history(program):
    build, train = PROGRAMS[program]
    state = rng.bit_generator.state
    keras.utils.set_random_seed(2)
    theirs = build(keras)
    ours = build(kr)
    ours.set_weights(theirs.get_weights())
    expected = train(keras, theirs, shuffle=False).history
    rng.bit_generator.state = state                  # the same data for both
    got = train(kr, ours, shuffle=False).history
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], atol=1e-4, rtol=0, err_msg=key)


@pytest.mark.parametrize("program", PROGRAMS)
def test_keras_io_fit_as_written_trains(program):
    build, train = PROGRAMS[program]
    torch.manual_seed(0)
    model = build(kr)
    history = train(kr, model, shuffle=True).history
    assert all(np.isfinite(history["loss"]))
    assert len(history["loss"]) == 2 and "val_loss" in history
