"""The cell loop's hand-written backward through time (engine/bptt.py) against the autograd loop and Keras 3.

The node is opt-in (`handwritten_backward = True`, on a layer or on `kr.RNN`); it then runs on the
loop path when gradients are wanted. The autograd loop is the reference here (outputs and states
equal to 1e-6, gradients to 1e-5), with Keras 3 on the torch backend as the outside reference.
"""
import itertools

import keras
import pytest
import torch
from torch.autograd import gradcheck

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine import bptt
from kerasrnn_torch.layers.rnn.cell import DropoutMasks
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, masks_by_name, random_weights, weighted_sum

BATCH, TIMESTEPS, FEATURES, UNITS = 3, 5, 4, 6

# The configurations only the loop runs (and a few more activations the node differentiates).
CONFIGS = {
    "lstm_relu": ("LSTM", {"activation": "relu"}),
    "lstm_hard_sigmoid_gates": ("LSTM", {"recurrent_activation": "hard_sigmoid"}),
    "lstm_recurrent_dropout": ("LSTM", {"recurrent_dropout": 0.3}),
    "lstm_linear_tanh_gates": ("LSTM", {"activation": "linear", "recurrent_activation": "tanh"}),
    "gru_reset_before": ("GRU", {"reset_after": False}),
    "gru_reset_before_hard_sigmoid_no_bias": ("GRU", {"reset_after": False, "recurrent_activation": "hard_sigmoid",
                                                      "use_bias": False}),
    "gru_reset_before_recurrent_dropout": ("GRU", {"reset_after": False, "recurrent_dropout": 0.3}),
    "gru_relu": ("GRU", {"activation": "relu"}),
    "gru_recurrent_dropout": ("GRU", {"recurrent_dropout": 0.3}),
    "gru_relu_no_bias": ("GRU", {"activation": "relu", "use_bias": False}),
    "simple_rnn_hard_sigmoid": ("SimpleRNN", {"activation": "hard_sigmoid"}),
    "simple_rnn_linear": ("SimpleRNN", {"activation": "linear"}),
    "simple_rnn_recurrent_dropout": ("SimpleRNN", {"recurrent_dropout": 0.3}),
}
STATE_COUNT = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}
MASKS = ["none", "right_padded", "left_padded", "holes", "fully_masked_row"]


@pytest.fixture
def node_calls(monkeypatch):
    """How many times the hand-written node ran (opted in for every layer of the test)."""
    monkeypatch.setattr(kr.RNN, "handwritten_backward", True)
    calls = []
    original = bptt._Loop.apply

    def counting(*args):
        calls.append(args[0])
        return original(*args)
    monkeypatch.setattr(bptt._Loop, "apply", counting)
    return calls


def make_layer(config, seed=0, **flags):
    name, kwargs = CONFIGS[config]
    torch.manual_seed(seed)
    layer = getattr(kr, name)(UNITS, input_dim=FEATURES, seed=11, **kwargs, **flags)
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-0.5, 0.5)
    return layer


def run(layer, x, mask, initial, handwritten: bool):
    """Outputs and gradients (inputs, weights, initial states) of one training call."""
    layer.handwritten_backward = handwritten
    layer.cell._generators = kr.seeding.SeededGenerators(11)     # the same dropout masks for both runs
    x = x.clone().requires_grad_(True)
    initial = [s.clone().requires_grad_(True) for s in initial] if initial is not None else None
    outputs = as_list(layer(x, mask=mask, initial_state=initial, training=True))
    leaves = [x, *layer.parameters(), *(initial or [])]
    grads = torch.autograd.grad(weighted_sum(outputs), leaves)
    return outputs, grads


