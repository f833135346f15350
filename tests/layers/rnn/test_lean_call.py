"""The lean fused call: a plain call (no mask, no initial_state, not stateful) skips the general
forward's machinery; it must give exactly the general path's numbers and follow every change
of setting, weight, batch size, dtype and grad mode."""
import copy
import pickle
import sys
import threading

import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.rnn import RNN

LAYERS = {"lstm": kr.LSTM, "gru": kr.GRU, "simple_rnn": kr.SimpleRNN}


def zeros_for(layer, batch):
    units = layer.units
    count = 2 if isinstance(layer, kr.LSTM) else 1
    return [torch.zeros(batch, units) for _ in range(count)]


@pytest.fixture
def general_forward_calls(monkeypatch):
    """Counts the calls that reach RNN.forward, the general path."""
    calls = []
    original = RNN.forward

    def spy(self, *args, **kwargs):
        calls.append(self)
        return original(self, *args, **kwargs)
    monkeypatch.setattr(RNN, "forward", spy)
    return calls


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_plain_call_skips_the_general_forward(kind, general_forward_calls):
    layer = LAYERS[kind](5, input_dim=3)
    out = layer(torch.randn(2, 4, 3))
    assert out.shape == (2, 5) and layer.last_path == "fused"
    assert general_forward_calls == []
    layer(torch.randn(2, 4, 3), mask=torch.tensor([[True] * 4, [True, True, False, False]]))   # a plain mask too
    assert general_forward_calls == []
    with pytest.raises(TypeError, match="mask must be a bool tensor"):                  # a bad one is explained
        layer(torch.randn(2, 4, 3), mask=torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, timesteps\) = \(2, 4\)"):
        layer(torch.randn(2, 4, 3), mask=torch.ones(2, 5, dtype=torch.bool))
    assert general_forward_calls == [layer, layer]


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("pattern", ["right_padded", "left_padded", "fully_masked_row", "all_true"])
@pytest.mark.parametrize("flags", [(False, False, False), (True, True, False), (True, True, True),
                                   (False, True, True)], ids=["last", "seq_state", "seq_state_back", "state_back"])
def test_lean_masked_call_equals_the_general_path(kind, pattern, flags):
    from reference import masks_by_name
    return_sequences, return_state, go_backwards = flags
    layer = LAYERS[kind](5, input_dim=3, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards)
    x = torch.randn(3, 6, 3)
    mask = masks_by_name(3, 6)[pattern]
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            lean = layer(x, mask=mask)
            general = RNN.forward(layer, x, mask=mask)
        lean, general = (lean, general) if return_state else ((lean,), (general,))
        assert len(lean) == len(general)
        for a, b in zip(lean, general):
            assert torch.equal(a, b)


def test_plain_bidirectional_call_runs_one_two_way_kernel(general_forward_calls):
    bi = kr.Bidirectional(kr.LSTM(5, return_sequences=True), input_shape=(4, 3))
    out = bi(torch.randn(2, 4, 3))
    assert out.shape == (2, 4, 10) and bi.last_path == "fused"
    assert bi.forward_layer.last_path == bi.backward_layer.last_path == "fused"
    assert general_forward_calls == []


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lean_call_equals_the_general_path(kind, return_sequences, return_state, go_backwards):
    layer = LAYERS[kind](5, input_dim=3, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards)
    x = torch.randn(2, 4, 3)
    lean = layer(x)
    general = layer(x, initial_state=zeros_for(layer, 2))       # an initial_state takes the general path
    lean, general = (lean, general) if return_state else ((lean,), (general,))
    assert len(lean) == len(general)
    for a, b in zip(lean, general):
        assert torch.equal(a, b)


@pytest.mark.parametrize("cls", [kr.LSTM, kr.GRU])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
def test_lean_bidirectional_equals_the_general_path(cls, merge_mode, return_sequences, return_state):
    bi = kr.Bidirectional(cls(5, return_sequences=return_sequences, return_state=return_state),
                          merge_mode=merge_mode, input_shape=(4, 3))
    x = torch.randn(2, 4, 3)
    lean = bi(x)
    general = bi(x, initial_state=zeros_for(bi.forward_layer, 2) * 2)
    flat = [t for item in (lean if isinstance(lean, tuple) else (lean,))
            for t in (item if isinstance(item, tuple) else (item,))]
    flat_general = [t for item in (general if isinstance(general, tuple) else (general,))
                    for t in (item if isinstance(item, tuple) else (item,))]
    assert len(flat) == len(flat_general) >= 1
    for a, b in zip(flat, flat_general):
        assert torch.equal(a, b)


