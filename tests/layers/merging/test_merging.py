"""Merge layers against Keras 3: outputs, gradients, output masks, broadcasting, configs, errors, a two-branch model."""
import keras
import numpy as np
import pytest
import torch
from keras.src import backend as keras_backend

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

B, T, F = 3, 4, 5
ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]


def step_masks(count, timesteps=T):
    """Distinct (batch, steps) masks, one per input."""
    masks = []
    for i in range(count):
        mask = torch.ones(B, timesteps, dtype=torch.bool)
        mask[0, timesteps - 1 - i:] = False
        mask[1, i::2] = False
        mask[2, :] = i % 2 == 1          # all masked in the first input, all kept in the second
        masks.append(mask)
    return masks


def masks_for(pattern, count, timesteps=T):
    masks = step_masks(count, timesteps)
    if pattern == "no_masks":
        return None
    if pattern == "some_masks":
        return [masks[0]] + [None] * (count - 1)
    return masks


def with_keras_masks(tensors, masks):
    """Keras merge layers read masks attached to their inputs."""
    for tensor, mask in zip(tensors, masks or [None] * len(tensors)):
        if mask is not None:
            keras_backend.set_keras_mask(tensor, mask)
    return tensors


def same_mask(ours, theirs, what="mask"):
    if theirs is None:
        assert ours is None, f"{what}: Keras has no mask, we give one"
    else:
        assert ours is not None, f"{what}: Keras has a mask, we give none"
        assert torch.equal(ours.bool(), torch.as_tensor(theirs).bool()), f"{what}: {ours} != {theirs}"


