"""MultiHeadAttention against keras.layers.MultiHeadAttention: numbers, both Keras paths, masks, weights, config."""
import keras
import numpy as np
import pytest
import torch
from keras.src import backend as keras_backend

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, random_weights, weighted_sum

BATCH, TQ, TV, QDIM, VDIM, KDIM = 3, 4, 5, 6, 7, 5
CONFIG_ONLY = {"kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
               "activity_regularizer", "kernel_constraint", "bias_constraint"}


def make_masks():
    query_mask = torch.ones(BATCH, TQ, dtype=torch.bool)
    query_mask[0, -1] = False
    query_mask[2, :2] = False
    value_mask = torch.ones(BATCH, TV, dtype=torch.bool)
    value_mask[0, 3:] = False
    value_mask[1, ::2] = False
    value_mask[2, :] = False                 # a row with nothing to attend to
    key_mask = torch.ones(BATCH, TV, dtype=torch.bool)
    key_mask[1, -1] = False
    attention_mask = torch.rand(BATCH, TQ, TV, generator=torch.Generator().manual_seed(0)) > 0.3
    return {"query_mask": query_mask, "value_mask": value_mask, "key_mask": key_mask,
            "attention_mask": attention_mask}


def make_pair(with_key=False, **kwargs):
    shapes = [(BATCH, TQ, QDIM), (BATCH, TV, VDIM)] + ([(BATCH, TV, KDIM)] if with_key else [])
    theirs = keras.layers.MultiHeadAttention(**kwargs)
    theirs.build(*shapes)
    random_weights(theirs)
    ours = kr.MultiHeadAttention(**kwargs)
    ours.build(*shapes)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def compare(kwargs, *, masks=(), causal=False, scores=False, with_key=False):
    ours, theirs = make_pair(with_key, **kwargs)
    tensors = [torch.randn(BATCH, TQ, QDIM), torch.randn(BATCH, TV, VDIM)]
    if with_key:
        tensors.append(torch.randn(BATCH, TV, KDIM))
    given = {name: m for name, m in make_masks().items() if name in masks}
    mine = [t.clone().requires_grad_(True) for t in tensors]
    ref = [t.clone().requires_grad_(True) for t in tensors]
    call = {"return_attention_scores": scores, "use_causal_mask": causal}
    out_ours = as_list(ours(*mine, **given, **call, training=False))
    keras_given = dict(given)
    keras_query = ref[0] * 1.0                 # Keras reads the query's mask from the tensor only
    if "query_mask" in keras_given:
        keras_backend.set_keras_mask(keras_query, keras_given.pop("query_mask"))
    out_theirs = as_list(theirs(keras_query, *ref[1:], **keras_given, **call, training=False))
    assert len(out_ours) == len(out_theirs) == (2 if scores else 1)
    for a, b, what in zip(out_ours, out_theirs, ("output", "scores")):
        assert_close(a, b, OUTPUT_ATOL, what)
    weighted_sum(out_ours).backward()
    weighted_sum(out_theirs).backward()
    for role, a, b in zip(("query", "value", "key"), mine, ref):
        assert_close(a.grad, b.grad, GRAD_ATOL, f"d/d {role}")
    for weight, ref_weight in zip(ours.parameters(), theirs.weights, strict=True):
        assert_close(weight.grad, ref_weight.value.grad, GRAD_ATOL, f"d/d {ref_weight.path}")
    return out_ours


MASK_SETS = {
    "no_mask": ((), False),
    "causal": ((), True),
    "query_value": (("query_mask", "value_mask"), False),
    "key_mask": (("key_mask",), False),
    "attention_mask_causal": (("attention_mask",), True),
    "all_masks_causal": (("query_mask", "value_mask", "key_mask", "attention_mask"), True),
}


@pytest.mark.parametrize("scores", [False, True], ids=["sdpa_path", "softmax_path_with_scores"])
@pytest.mark.parametrize("mask_set", MASK_SETS)
def test_mha_masks_match_keras_on_both_paths(mask_set, scores):
    masks, causal = MASK_SETS[mask_set]
    compare({"num_heads": 2, "key_dim": 3}, masks=masks, causal=causal, scores=scores)