@pytest.mark.parametrize("change, path", [
    (lambda layer: setattr(layer.cell, "activation", kr.activations.get("relu")), "loop"),
    (lambda layer: setattr(layer, "use_cudnn", False), "loop"),
    (lambda layer: setattr(layer, "unroll", True), "loop"),
    (lambda layer: setattr(layer.cell, "recurrent_activation", kr.activations.get("hard_sigmoid")), "loop"),
    (lambda layer: setattr(layer.cell, "recurrent_dropout", 0.3), "loop"),
    (lambda layer: None, "fused"),
], ids=["activation", "use_cudnn", "unroll", "recurrent_activation", "recurrent_dropout", "nothing"])
def test_setting_changes_after_a_call_change_the_path(change, path):
    layer = kr.LSTM(5, input_dim=3)
    x = torch.randn(2, 4, 3)
    layer(x)
    assert layer.last_path == "fused"
    change(layer)
    layer.eval()     # recurrent_dropout draws nothing in inference
    out = layer(x)
    assert layer.last_path == path
    with kr.force_path("loop"):
        torch.testing.assert_close(out, layer(x), atol=1e-6, rtol=1e-5)


def test_force_path_is_read_at_every_call():
    layer = kr.GRU(5, input_dim=3)
    x = torch.randn(2, 4, 3)
    layer(x)
    with kr.force_path("loop"):
        layer(x)
        assert layer.last_path == "loop"
    layer(x)
    assert layer.last_path == "fused"


def test_input_dropout_in_training_takes_the_general_path(general_forward_calls):
    layer = kr.LSTM(5, input_dim=3, dropout=0.5)
    x = torch.randn(2, 4, 3)
    layer.eval()
    layer(x)
    assert general_forward_calls == []
    layer.train()
    layer(x)
    assert general_forward_calls == [layer]


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_zero_states_follow_batch_size_and_dtype(kind):
    layer = LAYERS[kind](5, input_dim=3, return_state=True)
    for batch in (2, 3, 2):
        x = torch.randn(batch, 4, 3)
        for a, b in zip(layer(x), layer(x, initial_state=zeros_for(layer, batch))):
            assert torch.equal(a, b)
    layer.double()
    x = torch.randn(3, 4, 3, dtype=torch.float64)
    out = layer(x)
    assert all(t.dtype == torch.float64 for t in out)
    expected = layer(x, initial_state=[z.double() for z in zeros_for(layer, 3)])
    for a, b in zip(out, expected):
        assert torch.equal(a, b)


@pytest.mark.parametrize("make", [lambda: kr.LSTM(5, input_dim=3), lambda: kr.GRU(5, input_dim=3),
                                  lambda: kr.Bidirectional(kr.LSTM(5), input_shape=(4, 3))],
                         ids=["lstm", "gru", "bidirectional"])
def test_inference_mode_then_training_works(make):
    # Tensors made under inference_mode cannot be saved for backward later: nothing cached there may
    # be reused by a call that records gradients.
    layer = make()
    x = torch.randn(2, 4, 3)
    with torch.inference_mode():
        expected = layer(x)
    with torch.no_grad():
        assert torch.equal(layer(x), expected)
    out = layer(x)
    out.sum().backward()
    torch.testing.assert_close(out.detach(), expected)   # the kernels' training variants may round differently
    assert all(p.grad is not None for p in layer.parameters())


def test_bad_input_after_a_lean_call_still_gets_the_full_checks():
    layer = kr.LSTM(5, input_dim=3)
    layer(torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match="built for 3 input features"):
        layer(torch.randn(2, 4, 7))
    with pytest.raises(TypeError, match="float64 input"):
        layer(torch.randn(2, 4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="2-D input"):
        layer(torch.randn(2, 3))
    with pytest.raises(ValueError, match="at least one timestep"):
        layer(torch.randn(2, 0, 3))


@pytest.mark.parametrize("copier", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))],
                         ids=["deepcopy", "pickle"])
