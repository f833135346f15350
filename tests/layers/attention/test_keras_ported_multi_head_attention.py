"""Keras 3's keras/src/layers/attention/multi_head_attention_test.py, ported to kr (Keras's numbers and
tolerances). Keras's eager masks (Embedding(mask_zero=True) attaching `_keras_mask`) are passed as
`query_mask=` / `value_mask=` here; Keras's private sublayer names (`_query_dense`) are kr's public ones
(`query_dense`); Keras's global `enable_flash_attention()` is the layer's `flash_attention=True`. Left out
(see tests/keras_ported_left_out.md): the `_compute_attention` override point, LoRA, quantization and
dtype-policy maps."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def close(actual, expected, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(numpy(actual), numpy(expected), atol=atol, rtol=rtol)


SHAPES = {"query_shape": (2, 8, 16), "value_shape": (2, 4, 16)}


@pytest.mark.parametrize("init_kwargs, trainable", [
    ({"num_heads": 2, "key_dim": 2}, 8),
    ({"num_heads": 2, "key_dim": 2, "value_dim": 4, "use_bias": False, "dropout": 0.5}, 4),
    ({"num_heads": 2, "key_dim": 2, "use_gate": True}, 10),
    ({"num_heads": 2, "key_dim": 2, "value_dim": 4, "use_bias": False, "dropout": 0.5, "use_gate": True}, 5),
])
def test_basics(init_kwargs, trainable):
    run_layer_test(kr.MultiHeadAttention, init_kwargs=init_kwargs, input_shape=SHAPES,
                   expected_output_shape=(2, 8, 16), expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=True,
                   run_training_check=False)


def test_basics_with_flash_attention():
    run_layer_test(kr.MultiHeadAttention, init_kwargs={"num_heads": 2, "key_dim": 8, "dtype": "float16",
                                                       "flash_attention": True},
                   input_shape=SHAPES, input_dtype={"query_shape": "float16", "value_shape": "float16"},
                   expected_output_shape=(2, 8, 16), expected_num_trainable_weights=8,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=True,
                   run_training_check=False)


HIGH_DIM = {
    "4d_inputs_1freebatch_mask2": ((3, 4), (3, 2), (4, 2), (2,)),
    "4d_inputs_1freebatch_mask3": ((3, 4), (3, 2), (3, 4, 2), (2,)),
    "4d_inputs_1freebatch_mask4": ((3, 4), (3, 2), (3, 2, 4, 2), (2,)),
    "4d_inputs_2d_attention": ((3, 4), (3, 2), (3, 4, 3, 2), (1, 2)),
    "5d_inputs_2d_attention": ((5, 3, 4), (5, 3, 2), (3, 4, 3, 2), (2, 3)),
    "5d_inputs_2d_attention_fullmask": ((5, 3, 4), (5, 3, 2), (5, 3, 4, 3, 2), (2, 3)),
}


@pytest.mark.parametrize("name", list(HIGH_DIM))
@pytest.mark.parametrize("use_gate, trainable", [(False, 8), (True, 10)])
def test_high_dim_attention(name, use_gate, trainable):
    q_dims, v_dims, _mask_dims, attention_axes = HIGH_DIM[name]   # Keras's case names a mask it does not use
    batch_size, hidden_size = 3, 8
    query_shape = (batch_size,) + q_dims + (hidden_size,)
    value_shape = (batch_size,) + v_dims + (hidden_size,)
    init_kwargs = {"num_heads": 2, "key_dim": 2, "attention_axes": attention_axes}
    if use_gate:
        init_kwargs["use_gate"] = True
    run_layer_test(kr.MultiHeadAttention, init_kwargs=init_kwargs,
                   input_shape={"query_shape": query_shape, "value_shape": value_shape},
                   expected_output_shape=query_shape, expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=True,
                   run_training_check=False)


@pytest.mark.parametrize("use_gate", [False, True])
def test_attention_axes_negative_indexing(use_gate):
    x = np.random.normal(size=(2, 3, 8, 4))
    mha_pos = kr.MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=2, use_gate=use_gate)
    mha_neg = kr.MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=-2, use_gate=use_gate)
    mha_pos(x, x)
    mha_neg(x, x)
    mha_neg.set_weights(mha_pos.get_weights())
    z_pos, a_pos = mha_pos(x, x, return_attention_scores=True)
    z_neg, a_neg = mha_neg(x, x, return_attention_scores=True)
    assert z_pos.shape == z_neg.shape
    assert a_pos.shape == a_neg.shape
    close(z_pos, z_neg, rtol=1e-5, atol=1e-5)
    close(a_pos, a_neg, rtol=1e-5, atol=1e-5)


OUTPUT_SHAPES = {
    "without_key_same_proj": ((4, 8), (2, 8), None, None),
    "with_key_same_proj": ((4, 8), (2, 8), (2, 3), None),
    "without_key_different_proj": ((4, 8), (2, 8), None, (3, 4)),
    "with_key_different_proj": ((4, 8), (2, 8), (2, 3), (1, 5)),
    "high_dim_same_proj": ((4, 2, 3, 8), (1, 1, 5, 8), (1, 1, 5, 2), None),
    "high_dim_different_proj": ((4, 2, 3, 8), (1, 1, 5, 8), (1, 1, 5, 2), (3, 2)),
    "different_qv_last_dims": ((4, 2, 3, 8), (4, 2, 3, 7), (4, 2, 3, 8), None),
}


@pytest.mark.parametrize("name", list(OUTPUT_SHAPES))
def test_compute_output_shape(name):
    query_dims, value_dims, key_dims, output_shape = OUTPUT_SHAPES[name]
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=2, output_shape=output_shape)
    batch_size = 7
    query_shape = (batch_size,) + query_dims
    value_shape = (batch_size,) + value_dims
    key_shape = (batch_size,) + key_dims if key_dims else None
    query, value = np.ones(query_shape), np.ones(value_shape)
    key = np.ones(key_shape) if key_shape else None
    output = layer(query=query, value=value, key=key)
    assert tuple(output.shape) == layer.compute_output_shape(query_shape, value_shape, key_shape)
    assert tuple(output.shape) == layer.compute_output_shape(
        list(query_shape), list(value_shape), list(key_shape) if key_shape is not None else None)


@pytest.mark.parametrize("query_shape, value_shape, key_shape", [
    ((2, 4, 8), (2, 2, 7), (2,)),
    ((2, 4, 8), (2, 2, 8), (2, 1, 7)),
    ((2, 4, 2, 3, 8), (2, 1, 1, 5, 8), (2, 1, 15, 5, 2)),
], ids=["query_value_dim_mismatch", "key_value_dim_mismatch", "key_value_dim_mismatch_high_dim"])
def test_shape_mismatch_error(query_shape, value_shape, key_shape):
    layer = kr.MultiHeadAttention(num_heads=4, key_dim=2, value_dim=2)
    with pytest.raises(ValueError, match=r"must be equal"):
        layer.compute_output_shape(query_shape, value_shape, key_shape)
    with pytest.raises(ValueError, match=r"must be equal"):
        layer(np.ones(query_shape), np.ones(value_shape), np.ones(key_shape))


def test_invalid_scalar_args_rejected():
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match="argument `num_heads`"):
            kr.MultiHeadAttention(num_heads=bad, key_dim=4)
        with pytest.raises(ValueError, match="argument `key_dim`"):
            kr.MultiHeadAttention(num_heads=4, key_dim=bad)
        with pytest.raises(ValueError, match="argument `value_dim`"):
            kr.MultiHeadAttention(num_heads=4, key_dim=4, value_dim=bad)
    kr.MultiHeadAttention(num_heads=4, key_dim=4, value_dim=None)


def test_initializer():
    layer = kr.MultiHeadAttention(num_heads=12, key_dim=64, use_gate=True,
                                  kernel_initializer=kr.initializers.TruncatedNormal(stddev=0.02))
    layer.build((2, 4, 8), (2, 4, 8))
    query = numpy(layer.query_dense.kernel)
    for other in (layer.key_dense, layer.value_dense, layer.output_dense, layer.gate_dense):
        kernel = numpy(other.kernel)
        assert query.shape != kernel.shape or not np.allclose(query, kernel, atol=1e-6, rtol=1e-6)


def _embedded(ids, vocabulary):
    embedding = kr.Embedding(vocabulary, 8, mask_zero=True)
    ids = torch.as_tensor(ids)
    return embedding(ids), embedding.compute_mask(ids)


def test_query_mask_propagation():
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=2)
    assert layer.supports_masking
    masked_query, query_mask = _embedded(np.array([[1, 2, 3, 0, 0], [3, 3, 1, 1, 2], [1, 0, 0, 0, 0]]), 4)
    value = torch.as_tensor(np.random.normal(size=(3, 3, 8)), dtype=torch.float32)
    layer(query=masked_query, value=value, query_mask=query_mask)
    close(layer.compute_mask([masked_query, value], [query_mask, None]), query_mask)


@pytest.mark.parametrize("use_causal_mask", [True, False], ids=["causal", "not_causal"])
def test_masking(use_causal_mask):
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=2)
    masked_query, query_mask = _embedded(np.array([[1, 2, 3, 0, 0], [3, 3, 1, 1, 2], [1, 0, 0, 0, 0]]), 4)
    masked_value, value_mask = _embedded(np.array([[5, 4, 0], [3, 0, 0], [2, 1, 1]]), 6)
    output = layer(query=masked_query, value=masked_value, query_mask=query_mask, value_mask=value_mask,
                   use_causal_mask=use_causal_mask)
    mask = np.array([[[1, 1, 0]] * 3 + [[0, 0, 0]] * 2] + [[[1, 0, 0]] * 5] + [[[1, 1, 1]] + [[0, 0, 0]] * 4])
    if use_causal_mask:
        mask = mask & np.array([[[1, 0, 0], [1, 1, 0]] + [[1, 1, 1]] * 3])
    output_with_manual_mask = layer(query=masked_query, value=masked_value, attention_mask=torch.as_tensor(mask))
    close(output, output_with_manual_mask)


def test_masking_with_different_shapes():
    x = torch.rand(2, 5, 8)
    mask = torch.tril(torch.ones((5, 5)))                 # (5, 5)
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=4)
    output_1 = layer(query=x, value=x, attention_mask=mask)
    mask = mask[None, ...].tile((2, 1, 1))                # (2, 5, 5)
    output_2 = layer(query=x, value=x, attention_mask=mask)
    mask = mask[:, None, ...].tile((1, 2, 1, 1))          # (2, 2, 5, 5)
    output_3 = layer(query=x, value=x, attention_mask=mask)
    close(output_1, output_2)
    close(output_1, output_3)


def test_no_warning_with_keras_mask(recwarn):
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=2)
    masked_query, query_mask = _embedded(np.array([[1, 2, 3, 0, 0], [3, 3, 1, 1, 2], [1, 0, 0, 0, 0]]), 4)
    masked_value, value_mask = _embedded(np.array([[5, 4, 0], [3, 0, 0], [2, 1, 1]]), 6)
    layer(query=masked_query, value=masked_value, query_mask=query_mask, value_mask=value_mask)
    assert len(recwarn) == 0


def test_sliding_window():
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=4, sliding_window=3)
    x = np.random.RandomState(0).randn(1, 6, 8).astype("float32")
    _, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    scores = numpy(scores)[0, 0]
    for i in range(scores.shape[0]):
        for j in range(scores.shape[1]):
            if (j <= i) and (i - j < 3):
                assert scores[i, j] > 0.0
            else:
                assert scores[i, j] == 0.0
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=4, sliding_window=3)
    _, scores = layer(x, x, return_attention_scores=True)
    scores = numpy(scores)[0, 0]
    for i in range(scores.shape[0]):
        for j in range(scores.shape[1]):
            if abs(i - j) < 3:
                assert scores[i, j] > 0.0
            else:
                assert scores[i, j] == 0.0


def test_causal_only_fast_path():
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=4)
    x = np.random.RandomState(0).randn(2, 5, 8).astype("float32")
    layer(x, x, use_causal_mask=True)
    fast = layer(x, x, use_causal_mask=True)
    t = x.shape[1]
    slow = layer(x, x, attention_mask=np.tril(np.ones((1, t, t), dtype="bool")))
    close(fast, slow, atol=1e-5)


def test_causal_only_with_other_mask_falls_back():
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=4)
    x = np.random.RandomState(0).randn(2, 5, 8).astype("float32")
    layer.build(query_shape=x.shape, value_shape=x.shape)
    extra_mask = np.ones((2, 5, 5), dtype="bool")
    extra_mask[:, 2, 3] = False
    merged = extra_mask & np.tril(np.ones((5, 5), dtype="bool"))
    out1 = layer(x, x, attention_mask=extra_mask, use_causal_mask=True)
    out2 = layer(x, x, attention_mask=merged, use_causal_mask=False)
    assert tuple(out1.shape) == (2, 5, 8)
    close(out1, out2, atol=1e-5)


@pytest.mark.parametrize("dropout, return_attention_scores", [(0.0, True), (0.1, False), (0.1, True)],
                         ids=["scores_only", "dropout_only", "dropout_and_scores"])
def test_causal_only_masks_when_fused_path_disabled(dropout, return_attention_scores):
    t = 6
    future = np.triu(np.ones((t, t)), k=1).astype(bool)
    x = np.random.RandomState(0).randn(1, t, 8).astype("float32")
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=4, dropout=dropout)
    if return_attention_scores:
        _, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True, training=False)
        assert numpy(scores)[..., future].sum() < 1e-6
    else:
        out_causal = layer(x, x, use_causal_mask=True, training=False)
        out_explicit = layer(x, x, attention_mask=(~future)[None], training=False)
        close(out_causal, out_explicit, atol=1e-5)


def test_causal_only_masks_non_4d_inputs():
    t = 5
    future = np.triu(np.ones((t, t)), k=1).astype(bool)
    x = np.random.RandomState(0).randn(1, t, 3, 8).astype("float32")
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=1)
    _, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    assert numpy(scores)[..., future].sum() < 1e-6


def test_sliding_window_validation():
    with pytest.raises(ValueError, match="sliding_window"):
        kr.MultiHeadAttention(num_heads=2, key_dim=4, sliding_window=0)
    with pytest.raises(ValueError, match="sliding_window"):
        kr.MultiHeadAttention(num_heads=2, key_dim=4, sliding_window=-3)


def test_sliding_window_serialization():
    config = kr.MultiHeadAttention(num_heads=2, key_dim=4, sliding_window=5).get_config()
    assert config["sliding_window"] == 5
    assert kr.MultiHeadAttention.from_config(config).sliding_window == 5


@pytest.mark.parametrize("flash_attention", [False, True], ids=["disable_flash_attention", "enable_flash_attention"])
def test_correctness(flash_attention):
    num_heads, key_dim = 8, 8
    query = np.identity(key_dim)[np.newaxis, ...]
    key = np.identity(key_dim)[np.newaxis, ...]
    value = np.reshape(np.arange(key_dim * key_dim), (1, key_dim, key_dim)) / 100.0
    layer = kr.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim, dtype="float16",
                                  flash_attention=flash_attention)
    layer.build(query.shape, key.shape, value.shape)
    kernel = np.repeat(np.identity(key_dim)[:, np.newaxis, :], num_heads, axis=1)
    bias = np.zeros((num_heads, key_dim))
    output_bias = np.zeros((key_dim,))
    layer.set_weights([kernel, bias] * 3 + [kernel, output_bias])
    expected_output = np.array([2.406, 2.440, 2.473, 2.504, 2.535, 2.568, 2.602, 2.633])
    expected_output = np.tile(expected_output[np.newaxis, :, np.newaxis], (1, 1, key_dim))
    expected_score = np.array([[0.1187] * i + [0.1691] + [0.1187] * (7 - i) for i in range(8)])
    expected_score = np.tile(expected_score[np.newaxis, np.newaxis, ...], (1, key_dim, 1, 1))
    if flash_attention:
        output = layer(query=query, value=value, key=key)
        close(output.float(), expected_output, atol=1e-2)
    else:
        output, scores = layer(query=query, value=value, key=key, return_attention_scores=True)
        close(output.float(), expected_output, atol=1e-2)
        close(scores.float(), expected_score, atol=1e-2)


@pytest.mark.parametrize("argument, weight", [("kernel_constraint", "kernel"), ("bias_constraint", "bias")])
def test_mha_constraints(argument, weight):
    """Keras checks each projection's weight carries the NonNeg constraint; kr applies constraints
    with `kr.apply_constraints` (as fit does after each step): every projection's weight ends non-negative."""
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=2, use_gate=True, **{argument: "non_neg"})
    layer.build(query.shape, query.shape, query.shape)
    projections = (layer.query_dense, layer.value_dense, layer.key_dense, layer.gate_dense)
    with torch.no_grad():
        for projection in projections:
            getattr(projection, weight).fill_(-1.0)
    kr.apply_constraints(layer)
    for projection in projections:
        assert bool((getattr(projection, weight) >= 0).all())