CONFIGS = {
    "value_dim_output_int": {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 5},
    "output_shape_tuple": {"num_heads": 2, "key_dim": 3, "output_shape": (4, 2)},
    "no_bias": {"num_heads": 2, "key_dim": 4, "use_bias": False},
    "gated": {"num_heads": 2, "key_dim": 3, "use_gate": True},
    "sliding_window_2": {"num_heads": 2, "key_dim": 3, "sliding_window": 2},
    "dropout_in_inference": {"num_heads": 2, "key_dim": 3, "dropout": 0.3},
    "attention_axes_1": {"num_heads": 1, "key_dim": 3, "attention_axes": (1,)},
}


@pytest.mark.parametrize("with_key", [False, True], ids=["value_as_key", "separate_key"])
@pytest.mark.parametrize("config", CONFIGS)
def test_mha_configurations_match_keras(config, with_key):
    compare(CONFIGS[config], masks=("query_mask", "value_mask"), with_key=with_key)


def test_mha_fully_masked_query_rows_follow_the_keras_path():
    value_only = {"value_mask": make_masks()["value_mask"]}
    layer = kr.MultiHeadAttention(2, 3, output_shape=4, use_bias=False)
    q, v = torch.randn(BATCH, TQ, QDIM), torch.randn(BATCH, TV, VDIM)
    fast = layer(q, v, **value_only)
    slow, scores = layer(q, v, **value_only, return_attention_scores=True)
    assert torch.all(slow[2] == 0) and torch.all(scores[2] == 0)           # softmax path: zeroed probabilities
    assert torch.all(fast[2] != 0)                                         # SDPA path: uniform attention
    assert_close(fast[:2], slow[:2], OUTPUT_ATOL, "rows with something to attend to")


def test_mha_mask_argument_and_compute_mask_follow_keras_functional_masks():
    masks = make_masks()
    layer = kr.MultiHeadAttention(2, 3)
    q, v = torch.randn(BATCH, TQ, QDIM), torch.randn(BATCH, TV, VDIM)
    by_keyword = layer(q, v, query_mask=masks["query_mask"], value_mask=masks["value_mask"])
    by_list = layer(q, v, mask=[masks["query_mask"], masks["value_mask"]])
    assert torch.equal(by_keyword, by_list)
    assert torch.equal(layer(q, v, query_mask=masks["query_mask"]), layer(q, v, mask=masks["query_mask"]))
    assert layer.compute_mask([q, v], [masks["query_mask"], masks["value_mask"]]) is masks["query_mask"]
    assert layer.compute_mask(q, masks["query_mask"]) is masks["query_mask"]
    assert layer.compute_mask(q, None) is None
    # Keras: the output carries the query's mask
    keras_query = q.clone()
    keras_backend.set_keras_mask(keras_query, masks["query_mask"])
    keras_out = keras.layers.MultiHeadAttention(2, 3)(keras_query, v)
    assert torch.equal(keras_backend.get_keras_mask(keras_out), masks["query_mask"])


def test_mha_dropout_only_while_training_and_scores_before_dropout():
    layer = kr.MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    q, v = torch.randn(BATCH, TQ, QDIM), torch.randn(BATCH, TV, VDIM)
    eval_out, eval_scores = layer(q, v, return_attention_scores=True, training=False)
    train_out, train_scores = layer(q, v, return_attention_scores=True, training=True)
    assert torch.allclose(eval_scores, train_scores)      # Keras returns the probabilities before dropout
    assert not torch.allclose(eval_out, train_out)
    assert torch.equal(layer.eval()(q, v), eval_out)


@pytest.mark.parametrize("kwargs", [{}, {"use_gate": True, "use_bias": False, "value_dim": 2, "output_shape": 3}],
                         ids=["default", "gated_no_bias"])
def test_mha_weights_order_shapes_count_and_lazy_build(kwargs):
    theirs = keras.layers.MultiHeadAttention(2, 4, **kwargs)
    theirs.build((BATCH, TQ, QDIM), (BATCH, TV, VDIM))
    ours = kr.MultiHeadAttention(2, 4, **kwargs)
    assert not ours.built
    ours(torch.randn(BATCH, TQ, QDIM), torch.randn(BATCH, TV, VDIM))
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    assert [n.replace("_dense", "").replace("output", "attention_output").replace(".", "/")
            for n, _ in ours.named_parameters()] == [w.path.split("/", 1)[1] for w in theirs.weights]
    assert ours.count_params() == theirs.count_params() == sum(p.numel() for p in ours.parameters())


