"""The opt-in compiled loop (torch.compile over the whole time loop) gives the eager loop's numbers."""
import torch

import kerasrnn_torch as kr
from reference import assert_close


def test_compiled_loop_matches_eager_loop_with_mask_and_gradients():
    layer = kr.LSTM(5, activation="relu", return_sequences=True, return_state=True, input_dim=3)
    x = torch.randn(3, 4, 3, requires_grad=True)
    mask = torch.tensor([[True, False, True, True], [True, True, True, False], [False, False, False, False]])
    eager = layer(x, mask=mask)
    eager_grads = torch.autograd.grad(sum(o.sum() for o in eager), [x, *layer.parameters()])
    layer.compile_loop = True
    compiled = layer(x, mask=mask)
    assert layer.last_path == "loop"
    compiled_grads = torch.autograd.grad(sum(o.sum() for o in compiled), [x, *layer.parameters()])
    for a, b in zip(eager, compiled):
        assert_close(a, b, 1e-5, "outputs")
    for a, b in zip(eager_grads, compiled_grads):
        assert_close(a, b, 1e-4, "gradients")


def test_compiled_loop_keeps_compiling_past_dynamos_default_variant_limit():
    # One compiled function serves every layer: each layer, shape and grad mode is a variant of it.
    # With Dynamo's limit at 1 (its default is 8), later variants must still compile, not fall back.
    import torch._dynamo
    torch._dynamo.reset()
    graphs = torch._dynamo.utils.counters["stats"]
    before = graphs["unique_graphs"]
    x = torch.randn(2, 3, 3)
    lstm = kr.LSTM(3, activation="relu", input_dim=3)
    gru = kr.GRU(2, reset_after=False, input_dim=3)
    lstm.compile_loop = gru.compile_loop = True
    with torch._dynamo.config.patch(recompile_limit=1):     # (monkeypatch would delete the option)
        lstm(x)
        with torch.no_grad():
            lstm(x)
        gru(x)
    assert graphs["unique_graphs"] - before == 3


def test_compiled_gru_loop_gives_the_native_kernels_numbers():
    # docs/benchmarks.md recommends it on the CPU (faster than torch.nn.GRU's backward).
    fused = kr.GRU(4, return_sequences=True, input_dim=3)
    compiled = kr.GRU(4, return_sequences=True, input_dim=3, use_cudnn=False)
    compiled.set_weights(fused.get_weights())
    compiled.compile_loop = True
    x = torch.randn(2, 5, 3, requires_grad=True)
    results = []
    for layer in (fused, compiled):
        out = layer(x)
        results.append((out, torch.autograd.grad(out.sum(), [x, *layer.parameters()])))
    assert (fused.last_path, compiled.last_path) == ("fused", "loop")
    assert_close(results[0][0], results[1][0], 1e-5, "outputs")
    for a, b in zip(results[0][1], results[1][1]):
        assert_close(a, b, 1e-4, "gradients")
