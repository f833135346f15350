"""A cell subclass's own step is what runs, on every path; fused eligibility is declared, never inherited."""
import pytest
import torch

import kerasrnn_torch as kr
from reference import assert_close


class Doubling(kr.LSTMCell):
    """Overrides forward, the PyTorch way: its outputs and states are twice the LSTM's."""

    def forward(self, inputs, states, training=None):
        output, (h, c) = super().forward(inputs, states, training=training)
        return 2 * output, [2 * h, c]


class DoublingLSTM(kr.LSTM):
    cell_class = Doubling


class Logging(kr.LSTMCell):
    """Keeps the LSTM's math while overriding forward, and says so."""
    fused_kernel = "lstm"
    calls = 0

    def forward(self, inputs, states, training=None):
        Logging.calls += 1
        return super().forward(inputs, states, training=training)


class LoggingLSTM(kr.LSTM):
    cell_class = Logging


class HalvingStep(kr.GRUCell):
    """Overrides the step protocol itself: outputs and states halved."""

    def make_step(self, masks):
        step = super().make_step(masks)

        def halved(projected, states):
            output, new_states = step(projected, states)
            return 0.5 * output, [0.5 * s for s in new_states]
        return halved


class UnknownKernel(kr.LSTMCell):
    fused_kernel = "qrnn"


def by_hand(cell, x, reverse=False):
    """The cell called step by step: what the layer must give."""
    states = cell.get_initial_state(x.shape[0])
    outputs = []
    for t in (reversed(range(x.shape[1])) if reverse else range(x.shape[1])):
        output, states = cell(x[:, t], states)
        outputs.append(output)
    return torch.stack(outputs, dim=1), states


def test_an_overridden_forward_runs_inside_rnn():
    cell = Doubling(4, input_dim=3)
    x = torch.randn(2, 5, 3)
    expected, _ = by_hand(cell, x)
    assert_close(kr.RNN(cell, return_sequences=True)(x), expected)


@pytest.mark.parametrize("path", ["auto", "loop"])
def test_a_layer_subclass_with_a_changed_step_runs_its_step_never_the_kernel(path):
    layer = DoublingLSTM(4, return_sequences=True, input_dim=3)
    x = torch.randn(2, 5, 3)
    with kr.force_path(path):
        got = layer(x)
    assert layer.last_path == "loop"
    assert_close(got, by_hand(layer.cell, x)[0])
    assert "Doubling computes a step of its own" in layer.dispatch_reason()
    plain = kr.LSTM(4, return_sequences=True, input_dim=3)
    plain.set_weights(layer.get_weights())
    assert not torch.allclose(plain(x), got)


def test_the_fused_kernel_cannot_be_forced_on_a_changed_step():
    layer = DoublingLSTM(4, input_dim=3, use_cudnn=True)
    with pytest.raises(ValueError, match="use_cudnn=True was given but the fused kernel cannot run: Doubling"):
        layer(torch.randn(2, 5, 3))
    with kr.force_path("fused"), pytest.raises(ValueError, match="Doubling computes a step of its own"):
        DoublingLSTM(4, input_dim=3)(torch.randn(2, 5, 3))


def test_bidirectional_runs_the_subclass_step_in_both_directions():
    layer = kr.Bidirectional(DoublingLSTM(4, return_sequences=True), input_dim=3)
    x = torch.randn(2, 5, 3)
    got = layer(x)
    assert layer.last_path == "loop"
    forward, _ = by_hand(layer.forward_layer.cell, x)
    backward, _ = by_hand(layer.backward_layer.cell, x, reverse=True)
    assert_close(got, torch.cat([forward, backward.flip(1)], dim=-1))


def test_a_declared_kernel_keeps_the_fused_path_and_the_numbers():
    layer = LoggingLSTM(4, return_sequences=True, input_dim=3)
    plain = kr.LSTM(4, return_sequences=True, input_dim=3)
    plain.set_weights(layer.get_weights())
    x = torch.randn(2, 5, 3)
    assert_close(layer(x), plain(x))
    assert layer.last_path == "fused"
    before = Logging.calls
    with kr.force_path("loop"):
        assert_close(layer(x), plain(x))
    assert Logging.calls == before + 5          # the loop calls the subclass's forward once per step


def test_an_overridden_step_protocol_is_used_by_the_loop():
    cell = HalvingStep(4, input_dim=3)
    x = torch.randn(2, 5, 3)
    layer = kr.RNN(cell, return_sequences=True)
    assert_close(layer(x), by_hand(cell, x)[0])

    class HalvingGRU(kr.GRU):
        cell_class = HalvingStep
    gru = HalvingGRU(4, return_sequences=True, input_dim=3)
    assert_close(gru(x), by_hand(gru.cell, x)[0])
    assert gru.last_path == "loop"


def test_a_kernel_that_does_not_exist_is_a_reason_not_a_crash():
    class UnknownLSTM(kr.LSTM):
        cell_class = UnknownKernel
    layer = UnknownLSTM(4, input_dim=3)
    layer(torch.randn(2, 5, 3))
    assert layer.last_path == "loop"
    assert "declares fused_kernel='qrnn'" in layer.dispatch_reason()


# ------------------------------------------------------ cell arguments on a layer
@pytest.mark.parametrize("name, value", [("recurrent_dropout", 0.5), ("units", 8), ("activation", "relu"),
                                         ("dropout", 0.1), ("use_bias", False)])
