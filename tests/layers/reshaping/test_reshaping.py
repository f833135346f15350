"""RepeatVector, Flatten, Reshape, Permute against Keras 3: values, gradients, dropped masks, configs, errors, a model."""
import keras
import pytest
import torch
from keras.src import backend as keras_backend

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

CASES = {
    "repeat_vector": ("RepeatVector", {"n": 3}, (2, 5)),
    "flatten_rank3": ("Flatten", {}, (2, 3, 4)),
    "flatten_rank4_channels_first": ("Flatten", {"data_format": "channels_first"}, (2, 3, 4, 5)),
    "flatten_rank2_channels_first": ("Flatten", {"data_format": "channels_first"}, (2, 3)),
    "flatten_rank1": ("Flatten", {}, (4,)),
    "reshape": ("Reshape", {"target_shape": (6, 2)}, (3, 4, 3)),
    "reshape_inferred": ("Reshape", {"target_shape": (-1, 2)}, (3, 12)),
    "reshape_inferred_middle": ("Reshape", {"target_shape": [2, -1, 3]}, (3, 4, 3)),
    "permute_swap": ("Permute", {"dims": (2, 1)}, (2, 4, 3)),
    "permute_rank4": ("Permute", {"dims": [3, 1, 2]}, (2, 3, 4, 5)),
}