@pytest.mark.parametrize("shape", [(1, 2, 3), (2, 3, 5)])
def test_symbolic_return_attention_scores(shape):
    mha = kr.MultiHeadAttention(num_heads=4, key_dim=2)
    x = kr.Input(shape=shape[1:], batch_size=shape[0])
    y = kr.Input(shape=shape[1:], batch_size=shape[0])
    symbolic_out = mha(x, y, return_attention_scores=True)
    assert len(symbolic_out) == 2
    out = mha(np.random.random(shape), np.random.random(shape), return_attention_scores=True)
    assert len(out) == 2
    assert tuple(symbolic_out[0].shape) == tuple(out[0].shape)
    assert tuple(symbolic_out[1].shape) == tuple(out[1].shape)


def test_flash_attention_with_errors():
    with pytest.raises(ValueError, match="Dropout is not supported when flash attention is enabled."):
        kr.MultiHeadAttention(num_heads=2, key_dim=2, flash_attention=True, dropout=0.1)
    layer = kr.MultiHeadAttention(num_heads=2, key_dim=2, flash_attention=True)
    assert layer.flash_attention
    query = np.random.random((2, 4, 8))
    value = np.random.random((2, 4, 8))
    with pytest.raises(ValueError, match="Returning attention scores is not supported when flash attention is "
                                         "enabled. Please disable flash attention to access attention scores."):
        layer(query=query, value=value, return_attention_scores=True)


def test_multi_head_attention_output_shape_as_int():
    mha = kr.MultiHeadAttention(num_heads=2, key_dim=16, output_shape=8)
    output = mha(query=torch.rand(2, 4, 16), value=torch.rand(2, 4, 16))
    assert tuple(output.shape) == (2, 4, 8)


def test_multi_head_attention_output_shape_as_tuple():
    mha = kr.MultiHeadAttention(num_heads=2, key_dim=16, output_shape=(8, 8))
    output = mha(query=torch.rand(2, 4, 16), value=torch.rand(2, 4, 16))
    assert tuple(output.shape) == (2, 4, 8, 8)


def test_multi_head_attention_output_shape_error():
    with pytest.raises(ValueError, match=r"Invalid `output_shape`"):
        kr.MultiHeadAttention(num_heads=2, key_dim=16, output_shape=8.0)
