"""An optimizer made before the first call trains every weight: unbuilt layers hold placeholders that the build fills."""
import copy
import io

import pytest
import torch

import kerasrnn_torch as kr


def keras_style_model():
    return kr.Sequential([kr.Embedding(100, 8, mask_zero=True), kr.Bidirectional(kr.GRU(6, return_sequences=True)),
                          kr.LSTM(5), kr.LayerNormalization(), kr.Dense(3)])


def test_an_optimizer_made_before_the_first_call_trains_every_weight():
    model = keras_style_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    held = optimizer.param_groups[0]["params"]
    ids, target = torch.randint(1, 100, (4, 7)), torch.randint(0, 3, (4,))
    before = None
    for _ in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(ids), target)
        loss.backward()
        optimizer.step()
        if before is None:
            before = {id(p): p.detach().clone() for p in model.parameters()}
    assert [id(p) for p in model.parameters()] == [id(p) for p in held]      # the optimizer's own objects
    assert len(held) == 1 + 2 * 3 + 3 + 2 + 2 and all(p.grad is not None for p in held)
    assert all(not torch.equal(p.detach(), before[id(p)]) for p in model.parameters())


def test_placeholders_stay_out_of_state_dict_until_built():
    model = keras_style_model()
    assert list(model.state_dict()) == ["0.embeddings"]
    other = keras_style_model()
    other.load_state_dict(model.state_dict())                 # unbuilt into unbuilt
    model(torch.randint(1, 100, (2, 4)))
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    built = keras_style_model()
    built(torch.randint(1, 100, (2, 4)))
    built.load_state_dict(torch.load(buffer))
    early = keras_style_model()
    early.load_state_dict(model.state_dict())                 # weights into placeholders: they take the stored shapes
    assert list(early.state_dict()) == list(model.state_dict())   # (tests/core/test_state_dict_before_build.py)


def test_to_trainable_and_copies_before_the_build_carry_over():
    layer = kr.Dense(4).to(torch.float64)
    layer.trainable = False
    twin = copy.deepcopy(layer)
    layer(torch.randn(2, 3, dtype=torch.float64))
    assert layer.kernel.dtype == torch.float64 and not layer.kernel.requires_grad
    twin(torch.randn(2, 3, dtype=torch.float64))
    assert twin.kernel.dtype == torch.float64
    norm = kr.BatchNormalization()
    assert [p.requires_grad for p in norm.parameters()] == [True, True, False, False]
