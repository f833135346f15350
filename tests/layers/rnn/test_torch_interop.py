"""PyTorch interop: to_torch/from_torch, state_dict and torch.save, .to(), torch.compile, autocast, float64."""
import copy
import io

import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.torch_modules import bidirectional_from_torch
from reference import GRAD_ATOL, assert_close

TORCH_ATOL = 1e-6


def randomize(module, seed=0, scale=0.5):
    """Uniform(-scale, scale) in every weight slot: default zero biases would hide bias-folding bugs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.rand(parameter.shape, generator=generator, dtype=parameter.dtype) * 2 * scale - scale)
    return module


def torch_states(hidden):
    return list(hidden) if isinstance(hidden, tuple) else [hidden]


# ------------------------------------------------------------------ to_torch
LAYERS = {
    "SimpleRNN-tanh": lambda: kr.SimpleRNN(5, input_dim=3),
    "SimpleRNN-relu": lambda: kr.SimpleRNN(5, activation="relu", input_dim=3),
    "LSTM": lambda: kr.LSTM(5, input_dim=3),
    "GRU": lambda: kr.GRU(5, input_dim=3),
    "LSTM-no-bias": lambda: kr.LSTM(5, use_bias=False, input_dim=3),
    "GRU-no-bias": lambda: kr.GRU(5, use_bias=False, input_dim=3),
}


@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("name", LAYERS)
def test_to_torch_module_gives_the_layers_sequence_and_states(name, path):
    layer = randomize(LAYERS[name]())
    layer.return_sequences = layer.return_state = True
    module = layer.to_torch()
    assert module.batch_first and module.hidden_size == 5 and module.input_size == 3
    assert module.bias == layer.use_bias
    x = torch.randn(4, 6, 3)
    with kr.force_path(path):
        output, *states = layer(x)
    torch_output, hidden = module(x)
    assert_close(torch_output, output, TORCH_ATOL, "sequence")
    for torch_state, state in zip(torch_states(hidden), states):
        assert_close(torch_state[0], state, TORCH_ATOL, "final state")


@pytest.mark.parametrize("path", ["auto", "loop"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_to_torch_concatenates_like_keras(kind, path, return_sequences):
    layer = randomize(kr.Bidirectional(getattr(kr, kind)(4, return_sequences=return_sequences), input_dim=3))
    module = layer.to_torch()
    assert module.bidirectional
    x = torch.randn(3, 5, 3)
    with kr.force_path(path):
        expected = layer(x)
    output, hidden = module(x)
    h = torch_states(hidden)[0]
    got = output if return_sequences else torch.cat([h[0], h[1]], dim=-1)
    assert_close(got, expected, TORCH_ATOL, "bidirectional output")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_from_torch_gives_the_modules_outputs_on_both_paths(kind):
    module = randomize({"LSTM": nn.LSTM, "GRU": nn.GRU, "SimpleRNN": nn.RNN}[kind](3, 5, batch_first=True), seed=1)
    layer = getattr(kr, kind).from_torch(module, return_sequences=True, return_state=True, name="converted")
    assert layer.name == "converted" and layer.units == 5 and layer.cell.input_dim == 3
    x = torch.randn(4, 6, 3)
    torch_output, hidden = module(x)
    for path in ("fused", "loop"):
        with kr.force_path(path):
            output, *states = layer(x)
        assert_close(output, torch_output, TORCH_ATOL, f"{path} sequence")
        for state, torch_state in zip(states, torch_states(hidden)):
            assert_close(state, torch_state[0], TORCH_ATOL, f"{path} state")


def test_from_torch_folds_lstm_biases_and_keeps_both_gru_biases():
    lstm = randomize(nn.LSTM(2, 3, batch_first=True))
    layer = kr.LSTM.from_torch(lstm)
    assert layer.cell.bias.shape == (12,)
    assert torch.allclose(layer.cell.bias, lstm.bias_ih_l0 + lstm.bias_hh_l0)
    gru = kr.GRU.from_torch(randomize(nn.GRU(2, 3, batch_first=True)))
    assert gru.reset_after and gru.cell.bias.shape == (2, 9)


def test_from_torch_relu_rnn_and_no_bias_modules():
    relu = kr.SimpleRNN.from_torch(nn.RNN(3, 4, nonlinearity="relu", batch_first=True))
    assert relu.cell.activation is kr.activations.get("relu")
    unbiased = kr.GRU.from_torch(randomize(nn.GRU(3, 4, bias=False, batch_first=True)))
    assert not unbiased.use_bias and unbiased.count_params() == 3 * 4 * 3 + 3 * 4 * 4


def test_a_time_major_module_is_refused_unless_the_inputs_will_be_batch_first():
    """PyTorch's default takes (timesteps, batch, features); a layer reading that as batch-first is silently wrong."""
    module = randomize(nn.LSTM(3, 4))                       # batch_first=False
    with pytest.raises(ValueError, match=r"batch_first=False, so it takes \(timesteps, batch, features\).*"
                                         r"assume_batch_first=True"):
        kr.LSTM.from_torch(module, return_sequences=True)
    with pytest.raises(ValueError, match="assume_batch_first=True"):
        kr.Bidirectional.from_torch(randomize(nn.GRU(3, 4, bidirectional=True)))
    layer = kr.LSTM.from_torch(module, return_sequences=True, assume_batch_first=True)
    x = torch.randn(2, 5, 3)
    assert_close(layer(x), module(x.transpose(0, 1))[0].transpose(0, 1), TORCH_ATOL, "time-major module")


