"""Attention against keras.layers.Attention: scores, masks, causal mask, gradients, weights."""
import keras
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
    """Our layer and Keras's, built, with the same random weights."""
    theirs = keras.layers.Attention(**kwargs)
    theirs.build([(BATCH, TQ, DIM), (BATCH, TV, DIM)])
    random_weights(theirs, scale=1.5)
    ours = kr.Attention(**kwargs)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def compare(kwargs, *, masks="no_mask", causal=False, with_key=False):
    ours, theirs = make_pair(**kwargs)
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
    assert out_ours[0].shape == (BATCH, TQ, value_dim) and out_ours[1].shape == (BATCH, TQ, TV)
    assert_close(out_ours[0], out_theirs[0], OUTPUT_ATOL, "attention output")
    assert_close(out_ours[1], out_theirs[1], OUTPUT_ATOL, "attention scores")
    weighted_sum(list(out_ours)).backward()
    weighted_sum(list(out_theirs)).backward()
    for role, a, b in zip(("query", "value", "key"), mine, ref):
        assert_close(a.grad, b.grad, GRAD_ATOL, f"d/d {role}")
    for weight, ref_weight in zip(ours.parameters(), theirs.weights, strict=True):
        assert_close(weight.grad, ref_weight.value.grad, GRAD_ATOL, f"d/d {ref_weight.path}")
    return out_ours


CONFIGS = {"dot": {}, "dot_scaled": {"use_scale": True}, "concat": {"score_mode": "concat"},
           "concat_scaled": {"score_mode": "concat", "use_scale": True}}


@pytest.mark.parametrize("with_key", [False, True], ids=["value_as_key", "separate_key"])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("masks", MASKS)
@pytest.mark.parametrize("config", CONFIGS)
def test_attention_matches_keras(config, masks, causal, with_key):
    compare(CONFIGS[config], masks=masks, causal=causal, with_key=with_key)


def test_attention_returns_only_the_output_by_default():
    ours, theirs = make_pair()
    q, v = torch.randn(BATCH, TQ, DIM), torch.randn(BATCH, TV, DIM)
    out = ours([q, v])
    assert isinstance(out, torch.Tensor)
    assert_close(out, theirs([q, v]), OUTPUT_ATOL, "output")


def test_attention_zeroes_masked_queries_and_ignores_masked_values():
    query_mask, value_mask = make_masks()
    out, scores = compare({}, masks="both_masks")
    assert torch.all(out[~query_mask] == 0)
    assert torch.all(scores[0, :, 3:] < 1e-6) and torch.all(scores[1, :, ::2] < 1e-6)
    assert_close(scores[2], torch.full((TQ, TV), 1.0 / TV), OUTPUT_ATOL, "fully masked row")


def test_attention_causal_mask_blocks_future_positions():
    _, scores = compare({}, causal=True)
    assert torch.all(scores.detach().triu(diagonal=1) < 1e-6)


@pytest.mark.parametrize("config", CONFIGS)
def test_attention_weights_names_initial_values_and_count_match_keras(config):
    kwargs = CONFIGS[config]
    theirs = keras.layers.Attention(**kwargs)
    theirs.build([(BATCH, TQ, DIM), (BATCH, TV, DIM)])
    ours = kr.Attention(**kwargs)
    assert ours.count_params() == theirs.count_params() == sum(p.numel() for p in ours.parameters())
    assert [name for name, _ in ours.named_parameters()] == [w.name for w in theirs.weights]
    for mine, ref in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert mine.shape == ref.shape == () and float(mine) == float(ref) == 1.0


def test_attention_compute_mask_returns_the_query_mask():
    layer = kr.Attention()
    query_mask, value_mask = make_masks()
    inputs = [torch.randn(BATCH, TQ, DIM), torch.randn(BATCH, TV, DIM)]
    assert layer.compute_mask(inputs, [query_mask, value_mask]) is query_mask
    assert layer.compute_mask(inputs, [None, value_mask]) is None
    assert layer.compute_mask(inputs) is None


def test_attention_dropout_only_while_training():
    layer = kr.Attention(dropout=0.5, seed=1)
    q, v = torch.randn(BATCH, TQ, DIM), torch.randn(BATCH, TV, DIM)
    plain = kr.Attention()([q, v], return_attention_scores=True)[1]
    _, eval_scores = layer.eval()([q, v], return_attention_scores=True)
    assert torch.equal(eval_scores, plain)
    _, train_scores = layer([q, v], return_attention_scores=True, training=True)
    dropped = train_scores == 0
    assert dropped.any() and not dropped.all()
    assert torch.allclose(train_scores[~dropped], plain[~dropped] * 2.0)


ATTENTION_ERRORS = [
    (lambda: kr.Attention(score_mode="additive"), ValueError,
     "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}"),
    (lambda: kr.Attention(dropout=1.5), ValueError, "`dropout` must be a float in"),
    (lambda: kr.Attention()(torch.randn(2, 3, 4)), ValueError, r"list \[query, value\] or \[query, value, key\]"),
    (lambda: kr.Attention()([torch.randn(2, 3, 4)]), ValueError, "got a list of length 1"),
    (lambda: kr.Attention()([torch.randn(2, 3, 4), torch.randn(2, 5, 3)]), ValueError,
     "query and key must have the same feature size"),
    (lambda: kr.Attention()([torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 6, 4)]), ValueError,
     "key and value must have the same number of steps"),
    (lambda: kr.Attention()([torch.randn(2, 3, 4), torch.randn(3, 5, 4)]), ValueError, "share the batch axes"),
    (lambda: kr.Attention()([torch.randn(3, 4), torch.randn(5, 4)]), ValueError, r"query must have shape \(batch"),
    (lambda: kr.Attention()([torch.randn(2, 3, 4), torch.randn(2, 5, 4)], mask=torch.ones(2, 3, dtype=torch.bool)),
     ValueError, r"mask must be a list \[query_mask, value_mask\]"),
    (lambda: kr.Attention()([torch.randn(2, 3, 4), torch.randn(2, 5, 4)], mask=[None, torch.ones(2, 5)]),
     TypeError, "value_mask must be a bool tensor"),
    (lambda: kr.Attention()([torch.randn(2, 3, 4), torch.randn(2, 5, 4)],
                            mask=[torch.ones(2, 5, dtype=torch.bool), None]),
     ValueError, r"query_mask must have shape \(2, 3\), got \(2, 5\)"),
]


@pytest.mark.parametrize("call, error, pattern", ATTENTION_ERRORS, ids=[p for *_, p in ATTENTION_ERRORS])
def test_attention_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_attention_device_dtype_and_name_keywords():
    layer = kr.Attention(use_scale=True, dtype=torch.float64, device="cpu", name="luong")
    assert layer.scale.dtype == torch.float64 and layer.name == "luong"
    q = torch.randn(2, 3, 4, dtype=torch.float64)
    assert layer([q, q]).dtype == torch.float64