@pytest.mark.parametrize("go_backwards, return_sequences", [(False, False), (False, True), (True, True)])
@pytest.mark.parametrize("pattern", MASKS)
@pytest.mark.parametrize("config", CONFIGS)
def test_node_gives_the_autograd_loops_numbers(config, pattern, go_backwards, return_sequences, node_calls):
    layer = make_layer(config, return_state=True, go_backwards=go_backwards, return_sequences=return_sequences)
    mask = None if pattern == "none" else masks_by_name(BATCH, TIMESTEPS)[pattern]
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    if mask is not None:
        x[~mask] = float("nan")         # padding may hold anything
    initial = [torch.randn(BATCH, UNITS) for _ in range(STATE_COUNT[CONFIGS[config][0]])]
    for start in (None, initial):
        node_calls.clear()
        ours, our_grads = run(layer, x, mask, start, handwritten=True)
        assert len(node_calls) == 1 and layer.last_path == "loop"
        reference, reference_grads = run(layer, x, mask, start, handwritten=False)
        assert len(node_calls) == 1
        for i, (a, b) in enumerate(zip(ours, reference)):
            assert_close(a, b, 1e-6, f"output {i}")
        for i, (a, b) in enumerate(zip(our_grads, reference_grads)):
            assert torch.isfinite(a).all(), f"gradient {i} is not finite"
            assert_close(a, b, 1e-5, f"gradient {i}")


KERAS_CASES = [
    ("LSTM", {"activation": "relu"}), ("LSTM", {"recurrent_activation": "hard_sigmoid"}),
    ("GRU", {"reset_after": False}), ("GRU", {"activation": "relu"}),
    ("SimpleRNN", {"activation": "hard_sigmoid"}), ("SimpleRNN", {"activation": "linear"}),
]


@pytest.mark.parametrize("pattern", ["none", "holes", "fully_masked_row"])
@pytest.mark.parametrize("name, kwargs", KERAS_CASES, ids=lambda v: v if isinstance(v, str) else "-".join(
    f"{k}={w}" for k, w in v.items()))
