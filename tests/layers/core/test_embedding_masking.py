"""Embedding and Masking against Keras 3: lookups, masks, hints, errors, and feeding an LSTM."""
import warnings

import keras
import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, random_weights, weighted_sum

VOCAB, DIM = 12, 5


def keras_embedding(**kwargs):
    layer = keras.layers.Embedding(VOCAB, DIM, **kwargs)
    layer.build()
    random_weights(layer)
    return layer


# --------------------------------------------------------------- Embedding
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.uint8], ids=str)
@pytest.mark.parametrize("shape", [(3, 7), (2, 3, 4), (6,)], ids=str)
def test_embedding_matches_keras_lookup_and_gradient(shape, dtype):
    theirs = keras_embedding()
    ours = kr.Embedding(VOCAB, DIM)
    ours.set_weights(theirs.get_weights())
    ids = torch.randint(0, VOCAB, shape).to(dtype)
    out_ours, out_theirs = ours(ids), theirs(ids)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "embedded")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(ours.embeddings.grad, theirs.weights[0].value.grad, GRAD_ATOL, "d/d embeddings")


def test_embedding_weight_exists_at_construction_with_keras_shape_and_count():
    theirs = keras_embedding()
    ours = kr.Embedding(VOCAB, DIM)
    assert [name for name, _ in ours.named_parameters()] == ["embeddings"]
    assert tuple(ours.embeddings.shape) == (VOCAB, DIM)
    assert ours.count_params() == theirs.count_params() == VOCAB * DIM
    # Keras's "uniform" default: U(-0.05, 0.05).
    assert float(ours.embeddings.detach().abs().max()) <= 0.05


def test_embedding_input_dim_is_the_vocabulary_not_a_feature_hint():
    layer = kr.Embedding(1000, 64)
    assert layer.input_dim == 1000 and layer.input_shape_hint is None
    assert layer(torch.tensor([[999, 0]])).shape == (1, 2, 64)


def test_embedding_accepts_keras2_input_length_and_input_shape_hints_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_length = kr.Embedding(1000, 64, input_length=10)
        by_shape = kr.Embedding(1000, 64, input_shape=(10,))
        both = kr.Embedding(1000, 64, input_length=10, input_shape=(10,))
    assert by_length.input_shape_hint == by_shape.input_shape_hint == both.input_shape_hint == (10,)
    assert by_length(torch.zeros(2, 10, dtype=torch.long)).shape == (2, 10, 64)


def test_embedding_weights_argument_sets_the_initial_matrix():
    matrix = torch.arange(VOCAB * DIM, dtype=torch.float32).reshape(VOCAB, DIM).numpy()
    layer = kr.Embedding(VOCAB, DIM, weights=matrix)
    assert torch.equal(layer(torch.tensor([3])), torch.as_tensor(matrix[3:4]))


MASK_ZERO_IDS = {"mixed": [[1, 0, 0], [0, 3, 0]], "no_zero": [[4, 5, 6]], "all_zero": [[0, 0, 0], [0, 0, 0]]}


@pytest.mark.parametrize("ids", MASK_ZERO_IDS.values(), ids=MASK_ZERO_IDS.keys())
def test_embedding_mask_zero_mask_matches_keras(ids):
    ids = torch.tensor(ids)
    theirs = keras_embedding(mask_zero=True)
    ours = kr.Embedding(VOCAB, DIM, mask_zero=True)
    mask = ours.compute_mask(ids)
    assert mask.dtype == torch.bool
    assert torch.equal(mask, torch.as_tensor(theirs.compute_mask(ids)))
    assert torch.equal(mask, ids != 0)


def test_embedding_without_mask_zero_gives_no_mask():
    layer = kr.Embedding(VOCAB, DIM)
    ids = torch.tensor([[1, 0]])
    assert layer.compute_mask(ids) is None
    assert layer.compute_mask(ids, torch.tensor([[True, True]])) is None


EMBEDDING_ERRORS = [
    (torch.tensor([[1.0, 2.5]]), TypeError, "integer ids .*got dtype torch.float32 with the non-integer value 2.5"),
    (torch.tensor([[1.0, 2.25]], dtype=torch.float64), TypeError, "got dtype torch.float64 with the non-integer value 2.25"),
    (torch.tensor([[True, False]]), TypeError, "got dtype torch.bool"),
    (torch.tensor([[1, VOCAB]]), ValueError, rf"got id {VOCAB} .*\[0, input_dim\) = \[0, {VOCAB}\)"),
    (torch.tensor([[3, -1]]), ValueError, rf"got id -1 .*\[0, {VOCAB}\)"),
    (torch.tensor([[3, 100], [-5, 1]]), ValueError, r"got id -5"),
    ([["a", "b"]], TypeError, "expects a tensor of integer ids, got list"),
]