def test_copies_after_lean_calls_give_the_same_numbers(copier):
    for layer in (kr.GRU(5, input_dim=3), kr.Bidirectional(kr.LSTM(5), input_shape=(4, 3))):
        x = torch.randn(2, 4, 3)
        with torch.no_grad():
            expected = layer(x)
        layer(x).sum().backward()          # leaves non-leaf cached conversions behind
        twin = copier(layer)
        with torch.no_grad():
            assert torch.equal(twin(x), expected)


@pytest.mark.parametrize("make", [lambda: kr.GRU(5, input_dim=3, return_state=True),
                                  lambda: kr.Bidirectional(kr.LSTM(5, return_state=True), input_shape=(4, 3))],
                         ids=["gru", "bidirectional"])
def test_threads_with_different_batch_sizes_share_one_layer(make):
    layer = make()
    inputs = {batch: torch.randn(batch, 4, 3) for batch in (2, 3)}
    with torch.no_grad():
        expected = {batch: layer(x) for batch, x in inputs.items()}
    failures = []

    def work(batch):
        try:
            with torch.no_grad():
                for _ in range(200):
                    for got, want in zip(layer(inputs[batch]), expected[batch]):
                        assert torch.equal(got, want)
        except Exception as error:     # reported by the main thread
            failures.append(error)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)       # switch threads as often as possible: races show up
    try:
        threads = [threading.Thread(target=work, args=(batch,)) for batch in inputs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_decoding_one_step_with_states_takes_the_lean_route(name, monkeypatch):
    # A seq2seq decoder calls the layer one step at a time with initial_state (or keeps its states):
    # those calls skip the general forward, with the general forward's numbers.
    layer = getattr(kr, name)(6, return_state=True, input_dim=3)
    x = torch.randn(2, 1, 3)
    states = [torch.randn(2, 6) for _ in range(2 if name == "LSTM" else 1)]
    expected = layer(x, initial_state=states, mask=torch.ones(2, 1, dtype=torch.bool))   # the general path
    general = kr.RNN.forward
    calls = []
    monkeypatch.setattr(kr.RNN, "forward", lambda self, *a, **k: calls.append(1) or general(self, *a, **k))
    got = layer(x, initial_state=states)
    assert calls == [] and layer.last_path == "fused"
    for a, b in zip(got, expected):
        assert torch.allclose(a, b, atol=1e-6)
    stateful = getattr(kr, name)(6, stateful=True, input_dim=3)
    stateful.set_weights(layer.get_weights())
    first, second = stateful(x), stateful(x)          # zero states, then the held ones
    assert calls == [] and not torch.equal(first, second)
    after_one = layer(x)[1:]                          # the same weights from zero states
    assert torch.allclose(second, layer(x, initial_state=list(after_one))[0], atol=1e-6)


def test_decoding_states_that_do_not_fit_take_the_general_path_and_its_message():
    layer = kr.GRU(6, input_dim=3)
    with pytest.raises(ValueError, match=r"expects initial_state shapes \[\(2, 6\)\], got \[\(2, 5\)\]"):
        layer(torch.randn(2, 1, 3), initial_state=[torch.zeros(2, 5)])
    stateful = kr.GRU(6, stateful=True, input_dim=3)
    stateful(torch.randn(2, 1, 3))
    with pytest.raises(ValueError, match="holds states for batch size 2, got input of batch size 3"):
        stateful(torch.randn(3, 1, 3))


LOOP_LAYERS = {   # configurations the fused kernel does not take: the cell loop, on the package's CPU kernel
    "gru_reset_before": lambda **k: kr.GRU(5, reset_after=False, **k),
    "lstm_hard_sigmoid": lambda **k: kr.LSTM(5, recurrent_activation="hard_sigmoid", **k),
    "gru_relu_recurrent_dropout": lambda **k: kr.GRU(5, activation="relu", recurrent_dropout=0.3, seed=4, **k),
}


@pytest.mark.parametrize("kind", sorted(LOOP_LAYERS))
@pytest.mark.parametrize("pattern", ["none", "right_padded", "left_padded", "fully_masked_row"])
@pytest.mark.parametrize("flags", [(False, False, False), (True, True, False), (True, True, True)],
                         ids=["last", "seq_state", "seq_state_back"])
def test_lean_loop_call_equals_the_general_path(kind, pattern, flags, general_forward_calls, cpu_kernel_on):
    """A loop configuration's plain call runs the kernel's loop without the general forward, with exactly its
    numbers: with and without gradients, in training (the recurrent dropout masks drawn the same way) and not."""
    from reference import masks_by_name
    from kerasrnn_torch.layers.rnn.engine.record import last_run
    return_sequences, return_state, go_backwards = flags
    layer = LOOP_LAYERS[kind](return_sequences=return_sequences, return_state=return_state,
                              go_backwards=go_backwards, input_dim=3)
    x = torch.randn(3, 6, 3)
    mask = None if pattern == "none" else masks_by_name(3, 6)[pattern]
    states = [torch.randn(3, 5) for _ in range(2 if kind.startswith("lstm") else 1)]
    for grad in (False, True):
        for training, initial_state in ((False, None), (True, states)):
            twin = copy.deepcopy(layer)         # the same seed generator's state: the same dropout draws
            with torch.set_grad_enabled(grad):
                lean = layer(x, mask=mask, initial_state=initial_state, training=training)
                assert layer.last_path == "loop" and last_run()[0] == "cpu_kernel"
                calls = len(general_forward_calls)
                general = RNN.forward(twin, x, mask=mask, initial_state=initial_state, training=training)
                assert len(general_forward_calls) == calls + 1
            lean, general = (lean, general) if return_state else ((lean,), (general,))
            assert len(lean) == len(general)
            for a, b in zip(lean, general):
                assert torch.equal(a, b)
    assert layer not in general_forward_calls and len(general_forward_calls) == 4     # the twins' calls only


def test_lean_loop_call_keeps_a_stateful_layer_s_states():
    layer = kr.GRU(5, reset_after=False, stateful=True, input_dim=3)
    twin = kr.GRU(5, reset_after=False, stateful=True, input_dim=3)
    twin.set_weights(layer.get_weights())
    x = torch.randn(2, 4, 3)
    for _ in range(2):
        a = layer(x)
        b = RNN.forward(twin, x)
        assert torch.equal(a, b)
    assert torch.equal(layer.states[0], twin.states[0])


def test_the_handwritten_backward_still_runs_where_asked(cpu_kernel_on):
    """The lean loop call leaves `handwritten_backward` (and `compile_loop`) to the general forward."""
    from kerasrnn_torch.layers.rnn.engine.record import last_run
    layer = kr.GRU(5, reset_after=False, input_dim=3)
    layer(torch.randn(2, 4, 3)).sum().backward()
    assert last_run()[0] == "cpu_kernel"
    layer.handwritten_backward = True
    layer(torch.randn(2, 4, 3)).sum().backward()
    assert last_run()[0] == "bptt" and layer.last_path == "loop"


def test_the_kept_loop_spec_follows_a_changed_activation(cpu_kernel_on):
    """The lean loop call reads the cell's kernel spec kept with the layer's plan: an activation assigned after
    the first call is planned again, so a gate the kernel lacks runs the plain loop with its numbers."""
    from kerasrnn_torch.layers.rnn.engine.record import last_run
    layer = kr.LSTM(5, recurrent_activation="hard_sigmoid", input_dim=3)
    x = torch.randn(2, 4, 3)
    with torch.no_grad():
        layer(x)
        assert last_run()[0] == "cpu_kernel"
        layer.cell.recurrent_activation = torch.nn.functional.softsign      # no kernel code for it
        lean = layer(x)
        assert last_run()[0] != "cpu_kernel" and layer.last_path == "loop"
        general = RNN.forward(layer, x)
    assert torch.equal(lean, general)
    cell = layer.cell
    h, c = torch.zeros(2, 5), torch.zeros(2, 5)
    for t in range(4):       # the cell's own steps with softsign gates
        z = x[:, t] @ cell.kernel + h @ cell.recurrent_kernel + cell.bias
        i, f, g, o = z.chunk(4, dim=1)
        c = torch.nn.functional.softsign(f) * c + torch.nn.functional.softsign(i) * torch.tanh(g)
        h = torch.nn.functional.softsign(o) * torch.tanh(c)
    torch.testing.assert_close(lean, h, atol=1e-6, rtol=0)
