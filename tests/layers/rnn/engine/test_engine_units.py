"""The engine's pieces on their own: weight layouts, mask analysis, Keras's output rules, the right-padded policy."""
import pytest
import torch

from kerasrnn_torch.layers.rnn.engine import fused, keras_outputs, layout, masks


# ------------------------------------------------------------------ layout
def blocks(tensor, count, dim):
    return list(tensor.chunk(count, dim=dim))


@pytest.mark.parametrize("kind, gates", [("simple_rnn", 1), ("lstm", 4), ("gru", 3)])
def test_to_torch_weights_transposes_and_orders_gates_as_pytorch_expects(kind, gates):
    units, features = 2, 3
    kernel = torch.randn(features, gates * units)
    recurrent = torch.randn(units, gates * units)
    bias = torch.randn(gates * units)
    weight_ih, weight_hh, bias_ih, bias_hh = layout.to_torch_weights(kind, kernel, recurrent, bias)
    order = {"gru": (1, 0, 2)}.get(kind, tuple(range(gates)))      # PyTorch's r, z, n against Keras's z, r, h
    for torch_gate, keras_gate in enumerate(order):
        assert torch.equal(blocks(weight_ih, gates, 0)[torch_gate], blocks(kernel, gates, 1)[keras_gate].t())
        assert torch.equal(blocks(weight_hh, gates, 0)[torch_gate], blocks(recurrent, gates, 1)[keras_gate].t())
        assert torch.equal(blocks(bias_ih, gates, 0)[torch_gate], blocks(bias, gates, 0)[keras_gate])
    assert torch.equal(bias_hh, torch.zeros(gates * units))
    back_kernel, back_recurrent, back_bias = layout.from_torch_weights(kind, weight_ih, weight_hh, bias_ih, bias_hh)
    assert torch.equal(back_kernel, kernel) and torch.equal(back_recurrent, recurrent)
    # A GRU comes back in the reset_after form: the input bias row, then the recurrent one (zeros here).
    expected_bias = torch.stack([bias, torch.zeros_like(bias)]) if kind == "gru" else bias
    assert torch.equal(back_bias, expected_bias)


def test_gru_reset_after_bias_rows_become_the_two_pytorch_biases():
    units = 2
    bias = torch.randn(2, 3 * units)
    _, _, bias_ih, bias_hh = layout.to_torch_weights("gru", torch.randn(4, 3 * units), torch.randn(units, 3 * units),
                                                     bias)
    swap = [1, 0, 2]
    assert torch.equal(bias_ih, torch.cat([blocks(bias[0], 3, 0)[i] for i in swap]))
    assert torch.equal(bias_hh, torch.cat([blocks(bias[1], 3, 0)[i] for i in swap]))


def test_the_gate_permutations_follow_from_the_gate_names():
    assert layout.LSTM_GATE_PERMUTATION == (0, 1, 2, 3)
    assert layout.GRU_GATE_PERMUTATION == (1, 0, 2)


# ------------------------------------------------------------------- masks
def mask_of(rows):
    return torch.tensor(rows, dtype=torch.bool)


@pytest.mark.parametrize("rows, kind, empty", [
    ([[1, 1, 1], [1, 1, 1]], "none", False),
    ([[1, 1, 0], [1, 0, 0]], "right_padded", False),
    ([[1, 1, 0], [0, 0, 0]], "right_padded", True),
    ([[1, 0, 1], [1, 1, 1]], "other", False),
    ([[0, 1, 1], [1, 1, 1]], "other", False),
], ids=["full", "right-padded", "empty-row", "hole", "left-padded"])
def test_analyse_classifies_masks(rows, kind, empty):
    found = masks.analyse(mask_of(rows))
    assert found.kind == kind
    if kind == "right_padded":
        assert found.has_empty_rows == empty
        assert found.lengths.tolist() == [sum(r) for r in rows]


def test_analyse_of_an_empty_batch_or_no_mask_is_no_mask():
    assert masks.analyse(None) is masks.NO_MASK
    assert masks.analyse(torch.zeros(0, 3, dtype=torch.bool)).kind == "none"


# -------------------------------------------------------------- Keras's rules
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_shown_steps_follow_keras(zero_output_for_mask):
    reading = mask_of([[0, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 0]])
    shown = keras_outputs.shown_steps(reading, zero_output_for_mask)
    if zero_output_for_mask:
        assert torch.equal(shown, reading)
        assert keras_outputs.last_step_shown(reading, True).tolist() == [True, False, False]
    else:
        assert shown.tolist() == [[False, True, True, True], [False] * 4, [True] * 4]
        assert keras_outputs.last_step_shown(reading, False).tolist() == [True, False, True]


def test_hide_zeros_what_is_not_shown_in_any_rank():
    values = torch.ones(2, 3, 4, 5)
    shown = mask_of([[1, 0, 1], [0, 0, 1]])
    hidden = keras_outputs.hide(values, shown)
    assert hidden[0, 1].abs().sum() == 0 and hidden[0, 0].sum() == 20 and hidden[1, :2].abs().sum() == 0


def test_a_fully_masked_row_keeps_its_initial_states():
    initial, final = [torch.zeros(2, 3)], [torch.ones(2, 3)]
    kept = keras_outputs.keep_initial_states(final, initial, torch.tensor([True, False]))
    assert kept[0][0].sum() == 0 and kept[0][1].sum() == 3


# ------------------------------------------------------------ right-padded runs
def test_held_sequence_holds_the_latest_used_step_in_reading_order():
    outputs = torch.arange(1, 4, dtype=torch.float32).view(1, 3, 1).repeat(3, 1, 1)   # used outputs 1, 2, 3
    reading = mask_of([[1, 1, 1, 0], [1, 1, 0, 0], [0, 1, 0, 1]])
    held = fused.held_sequence(outputs, reading)[..., 0]
    assert held[0].tolist() == [1, 2, 3, 3] and held[1].tolist() == [1, 2, 2, 2]
    assert held[2, 1:].tolist() == [1, 1, 2]            # before the first used step: hidden later


def test_compacted_moves_used_steps_first_in_order():
    mask = mask_of([[0, 1, 0, 1], [1, 1, 0, 0]])
    x = torch.arange(8, dtype=torch.float32).view(2, 4, 1)
    front, right = fused.compacted(x, masks.analyse(mask))
    assert front[0, :2, 0].tolist() == [1, 3] and front[1, :2, 0].tolist() == [4, 5]
    assert right.kind == "right_padded" and right.lengths.tolist() == [2, 2]
    assert right.mask.tolist() == [[True, True, False, False]] * 2


@pytest.mark.parametrize("kind, device, need_cell_state, pack, grad, whole", [
    ("gru", "cpu", False, False, True, True),
    ("gru", "cpu", False, False, False, False),         # without gradients the packed GRU skips the padding
    ("lstm", "cpu", True, False, True, False),          # the final c needs the packed kernel
    ("lstm", "cpu", False, False, True, True),
    ("simple_rnn", "cpu", False, True, True, False),    # pack_on_cpu
    ("simple_rnn", "meta", False, False, True, False),  # not the CPU
])
def test_right_padded_policy(kind, device, need_cell_state, pack, grad, whole):
    with torch.set_grad_enabled(grad):
        run = fused.RightPaddedRun.choose(kind, torch.empty(1, 2, 3, device=device),
                                          need_cell_state=need_cell_state, pack=pack)
    assert run.whole == whole
