"""AdditiveAttention against keras.layers.AdditiveAttention: scores, masks, causal mask, gradients, weights, config."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

BATCH, TQ, TV, DIM, VALUE_DIM = 3, 4, 5, 6, 7


def make_masks():
    query_mask = torch.ones(BATCH, TQ, dtype=torch.bool)
    query_mask[0, -1] = False
    query_mask[2, :2] = False
    value_mask = torch.ones(BATCH, TV, dtype=torch.bool)
    value_mask[0, 3:] = False
    value_mask[1, ::2] = False
    value_mask[2, :] = False          # nothing to attend to: Keras attends uniformly
    return query_mask, value_mask


MASKS = {"no_mask": (False, False), "query_mask": (True, False), "value_mask": (False, True),
         "both_masks": (True, True)}


def make_pair(**kwargs):
    theirs = keras.layers.AdditiveAttention(**kwargs)
    theirs.build([(BATCH, TQ, DIM), (BATCH, TV, DIM)])
    random_weights(theirs, scale=1.5)
    ours = kr.AdditiveAttention(**kwargs, input_dim=DIM)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.parametrize("with_key", [False, True], ids=["value_as_key", "separate_key"])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("masks", MASKS)
@pytest.mark.parametrize("use_scale", [True, False], ids=["scaled", "unscaled"])
def test_additive_attention_matches_keras(use_scale, masks, causal, with_key):
    ours, theirs = make_pair(use_scale=use_scale)
    value_dim = VALUE_DIM if with_key else DIM
    tensors = [torch.randn(BATCH, TQ, DIM), torch.randn(BATCH, TV, value_dim)]
    if with_key:
        tensors.append(torch.randn(BATCH, TV, DIM))
    use_query_mask, use_value_mask = MASKS[masks]
    query_mask, value_mask = make_masks()
    mask = None if masks == "no_mask" else [query_mask if use_query_mask else None,
                                            value_mask if use_value_mask else None]
    mine = [t.clone().requires_grad_(True) for t in tensors]
    ref = [t.clone().requires_grad_(True) for t in tensors]
    out_ours = ours(mine, mask=mask, return_attention_scores=True, use_causal_mask=causal)
    out_theirs = theirs(ref, mask=mask, return_attention_scores=True, use_causal_mask=causal, training=False)
    assert_close(out_ours[0], out_theirs[0], OUTPUT_ATOL, "attention output")
    assert_close(out_ours[1], out_theirs[1], OUTPUT_ATOL, "attention scores")
    weighted_sum(list(out_ours)).backward()
    weighted_sum(list(out_theirs)).backward()
    for role, a, b in zip(("query", "value", "key"), mine, ref):
        assert_close(a.grad, b.grad, GRAD_ATOL, f"d/d {role}")
    for weight, ref_weight in zip(ours.parameters(), theirs.weights, strict=True):
        assert_close(weight.grad, ref_weight.value.grad, GRAD_ATOL, f"d/d {ref_weight.path}")


@pytest.mark.parametrize("use_scale", [True, False], ids=["scaled", "unscaled"])
def test_additive_attention_weight_shape_initializer_and_count_match_keras(use_scale):
    theirs = keras.layers.AdditiveAttention(use_scale=use_scale)
    theirs.build([(BATCH, TQ, 50), (BATCH, TV, 50)])
    ours = kr.AdditiveAttention(use_scale=use_scale)
    assert not ours.built                                     # sized from the first query, as in Keras
    ours([torch.randn(BATCH, TQ, 50), torch.randn(BATCH, TV, 50)])
    assert [n for n, _ in ours.named_parameters()] == [w.name for w in theirs.weights]
    assert ours.count_params() == theirs.count_params() == sum(p.numel() for p in ours.parameters())
    if use_scale:
        limit = np.sqrt(6.0 / (50 + 50))                      # glorot uniform on a (50,) vector
        scale = ours.get_weights()[0]
        assert scale.shape == (50,) and np.abs(scale).max() <= limit and np.abs(scale).max() > 0.8 * limit


def test_additive_attention_masks_dropout_and_config_follow_attention():
    layer = kr.AdditiveAttention(dropout=0.5, seed=3, input_shape=(TQ, DIM))
    query_mask, value_mask = make_masks()
    inputs = [torch.randn(BATCH, TQ, DIM), torch.randn(BATCH, TV, DIM)]
    assert layer.compute_mask(inputs, [query_mask, value_mask]) is query_mask
    plain = layer(inputs, return_attention_scores=True, training=False)[1]
    dropped = layer(inputs, return_attention_scores=True, training=True)[1]
    assert torch.any(dropped == 0) and not torch.any(plain == 0)
    mine, ref = layer.get_config(), keras.layers.AdditiveAttention(dropout=0.5, seed=3).get_config()
    assert set(mine) == set(ref) and all(mine[k] == ref[k] for k in ref if k != "name")
    assert kr.AdditiveAttention.from_config(mine).get_config() == mine
    assert kr.Attention(score_mode="concat").get_config().keys() == keras.layers.Attention().get_config().keys()


ERRORS = [
    ({"dropout": 1.0}, None, ValueError, r"`dropout` must be a float in \[0, 1\)"),
    ({}, [torch.randn(2, 3, 4)], ValueError, "takes an inputs list of length 2 or 3"),
    ({}, [torch.randn(2, 3, 4), torch.randn(2, 5, 6)], ValueError, "query and key must have the same feature size"),
    ({"input_dim": 4}, [torch.randn(2, 3, 5), torch.randn(2, 5, 5)], ValueError, "built for 4 query features"),
    ({}, [torch.randn(2, 3, 4), torch.randn(2, 5, 4)], TypeError, "query_mask must be a bool tensor"),
]


@pytest.mark.parametrize("kwargs, inputs, error, pattern", ERRORS, ids=[p for *_, p in ERRORS])
def test_additive_attention_rejects_bad_arguments_and_inputs(kwargs, inputs, error, pattern):
    with pytest.raises(error, match=pattern):
        layer = kr.AdditiveAttention(**kwargs)
        mask = [torch.ones(2, 3), None] if error is TypeError else None
        layer(inputs, mask=mask)
