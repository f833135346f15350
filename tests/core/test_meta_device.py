"""Building on the meta device, then to_empty() and loading weights, works for every layer and for models."""
import pytest
import torch

import kerasrnn_torch as kr
from reference import assert_close, as_list

X = torch.randn(2, 5, 3)
IDS = torch.tensor([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2]])

CASES = {
    "SimpleRNN": (lambda: kr.SimpleRNN(4, input_shape=(5, 3), return_sequences=True), X),
    "LSTM": (lambda: kr.LSTM(4, input_shape=(5, 3), return_state=True), X),
    "GRU": (lambda: kr.GRU(4, input_shape=(5, 3), reset_after=False), X),
    "GRU stateful": (lambda: kr.GRU(4, input_shape=(5, 3), stateful=True), X),
    "RNN stacked cells": (lambda: kr.RNN([kr.LSTMCell(4), kr.GRUCell(3)], input_shape=(5, 3)), X),
    "Bidirectional": (lambda: kr.Bidirectional(kr.LSTM(4, return_sequences=True), input_shape=(5, 3)), X),
    "TimeDistributed": (lambda: kr.TimeDistributed(kr.Dense(2), input_shape=(5, 3)), X),
    "Dense": (lambda: kr.Dense(4, input_dim=3), X),
    "Conv1D": (lambda: kr.Conv1D(4, 2, input_shape=(5, 3)), X),
    "BatchNormalization": (lambda: kr.BatchNormalization(input_shape=(5, 3)), X),
    "LayerNormalization": (lambda: kr.LayerNormalization(input_shape=(5, 3)), X),
    "Embedding": (lambda: kr.Embedding(10, 3, mask_zero=True), IDS),
    "ConvLSTM2D": (lambda: kr.ConvLSTM2D(2, 3, padding="same", input_shape=(3, 4, 4, 2)), torch.randn(2, 3, 4, 4, 2)),
    "Sequential built": (lambda: kr.Sequential([kr.Input((5, 3)), kr.LSTM(4, return_sequences=True), kr.Dropout(0.1),
                                                kr.GRU(3), kr.Dense(2)]), X),
    "Sequential unbuilt": (lambda: kr.Sequential([kr.Embedding(10, 3, mask_zero=True),
                                                  kr.LSTM(4, return_sequences=True), kr.GRU(3), kr.Dense(2)]), IDS),
    "Model": (lambda: functional(), X),
}


def functional():
    inputs = kr.Input((5, 3))
    sequence, h, c = kr.LSTM(4, return_sequences=True, return_state=True)(inputs)
    attended = kr.Attention()([sequence, sequence])
    return kr.Model(inputs, kr.Dense(2)(kr.Concatenate()([attended, sequence])))


def built_on_cpu(make, x):
    torch.manual_seed(0)
    module = make()
    module.eval()
    return module, as_list(module(x))


@pytest.mark.parametrize("name", list(CASES))
def test_meta_then_to_empty_then_load_state_dict(name):
    make, x = CASES[name]
    reference, expected = built_on_cpu(make, x)
    with torch.device("meta"):
        module = make()
    assert all(p.device.type == "meta" for p in module.parameters())
    module.to_empty(device="cpu")
    if name == "Sequential unbuilt":
        module(x)   # builds on the CPU, where its placeholders went
    assert all(t.device.type == "cpu" for t in [*module.parameters(), *module.buffers()])
    module.load_state_dict(reference.state_dict())
    module.eval()
    for got, want in zip(as_list(module(x)), expected):
        assert_close(got, want, 0.0, f"{name} loaded after meta")


def test_an_unbuilt_layer_moved_by_to_empty_builds_where_it_was_sent():
    with torch.device("meta"):
        layer = kr.LSTM(4)
    layer.to_empty(device="cpu")
    assert [p.device.type for p in layer.parameters()] == ["cpu"] * 3
    assert layer(X).shape == (2, 4) and layer.cell.kernel.device.type == "cpu"


def test_a_placeholder_keeps_its_identity_when_torch_can_swap_its_storage():
    layer = kr.GRU(4)
    before = list(layer.parameters())
    layer.double()
    assert all(a is b and a.dtype == torch.float64 for a, b in zip(before, layer.parameters()))
    assert layer(X.double()).dtype == torch.float64
