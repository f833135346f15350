"""load_state_dict into a layer or model before its first call, as PyTorch's lazy modules take one."""
import pytest
import torch

import kerasrnn_torch as kr
from layer_catalog import CATALOG, call, make


def _first(value):
    return value[0] if isinstance(value, (tuple, list)) else value


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_layer_loads_a_state_dict_before_its_first_call(name):
    torch.manual_seed(0)
    source, inputs = make(name)
    source.eval()
    x = inputs()
    expected = call(source, x)
    target, _ = make(name)
    placeholders = list(target.parameters())
    optimizer = torch.optim.SGD(placeholders, lr=0.1) if placeholders else None     # made before the load
    target.load_state_dict(source.state_dict())                 # strict: no key missing, none unexpected
    target.eval()
    got = call(target, x)
    torch.testing.assert_close(_first(got), _first(expected), rtol=0, atol=1e-6)
    assert list(target.state_dict()) == list(source.state_dict())
    if optimizer is None:
        assert not list(source.parameters()), f"{name}: weights the unbuilt layer had no placeholder for"
        return
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert all(id(p) in held for p in target.parameters()), f"{name}: the load replaced a placeholder"
    before = {n: p.detach().clone() for n, p in target.named_parameters() if p.requires_grad}
    output = _first(call(target, x))
    (output * torch.randn_like(output)).sum().backward()
    optimizer.step()
    unchanged = [n for n, p in target.named_parameters() if n in before and torch.equal(p, before[n])]
    assert not unchanged, f"{name}: the optimizer made before the load did not train {unchanged}"


def test_a_model_loads_before_its_first_call_and_its_optimizer_trains_every_weight():
    def make_model():
        return kr.Sequential([kr.Embedding(100, 8), kr.Bidirectional(kr.LSTM(16, return_sequences=True)),
                              kr.GRU(8), kr.Dense(1)])
    ids = torch.randint(1, 100, (4, 7))
    source = make_model().eval()
    expected = source(ids)
    target = make_model()
    optimizer = torch.optim.Adam(target.parameters())
    target.load_state_dict(source.state_dict())
    torch.testing.assert_close(target.eval()(ids), expected, rtol=0, atol=1e-6)
    assert target[1].forward_layer.last_path == "fused"
    before = [p.detach().clone() for p in target.parameters()]
    target.train()(ids).sum().backward()
    optimizer.step()
    assert all(not torch.equal(p, b) for p, b in zip(target.parameters(), before))
    assert len(optimizer.param_groups[0]["params"]) == len(list(target.parameters()))


def test_a_state_dict_from_a_layer_built_for_other_inputs_is_named_at_the_first_call():
    source = kr.Dense(4)
    source(torch.randn(2, 3))
    target = kr.Dense(4)
    target.load_state_dict(source.state_dict())
    with pytest.raises(ValueError, match=r"gave weight 'kernel' the shape \(3, 4\), but this input needs \(5, 4\)"):
        target(torch.randn(2, 5))


def test_a_recurrent_layer_loaded_before_its_call_keeps_keras_layout_and_the_fused_path():
    source = kr.LSTM(6)
    x = torch.randn(3, 4, 5)
    expected = source(x)
    target = kr.LSTM(6)
    target.load_state_dict(source.state_dict())
    torch.testing.assert_close(target(x), expected, rtol=0, atol=1e-6)
    assert target.cell.kernel.t().is_contiguous() and target.last_path == "fused"
    assert [w.shape for w in target.get_weights()] == [(5, 24), (6, 24), (24,)]


@pytest.mark.parametrize("options", [{}, {"use_gate": True, "output_shape": 5, "value_dim": 3},
                                     {"use_bias": False}])
def test_multi_head_attention_optimizer_made_before_the_load_trains_every_projection(options):
    query, value = torch.randn(2, 4, 6), torch.randn(2, 3, 7)
    source = kr.MultiHeadAttention(num_heads=2, key_dim=4, **options)
    expected = source(query, value)
    target = kr.MultiHeadAttention(num_heads=2, key_dim=4, **options)
    optimizer = torch.optim.SGD(target.parameters(), lr=0.1)
    target.load_state_dict(source.state_dict())
    assert list(target.state_dict()) == list(source.state_dict())
    torch.testing.assert_close(target(query, value), expected, rtol=0, atol=1e-6)
    before = [p.detach().clone() for p in target.parameters()]
    assert len(optimizer.param_groups[0]["params"]) == len(before) == len(list(source.parameters()))
    target(query, value).square().sum().backward()
    optimizer.step()
    assert all(not torch.equal(p, b) for p, b in zip(target.parameters(), before))


def test_multi_head_attention_frozen_at_construction_keeps_its_placeholders_frozen():
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=4, trainable=False)
    assert list(layer.parameters()) and not any(p.requires_grad for p in layer.parameters())
    layer(torch.randn(2, 4, 6), torch.randn(2, 3, 6))
    assert not any(p.requires_grad for p in layer.parameters())
