"""`implementation=`: Keras's argument is accepted on LSTM, GRU and their cells, with the same numbers."""
import keras
import pytest
import torch

import kerasrnn_torch as kr
from tests.reference import assert_close, random_weights


@pytest.mark.parametrize("name, values", [("LSTM", (1, 2)), ("GRU", (0, 1, 2))])
def test_every_keras_value_gives_keras_numbers(name, values):
    x = torch.randn(3, 5, 4)
    for implementation in values:
        theirs = getattr(keras.layers, name)(6, implementation=implementation, return_sequences=True)
        theirs.build((None, 5, 4))
        weights = random_weights(theirs, seed=implementation)
        ours = getattr(kr, name)(6, implementation=implementation, return_sequences=True, input_dim=4)
        ours.set_weights(weights)
        assert ours.implementation == theirs.cell.implementation == implementation
        assert_close(ours(x), theirs(x), what=f"{name}(implementation={implementation})")


@pytest.mark.parametrize("cell, values", [("LSTMCell", (1, 2)), ("GRUCell", (0, 1, 2))])
def test_cells_accept_it_and_recurrent_dropout_makes_it_one_as_keras(cell, values):
    for implementation in values:
        assert getattr(kr, cell)(3, implementation=implementation).implementation == implementation
    ours = getattr(kr, cell)(3, implementation=2, recurrent_dropout=0.5)
    theirs = getattr(keras.layers, cell)(3, implementation=2, recurrent_dropout=0.5)
    assert ours.implementation == theirs.implementation == 1


@pytest.mark.parametrize("factory, allowed", [
    (lambda: kr.LSTM(3, implementation=0), "1, 2"), (lambda: kr.GRU(3, implementation=3), "0, 1, 2"),
    (lambda: kr.LSTMCell(3, implementation="2"), "1, 2")])
def test_other_values_are_refused_naming_the_layer(factory, allowed):
    with pytest.raises(ValueError, match=rf"(LSTM|GRU)Cell '\w+': `implementation` must be one of {allowed}; got"):
        factory()