def compare(name, shapes, mask=None, **kwargs):
    """Run our layer and Keras's on the same inputs and masks; compare outputs, input gradients and masks."""
    ours, theirs = getattr(kr, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    tensors = [torch.randn(shape) for shape in shapes]
    mine = [t.clone().requires_grad_(True) for t in tensors]
    ref = with_keras_masks([t.clone().requires_grad_(True) for t in tensors], mask)
    out_ours, out_theirs = ours(mine, mask=mask), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, f"{name} output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    for i, (a, b) in enumerate(zip(mine, ref)):
        assert_close(a.grad, b.grad, GRAD_ATOL, f"{name} d/d input {i}")
    same_mask(ours.compute_mask(mine, mask), keras_backend.get_keras_mask(out_theirs), f"{name} output mask")
    same_mask(ours.compute_mask(mine, mask), theirs.compute_mask(ref, mask), f"{name} compute_mask")
    return out_ours


# -------------------------------------------------------------- elementwise
ELEMENTWISE_COUNTS = [(name, count) for name in ELEMENTWISE for count in (2, 3) if name != "Subtract" or count == 2]


@pytest.mark.parametrize("masks", ["no_masks", "some_masks", "all_masks"])
@pytest.mark.parametrize("name, count", ELEMENTWISE_COUNTS, ids=[f"{n}-{c}_inputs" for n, c in ELEMENTWISE_COUNTS])
def test_elementwise_merge_matches_keras(name, count, masks):
    compare(name, [(B, T, F)] * count, masks_for(masks, count))


BROADCASTS = {"size_one_axis": [(B, T, F), (B, 1, F)], "size_one_features": [(B, T, 1), (B, T, F)],
              "lower_rank": [(B, T, F), (B, F)], "lower_rank_first": [(B, F), (B, T, F)]}


@pytest.mark.parametrize("shapes", BROADCASTS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_merge_broadcasts_like_keras(name, shapes):
    out = compare(name, BROADCASTS[shapes])
    assert out.shape == (B, T, F)


@pytest.mark.parametrize("name", ["Multiply", "Maximum", "Minimum"])
def test_masks_of_lower_rank_inputs_are_ignored_as_in_keras(name):
    # Keras expands the lower-rank input into a new tensor, which carries no mask; the full-rank one keeps its own.
    compare(name, [(B, T, F), (B, F)], [step_masks(1)[0], None])


def test_masked_entries_do_not_compete_in_maximum_and_count_as_one_in_multiply():
    a, b = torch.full((1, 2, 1), -5.0), torch.full((1, 2, 1), 3.0)
    keep_a, keep_b = torch.tensor([[True, True]]), torch.tensor([[True, False]])
    assert kr.Maximum()([b, a], mask=[keep_b, keep_a]).flatten().tolist() == [3.0, -5.0]
    assert kr.Multiply()([a, b], mask=[keep_a, keep_b]).flatten().tolist() == [-15.0, -5.0]
    assert kr.Multiply()([a, b], mask=[keep_b, keep_b]).flatten().tolist() == [-15.0, 0.0]


def test_one_input_passes_through_as_in_keras():
    x = torch.randn(B, F)
    for name in ["Add", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]:
        assert_close(getattr(kr, name)()([x]), getattr(keras.layers, name)()([x]), 0.0, name)


# -------------------------------------------------------------- Concatenate
@pytest.mark.parametrize("masks", ["no_masks", "some_masks", "all_masks"])
@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate_matches_keras(axis, masks):
    shapes = [(B, T, F), (B, T, F + 1)] if axis in (-1, 2) else [(B, T, F), (B, T + 2, F)]
    mask = masks_for(masks, 2)
    if mask is not None and axis == 1:
        mask = [m if m is None else step_masks(2, s[1])[i] for i, (m, s) in enumerate(zip(mask, shapes))]
    compare("Concatenate", shapes, mask, axis=axis)


def test_concatenate_on_steps_joins_the_masks_and_on_features_ors_them():
    a, b = torch.randn(1, 2, 3), torch.randn(1, 3, 3)
    ma, mb = torch.tensor([[True, False]]), torch.tensor([[False, True, False]])
    assert kr.Concatenate(axis=1).compute_mask([a, b], [ma, mb]).tolist() == [[True, False, False, True, False]]
    assert kr.Concatenate(axis=1).compute_mask([a, b], [ma, None]).tolist() == [[True, False, True, True, True]]
    c = torch.randn(1, 2, 4)
    assert kr.Concatenate().compute_mask([a, c], [ma, None]).tolist() == [[True, True]]
    assert kr.Concatenate().compute_mask([a, c], [None, None]) is None


# ---------------------------------------------------------------------- Dot
DOT_CASES = {
    "vectors": ([(B, F), (B, F)], 1),
    "sequences_last_axis": ([(B, T, F), (B, T + 2, F)], 2),
    "keras_doc_axes_1_2": ([(B, 3, 5), (B, 10, 3)], (1, 2)),
    "vector_and_sequence": ([(B, F), (B, T, F)], (1, 2)),
    "sequence_and_vector": ([(B, T, F), (B, F)], (-1, -1)),
    "rank4_and_rank3": ([(B, 2, 3, F), (B, F, T)], [3, 1]),
    "negative_int": ([(B, T, F), (B, T, F)], -1),
}


@pytest.mark.parametrize("normalize", [False, True], ids=["plain", "normalized"])
@pytest.mark.parametrize("case", DOT_CASES)
def test_dot_matches_keras(case, normalize):
    shapes, axes = DOT_CASES[case]
    compare("Dot", shapes, axes=axes, normalize=normalize)


def test_dot_passes_no_mask_on():
    x = torch.randn(B, T, F)
    assert kr.Dot(axes=2).compute_mask([x, x], step_masks(2)) is None


# ------------------------------------------------------------------ configs
CONFIGS = [(name, {}) for name in ELEMENTWISE] + [
    ("Concatenate", {}), ("Concatenate", {"axis": 1}), ("Dot", {"axes": 1}), ("Dot", {"axes": (1, 2)}),
    ("Dot", {"axes": [2, 1], "normalize": True})]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_merge_config_matches_keras_and_round_trips(name, kwargs):
    ours = getattr(kr, name)(name="merge", **kwargs)
    theirs = getattr(keras.layers, name)(name="merge", **kwargs).get_config()
    assert ours.get_config() == theirs
    again = getattr(kr, name).from_config(ours.get_config())
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    assert getattr(kr, name).from_config(theirs).get_config() == theirs


# ------------------------------------------------------------------- errors
x3 = torch.randn(2, 3, 4)
MERGE_ERRORS = [
    ("Add", {}, x3, None, ValueError, r"Add 'add\w*' must be called on a list of tensors, got Tensor"),
    ("Add", {}, [], None, ValueError, r"should be called on at least 1 input \(a list of tensors\), got 0"),
    ("Subtract", {}, [x3], None, ValueError, r"Subtract 'subtract\w*': the layer should be called on exactly 2 "
                                             r"inputs \(a list of tensors\), got 1"),
    ("Subtract", {}, [x3, x3, x3], None, ValueError, r"exactly 2 inputs \(a list of tensors\), got 3"),
    ("Add", {}, [x3, torch.randn(2, 3, 5)], None, ValueError,
     r"incompatible shapes \[\(2, 3, 4\), \(2, 3, 5\)\]"),
    ("Maximum", {}, [x3, torch.randn(3, 3, 4)], None, ValueError,
     r"different batch sizes: got shapes \[\(2, 3, 4\), \(3, 3, 4\)\]"),
    ("Average", {}, [x3, "text"], None, TypeError, r"expects a list of tensors, got \[Tensor, str\]"),
    ("Add", {}, [x3, x3], [None], ValueError, r"should have the same length: got 1 masks for 2 inputs"),
    ("Add", {}, [x3, x3], torch.ones(2, 3, dtype=torch.bool), ValueError, r"`mask` should be a list"),
    ("Multiply", {}, [x3, x3], [torch.ones(2, 4, dtype=torch.bool)] * 2, ValueError,
     r"mask of shape \(2, 4\) does not fit an input of shape \(2, 3, 4\)"),
    ("Concatenate", {}, [x3, torch.randn(2, 5, 4)], None, ValueError,
     r"Concatenate 'concatenate\w*' \(axis=-1\) requires inputs with matching shapes except for the "
     r"concatenation axis, "
     r"got shapes \[\(2, 3, 4\), \(2, 5, 4\)\]"),
    ("Concatenate", {}, [x3, torch.randn(2, 4)], None, ValueError, r"inputs of one rank"),
    ("Concatenate", {"axis": 3}, [x3, x3], None, ValueError, r"\(axis=3\) expects inputs of one rank that have"),
    ("Concatenate", {"axis": 1.5}, None, None, TypeError, r"`axis` must be an integer, got 1.5"),
    ("Dot", {"axes": (1, 2, 3)}, None, None, ValueError, r"`axes` must be an integer or a pair of integers"),
    ("Dot", {"axes": (1, "a")}, None, None, ValueError, r"`axes` must be an integer or a pair"),
    ("Dot", {"axes": "last"}, None, None, TypeError, r"`axes` must be an integer or a pair"),
    ("Dot", {"axes": 0}, [x3, x3], None, ValueError, r"cannot include the batch axis 0"),
    ("Dot", {"axes": 1}, [torch.randn(2, 3), torch.randn(2, 4)], None, ValueError,
     r"axis 1 of x has 3, axis 1 of y has 4 \(shapes \[\(2, 3\), \(2, 4\)\]\)"),
    ("Dot", {"axes": 1}, [torch.randn(2, 3), torch.randn(3, 3)], None, ValueError, r"different batch sizes"),
    ("Dot", {"axes": 1}, [torch.randn(2), torch.randn(2)], None, ValueError, r"rank >= 2"),
    ("Dot", {"axes": 3}, [x3, x3], None, ValueError, r"axes 3 do not fit inputs of shapes"),
    ("Dot", {"axes": 1}, [x3], None, ValueError, r"Dot 'dot\w*': the layer should be called on exactly 2 inputs"),
]


@pytest.mark.parametrize("name, kwargs, inputs, mask, error, pattern", MERGE_ERRORS,
                         ids=[f"{row[0]}-{row[-1][:40]}" for row in MERGE_ERRORS])
def test_merge_rejects_bad_arguments_and_inputs(name, kwargs, inputs, mask, error, pattern):
    with pytest.raises(error, match=pattern):
        layer = getattr(kr, name)(**kwargs)
        layer(inputs, mask=mask)


# -------------------------------------------------------------------- model
def test_two_branch_masked_model_matches_keras_functional():
    """Embedding(mask_zero) -> two LSTM branches -> Concatenate / Add -> GlobalAveragePooling1D -> Dense."""
    vocabulary, width, units = 12, 6, 5
    tokens = torch.randint(1, vocabulary, (B, 7))
    tokens[0, 4:] = 0
    tokens[1, 2:] = 0

    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(vocabulary, width, mask_zero=True)(inputs)
    left = keras.layers.LSTM(units, return_sequences=True)(embedded)
    right = keras.layers.GRU(units, return_sequences=True)(embedded)
    joined = keras.layers.Concatenate()([left, right])
    summed = keras.layers.Add()([keras.layers.Dense(units)(joined), left])
    pooled = keras.layers.GlobalAveragePooling1D()(summed)
    theirs = keras.Model(inputs, keras.layers.Dense(3)(pooled))
    for layer in theirs.layers:
        if layer.weights:
            random_weights(layer, seed=len(layer.name))

    embedding = kr.Embedding(vocabulary, width, mask_zero=True)
    lstm, gru = kr.LSTM(units, return_sequences=True), kr.GRU(units, return_sequences=True)
    concatenate, add, pool = kr.Concatenate(), kr.Add(), kr.GlobalAveragePooling1D()
    project, head = kr.Dense(units), kr.Dense(3)

    def ours(x):
        e, mask = embedding(x), embedding.compute_mask(x)
        a, b = lstm(e, mask=mask), gru(e, mask=mask)
        j = concatenate([a, b], mask=[mask, mask])
        j_mask = concatenate.compute_mask([a, b], [mask, mask])
        s = add([project(j), a], mask=[j_mask, mask])
        return head(pool(s, mask=add.compute_mask([project(j), a], [j_mask, mask])))

    ours(tokens)                                   # builds the layers
    by_type = {keras.layers.Embedding: [embedding], keras.layers.LSTM: [lstm], keras.layers.GRU: [gru],
               keras.layers.Dense: [project, head]}
    for layer in theirs.layers:
        if layer.weights:
            by_type[type(layer)].pop(0).set_weights(layer.get_weights())
    assert_close(ours(tokens), theirs(tokens), OUTPUT_ATOL, "model output")
