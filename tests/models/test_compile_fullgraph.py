"""torch.compile(model, fullgraph=True) of Sequential and functional models of built-in layers: no graph
break on either path, in training and inference, and the eager numbers (outputs and gradients).

Compiling is slow on two cores, so each model compiles once per path and serves every assertion:
`aot_eager` traces forward and backward through AOT autograd as Inductor does (fullgraph, the custom
operators' fake forms and backward) without generating code; two Inductor compiles cover the code
generation itself (the CPU LSTM's backward, a masked call).
"""
from __future__ import annotations

import pytest
import torch

import kerasrnn_torch as kr
from reference import assert_close

OUTPUT_ATOL = 1e-6
GRAD_ATOL = 1e-5


def _randomized(model, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=generator) - 0.5)
    return model


def seq_lstm():
    model = kr.Sequential([kr.Input((None, 8)), kr.LSTM(16, return_sequences=True), kr.GRU(8), kr.Dense(2)])
    return model, (torch.randn(4, 7, 8),)


def bidirectional_masked():
    model = kr.Sequential([kr.Input((None,), dtype="int32"), kr.Embedding(50, 8, mask_zero=True),
                           kr.Bidirectional(kr.LSTM(8)), kr.Dense(1)])
    ids = torch.randint(1, 50, (4, 7))
    ids[1, 4:] = 0          # right padding
    ids[2, :2] = 0          # left padding
    ids[3, :] = 0           # a fully masked row
    return model, (ids,)


def seq2seq_attention():
    encoder_in = kr.Input((None, 8))
    encoded, h, c = kr.LSTM(16, return_sequences=True, return_state=True)(encoder_in)
    decoder_in = kr.Input((None, 8))
    decoded = kr.LSTM(16, return_sequences=True)(decoder_in, initial_state=[h, c])
    attended = kr.Attention()([decoded, encoded])
    out = kr.Dense(3)(kr.Concatenate()([decoded, attended]))
    return kr.Model([encoder_in, decoder_in], out), ([torch.randn(4, 7, 8), torch.randn(4, 5, 8)],)


def conv_lstm():
    model = kr.Sequential([kr.Input((None, 8, 8, 2)), kr.ConvLSTM2D(4, 3, padding="same"), kr.Flatten(),
                           kr.Dense(1)])
    return model, (torch.randn(2, 3, 8, 8, 2),)


MODELS = {"seq-lstm-gru": seq_lstm, "bidirectional-embedding-mask": bidirectional_masked,
          "seq2seq-attention": seq2seq_attention, "convlstm": conv_lstm}


@pytest.fixture(scope="module", params=list(MODELS))
def model_case(request):
    torch.manual_seed(0)
    model, args = MODELS[request.param]()
    model(*args)            # built before randomizing
    return request.param, _randomized(model), args


def _train_step(model, args):
    model.train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    output = model(*args)
    weights = torch.linspace(-1, 1, output.numel()).view(output.shape)
    return output, torch.autograd.grad((output * weights).sum(), parameters)


def _compare(compiled, model, args, what):
    eager, eager_grads = _train_step(model, args)
    output, grads = _train_step(compiled, args)
    assert_close(output, eager, OUTPUT_ATOL, f"{what}: training outputs")
    assert len(grads) == len(eager_grads)
    for got, want in zip(grads, eager_grads):
        assert_close(got, want, GRAD_ATOL, f"{what}: gradients")
    model.eval()
    with torch.no_grad():
        assert_close(compiled(*args), model(*args), OUTPUT_ATOL, f"{what}: inference outputs")


@pytest.mark.parametrize("path", ["auto", "loop"])
def test_fullgraph_compile_matches_eager_in_training_and_inference(model_case, path):
    name, model, args = model_case
    torch._dynamo.reset()
    with kr.force_path(path):
        _compare(torch.compile(model, fullgraph=True, backend="aot_eager"), model, args, f"{name} on {path}")


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_dynamo_explain_finds_no_graph_break(model_case, mode):
    name, model, args = model_case
    getattr(model, mode)()
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model)(*args)
    assert explanation.graph_break_count == 0, [str(b.reason).splitlines()[0] for b in explanation.break_reasons]


@pytest.mark.parametrize("make", [seq_lstm, bidirectional_masked], ids=["seq-lstm-gru", "bidirectional-masked"])
def test_inductor_fullgraph_compile_matches_eager(make):
    torch.manual_seed(0)
    model, args = make()
    model(*args)
    model = _randomized(model)
    torch._dynamo.reset()
    _compare(torch.compile(model, fullgraph=True), model, args, "inductor")
