"""torch.func on the layers: grad and functional_call on both paths; vmap and jvp on the loop (as torch.nn)."""
import pytest
import torch
from torch.func import functional_call, grad, jvp, vmap

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_grad_of_functional_call_matches_autograd_on_both_paths(name):
    layer = getattr(kr, name)(4, return_sequences=True, input_dim=3)
    params = {k: v.detach() for k, v in layer.named_parameters()}
    x = torch.randn(2, 5, 3)

    def loss(p):
        return functional_call(layer, p, (x,)).square().sum()
    expected = torch.autograd.grad(layer(x).square().sum(), list(layer.parameters()))
    for path in ("fused", "loop"):
        with kr.force_path(path):
            got = grad(loss)(params)
        assert layer.last_path == path
        for (key, value), reference in zip(got.items(), expected):
            assert_close(value, reference, GRAD_ATOL, f"{path} d/d {key}")


# torch's forward-mode AD decompositions, loaded at the first jvp, go through torch.jit.script (torch-internal).
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_vmap_and_jvp_on_the_loop_path():
    layer = kr.GRU(4, input_dim=3)
    x = torch.randn(3, 5, 3)
    with kr.force_path("loop"):
        batched = vmap(lambda row: layer(row.unsqueeze(0))[0])(x)
        assert_close(batched, layer(x), OUTPUT_ATOL, "vmap over rows")
        tangent = torch.randn_like(x)
        _, directional = jvp(lambda inputs: layer(inputs), (x,), (tangent,))
        step = 1e-3
        numeric = (layer(x + step * tangent) - layer(x - step * tangent)) / (2 * step)
        assert_close(directional, numeric, 1e-3, "jvp against central differences")