def test_assigning_a_cell_argument_on_the_layer_is_refused(name, value):
    layer = kr.LSTM(4, input_dim=3)
    with pytest.raises(AttributeError, match=rf"LSTM '\w+': `{name}` is an argument of its cell"):
        setattr(layer, name, value)
    assert getattr(layer, name) == getattr(layer.cell, name)


def test_changes_on_the_cell_and_layer_flags_reach_the_dispatch():
    layer = kr.LSTM(4, input_dim=3)
    x = torch.randn(2, 5, 3)
    layer(x)
    assert layer.last_path == "fused"
    layer.cell.recurrent_dropout = 0.5
    assert "recurrent_dropout=0.5" in layer.dispatch_reason()
    layer.train()(x)
    assert layer.last_path == "loop"
    layer.cell.recurrent_dropout = 0.0
    layer.unroll = True
    layer(x)
    assert layer.last_path == "loop"
    layer.unroll = False
    layer.use_cudnn = False
    layer(x)
    assert layer.last_path == "loop"


class Gated(kr.Layer):
    """A custom cell with a weight the built-in cells do not have."""
    state_size = 3

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], 3), "glorot_uniform")
        self.add_weight("gate", (3,), "random_normal")
        self.built = True

    def forward(self, inputs, states):
        h = torch.tanh(inputs @ self.kernel + states[0] * torch.sigmoid(self.gate))
        return h, [h]


def test_the_backward_copy_draws_every_weight_afresh_and_restarts_seeded_streams():
    layer = kr.RNN(Gated(), return_sequences=True)
    layer(torch.randn(2, 4, 5))
    bidirectional = kr.Bidirectional(layer)
    forward, backward = bidirectional.forward_layer.cell, bidirectional.backward_layer.cell
    for name in ("kernel", "gate"):
        assert not torch.equal(getattr(forward, name), getattr(backward, name)), name
    assert backward.gate.data_ptr() != forward.gate.data_ptr()

    seeded = kr.LSTM(3, dropout=0.5, seed=4, input_dim=2)
    seeded.train()(torch.randn(2, 3, 2))              # the forward layer's stream has moved on
    pair = kr.Bidirectional(seeded)
    x = torch.randn(2, 3, 2)
    fresh = kr.LSTM(3, dropout=0.5, seed=4, input_dim=2, go_backwards=True)
    fresh.set_weights(pair.backward_layer.get_weights())
    assert torch.equal(pair.backward_layer.train()(x), fresh.train()(x))


def test_reset_weights_redraws_from_the_initializers():
    cell = kr.LSTMCell(4, input_dim=3)
    before = cell.get_weights()
    cell.reset_weights()
    after = cell.get_weights()
    assert not (after[0] == before[0]).all() and not (after[1] == before[1]).all()
    assert (after[2][4:8] == 1).all() and (after[2][:4] == 0).all()    # unit_forget_bias, as build made it


class GridCell(kr.Layer):
    """A protocol cell whose steps are 2-D: inputs (batch, 2, 3), states (batch, 2, 4), as a spatial cell's."""
    step_rank = 3
    state_size = [torch.Size([2, 4])]
    projections = 0

    def build(self, input_shape):
        self.add_weight("kernel", (3, 4), "glorot_uniform")
        self.add_weight("recurrent_kernel", (4, 4), "orthogonal")
        self.built = True

    def dropout_masks(self, batch, training, like):
        return None

    def project(self, inputs, masks):
        GridCell.projections += 1
        return inputs @ self.kernel

    def make_step(self, masks):
        def step(projected, states):
            h = torch.tanh(projected + states[0] @ self.recurrent_kernel)
            return h, [h]
        return step

    def forward(self, inputs, states, training=None):
        return self.make_step(None)(self.project(inputs, None), list(states))


@pytest.mark.parametrize("go_backwards", [False, True])
def test_a_cell_with_multi_axis_steps_runs_the_hoisted_loop_with_masks(go_backwards):
    cell = GridCell()
    layer = kr.RNN(cell, return_sequences=True, go_backwards=go_backwards)
    x = torch.randn(3, 5, 2, 3)
    mask = torch.tensor([[True] * 5, [True, True, False, True, False], [False] * 5])
    layer(x[:, :1])                                           # builds
    before = GridCell.projections
    got = layer(x, mask=mask)
    assert GridCell.projections == before + 1                # one projection of the whole sequence
    # By hand, with Keras's rules: masked steps hold the state; zeros before a row's first used step.
    h = torch.zeros(3, 2, 4)
    expected, seen = [], torch.zeros(3, dtype=torch.bool)
    for t in (reversed(range(5)) if go_backwards else range(5)):
        new = torch.tanh(x[:, t] @ cell.kernel + h @ cell.recurrent_kernel)
        h = torch.where(mask[:, t].view(-1, 1, 1), new, h)
        seen |= mask[:, t]
        expected.append(torch.where(seen.view(-1, 1, 1), h, torch.zeros_like(h)))
    assert_close(got, torch.stack(expected, dim=1))
    with pytest.raises(ValueError, match=r"expects input of shape a 4-D \(batch, timesteps, \.\.\.\)"):
        layer(torch.randn(3, 5, 6))