@pytest.mark.parametrize("ids, error, pattern", EMBEDDING_ERRORS, ids=[p for *_, p in EMBEDDING_ERRORS])
def test_embedding_rejects_bad_ids_with_a_clear_message(ids, error, pattern):
    with pytest.raises(error, match=pattern):
        kr.Embedding(VOCAB, DIM)(ids)


CONSTRUCTOR_ERRORS = [
    ({"input_dim": 0, "output_dim": 3}, "`input_dim` must be a positive integer, got 0"),
    ({"input_dim": 5, "output_dim": 2.0}, "`output_dim` must be a positive integer"),
    ({"input_dim": 5, "output_dim": 3, "input_length": 4, "input_shape": (6,)}, "input_length=4 disagrees"),
    ({"input_dim": 5, "output_dim": 3, "input_length": -2}, "`input_length` must be a positive integer"),
    ({"input_dim": 5, "output_dim": 3, "weights": torch.zeros(3, 5).numpy()}, r"weight 0 must have shape \(5, 3\)"),
]


@pytest.mark.parametrize("kwargs, pattern", CONSTRUCTOR_ERRORS, ids=[p for _, p in CONSTRUCTOR_ERRORS])
def test_embedding_rejects_bad_constructor_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        kr.Embedding(**kwargs)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("padding", ["right", "holes"])
def test_embedding_mask_zero_feeding_lstm_matches_keras(padding, return_sequences):
    ids = torch.randint(1, VOCAB, (4, 6))
    if padding == "right":
        ids[0, 4:] = 0
        ids[1, 1:] = 0
        ids[3, :] = 0
    else:
        ids[0, 1] = 0
        ids[2, ::2] = 0
    keras_embed = keras_embedding(mask_zero=True)
    keras_lstm = keras.layers.LSTM(7, return_sequences=return_sequences, return_state=True)
    keras_lstm.build((4, 6, DIM))
    random_weights(keras_lstm, seed=3)
    embed = kr.Embedding(VOCAB, DIM, mask_zero=True)
    embed.set_weights(keras_embed.get_weights())
    lstm = kr.LSTM(7, return_sequences=return_sequences, return_state=True, input_dim=DIM)
    lstm.set_weights(keras_lstm.get_weights())

    ours = as_list(lstm(embed(ids), mask=embed.compute_mask(ids)))
    theirs = as_list(keras_lstm(keras_embed(ids), mask=keras_embed.compute_mask(ids), training=False))
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")
    weighted_sum(ours).backward()
    weighted_sum(theirs).backward()
    assert_close(embed.embeddings.grad, keras_embed.weights[0].value.grad, GRAD_ATOL, "d/d embeddings")


# ----------------------------------------------------------------- Masking
def masking_inputs(mask_value):
    x = torch.randn(3, 6, 4)
    x[0, 2] = mask_value
    x[1, 4:] = mask_value
    x[2, :] = mask_value
    x[2, 1, 2] = mask_value + 1.0     # one feature differs: the step is kept
    return x