def test_the_pytorch_seq2seq_tutorial_encoder_converts():
    class EncoderRNN(nn.Module):                            # the tutorial's encoder, batch-first
        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

        def forward(self, tokens):
            return self.gru(self.embedding(tokens))
    encoder = randomize(EncoderRNN(20, 8))
    layer = kr.GRU.from_torch(encoder.gru, return_sequences=True, return_state=True)
    tokens = torch.randint(0, 20, (3, 6))
    output, hidden = encoder(tokens)
    ours, state = layer(encoder.embedding(tokens))
    assert_close(ours, output, TORCH_ATOL, "encoder outputs")
    assert_close(state, hidden[0], TORCH_ATOL, "encoder hidden state")


def test_round_trips_keep_every_weight():
    layer = randomize(kr.GRU(4, input_dim=3))
    back = kr.GRU.from_torch(layer.to_torch())
    for ours, theirs in zip(layer.get_weights(), back.get_weights()):
        assert (ours == theirs).all()
    bidirectional = randomize(kr.Bidirectional(kr.LSTM(3, return_sequences=True), input_dim=2))
    x = torch.randn(2, 4, 2)
    for rebuild in (kr.Bidirectional.from_torch, bidirectional_from_torch):
        rebuilt = rebuild(bidirectional.to_torch(), return_sequences=True)
        assert isinstance(rebuilt, kr.Bidirectional) and isinstance(rebuilt.backward_layer, kr.LSTM)
        assert_close(rebuilt(x), bidirectional(x), TORCH_ATOL, "bidirectional round trip")


def test_to_torch_follows_dtype_and_device():
    layer = randomize(kr.LSTM(3, input_dim=2, dtype=torch.float64))
    module = layer.to_torch()
    assert module.weight_ih_l0.dtype == torch.float64 and module.weight_ih_l0.device == layer.cell.kernel.device
    back = kr.LSTM.from_torch(module)
    assert back.cell.kernel.dtype == torch.float64


TO_TORCH_REFUSALS = [
    ("gru-reset-before", lambda: kr.GRU(3, reset_after=False, input_dim=2), r"reset_after=False"),
    ("lstm-relu", lambda: kr.LSTM(3, activation="relu", input_dim=2), r"activation=relu.*only 'tanh'"),
    ("gru-hard-sigmoid", lambda: kr.GRU(3, recurrent_activation="hard_sigmoid", input_dim=2),
     r"recurrent_activation=hard_sigmoid.*only 'sigmoid'"),
    ("simple-rnn-sigmoid", lambda: kr.SimpleRNN(3, activation="sigmoid", input_dim=2), r"only 'tanh' or 'relu'"),
    ("go-backwards", lambda: kr.LSTM(3, go_backwards=True, input_dim=2), r"go_backwards=True"),
    ("unbuilt", lambda: kr.LSTM(3), r"has no weights yet"),
    ("merge-sum", lambda: kr.Bidirectional(kr.GRU(3), merge_mode="sum", input_dim=2), r"merge_mode='sum'"),
    ("bidirectional-gru-reset-before", lambda: kr.Bidirectional(kr.GRU(3, reset_after=False), input_dim=2),
     r"forward layer .*reset_after=False"),
]


@pytest.mark.parametrize("make, pattern", [row[1:] for row in TO_TORCH_REFUSALS],
                         ids=[row[0] for row in TO_TORCH_REFUSALS])
