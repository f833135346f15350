"""Recurrent kernels keep Keras's shape in PyTorch's memory order (column-major).

The fused kernels take `weight_ih (k*units, input_dim)`; a Keras `kernel (input_dim, k*units)` stored
column-major is that matrix transposed, so the fused path reads it without a copy (LSTM and SimpleRNN;
GRU reorders its gates) and the kernels' weight gradients accumulate without a transposing copy.
"""
import pickle

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch import initializers

LAYERS = {"lstm": kr.LSTM, "gru": kr.GRU, "simple_rnn": kr.SimpleRNN}
KERNELS = ("kernel", "recurrent_kernel")


def column_major(tensor):
    return tensor.dim() == 2 and tensor.t().is_contiguous() and not tensor.is_contiguous()


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("built", ["from a shape hint", "on the first call"])
def test_recurrent_kernels_are_column_major_in_keras_shape(name, built):
    if built == "from a shape hint":
        layer = LAYERS[name](6, input_dim=4)
    else:
        layer = LAYERS[name](6)
        layer(torch.randn(2, 3, 4))
    gates = {"lstm": 4, "gru": 3, "simple_rnn": 1}[name]
    assert tuple(layer.cell.kernel.shape) == (4, gates * 6)
    assert tuple(layer.cell.recurrent_kernel.shape) == (6, gates * 6)
    for weight in KERNELS:
        assert column_major(getattr(layer.cell, weight)), weight
    assert [tuple(w.shape) for w in layer.get_weights()[:2]] == [(4, gates * 6), (6, gates * 6)]


@pytest.mark.parametrize("name", ["lstm", "simple_rnn"])
def test_the_fused_path_reads_lstm_and_simple_rnn_kernels_without_a_copy(name):
    layer = LAYERS[name](5, input_dim=3)
    weight_ih, weight_hh = layer.torch_weights()[:2]
    assert weight_ih.data_ptr() == layer.cell.kernel.data_ptr()
    assert weight_hh.data_ptr() == layer.cell.recurrent_kernel.data_ptr()
    assert weight_ih.is_contiguous() and weight_hh.is_contiguous()


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("path", ["fused", "loop"])
def test_gradients_keep_the_weights_memory_order(name, path):
    layer = LAYERS[name](5, input_dim=3, use_cudnn=path == "fused")
    for _ in range(2):                       # the first gradient is stored, the second accumulated
        layer(torch.randn(4, 6, 3)).sum().backward()
    assert layer.last_path == path
    for weight in KERNELS:
        parameter = getattr(layer.cell, weight)
        assert parameter.grad.stride() == parameter.stride(), weight


def test_the_layout_does_not_change_the_numbers_or_the_seeded_draws():
    """A seeded initializer draws in the logical order: the same values as into a contiguous tensor."""
    seeded = initializers.GlorotUniform(seed=7)
    layer = kr.LSTM(5, input_dim=3, kernel_initializer=seeded)
    expected = initializers.apply(initializers.GlorotUniform(seed=7), torch.empty(3, 20))
    torch.testing.assert_close(layer.cell.kernel, expected, rtol=0, atol=0)

    contiguous = kr.LSTM(5, input_dim=3)
    contiguous.set_weights(layer.get_weights())
    for weight in KERNELS:
        parameter = getattr(contiguous.cell, weight)
        parameter.data = parameter.data.contiguous()
    x = torch.randn(2, 7, 3)
    for use_cudnn in (True, False):
        layer.use_cudnn = contiguous.use_cudnn = use_cudnn
        torch.testing.assert_close(layer(x), contiguous(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_the_layout_survives_moves_copies_and_loading(name):
    layer = LAYERS[name](4, input_dim=3)
    for moved in (layer.double(), pickle.loads(pickle.dumps(layer)),
                  LAYERS[name](4, input_dim=3, device="meta").to_empty(device="cpu")):
        for weight in KERNELS:
            assert column_major(getattr(moved.cell, weight)), (type(moved).__name__, weight)
    fresh = LAYERS[name](4, input_dim=3)
    fresh.load_state_dict(LAYERS[name](4, input_dim=3).state_dict())     # contiguous tensors loaded in
    fresh.set_weights([np.ascontiguousarray(w) for w in fresh.get_weights()])
    for weight in KERNELS:
        assert column_major(getattr(fresh.cell, weight)), weight