@pytest.mark.parametrize("mask_value", [0.0, -1.0, 2.5])
def test_masking_outputs_and_mask_match_keras(mask_value):
    x = masking_inputs(mask_value)
    theirs = keras.layers.Masking(mask_value=mask_value)
    ours = kr.Masking(mask_value=mask_value)
    assert_close(ours(x), theirs(x), 0.0, "masked output")
    mask = ours.compute_mask(x)
    assert mask.dtype == torch.bool and mask.shape == (3, 6)
    assert torch.equal(mask, torch.as_tensor(theirs.compute_mask(x)))
    assert mask[2].tolist() == [False, True, False, False, False, False]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_masking_special_values_match_keras(dtype):
    """NaN, infinities, tiny values and negative zeros decide the mask as Keras's comparison does."""
    x = masking_inputs(0.0).to(dtype)
    x[0, 0] = torch.tensor([0.0, -0.0, 0.0, -0.0], dtype=dtype)                  # zeros of both signs: masked
    x[0, 1] = torch.tensor([0.0, float("nan"), 0.0, 0.0], dtype=dtype)            # kept
    x[0, 3] = torch.tensor([float("-inf"), 0.0, float("inf"), 0.0], dtype=dtype)  # kept
    x[1, 0] = 0.0
    x[1, 0, 1] = torch.finfo(dtype).smallest_normal * torch.finfo(dtype).eps      # kept: the smallest subnormal
    assert x[1, 0, 1] > 0
    theirs = keras.layers.Masking()
    ours = kr.Masking()
    mask = ours.compute_mask(x)
    assert torch.equal(mask, torch.as_tensor(theirs.compute_mask(x)))
    assert mask[0, :4].tolist() == [False, True, False, True] and mask[1, 0]
    # Keras's layer computes in float32 (its default dtype): its output is compared there; in float64, the
    # selection Keras makes, in float64.
    expected = torch.as_tensor(keras.ops.convert_to_numpy(theirs(x))) if dtype == torch.float32 else \
        torch.where(mask.unsqueeze(-1), x, torch.zeros((), dtype=dtype))
    out = ours(x)
    assert out.dtype == dtype and torch.equal(out.isnan(), expected.isnan())
    assert torch.equal(torch.nan_to_num(out), torch.nan_to_num(expected))


def test_masking_computes_the_mask_once_per_input_and_again_after_an_in_place_change():
    x = masking_inputs(0.0)
    layer = kr.Masking()
    layer(x)
    first = layer.compute_mask(x)
    assert layer.compute_mask(x) is first                           # the forward's, kept for this tensor
    x[0, 0] = 0.0                                                   # in place: the tensor's version changes
    assert not layer.compute_mask(x)[0, 0] and first[0, 0]
    other = x.clone()
    other[1, 1] = 0.0
    assert not layer.compute_mask(other)[1, 1]                      # another tensor: its own mask
    assert torch.equal(layer(x), torch.where(layer.compute_mask(x).unsqueeze(-1), x, torch.zeros(())))


def test_a_called_masking_layer_pickles():
    import pickle

    layer = kr.Masking()
    x = masking_inputs(0.0)
    layer(x)
    copy = pickle.loads(pickle.dumps(layer))
    assert torch.equal(copy.compute_mask(x), layer.compute_mask(x)) and torch.equal(copy(x), layer(x))


def test_masking_on_four_dimensional_inputs_masks_the_last_axis_like_keras():
    x = masking_inputs(0.0).reshape(3, 2, 3, 4)
    theirs = keras.layers.Masking()
    ours = kr.Masking()
    assert_close(ours(x), theirs(x), 0.0, "masked output")
    assert torch.equal(ours.compute_mask(x), torch.as_tensor(theirs.compute_mask(x)))


def test_masking_replaces_the_incoming_mask_and_has_no_weights():
    x = masking_inputs(0.0)
    layer = kr.Masking()
    assert torch.equal(layer.compute_mask(x, torch.ones(3, 6, dtype=torch.bool)), layer.compute_mask(x))
    assert layer.count_params() == 0 and layer.get_weights() == []


def test_masking_gradient_is_zero_at_masked_steps():
    x = masking_inputs(0.0).requires_grad_(True)
    kr.Masking()(x).sum().backward()
    expected = kr.Masking().compute_mask(x.detach()).unsqueeze(-1).float().expand_as(x)
    assert torch.equal(x.grad, expected)


def test_masking_feeding_lstm_matches_keras():
    x = masking_inputs(0.0)
    keras_lstm = keras.layers.LSTM(5, return_sequences=True)
    keras_lstm.build((3, 6, 4))
    random_weights(keras_lstm)
    lstm = kr.LSTM(5, return_sequences=True, input_dim=4)
    lstm.set_weights(keras_lstm.get_weights())
    masking, keras_masking = kr.Masking(), keras.layers.Masking()
    ours = lstm(masking(x), mask=masking.compute_mask(x))
    theirs = keras_lstm(keras_masking(x), mask=keras_masking.compute_mask(x), training=False)
    assert_close(ours, theirs, OUTPUT_ATOL, "LSTM after Masking")


def test_whole_number_float_ids_are_cast_as_keras_casts_them():
    layer = kr.Embedding(10, 3)
    ids = torch.tensor([[1, 2, 9]])
    assert torch.equal(layer(ids.float()), layer(ids))