def test_mha_input_dim_builds_self_attention_and_regularizers_reach_every_projection():
    layer = kr.MultiHeadAttention(2, 3, input_dim=QDIM, kernel_regularizer=kr.regularizers.L2(0.1))
    assert layer.built and tuple(layer.query_dense.kernel.shape) == (QDIM, 2, 3)
    assert len(layer.losses) == 4
    x = torch.randn(BATCH, TQ, QDIM)
    assert layer(x, x).shape == (BATCH, TQ, QDIM)


@pytest.mark.parametrize("kwargs", [{"num_heads": 2, "key_dim": 3},
                                    {"num_heads": 4, "key_dim": 2, "value_dim": 5, "dropout": 0.1,
                                     "use_bias": False, "output_shape": (3, 2), "attention_axes": 1,
                                     "sliding_window": 3, "use_gate": True, "seed": 7}],
                         ids=["defaults", "everything_set"])
def test_mha_config_matches_keras_and_round_trips(kwargs):
    mine = kr.MultiHeadAttention(**kwargs).get_config()
    ref = keras.layers.MultiHeadAttention(**kwargs).get_config()
    assert set(mine) == set(ref)
    for key in set(ref) - CONFIG_ONLY - {"name"}:
        assert mine[key] == ref[key], key
    assert kr.MultiHeadAttention.from_config(mine).get_config() == mine


ERRORS = [
    ({"num_heads": 0, "key_dim": 3}, None, ValueError, "`num_heads` must be a positive integer, got 0"),
    ({"num_heads": 2, "key_dim": 2.5}, None, ValueError, "`key_dim` must be a positive integer"),
    ({"num_heads": 2, "key_dim": 3, "value_dim": -1}, None, ValueError, "`value_dim` must be a positive integer"),
    ({"num_heads": 2, "key_dim": 3, "dropout": 1.0}, None, ValueError, r"`dropout` must be a float in \[0, 1\)"),
    ({"num_heads": 2, "key_dim": 3, "output_shape": "x"}, None, ValueError, "Invalid `output_shape`: expected an int"),
    ({"num_heads": 2, "key_dim": 3, "attention_axes": (1, 2)}, "features", ValueError,
     r"`attention_axes` \(1, 2\) must name distinct axes between the batch and the feature axis of the 3-D"),
    ({"num_heads": 2, "key_dim": 3, "attention_axes": 4}, "features", ValueError, "must name distinct axes"),
    ({"num_heads": 2, "key_dim": 3, "attention_axes": "x"}, None, ValueError,
     "`attention_axes` must be None, an int, or a list or tuple of ints"),
    ({"num_heads": 2, "key_dim": 3, "sliding_window": 0}, None, ValueError,
     "`sliding_window` must be None or a positive integer, got 0"),
    ({"num_heads": 2, "key_dim": 3, "flash_attention": True, "dropout": 0.1}, None, ValueError,
     "flash_attention=True does not allow dropout"),
    ({"num_heads": 2, "key_dim": 3}, "rank4", ValueError,
     r"must have one rank >= 3 .* got value of shape \(3, 5, 6\) and query of shape \(3, 1, 4, 6\)"),
    ({"num_heads": 2, "key_dim": 3}, "steps", ValueError,
     "all dimensions of `value` and `key`, except the last one, must be equal"),
    ({"num_heads": 2, "key_dim": 3, "input_dim": 4}, "features", ValueError, r"built for query, value and key"),
    ({"num_heads": 2, "key_dim": 3}, "mask_shape", ValueError, r"value_mask must have shape \(3, 5\)"),
    ({"num_heads": 2, "key_dim": 3}, "mask_twice", ValueError, "query_mask was given both"),
    ({"num_heads": 2, "key_dim": 3}, "attention_mask", ValueError,
     r"mask of shape \(3, 1, 4, 7\) .* does not broadcast to the attention scores' shape \(3, 2, 4, 5\)"),
    ({"num_heads": 2, "key_dim": 3}, "list", TypeError, "expects a tensor for query"),
]


@pytest.mark.parametrize("kwargs, case, error, pattern", ERRORS, ids=[p for *_, p in ERRORS])
def test_mha_rejects_bad_arguments_and_inputs(kwargs, case, error, pattern):
    q, v = torch.randn(BATCH, TQ, QDIM), torch.randn(BATCH, TV, QDIM)
    m = torch.ones(BATCH, TQ, dtype=torch.bool)
    calls = {None: lambda layer: None,
             "rank4": lambda layer: layer(q.unsqueeze(1), v),
             "steps": lambda layer: layer(q, v, key=torch.randn(BATCH, TV + 1, QDIM)),
             "features": lambda layer: layer(q, v),
             "mask_shape": lambda layer: layer(q, v, value_mask=m),
             "mask_twice": lambda layer: layer(q, v, query_mask=m, mask=[m, None]),
             "attention_mask": lambda layer: layer(q, v, attention_mask=torch.ones(BATCH, TQ, TV + 2) > 0),
             "list": lambda layer: layer([q, v], v)}
    with pytest.raises(error, match=pattern):
        calls[case](kr.MultiHeadAttention(**kwargs))