def test_node_matches_keras(name, kwargs, pattern, node_calls):
    kwargs = {**kwargs, "return_sequences": True, "return_state": True, "go_backwards": pattern == "holes"}
    keras_layer = getattr(keras.layers, name)(UNITS, **kwargs)
    keras_layer.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(keras_layer)
    ours = getattr(kr, name)(UNITS, **kwargs)
    ours.build((None, TIMESTEPS, FEATURES))
    ours.set_weights(keras_layer.get_weights())
    mask = None if pattern == "none" else masks_by_name(BATCH, TIMESTEPS)[pattern]
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    initial = [torch.randn(BATCH, UNITS, requires_grad=True) for _ in range(STATE_COUNT[name])]
    x_ours, x_keras = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours_out = as_list(ours(x_ours, mask=mask, initial_state=initial))
    assert len(node_calls) == 1
    keras_out = as_list(keras_layer(x_keras, mask=mask, initial_state=initial, training=False))
    for i, (a, b) in enumerate(zip(ours_out, keras_out)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")
    ours_grads = torch.autograd.grad(weighted_sum(ours_out), [x_ours, *ours.parameters(), *initial])
    keras_grads = torch.autograd.grad(weighted_sum(keras_out), [x_keras, *(w.value for w in keras_layer.weights),
                                                                  *initial])
    for i, (a, b) in enumerate(zip(ours_grads, keras_grads)):
        assert_close(a, b, GRAD_ATOL, f"gradient {i}")


GRADCHECK_CELLS = {
    "lstm_relu": lambda: kr.LSTMCell(3, activation="relu", input_dim=2, dtype=torch.float64),
    "lstm_hard_sigmoid": lambda: kr.LSTMCell(3, recurrent_activation="hard_sigmoid", input_dim=2,
                                             dtype=torch.float64),
    "gru": lambda: kr.GRUCell(3, input_dim=2, dtype=torch.float64),
    "gru_reset_before": lambda: kr.GRUCell(3, reset_after=False, input_dim=2, dtype=torch.float64),
    "simple_rnn_linear": lambda: kr.SimpleRNNCell(3, activation="linear", input_dim=2, dtype=torch.float64),
    "simple_rnn_tanh": lambda: kr.SimpleRNNCell(3, input_dim=2, dtype=torch.float64),
}


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("name", GRADCHECK_CELLS)
def test_node_gradcheck_float64(name, go_backwards, node_calls):
    """Every input of the node (the sequence, the weights, the initial states), with a mask and a fixed
    recurrent dropout mask, against finite differences."""
    cell = GRADCHECK_CELLS[name]()
    with torch.no_grad():
        for p in cell.parameters():
            p.uniform_(-0.5, 0.5)
    spec = cell.loop_spec()
    mask = torch.tensor([[True, False, True, True], [True, True, True, False], [False, False, False, False]])
    recurrent = torch.tensor([[2.0, 0.0, 2.0], [2.0, 2.0, 0.0], [0.0, 2.0, 2.0]], dtype=torch.float64)
    x = torch.randn(3, 4, 2, dtype=torch.float64, requires_grad=True)
    states = [torch.randn(3, 3, dtype=torch.float64, requires_grad=True) for _ in range(cell.state_count)]
    names = [n for n, _ in cell.named_parameters()]
    weights = [p.detach().clone().requires_grad_(True) for p in cell.parameters()]

    def function(x, *rest):
        values, initial = rest[:len(weights)], list(rest[len(weights):])
        with torch.nn.utils.stateless._reparametrize_module(cell, dict(zip(names, values))):
            output, final = bptt.run_cell_loop(spec, cell, DropoutMasks(recurrent=recurrent), x, initial, mask,
                                               go_backwards=go_backwards, return_sequences=True,
                                               zero_output_for_mask=False)
        return (output, *final)
    assert gradcheck(function, (x, *weights, *states), eps=1e-6, atol=1e-6)
    assert node_calls


# ------------------------------------------------------------------ which loop runs when
def test_the_autograd_loop_is_the_default(monkeypatch):
    calls = []
    original = bptt._Loop.apply
    monkeypatch.setattr(bptt._Loop, "apply", lambda *args: calls.append(args) or original(*args))
    layer = kr.LSTM(4, activation="relu", input_dim=3)
    layer(torch.randn(2, 5, 3, requires_grad=True)).sum().backward()
    assert calls == [] and layer.last_path == "loop" and not layer.handwritten_backward
    layer.handwritten_backward = True
    layer(torch.randn(2, 5, 3, requires_grad=True)).sum().backward()
    assert len(calls) == 1


def test_autograd_loop_without_gradients(node_calls):
    layer = kr.LSTM(4, activation="relu", input_dim=3)
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        layer(x)
    layer.requires_grad_(False)
    layer(x)
    assert node_calls == [] and layer.last_path == "loop"
    layer(x.requires_grad_(True))
    assert len(node_calls) == 1


@pytest.mark.parametrize("kwargs", [{"activation": "elu"}, {"activation": lambda t: t * torch.sigmoid(t)},
                                    {"recurrent_activation": "softsign"}])
def test_autograd_loop_for_other_activations(kwargs, node_calls):
    layer = kr.LSTM(4, input_dim=3, **kwargs)
    x = torch.randn(2, 5, 3, requires_grad=True)
    layer(x).sum().backward()
    assert node_calls == [] and layer.last_path == "loop"


def test_autograd_loop_for_custom_and_stacked_cells(node_calls):
    class Logged(kr.LSTMCell):
        def make_step(self, masks=kr.layers.rnn.cell.NO_DROPOUT if hasattr(kr, "layers") else None):
            return super().make_step(masks)
    x = torch.randn(2, 5, 3, requires_grad=True)
    kr.RNN(Logged(4, activation="relu"))(x).sum().backward()
    kr.RNN([kr.LSTMCell(4, activation="relu"), kr.GRUCell(3, reset_after=False)])(x).sum().backward()
    assert node_calls == []
    kr.RNN(kr.LSTMCell(4, activation="relu"))(x).sum().backward()      # the built-in cell in RNN takes it
    assert len(node_calls) == 1


def test_switch_compiled_loop_and_tracing_keep_the_autograd_loop(node_calls, monkeypatch):
    from kerasrnn_torch.layers.rnn.engine import loop
    from kerasrnn_torch.layers.rnn import rnn
    layer = kr.GRU(4, reset_after=False, input_dim=3)
    x = torch.randn(2, 5, 3, requires_grad=True)
    layer.handwritten_backward = False
    layer(x).sum().backward()
    assert node_calls == []
    layer.handwritten_backward = True
    compiled = []
    monkeypatch.setattr(rnn, "compiled_cell_loop", lambda *a, **k: compiled.append(1) or loop.run_cell_loop(*a, **k))
    layer.compile_loop = True           # compile_loop keeps compiling the autograd loop
    layer(x).sum().backward()
    assert node_calls == [] and compiled == [1]
    layer.compile_loop = False
    spec = layer.cell.loop_spec()
    assert bptt.usable(spec, [x])
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)    # torch.compile and export trace
    assert not bptt.usable(spec, [x])


