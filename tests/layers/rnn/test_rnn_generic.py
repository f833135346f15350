"""The generic RNN(cell): built-in cells on the loop, stacked cells, custom and nested cells."""
import keras
import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, masks_by_name, random_weights, weighted_sum

BATCH, TIMESTEPS, FEATURES = 3, 5, 4

CELLS = {
    "SimpleRNNCell": (lambda: kr.SimpleRNNCell(6), lambda: keras.layers.SimpleRNNCell(6)),
    "LSTMCell": (lambda: kr.LSTMCell(6), lambda: keras.layers.LSTMCell(6)),
    "GRUCell": (lambda: kr.GRUCell(6), lambda: keras.layers.GRUCell(6)),
    "GRUCell_reset_before": (lambda: kr.GRUCell(6, reset_after=False),
                             lambda: keras.layers.GRUCell(6, reset_after=False)),
    "stacked": (lambda: [kr.LSTMCell(5), kr.GRUCell(3), kr.SimpleRNNCell(4)],
                lambda: [keras.layers.LSTMCell(5), keras.layers.GRUCell(3), keras.layers.SimpleRNNCell(4)]),
}


def compare(ours, theirs, *, mask=None):
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    theirs.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(theirs)
    ours(x)  # build
    ours.set_weights(theirs.get_weights())
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours_out = as_list(ours(x1, mask=mask))
    theirs_out = as_list(theirs(x2, mask=mask, training=False))
    flat_ours = [t for o in ours_out for t in (o if isinstance(o, list) else [o])]
    flat_theirs = [t for o in theirs_out for t in (o if isinstance(o, list) else [o])]
    assert len(flat_ours) == len(flat_theirs)
    for i, (a, b) in enumerate(zip(flat_ours, flat_theirs)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")
    weighted_sum(flat_ours).backward()
    weighted_sum(flat_theirs).backward()
    assert_close(x1.grad, x2.grad, GRAD_ATOL, "d/d inputs")
    for mine, ref in zip(ours.parameters(), theirs.weights):
        assert_close(mine.grad, ref.value.grad, GRAD_ATOL, f"d/d {ref.path}")
    return ours


@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("pattern", [None, "right_padded", "holes", "fully_masked_row"])
@pytest.mark.parametrize("cell", CELLS)
def test_rnn_over_cells_matches_keras(cell, pattern, zero_output_for_mask):
    make_ours, make_theirs = CELLS[cell]
    mask = masks_by_name(BATCH, TIMESTEPS)[pattern] if pattern else None
    options = dict(return_sequences=True, return_state=True, zero_output_for_mask=zero_output_for_mask)
    layer = compare(kr.RNN(make_ours(), **options), keras.layers.RNN(make_theirs(), **options), mask=mask)
    assert layer.last_path == "loop"


@pytest.mark.parametrize("options", [{}, {"go_backwards": True, "return_sequences": True},
                                     {"zero_output_for_mask": True}], ids=["last", "backwards", "zero_output"])
def test_rnn_last_output_with_mask_matches_keras(options):
    mask = masks_by_name(BATCH, TIMESTEPS)["right_padded"]
    compare(kr.RNN(kr.LSTMCell(6), **options), keras.layers.RNN(keras.layers.LSTMCell(6), **options), mask=mask)


def test_stacked_states_are_nested_per_cell():
    layer = kr.RNN([kr.LSTMCell(5), kr.GRUCell(3)], return_state=True)
    output, lstm_states, gru_state = layer(torch.randn(2, 4, 3))
    assert output.shape == (2, 3)
    assert [s.shape for s in lstm_states] == [(2, 5), (2, 5)]
    assert isinstance(gru_state, torch.Tensor) and gru_state.shape == (2, 3)
    assert layer.cell.state_size == [[5, 5], 3]


def _stacked_pair(kinds):
    ours = kr.RNN([getattr(kr, k)(u) for k, u in kinds], return_state=True)
    theirs = keras.layers.RNN([getattr(keras.layers, k)(u) for k, u in kinds], return_state=True)
    theirs.build((None, TIMESTEPS, FEATURES))
    ours(torch.zeros(1, TIMESTEPS, FEATURES))
    ours.set_weights(random_weights(theirs, seed=2))
    return ours, theirs


@pytest.mark.parametrize("kinds", [[("SimpleRNNCell", 4), ("GRUCell", 3)],
                                   [("SimpleRNNCell", 4), ("LSTMCell", 3), ("GRUCell", 2)]], ids=["one_state", "mixed"])
def test_stacked_return_state_gives_one_tensor_per_one_state_cell_as_keras(kinds):
    ours, theirs = _stacked_pair(kinds)
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    # Keras 3's structure: a tensor per one-state cell, [h, c] for an LSTMCell (its functional outputs;
    # eagerly Keras gives this structure when initial_state is passed in it).
    flat_initial = [torch.randn(BATCH, u) for k, u in kinds for _ in range(2 if k == "LSTMCell" else 1)]
    nested_initial, leaves = [], iter(flat_initial)
    for k, _ in kinds:
        nested_initial.append([next(leaves), next(leaves)] if k == "LSTMCell" else next(leaves))
    expected = theirs(x, initial_state=nested_initial)
    for initial in (nested_initial, flat_initial):
        result = ours(x, initial_state=initial)
        assert len(result) == len(kinds) + 1
        for (kind, _), got, want in zip(kinds, result[1:], expected[1:]):
            if kind == "LSTMCell":
                assert isinstance(got, list) and len(got) == 2
                for g, w in zip(got, want):
                    assert_close(g, w)
            else:
                assert isinstance(got, torch.Tensor)
                assert_close(got, want)
        assert_close(result[0], expected[0])
    default = ours(x)
    assert [type(s).__name__ for s in default[1:]] == ["list" if k == "LSTMCell" else "Tensor" for k, _ in kinds]
    if all(k != "LSTMCell" for k, _ in kinds):
        output, *states = keras.Model(*(lambda i: (i, theirs(i)))(keras.Input((TIMESTEPS, FEATURES))))(x)
        for got, want in zip(default[1:], states):
            assert_close(got, want)


class MinimalCell(nn.Module):
    """A custom cell written for PyTorch: h = tanh(x W + h U)."""

    def __init__(self, input_dim, units):
        super().__init__()
        self.state_size = units
        self.kernel = nn.Parameter(torch.randn(input_dim, units) * 0.3)
        self.recurrent_kernel = nn.Parameter(torch.randn(units, units) * 0.3)

    def forward(self, inputs, states):
        h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]


class KerasMinimalCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

    def call(self, inputs, states):
        h = keras.ops.tanh(keras.ops.matmul(inputs, self.kernel) + keras.ops.matmul(states[0], self.recurrent_kernel))
        return h, [h]


@pytest.mark.parametrize("pattern", [None, "holes"])
def test_custom_cell_matches_keras_custom_cell(pattern):
    mask = masks_by_name(BATCH, TIMESTEPS)[pattern] if pattern else None
    options = dict(return_sequences=True, return_state=True, go_backwards=True)
    compare(kr.RNN(MinimalCell(FEATURES, 6), **options), keras.layers.RNN(KerasMinimalCell(6), **options), mask=mask)


class NestedCell(nn.Module):
    """The seed's NestedCell: nested inputs (i1,) and (i2, i3), nested states, nested outputs."""

    def __init__(self, unit_1, unit_2, unit_3):
        super().__init__()
        self.state_size = [unit_1, torch.Size([unit_2, unit_3])]
        self.output_size = [unit_1, torch.Size([unit_2, unit_3])]
        self.units = (unit_1, unit_2, unit_3)
        self.built = False

    def build(self, input_shapes):
        i1 = input_shapes[0][1]
        i2, i3 = input_shapes[1][1], input_shapes[1][2]
        unit_1, unit_2, unit_3 = self.units
        self.kernel_1 = nn.Parameter(torch.rand(i1, unit_1) * 0.1)
        self.kernel_2_3 = nn.Parameter(torch.rand(i2, i3, unit_2, unit_3) * 0.1)

    def forward(self, inputs, states):
        input_1, input_2 = inputs
        s1, s2 = states
        output_1 = input_1 @ self.kernel_1
        output_2_3 = torch.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        return (output_1, output_2_3), [s1 + output_1, s2 + output_2_3]


def test_nested_cell_runs_and_accumulates():
    cell = NestedCell(2, 3, 4)
    layer = kr.RNN(cell, return_sequences=True, return_state=True)
    x1, x2 = torch.randn(5, 7, 6), torch.randn(5, 7, 8, 9)
    (out_1, out_2_3), state_1, state_2_3 = layer((x1, x2))
    assert out_1.shape == (5, 7, 2) and out_2_3.shape == (5, 7, 3, 4)
    assert state_1.shape == (5, 2) and state_2_3.shape == (5, 3, 4)
    # The states sum the per-step outputs.
    assert_close(state_1, out_1.sum(1), 1e-5)
    assert_close(state_2_3, out_2_3.sum(1), 1e-5)
    state_1.sum().backward()
    assert cell.kernel_1.grad is not None


def test_nested_cell_with_mask_keeps_state_on_masked_steps():
    layer = kr.RNN(NestedCell(2, 3, 4), return_state=True)
    x = (torch.randn(2, 4, 6), torch.randn(2, 4, 8, 9))
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    _, s1, s2 = layer(x, mask=mask)
    _, t1, t2 = layer((x[0][:, :2], x[1][:, :2]))
    assert_close(s1[0], t1[0], 1e-5)
    assert_close(s2[0], t2[0], 1e-5)


def test_rnn_force_fused_refuses_generic_layer():
    layer = kr.RNN(kr.LSTMCell(4))
    with pytest.raises(ValueError, match="generic RNN"):
        with kr.force_path("fused"):
            layer(torch.randn(2, 3, 5))
