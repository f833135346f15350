"""torch.autocast (bfloat16 on CPU) on every loop configuration: both paths give the same dtype and float32's numbers within bfloat16's precision."""
import pytest
import torch

import kerasrnn_torch as kr
from reference import assert_close, as_list

LOW = torch.bfloat16
MASK = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)

CONFIGS = [(kind, kwargs) for kind in ("SimpleRNN", "LSTM", "GRU")
           for kwargs in ({}, {"use_bias": False}, {"return_sequences": True, "return_state": True},
                          {"go_backwards": True}, {"unroll": True}, {"activation": "relu"})]
CONFIGS += [("GRU", {"reset_after": False}), ("GRU", {"reset_after": False, "use_bias": False})]


def build(kind, kwargs, seed=0, **more):
    torch.manual_seed(seed)
    layer = getattr(kr, kind)(5, **kwargs, **more)
    layer(torch.zeros(3, 6, 4))
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.uniform_(-0.5, 0.5)
    return layer


def run(layer, x, mask):
    with torch.autocast("cpu", dtype=LOW):
        return as_list(layer(x, mask=mask))


@pytest.mark.parametrize("kind, kwargs", CONFIGS, ids=[f"{k}-{'-'.join(map(str, a.items())) or 'default'}" for k, a in CONFIGS])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_every_configuration_runs_on_the_loop_in_the_fused_dtype(kind, kwargs, masked):
    x = torch.randn(3, 6, 4, requires_grad=True)
    mask = MASK if masked else None
    layer = build(kind, kwargs, use_cudnn=False)
    reference = as_list(layer(x, mask=mask))
    outputs = run(layer, x, mask)
    assert layer.last_path == "loop"
    assert [o.dtype for o in outputs] == [LOW] * len(reference), "the loop returns autocast's dtype"
    for output, expected in zip(outputs, reference):
        assert_close(output.float(), expected, 5e-2, "bfloat16 autocast against float32")
    sum(o.float().sum() for o in outputs).backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all()
               for p in layer.parameters())
    fused = build(kind, kwargs, use_cudnn="auto")
    fused_outputs = run(fused, x, mask)
    assert [o.dtype for o in fused_outputs] == [o.dtype for o in outputs], f"{fused.last_path} path's dtypes"
    for a, b in zip(fused_outputs, outputs):
        assert_close(a.float(), b.float(), 5e-2, "fused against loop under autocast")


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_dropout_while_training(kind):
    layer = build(kind, {"recurrent_dropout": 0.3, "dropout": 0.2, "seed": 1})
    layer.train()
    (output,) = run(layer, torch.randn(3, 6, 4), MASK)
    assert output.dtype == LOW and torch.isfinite(output.float()).all()
    output.float().sum().backward()
    assert layer.cell.recurrent_kernel.grad is not None


def test_stacked_cells_bidirectional_convlstm_and_a_custom_cell():
    x = torch.randn(3, 6, 4)
    with torch.autocast("cpu", dtype=LOW):
        stacked = kr.RNN([kr.GRUCell(5), kr.LSTMCell(6)], return_sequences=True)(x, mask=MASK)
        both = kr.Bidirectional(kr.LSTM(5, return_sequences=True, recurrent_dropout=0.1))(x, mask=MASK)
        frames = kr.ConvLSTM1D(4, 3, return_sequences=True)(torch.randn(2, 5, 7, 3))
    assert stacked.dtype == both.dtype == frames.dtype == LOW

    class Accumulate(kr.Layer):
        state_size = 4

        def forward(self, inputs, states):
            return inputs + states[0], [inputs + states[0]]
    with torch.autocast("cpu", dtype=LOW):
        total = kr.RNN(Accumulate())(x)
    assert total.dtype == LOW and torch.allclose(total.float(), x.sum(1), atol=5e-2)


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
@pytest.mark.parametrize("path", ["fused", "loop"])
def test_stateful_states_stay_in_the_weights_dtype(path, kind):
    # As Keras keeps its state variables: a call under autocast must not leave bfloat16 states
    # for the next call, with or without autocast.
    layer = build(kind, {"stateful": True}, use_cudnn=path == "fused")
    layer.reset_states()
    run(layer, torch.randn(3, 6, 4), None)
    run(layer, torch.randn(3, 6, 4), None)
    assert layer.last_path == path and {s.dtype for s in layer.states} == {torch.float32}
    output = layer(torch.randn(3, 6, 4))
    assert output.dtype == torch.float32 and {s.dtype for s in layer.states} == {torch.float32}


def test_a_float64_layer_is_left_in_float64():
    layer = kr.LSTM(5, dtype=torch.float64, use_cudnn=False)
    (output,) = run(layer, torch.randn(3, 6, 4, dtype=torch.float64), None)
    assert output.dtype == torch.float64


@pytest.mark.parametrize("make", [lambda rs: kr.LSTM(4, return_state=True, return_sequences=rs, input_dim=3),
                                  lambda rs: kr.Bidirectional(kr.GRU(4, return_state=True, return_sequences=rs),
                                                              input_dim=3)],
                         ids=["lstm", "bidirectional-gru"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_a_fully_masked_row_keeps_every_result_in_autocasts_dtype(make, return_sequences):
    """The empty row's initial states join the others' in the kernel's dtype: no float32 state (or last
    output) comes back under CPU bfloat16 autocast."""
    layer = make(return_sequences)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [False] * 5])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        results = layer(torch.randn(3, 5, 3), mask=mask)
    assert [r.dtype for r in results] == [torch.bfloat16] * len(results)