def test_double_backward_raises_and_the_switch_allows_it():
    layer = kr.SimpleRNN(4, activation="hard_sigmoid", input_dim=3)
    layer.handwritten_backward = True
    x = torch.randn(2, 5, 3, requires_grad=True)
    (grad,) = torch.autograd.grad(layer(x).square().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="differentiate twice"):
        grad.sum().backward()
    layer.handwritten_backward = False
    (grad,) = torch.autograd.grad(layer(x).square().sum(), x, create_graph=True)
    grad.sum().backward()
    assert x.grad is not None


# torch's forward-mode AD decompositions, loaded at the first jvp, go through torch.jit.script (torch-internal).
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torch_func_and_forward_ad_keep_the_autograd_loop(node_calls):
    layer = kr.LSTM(4, activation="relu", input_dim=3)
    x = torch.randn(2, 5, 3)
    tangent = torch.randn_like(x)
    _, directional = torch.func.jvp(lambda inputs: layer(inputs), (x,), (tangent,))
    params = {k: v.detach() for k, v in layer.named_parameters()}
    grads = torch.func.grad(lambda p: torch.func.functional_call(layer, p, (x,)).sum())(params)
    batched = torch.func.vmap(lambda row: layer(row.unsqueeze(0))[0])(x)
    import torch.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        dual = layer(fwAD.make_dual(x, tangent))
        forward_directional = fwAD.unpack_dual(dual).tangent
    assert node_calls == []
    assert_close(forward_directional, directional, 1e-5, "forward AD against jvp")
    expected = torch.autograd.grad(layer(x).sum(), list(layer.parameters()))   # this one runs the node
    assert len(node_calls) == 1
    for got, want in zip(grads.values(), expected):
        assert_close(got, want, 1e-5, "torch.func.grad")
    assert_close(batched, layer(x), 1e-6, "vmap")


def test_autocast_runs_the_node_in_float32(node_calls):
    layer = kr.GRU(4, reset_after=False, return_sequences=True, input_dim=3)
    x = torch.randn(2, 5, 3, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    assert out.dtype == torch.bfloat16 and len(node_calls) == 1
    out.float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in layer.parameters())


def test_bidirectional_and_stateful_layers_run_the_node(node_calls, monkeypatch):
    x = torch.randn(2, 5, 3, requires_grad=True)
    kr.Bidirectional(kr.LSTM(4, activation="relu", return_sequences=True))(x).sum().backward()
    assert len(node_calls) == 2
    monkeypatch.setattr(kr.RNN, "handwritten_backward", False)
    both = kr.Bidirectional(kr.LSTM(4, activation="relu", return_sequences=True))
    both(x)
    assert len(node_calls) == 2 and not both.handwritten_backward
    both.handwritten_backward = True           # sets both directions
    assert both.forward_layer.handwritten_backward and both.backward_layer.handwritten_backward
    both(x).sum().backward()
    assert len(node_calls) == 4
    node_calls.clear()
    stateful = kr.GRU(4, reset_after=False, stateful=True, input_dim=3)
    stateful.handwritten_backward = True
    stateful(x).sum().backward()
    stateful(x).sum().backward()     # the stored states are detached: a second call is its own graph
    assert len(node_calls) == 2


def test_every_supported_configuration_is_a_spec():
    seen = set()
    for kind, activation, gate in itertools.product(bptt.KINDS, bptt.DIFFERENTIABLE, bptt.DIFFERENTIABLE):
        assert bptt.LoopSpec(kind, activation, gate).supported
        seen.add(kind)
    assert not bptt.LoopSpec("lstm", "elu", "sigmoid").supported
    assert not bptt.LoopSpec("lstm", "tanh", None).supported
    assert bptt.LoopSpec("simple_rnn", "relu").supported
    assert seen == set(bptt.KINDS)