# ------------------------------------------------------------ any rank, any attention axes, mask shapes
HIGH_RANK = [
    # query shape, value shape, attention_axes, attention_mask shape (None: no mask), scores
    ((2, 3, 4, 6), (2, 3, 5, 6), (2,), None, True),
    ((2, 3, 4, 6), (2, 3, 5, 6), (2,), (2, 3, 4, 5), False),
    ((2, 3, 4, 6), (2, 2, 5, 6), None, None, True),
    ((2, 3, 4, 6), (2, 2, 5, 6), (1, 2), (2, 3, 4, 2, 5), True),
    ((2, 5, 3, 4, 6), (2, 5, 3, 2, 6), (2, 3), None, True),
    ((2, 3, 4, 6), (2, 3, 5, 6), (-2,), None, True),
    ((2, 4, 6), (2, 5, 6), None, (4, 5), False),          # (T, S): Keras adds batch and head axes
    ((2, 4, 6), (2, 5, 6), None, (4, 5), True),
    ((2, 4, 6), (2, 5, 6), None, (2, 2, 4, 5), False),    # (batch, heads, T, S)
    ((2, 4, 6), (2, 5, 6), None, (2, 2, 4, 5), True),
]


@pytest.mark.parametrize("query_shape, value_shape, axes, mask_shape, scores", HIGH_RANK)
def test_any_rank_attention_axes_and_mask_shapes_match_keras(query_shape, value_shape, axes, mask_shape, scores):
    kwargs = {"num_heads": 2, "key_dim": 3, "attention_axes": axes}
    theirs = keras.layers.MultiHeadAttention(**kwargs)
    theirs.build(query_shape, value_shape)
    random_weights(theirs)
    ours = kr.MultiHeadAttention(**kwargs)
    ours.build(query_shape, value_shape)
    ours.set_weights(theirs.get_weights())
    generator = torch.Generator().manual_seed(1)
    query, value = torch.randn(query_shape, generator=generator), torch.randn(value_shape, generator=generator)
    given = {} if mask_shape is None else {"attention_mask": torch.rand(mask_shape, generator=generator) > 0.3}
    mine = [query.clone().requires_grad_(True), value.clone().requires_grad_(True)]
    ref = [query.clone().requires_grad_(True), value.clone().requires_grad_(True)]
    out_ours = as_list(ours(*mine, **given, return_attention_scores=scores))
    out_theirs = as_list(theirs(*ref, **given, return_attention_scores=scores))
    for a, b, what in zip(out_ours, out_theirs, ("output", "scores")):
        assert_close(a, b, OUTPUT_ATOL, what)
    weighted_sum(out_ours).backward()
    weighted_sum(out_theirs).backward()
    for a, b, what in zip(mine, ref, ("query grad", "value grad")):
        assert_close(a.grad, b.grad, GRAD_ATOL, what)
    assert ours.compute_output_shape(query_shape, value_shape) == tuple(theirs.compute_output_shape(
        query_shape, value_shape))


def test_mha_projection_initializers_take_keras_einsum_fans():
    """Keras 3.15's projections are EinsumDense layers: a glorot kernel's fans are the axes facing the input
    (features; heads x value_dim for the output projection) and the output (heads x key_dim; features)."""
    theirs = keras.layers.MultiHeadAttention(num_heads=4, key_dim=16)
    theirs.build((None, 6, 100), (None, 6, 100))
    ours = kr.MultiHeadAttention(num_heads=4, key_dim=16)
    ours.build((None, 6, 100), (None, 6, 100))
    for role, fan_in, fan_out in (("query", 100, 64), ("value", 100, 64), ("attention_output", 64, 100)):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        mine = ours.get_submodule(f"{'output' if role == 'attention_output' else role}_dense").kernel
        for kernel in (mine.detach().numpy(),
                       getattr(theirs, f"_{role.replace('attention_', '')}_dense").kernel.numpy()):
            assert 0.95 * limit < np.abs(kernel).max() <= limit, role
