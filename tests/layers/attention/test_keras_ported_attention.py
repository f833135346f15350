"""Keras 3's attention_test.py and additive_attention_test.py (keras/src/layers/attention), ported to kr
(Keras's numbers and tolerances). Left out: the cases on Keras-private methods (`_calculate_scores`,
`_calculate_score_mask`), see tests/keras_ported_left_out.md. Keras's seed-generator count (1 with
dropout) has no kr counterpart: kr layers draw from torch generators, not Keras SeedGenerator weights."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def close(actual, expected, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(numpy(actual), np.asarray(expected), atol=atol, rtol=rtol)


# ------------------------------------------------------------------ Attention
@pytest.mark.parametrize("init_kwargs, trainable", [
    ({"score_mode": "dot", "dropout": 0.5}, 0),
    ({"use_scale": True, "score_mode": "concat", "dropout": 0.5}, 2),
])
def test_attention_basics(init_kwargs, trainable):
    run_layer_test(kr.Attention, init_kwargs=init_kwargs, input_shape=[(2, 3, 4), (2, 4, 4)],
                   expected_output_shape=(2, 3, 4), expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=True,
                   run_training_check=False)


def test_attention_seed_preserved_in_config():
    layer = kr.Attention(dropout=0.5, seed=1337)
    config = layer.get_config()
    assert config["seed"] == 1337
    assert kr.Attention.from_config(config).seed == 1337


def test_attention_correctness():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    key = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    value = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    output, scores = kr.Attention(score_mode="dot")([query, value, key], return_attention_scores=True)
    close(output, [[[2.462, 3.462], [1.538, 2.538]]], atol=1e-3)
    close(scores, [[[0.269, 0.731], [0.731, 0.269]]], atol=1e-3)
    output, scores = kr.Attention(score_mode="concat")([query, value, key], return_attention_scores=True)
    close(output, [[[1.727, 2.727], [2.272, 3.272]]], atol=1e-3)
    close(scores, [[[0.636, 0.363], [0.363, 0.636]]], atol=1e-3)


def test_attention_with_mask():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    value = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    query_mask = np.array([[True, False]])
    value_mask = np.array([[True, False]])
    output, scores = kr.Attention()([query, value], mask=[query_mask, value_mask], return_attention_scores=True)
    close(output, [[[1.0, 1.0], [0.0, 0.0]]])
    close(scores, [[[1.0, 0.0], [1.0, 0.0]]])


def test_attention_2D_mask_shape_mismatch():
    batch_size, Tq, Tv, dim = 2, 3, 4, 5
    query = np.random.random((batch_size, Tq, dim)).astype(np.float32)
    value = np.random.random((batch_size, Tv, dim)).astype(np.float32)
    query_mask = np.array([[True, False, True], [True, False, True]])
    value_mask = np.array([[True, False, True, True], [True, False, True, True]])
    output, scores = kr.Attention()([query, value], mask=[query_mask, value_mask], return_attention_scores=True)
    assert tuple(output.shape) == (batch_size, Tq, dim)
    assert tuple(scores.shape) == (batch_size, Tq, Tv)


@pytest.mark.parametrize("layer_class", [kr.Attention, kr.AdditiveAttention])
def test_attention_errors(layer_class):
    layer = layer_class()
    tensor = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    with pytest.raises(ValueError, match="must be called on a list"):
        layer(tensor)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layer([tensor, tensor, tensor, tensor])
    with pytest.raises(ValueError, match="layer mask must be a list"):
        layer([tensor, tensor], mask=tensor)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layer([tensor, tensor], mask=[tensor])


def test_attention_with_dropout():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    value = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    output1, scores1 = kr.Attention(dropout=0.2)([query, value], return_attention_scores=True, training=True)
    output2, scores2 = kr.Attention()([query, value], return_attention_scores=True, training=True)
    assert not np.allclose(numpy(output1), numpy(output2), atol=1e-6, rtol=1e-6)
    assert not np.allclose(numpy(scores1), numpy(scores2), atol=1e-6, rtol=1e-6)


def test_attention_invalid_score_mode():
    with pytest.raises(ValueError, match="Invalid value for argument score_mode. Expected one of {'dot', 'concat'}"):
        kr.Attention(score_mode="invalid_mode")


def test_attention_compute_mask_with_no_mask():
    dummy_inputs = [np.random.random((2, 3, 4)), np.random.random((2, 4, 4))]
    assert kr.Attention().compute_mask(inputs=dummy_inputs, mask=None) is None


def test_attention_compute_mask_with_first_element_none():
    dummy_inputs = [np.random.random((2, 3, 4)), np.random.random((2, 4, 4))]
    assert kr.Attention().compute_mask(inputs=dummy_inputs, mask=[None, np.array([True, False, True])]) is None


def test_attention_compute_mask_does_not_return_none_with_valid_mask():
    dummy_inputs = [np.random.random((2, 3, 4)), np.random.random((2, 4, 4))]
    mask = [np.array([True, False, True]), np.array([False, True, False])]
    assert kr.Attention().compute_mask(inputs=dummy_inputs, mask=mask) is not None


@pytest.mark.parametrize("valid_mask, other", [
    (np.array([True, False, True]), np.array([False, True, False])),
    (np.array([True, True, True]), np.array([True, True, True])),
    (np.array([False, False, False]), np.array([False, False, False])),
    (np.array([1, 0, 1]), np.array([0, 1, 0])),
])
def test_attention_compute_mask_returns_the_query_mask(valid_mask, other):
    dummy_inputs = [np.ones((2, 3, 4)), np.ones((2, 4, 4))]
    computed = numpy(kr.Attention().compute_mask(inputs=dummy_inputs, mask=[valid_mask, other]))
    assert np.array_equal(computed, valid_mask)


@pytest.mark.parametrize("atol", [1e-3, 1e-5, 1e-7])
def test_attention_compute_mask_with_tolerance(atol):
    dummy_inputs = [np.ones((2, 3, 4)), np.ones((2, 4, 4))]
    valid_mask = np.array([1.0, 0.0, 1.0], dtype=float)
    computed = numpy(kr.Attention().compute_mask(inputs=dummy_inputs,
                                                  mask=[valid_mask, np.array([0.0, 1.0, 0.0], dtype=float)]))
    assert np.allclose(computed, valid_mask, atol=atol)


def test_attention_compute_mask_with_single_element_masks():
    dummy_inputs = [np.ones((2, 3, 4)), np.ones((2, 4, 4))]
    computed = numpy(kr.Attention().compute_mask(inputs=dummy_inputs, mask=[np.array([True]), np.array([False])]))
    assert computed.shape == (1,)


def test_attention_compute_mask_with_edge_case_masks():
    layer = kr.Attention()
    dummy_inputs = [np.ones((2, 3, 4)), np.ones((2, 4, 4))]
    for mask in [np.array([True, True, True]), np.array([False, False, False]), np.array([True, False, True])]:
        assert np.array_equal(numpy(layer.compute_mask(inputs=dummy_inputs, mask=[mask, mask])), mask)


def test_attention_compute_mask_with_different_input_shapes():
    layer = kr.Attention()
    valid_mask = np.array([True, False, True])
    for shape in [(2, 3, 4), (3, 2, 5), (4, 1, 6)]:
        dummy_inputs = [np.ones(shape), np.ones(shape)]
        computed = layer.compute_mask(inputs=dummy_inputs, mask=[valid_mask, np.array([False, True, False])])
        assert np.array_equal(numpy(computed), valid_mask)


def test_attention_compute_output_shape():
    query = np.random.random((2, 3, 4))
    value = np.random.random((2, 3, 5))
    key = np.random.random((2, 3, 4))
    layer = kr.Attention()
    output = layer([query, value, key])
    assert tuple(output.shape) == value.shape
    assert tuple(layer.compute_output_shape(input_shape=[query.shape, value.shape, key.shape])) == \
        tuple(output.shape)


def test_attention_nd_inputs():
    layer = kr.Attention()
    query = np.random.random((2, 8, 6, 4)).astype(np.float32)
    value = np.random.random((2, 8, 6, 4)).astype(np.float32)
    assert tuple(layer([query, value]).shape) == (2, 8, 6, 4)
    output, scores = layer([query, value], return_attention_scores=True)
    assert tuple(output.shape) == (2, 8, 6, 4)
    assert tuple(scores.shape) == (2, 8, 6, 6)


def test_return_attention_scores_true():
    query = np.random.random((2, 8, 16)).astype(np.float32)
    value = np.random.random((2, 4, 16)).astype(np.float32)
    output, attention_scores = kr.Attention()([query, value], return_attention_scores=True)
    assert tuple(output.shape) == (2, 8, 16)
    assert tuple(attention_scores.shape) == (2, 8, 4)


def test_return_attention_scores_true_and_tuple():
    query = np.random.random((2, 8, 16)).astype(np.float32)
    value = np.random.random((2, 4, 16)).astype(np.float32)
    outputs = kr.Attention()([query, value], return_attention_scores=True)
    assert isinstance(outputs, tuple)
    output, attention_scores = outputs
    assert tuple(output.shape) == (2, 8, 16)
    assert tuple(attention_scores.shape) == (2, 8, 4)


def test_return_attention_scores_with_symbolic_tensors():
    x = kr.Input(shape=(3, 5))
    y = kr.Input(shape=(4, 5))
    output, attention_scores = kr.Attention()([x, y], return_attention_scores=True)
    assert tuple(output.shape) == (None, 3, 5)
    assert tuple(attention_scores.shape) == (None, 3, 4)


def test_symbolic_call_does_not_leak_return_attention_scores():
    attention = kr.Attention()
    q_eager = np.random.rand(2, 3, 5).astype("float32")
    v_eager = np.random.rand(2, 4, 5).astype("float32")
    attention([q_eager, v_eager], return_attention_scores=True)
    x = kr.Input(shape=(3, 5))
    y = kr.Input(shape=(4, 5))
    output = attention([x, y])
    assert not isinstance(output, (tuple, list))
    assert tuple(output.shape) == (None, 3, 5)
    assert tuple(attention.compute_output_shape([x.shape, y.shape])) == (None, 3, 5)


# ------------------------------------------------------------------ AdditiveAttention
@pytest.mark.parametrize("init_kwargs, trainable", [
    ({"use_scale": True, "dropout": 0.5}, 1),
    ({"use_scale": False, "dropout": 0.5}, 0),
])
def test_additive_attention_basics(init_kwargs, trainable):
    run_layer_test(kr.AdditiveAttention, init_kwargs=init_kwargs, input_shape=[(2, 3, 4), (2, 4, 4)],
                   expected_output_shape=(2, 3, 4), expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=True,
                   run_training_check=False)


def test_additive_attention_correctness():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    key = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    value = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    output, scores = kr.AdditiveAttention(use_scale=False)([query, value, key], return_attention_scores=True)
    close(output, [[[1.727, 2.727], [2.272, 3.272]]], atol=1e-3)
    close(scores, [[[0.636, 0.363], [0.363, 0.636]]], atol=1e-3)


def test_additive_attention_with_mask():
    query = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    value = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    output, scores = kr.AdditiveAttention(use_scale=False)(
        [query, value], mask=[np.array([[True, False]]), np.array([[True, False]])], return_attention_scores=True)
    close(output, [[[1.0, 1.0], [0.0, 0.0]]])
    close(scores, [[[1.0, 0.0], [1.0, 0.0]]])
