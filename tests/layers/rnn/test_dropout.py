"""Keras dropout semantics: one input mask and one recurrent mask per call, reused at every step."""
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.cell import DropoutMasks


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_dropout_only_in_training(name):
    layer = getattr(kr, name)(4, dropout=0.5, recurrent_dropout=0.5, input_dim=3)
    x = torch.randn(2, 5, 3)
    layer.eval()
    assert torch.equal(layer(x), layer(x))
    assert torch.equal(layer(x, training=False), layer(x))
    layer.train()
    assert not torch.equal(layer(x), layer(x))


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_seed_makes_masks_reproducible(name):
    x = torch.randn(2, 5, 3)
    outs = []
    for global_seed in (1, 2):
        torch.manual_seed(0)   # identical initial weights
        layer = getattr(kr, name)(4, dropout=0.3, recurrent_dropout=0.3, seed=7, input_dim=3)
        torch.manual_seed(global_seed)   # the layer's seed, not the global RNG, decides the masks
        layer.train()
        outs.append([layer(x) for _ in range(2)])
    assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][1], outs[1][1])
    assert not torch.equal(outs[0][0], outs[0][1])   # the generator advances between calls


def test_one_mask_per_call_reused_at_every_step(monkeypatch):
    """Inputs constant in time + the same mask at each step => zeroed features are zero at every step."""
    layer = kr.SimpleRNN(3, dropout=0.5, recurrent_dropout=0.5, input_dim=6, seed=3)
    seen = []
    original = layer.cell.dropout_masks

    def spy(*args) -> DropoutMasks:        # both loops (autograd and hand-written) draw here, once per call
        seen.append(original(*args))
        return seen[-1]

    monkeypatch.setattr(layer.cell, "dropout_masks", spy)
    layer.train()
    layer(torch.ones(4, 7, 6))
    assert len(seen) == 1                       # drawn once for the 7 steps
    masks = seen[0]
    assert masks.inputs.shape == (4, 6) and masks.recurrent.shape == (4, 3)
    kept = masks.inputs[masks.inputs != 0]
    assert torch.allclose(kept, torch.full_like(kept, 2.0))   # scaled by 1 / (1 - rate)


def test_fused_path_uses_the_same_input_mask_at_every_step(monkeypatch):
    from kerasrnn_torch.layers.rnn.engine import fused
    captured = {}
    original = fused.run_unidirectional

    def spy(kind, inputs, *args, **kwargs):
        captured["inputs"] = inputs
        return original(kind, inputs, *args, **kwargs)

    monkeypatch.setattr(fused, "run_unidirectional", spy)
    layer = kr.LSTM(3, dropout=0.5, input_dim=6)
    layer.train()
    layer(torch.ones(4, 7, 6))
    assert layer.last_path == "fused"
    dropped = captured["inputs"]
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))
    assert (dropped == 0).any() and (dropped == 2).any()