def test_to_torch_refuses_what_torch_nn_cannot_compute(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make().to_torch()


FROM_TORCH_REFUSALS = [
    ("two-layers", kr.LSTM, lambda: nn.LSTM(3, 4, num_layers=2), {}, ValueError, r"num_layers=2"),
    ("projection", kr.LSTM, lambda: nn.LSTM(3, 4, proj_size=2), {}, ValueError, r"proj_size=2"),
    ("bidirectional", kr.GRU, lambda: nn.GRU(3, 4, bidirectional=True), {}, ValueError,
     r"kr.Bidirectional.from_torch\(module\)"),
    ("wrong-module", kr.LSTM, lambda: nn.GRU(3, 4), {}, TypeError, r"expects a torch.nn.LSTM, got GRU"),
    ("wrong-units", kr.GRU, lambda: nn.GRU(3, 4, batch_first=True), {"units": 7}, ValueError,
     r"units=7 disagrees .* units=4"),
    ("wrong-activation", kr.SimpleRNN, lambda: nn.RNN(3, 4, batch_first=True), {"activation": "relu"}, ValueError,
     r"activation='relu' disagrees"),
    ("wrong-input-shape", kr.LSTM, lambda: nn.LSTM(3, 4, batch_first=True), {"input_shape": (5, 2)}, ValueError,
     r"input_shape=\(5, 2\) disagrees .* input_size=3"),
]


@pytest.mark.parametrize("cls, make, kwargs, error, pattern", [row[1:] for row in FROM_TORCH_REFUSALS],
                         ids=[row[0] for row in FROM_TORCH_REFUSALS])
def test_from_torch_refusals(cls, make, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        cls.from_torch(make(), **kwargs)


# ------------------------------------------------------ saving and moving
def stateful_model():
    return kr.Sequential([
        kr.Embedding(12, 4, mask_zero=True, input_length=5),
        kr.LSTM(6, return_sequences=True, stateful=True),
        kr.Bidirectional(kr.GRU(3, return_sequences=True)),
        kr.TimeDistributed(kr.Dense(2)),
        kr.SimpleRNN(3, stateful=True),
        kr.Dense(1),
    ])


IDS = torch.tensor([[1, 5, 7, 0, 0], [3, 2, 9, 11, 4]])


def test_state_dict_round_trip_is_exact_and_leaves_states_out():
    model = stateful_model().eval()
    model(IDS)                                   # now the stateful layers hold states
    saved = model.state_dict()
    assert not [key for key in saved if "state_" in key], "stateful states must not be saved as parameters"
    assert len(saved) == len(model.get_weights())
    copy = stateful_model().eval()
    copy.load_state_dict(saved)
    for ours, theirs in zip(model.get_weights(), copy.get_weights()):
        assert (ours == theirs).all()
    for layer in (model[1], model[4]):
        layer.reset_state()
    assert torch.equal(copy(IDS), model(IDS))


def save_and_load(module):
    buffer = io.BytesIO()
    torch.save(module, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


@pytest.mark.parametrize("holding_states", [False, True], ids=["fresh", "holding-states"])
def test_torch_save_and_load_of_a_whole_model_is_exact(holding_states):
    model = stateful_model().eval()
    if holding_states:
        model(IDS)                               # pickled with its states (warnings are errors here)
    loaded = save_and_load(model)
    assert type(loaded) is kr.Sequential and [layer.name for layer in loaded] == [layer.name for layer in model]
    for ours, theirs in zip(model.get_weights(), loaded.get_weights()):
        assert (ours == theirs).all()
    for _ in range(2):                         # the stateful layers carry their states alike
        assert torch.equal(loaded(IDS), model(IDS))


def test_torch_save_and_load_after_training_steps_is_exact():
    model = kr.Sequential([kr.Embedding(12, 4, mask_zero=True), kr.LSTM(6, return_sequences=True),
                           kr.Bidirectional(kr.GRU(3)), kr.Dense(1)])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        model(IDS).sum().backward()
        optimizer.step()
    loaded = save_and_load(model)
    assert torch.equal(loaded(IDS), model(IDS))


def test_nested_stateful_states_survive_save_and_deepcopy():
    layer = kr.RNN([kr.LSTMCell(3), kr.GRUCell(2)], stateful=True, return_sequences=True)
    x = torch.randn(2, 4, 5)
    layer(x)
    for duplicate_of in (save_and_load, copy.deepcopy):
        duplicate = duplicate_of(layer)
        lstm_states, gru_state = duplicate.states      # a one-state cell's state is a tensor, as Keras 3's
        assert [s.shape for s in lstm_states] == [(2, 3), (2, 3)] and gru_state.shape == (2, 2)
        assert torch.equal(duplicate(x), layer(x))


def test_a_layer_called_with_gradients_can_be_copied_and_wrapped():
    # The cached PyTorch-layout weights are non-leaf tensors, which deepcopy refuses: they must not travel.
    layer = kr.LSTM(4, return_sequences=True)
    x = torch.randn(2, 3, 5)
    layer(x).sum().backward()
    duplicate = copy.deepcopy(layer)
    assert torch.equal(duplicate(x), layer(x))
    assert kr.Bidirectional(layer)(x).shape == (2, 3, 8)


def test_to_float64_moves_stateful_states_too():
    model = stateful_model().eval()
    model(IDS)
    model.to(torch.float64)
    for layer in (model[1], model[4]):
        assert all(state.dtype == torch.float64 for state in layer.states)
    assert model(IDS).dtype == torch.float64


def test_float64_end_to_end_on_both_paths_and_through_torch_nn():
    layer = randomize(kr.LSTM(4, return_sequences=True, input_dim=3, dtype=torch.float64))
    x = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    results = {}
    for path in ("fused", "loop"):
        with kr.force_path(path):
            output = layer(x, mask=mask)
        assert output.dtype == torch.float64
        results[path] = (output, torch.autograd.grad(output.sum(), x)[0])
    assert_close(results["fused"][0], results["loop"][0], 1e-12, "float64 outputs")
    assert_close(results["fused"][1], results["loop"][1], 1e-12, "float64 gradients")
    assert_close(layer.to_torch()(x)[0][0], results["loop"][0][0], 1e-12, "float64 torch.nn")


def autocast_model(recurrent_kind):
    return randomize(kr.Sequential([getattr(kr, recurrent_kind)(8, return_sequences=True, input_shape=(6, 4)),
                                    kr.Bidirectional(kr.GRU(4)), kr.Dense(2)]))


@pytest.mark.parametrize("path, recurrent_kind",
                         [("fused", "GRU"), ("fused", "SimpleRNN"), ("fused", "LSTM"), ("loop", "LSTM")])
def test_autocast_bfloat16_on_cpu_runs_on_both_paths(path, recurrent_kind):
    model = autocast_model(recurrent_kind)
    x = torch.randn(3, 6, 4)
    with kr.force_path(path):
        reference = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            output = model(x)
        output.float().sum().backward()
    assert model[0].last_path == path and model[1].last_path == path
    assert_close(output.float(), reference, 5e-2, "bfloat16 autocast against float32")
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@CUDA
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("path", ["fused", "loop"])
def test_autocast_on_cuda_runs_on_both_paths(path, dtype):
    model = autocast_model("LSTM").cuda()
    x = torch.randn(3, 6, 4, device="cuda")
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2, [True] * 2 + [False] * 4], device="cuda")
    with kr.force_path(path):
        reference = model(x)
        with torch.autocast("cuda", dtype=dtype):
            output = model(x)
            masked = model[0](x, mask=mask)
        output.float().sum().backward()
    assert model[0].last_path == path and model[1].last_path == path
    assert_close(output.float(), reference, 5e-2, f"{dtype} autocast against float32")
    assert torch.isfinite(masked.float()).all()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@CUDA
def test_to_cuda_moves_weights_and_stateful_states():
    model = stateful_model().eval()
    model(IDS)
    model.to("cuda")
    for layer in (model[1], model[4]):
        assert all(state.device.type == "cuda" for state in layer.states)
    assert model(IDS.cuda()).device.type == "cuda"


def test_autocast_bfloat16_fused_lstm_on_a_cpu_without_native_bfloat16(monkeypatch):
    # oneDNN cannot build its bfloat16 LSTM on CPUs without native bfloat16 (AVX2 only), torch.nn.LSTM
    # included; the fused path then runs the kernel in float32 and hands back bfloat16, as autocast would.
    from kerasrnn_torch.layers.rnn.engine import fused
    monkeypatch.setattr(fused, "_CPU_BF16_LSTM", False)
    calls = []
    original = fused._call_in_float32
    monkeypatch.setattr(fused, "_call_in_float32", lambda *args: calls.append(args) or original(*args))
    layer = randomize(kr.LSTM(5, return_sequences=True, input_dim=4))
    x = torch.randn(3, 6, 4)
    reference = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = layer(x)
    assert calls and layer.last_path == "fused" and output.dtype == torch.bfloat16
    assert_close(output.float(), reference, 1e-2, "float32 kernel under bfloat16 autocast")


# ------------------------------------------------------------ torch.compile
# Compiling is slow on two cores: each test compiles one small module once.
# Dynamo reads `.grad` of the intermediate tensors it resumes from after a graph break and hides the
# warning that raises with showwarning, which cannot hide it when warnings are errors.
RESUME_WARNING = "ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning"


def compile_and_compare(module, path, x):
    torch._dynamo.reset()
    parameters = list(module.parameters())
    with kr.force_path(path):
        eager = module(x)
        eager_grads = torch.autograd.grad(eager.sum(), parameters)
        compiled = torch.compile(module)(x)
        compiled_grads = torch.autograd.grad(compiled.sum(), parameters)
    assert module.last_path == path
    assert_close(compiled, eager, TORCH_ATOL, f"compiled {path} outputs")
    for a, b in zip(compiled_grads, eager_grads):
        assert_close(a, b, GRAD_ATOL, f"compiled {path} gradients")


@pytest.mark.filterwarnings(RESUME_WARNING)
def test_torch_compile_on_the_fused_path_gives_eager_numbers_and_gradients():
    layer = randomize(kr.Bidirectional(kr.GRU(4), input_dim=3))
    compile_and_compare(layer, "fused", torch.randn(2, 3, 3))


@pytest.mark.filterwarnings(RESUME_WARNING)
def test_torch_compile_on_the_loop_path_gives_eager_numbers_and_gradients():
    layer = randomize(kr.GRU(4, input_dim=3))
    compile_and_compare(layer, "loop", torch.randn(2, 3, 3))


def test_torch_compile_of_fused_lstm_for_inference():
    layer = randomize(kr.Bidirectional(kr.LSTM(3), input_dim=3)).eval()
    x = torch.randn(2, 3, 3)
    torch._dynamo.reset()
    with torch.no_grad():
        eager = layer(x)
        compiled = torch.compile(layer)(x)
    assert layer.last_path == "fused"
    assert_close(compiled, eager, TORCH_ATOL, "compiled fused LSTM")


# No graph breaks on either path, with or without gradients: force_path is read from a
# module-level copy under torch.compile (Dynamo cannot trace a ContextVar).
@pytest.mark.parametrize("grad", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("path", ["auto", "loop"])
def test_no_graph_breaks_without_a_mask(path, grad):
    model = randomize(kr.Sequential([kr.GRU(6, return_sequences=True, input_shape=(4, 3)),
                                     kr.Bidirectional(kr.SimpleRNN(3)), kr.Dense(2)]))
    torch._dynamo.reset()
    with kr.force_path(path), torch.set_grad_enabled(grad):
        explanation = torch._dynamo.explain(model)(torch.randn(2, 4, 3))
    assert explanation.graph_break_count == 0, [reason.reason for reason in explanation.break_reasons]


@pytest.mark.filterwarnings(RESUME_WARNING)
def test_torch_compile_of_fused_lstm_with_gradients_on_cpu():
    # Inductor cannot compile the backward of the CPU LSTM kernel: that call is one opaque operator of the graph.
    layer = randomize(kr.LSTM(4, return_sequences=True, input_dim=3))
    compile_and_compare(layer, "fused", torch.randn(2, 5, 3))


@pytest.mark.parametrize("make", [lambda: kr.LSTM(4, return_sequences=True, input_dim=3),
                                  lambda: kr.Bidirectional(kr.GRU(3, return_sequences=True), input_dim=3)],
                         ids=["LSTM", "Bidirectional"])
@pytest.mark.filterwarnings(RESUME_WARNING)
def test_torch_compile_with_a_mask_gives_eager_numbers_on_the_fused_path(make):
    layer = randomize(make())
    x = torch.randn(3, 5, 3)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [True] + [False] * 4])
    eager = layer(x, mask=mask)
    eager_grads = torch.autograd.grad(eager.sum(), list(layer.parameters()))
    torch._dynamo.reset()
    compiled = torch.compile(layer)(x, mask=mask)
    compiled_grads = torch.autograd.grad(compiled.sum(), list(layer.parameters()))
    assert layer.last_path == "fused"
    assert_close(compiled, eager, TORCH_ATOL, "compiled masked outputs")
    for a, b in zip(compiled_grads, eager_grads):
        assert_close(a, b, GRAD_ATOL, "compiled masked gradients")


def test_force_path_is_followed_inside_a_compiled_model():
    layer = randomize(kr.GRU(4, input_dim=3))
    compiled = torch.compile(layer)
    torch._dynamo.reset()
    x = torch.randn(2, 3, 3)
    for path in ("loop", "fused", "loop"):
        with kr.force_path(path):
            compiled(x)
        assert layer.last_path == path