@pytest.mark.parametrize("case", CASES)
def test_matches_keras_values_gradients_and_drops_the_mask(case):
    name, kwargs, shape = CASES[case]
    ours, theirs = getattr(kr, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    x = torch.randn(shape)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    mask = torch.rand(shape[:2]) > 0.3 if len(shape) >= 2 else None
    if mask is not None:
        keras_backend.set_keras_mask(ref, mask)
        with pytest.warns(UserWarning, match="does not support masking and will therefore destroy the mask"):
            out_theirs = theirs(ref)
    else:
        out_theirs = theirs(ref)
    out_ours = ours(mine)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, f"{name} output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, f"{name} d/d inputs")
    # Keras 3 does not support masking in these layers: the mask stops there.
    assert keras_backend.get_keras_mask(out_theirs) is None and theirs.supports_masking is False
    assert ours.compute_mask(mine, mask) is None and ours.supports_masking is False
    assert ours.get_weights() == [] and ours.count_params() == 0


def test_repeat_vector_in_a_sequential_drops_an_embedding_mask():
    model = kr.Sequential([kr.Embedding(10, 4, mask_zero=True), kr.Flatten(), kr.RepeatVector(2)])
    tokens = torch.tensor([[1, 2, 0]])
    assert model(tokens).shape == (1, 2, 12)
    assert model.compute_mask(tokens) is None


CONFIGS = [("RepeatVector", {"n": 4}), ("Flatten", {}), ("Flatten", {"data_format": "channels_first"}),
           ("Reshape", {"target_shape": (-1, 2)}), ("Reshape", {"target_shape": [3, 4]}),
           ("Permute", {"dims": (2, 1)}), ("Permute", {"dims": [1, 3, 2]})]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_config_matches_keras_and_round_trips(name, kwargs):
    ours = getattr(kr, name)(name="layer", **kwargs)
    theirs = getattr(keras.layers, name)(name="layer", **kwargs).get_config()
    assert ours.get_config() == theirs
    again = getattr(kr, name).from_config(ours.get_config())
    assert type(again) is type(ours) and again.get_config() == theirs
    assert getattr(kr, name).from_config(theirs).get_config() == theirs


RESHAPING_ERRORS = [
    ("RepeatVector", {"n": 2.0}, None, TypeError, r"RepeatVector 'repeat_vector\w*': Expected an integer value for `n`, got 2.0"),
    ("RepeatVector", {"n": True}, None, TypeError, r"Expected an integer value for `n`, got True"),
    ("RepeatVector", {"n": 0}, None, ValueError, r"`n` should be a positive integer, got n=0"),
    ("RepeatVector", {"n": 2}, torch.randn(2, 3, 4), ValueError,
     r"expects inputs of shape \(batch, features\), got shape \(2, 3, 4\)"),
    ("RepeatVector", {"n": 2}, [["a", "b"]], TypeError, r"expects a tensor of shape \(batch, features\), got list"),
    ("Flatten", {"data_format": "channels_middle"}, None, ValueError,
     r"Flatten 'flatten\w*': `data_format` must be one of 'channels_last', 'channels_first'; got 'channels_middle'"),
    ("Flatten", {}, torch.tensor(1.0), ValueError, r"with a batch axis, got a 0-D tensor"),
    ("Reshape", {"target_shape": (-1, -1)}, None, ValueError, r"at most one unknown dimension \(-1\), got target_shape=\(-1, -1\)"),
    ("Reshape", {"target_shape": (2, -3)}, None, ValueError, r"must be a non-negative integer or -1"),
    ("Reshape", {"target_shape": (2.5,)}, None, ValueError, r"must be a non-negative integer"),
    ("Reshape", {"target_shape": 6}, None, TypeError, r"`target_shape` must be a tuple of integers, got 6"),
    ("Reshape", {"target_shape": (5,)}, torch.randn(2, 3, 4), ValueError,
     r"Reshape 'reshape\w*' cannot reshape samples of shape \(3, 4\) \(12 values\) to target_shape \(5,\)"),
    ("Reshape", {"target_shape": (-1, 5)}, torch.randn(2, 12), ValueError, r"to target_shape \(-1, 5\)"),
    ("Reshape", {"target_shape": (-1, 0)}, torch.randn(2, 12), ValueError, r"to target_shape \(-1, 0\)"),
    ("Permute", {"dims": (0, 1)}, None, ValueError, r"Invalid permutation argument `dims`: it must be a permutation of 1, ..., n .* got dims=\(0, 1\)"),
    ("Permute", {"dims": (1, 1)}, None, ValueError, r"`dims`: it must be a permutation"),
    ("Permute", {"dims": 2}, None, TypeError, r"`dims` must be a tuple of integers, got 2"),
    ("Permute", {"dims": (2, 1)}, torch.randn(2, 3), ValueError,
     r"Permute 'permute\w*' with dims=\(2, 1\) expects inputs with 3 axes \(batch first\), got shape \(2, 3\)"),
]


@pytest.mark.parametrize("name, kwargs, x, error, pattern", RESHAPING_ERRORS,
                         ids=[f"{row[0]}-{row[-1][:40]}" for row in RESHAPING_ERRORS])
def test_rejects_bad_arguments_and_inputs(name, kwargs, x, error, pattern):
    with pytest.raises(error, match=pattern):
        getattr(kr, name)(**kwargs)(x)


def test_addition_rnn_style_sequential_matches_keras():
    """keras-io's addition_rnn shape: LSTM encoder -> RepeatVector -> LSTM decoder -> per-step Dense softmax."""
    steps, features, units, out_steps = 7, 12, 16, 4
    theirs = keras.Sequential([keras.Input((steps, features)), keras.layers.LSTM(units),
                               keras.layers.RepeatVector(out_steps),
                               keras.layers.LSTM(units, return_sequences=True),
                               keras.layers.Dense(features, activation="softmax")])
    for layer in theirs.layers:
        random_weights(layer, seed=len(layer.name))
    ours = kr.Sequential([kr.LSTM(units, input_shape=(steps, features)), kr.RepeatVector(out_steps),
                          kr.LSTM(units, return_sequences=True), kr.Dense(features, activation="softmax")])
    ours.set_weights(theirs.get_weights())
    x = torch.randn(3, steps, features)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert out_ours.shape == (3, out_steps, features)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "model output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    for mine_w, ref_w in zip(ours.weights, theirs.weights, strict=True):
        assert_close(mine_w.grad, ref_w.value.grad, GRAD_ATOL, f"d/d {ref_w.path}")
