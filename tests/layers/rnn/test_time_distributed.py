"""TimeDistributed against Keras 3, over our layers and plain torch modules."""
import keras
import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

BATCH, TIME, FEATURES, UNITS = 3, 5, 4, 6


@pytest.mark.parametrize("shape", [(BATCH, TIME, FEATURES), (BATCH, TIME, 2, FEATURES)], ids=["rank3", "rank4"])
@pytest.mark.parametrize("activation", [None, "tanh"], ids=str)
def test_time_distributed_dense_matches_keras(shape, activation):
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(UNITS, activation=activation))
    theirs.build(shape)
    random_weights(theirs)
    ours = kr.TimeDistributed(kr.Dense(UNITS, activation=activation))
    x = torch.randn(shape)
    ours(x)
    ours.set_weights(theirs.get_weights())
    x_ours, x_theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert out_ours.shape == (*shape[:-1], UNITS)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(x_ours.grad, x_theirs.grad, GRAD_ATOL, "d/d inputs")
    for mine, ref in zip(ours.parameters(), theirs.weights, strict=True):
        assert_close(mine.grad, ref.value.grad, GRAD_ATOL, f"d/d {ref.path}")


def test_time_distributed_weights_and_count_are_the_inner_layers():
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(UNITS))
    theirs.build((BATCH, TIME, FEATURES))
    ours = kr.TimeDistributed(kr.Dense(UNITS), input_shape=(TIME, FEATURES))
    assert ours.count_params() == theirs.count_params() == ours.layer.count_params()
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert list(ours.parameters()) == list(ours.layer.parameters())


def test_time_distributed_builds_the_inner_layer_lazily():
    ours = kr.TimeDistributed(kr.Dense(UNITS))
    with pytest.raises(ValueError, match="has no weights yet"):
        ours.count_params()
    assert ours(torch.randn(2, 7, FEATURES)).shape == (2, 7, UNITS)
    assert ours.built and tuple(ours.layer.kernel.shape) == (FEATURES, UNITS)


def test_time_distributed_torch_linear_applies_per_step():
    linear = nn.Linear(FEATURES, UNITS)
    layer = kr.TimeDistributed(linear)
    x = torch.randn(BATCH, TIME, FEATURES)
    expected = torch.stack([linear(x[:, t]) for t in range(TIME)], dim=1)
    assert_close(layer(x), expected, OUTPUT_ATOL, "per-step output")
    assert layer.count_params() == sum(p.numel() for p in linear.parameters()) == FEATURES * UNITS + UNITS
    assert [w.shape for w in layer.get_weights()] == [(UNITS, FEATURES), (UNITS,)]


def test_time_distributed_torch_module_without_parameters():
    layer = kr.TimeDistributed(nn.Flatten())
    assert layer(torch.randn(BATCH, TIME, 2, 3)).shape == (BATCH, TIME, 6)
    assert layer.count_params() == 0


def test_time_distributed_passes_the_mask_through_without_changing_outputs():
    layer = kr.TimeDistributed(kr.Dense(UNITS))
    x = torch.randn(BATCH, TIME, FEATURES)
    mask = torch.rand(BATCH, TIME) > 0.5
    assert layer.compute_mask(x, mask) is mask
    assert layer.compute_mask(x) is None
    # Keras computes every step, masked or not.
    assert torch.equal(layer(x, mask=mask), layer(x))


def test_time_distributed_lstm_folds_an_inner_time_mask():
    lstm = kr.LSTM(UNITS, return_sequences=True)
    layer = kr.TimeDistributed(lstm)
    x = torch.randn(BATCH, TIME, 4, FEATURES)
    mask = torch.ones(BATCH, TIME, 4, dtype=torch.bool)
    mask[:, :, 3] = False
    mask[0, 1, 1:] = False
    out = layer(x, mask=mask)
    for t in range(TIME):
        assert_close(out[:, t], lstm(x[:, t], mask=mask[:, t]), OUTPUT_ATOL, f"step {t}")


def test_time_distributed_passes_training_to_dropout():
    layer = kr.TimeDistributed(kr.Dropout(0.5))
    x = torch.ones(BATCH, TIME, 20)
    assert torch.equal(layer(x, training=False), x)
    assert not torch.equal(layer(x, training=True), x)
    assert torch.equal(layer.eval()(x), x)


TIME_DISTRIBUTED_ERRORS = [
    (lambda: kr.TimeDistributed(kr.Dense(3))(torch.randn(4, 5)), ValueError,
     r"\(batch, time, \.\.\.\) with at least 3 axes, got a 2-D input of shape \(4, 5\)"),
    (lambda: kr.TimeDistributed(kr.Dense(3), input_dim=5), ValueError, "got a 2-D input of shape"),
    (lambda: kr.TimeDistributed("dense"), TypeError, "`layer` must be an nn.Module"),
    (lambda: kr.TimeDistributed(kr.Dense(3))(torch.randn(2, 4, 5), mask=torch.ones(2, 3, dtype=torch.bool)),
     ValueError, r"mask must start with \(batch, time\) = \(2, 4\), got \(2, 3\)"),
    (lambda: kr.TimeDistributed(kr.Dense(3))(torch.randn(2, 4, 5), mask=torch.ones(2, 4)), TypeError,
     "mask must be a bool tensor"),
]


@pytest.mark.parametrize("call, error, pattern", TIME_DISTRIBUTED_ERRORS, ids=[p for *_, p in TIME_DISTRIBUTED_ERRORS])
def test_time_distributed_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


class ZeroMaskedRows(torch.nn.Module):
    """A module whose output depends on the mask it is given: masked samples give zeros, others double."""

    def forward(self, inputs, mask=None):
        return inputs * 2.0 if mask is None else torch.where(mask[:, None], inputs * 2.0, torch.zeros(()))


class KerasZeroMaskedRows(keras.layers.Layer):
    def call(self, inputs, mask=None):
        doubled = inputs * 2.0
        return doubled if mask is None else keras.ops.where(mask[:, None], doubled, keras.ops.zeros_like(doubled))


def test_time_distributed_gives_each_step_its_mask_slice_as_keras():
    x = torch.randn(BATCH, TIME, 3)
    mask = torch.rand(BATCH, TIME) > 0.5
    mask[0, 0], mask[0, 1] = True, False
    expected = keras.layers.TimeDistributed(KerasZeroMaskedRows())(x, mask=mask)
    got = kr.TimeDistributed(ZeroMaskedRows())(x, mask=mask)
    assert_close(got, expected, OUTPUT_ATOL, "masked steps")
    assert torch.equal(got[0, 1], torch.zeros(3))
