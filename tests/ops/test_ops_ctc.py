"""kr.ops.ctc_loss and ctc_decode against keras.ops (torch backend): values, shapes, dtypes, gradients, errors,
and in a model saved to Keras files."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_match_keras import check


def logits_of(seed, batch=3, steps=7, classes=5, dtype="float32"):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, steps, classes)) * 2).astype(dtype)


LENGTHS = np.array([7, 5, 3], dtype="int32")


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("mask_index", [0, 4])
def test_ctc_loss(mask_index, dtype):
    rng = np.random.default_rng(1)
    target = rng.integers(0, 4, (3, 4)).astype("int32") + (mask_index == 0)
    target_length = np.array([4, 2, 1], dtype="int32")
    args = (target, logits_of(2, dtype=dtype), target_length, LENGTHS)
    theirs = kops.ctc_loss(*args, mask_index=mask_index)
    check(ops.ctc_loss(*[torch.from_numpy(a) for a in args], mask_index=mask_index), theirs, atol=1e-4)
    check(ops.ctc_loss(*args, mask_index=mask_index), theirs, atol=1e-4)


def test_ctc_loss_gradients_match_keras():
    target, target_length = np.array([[1, 2, 2], [3, 1, 0]], dtype="int32"), np.array([3, 2], dtype="int32")
    grads = []
    for lib in (ops, kops):
        output = torch.from_numpy(logits_of(3, batch=2).astype("float64")).requires_grad_(True)
        lib.ctc_loss(target, output, target_length, LENGTHS[:2]).sum().backward()
        grads.append(output.grad.numpy())
    np.testing.assert_allclose(*grads, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("merge_repeated", [True, False])
@pytest.mark.parametrize("mask_index", [0, 2, None])
def test_greedy_decode(mask_index, merge_repeated, seed):
    logits = logits_of(seed, classes=3)         # few classes: many repeats and blanks
    kwargs = {"mask_index": mask_index, "merge_repeated": merge_repeated}
    check(ops.ctc_decode(torch.from_numpy(logits), torch.from_numpy(LENGTHS), **kwargs),
          kops.ctc_decode(logits, LENGTHS, **kwargs))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("beam_width, top_paths", [(100, 1), (100, 3), (4, 2), (2, 2), (1, 1)])
@pytest.mark.parametrize("mask_index", [0, None])
def test_beam_search_decode(mask_index, beam_width, top_paths, seed):
    logits = logits_of(seed)
    kwargs = {"strategy": "beam_search", "beam_width": beam_width, "top_paths": top_paths, "mask_index": mask_index}
    check(ops.ctc_decode(torch.from_numpy(logits), LENGTHS, **kwargs), kops.ctc_decode(logits, LENGTHS, **kwargs),
          atol=1e-5)


def test_bad_arguments_say_what_was_expected():
    logits = torch.zeros(2, 4, 3)
    with pytest.raises(ValueError, match=r"kr.ops.ctc_decode: the logits must be 3-D \(batch, time, classes\)"):
        ops.ctc_decode(torch.zeros(4, 3), torch.tensor([4]))
    with pytest.raises(ValueError, match=r"sequence_lengths must hold one length per sequence \(2\), got shape"):
        ops.ctc_decode(logits, torch.tensor([4, 4, 4]))
    with pytest.raises(ValueError, match="`strategy` must be 'greedy' or 'beam_search', got 'best'"):
        ops.ctc_decode(logits, torch.tensor([4, 4]), strategy="best")
    with pytest.raises(ValueError, match=r"kr.ops.ctc_loss: target must be 2-D \(batch, max_label_length\)"):
        ops.ctc_loss(torch.ones(2, dtype=torch.int32), logits, torch.tensor([1, 1]), torch.tensor([4, 4]))


def build(lib, o):
    logits = lib.Input((7, 5))
    lengths = lib.Input((), dtype="int32")
    target = lib.Input((4,), dtype="int32")
    target_length = lib.Input((), dtype="int32")
    paths, scores = o.ctc_decode(logits, lengths)
    beams, beam_scores = o.ctc_decode(logits, lengths, strategy="beam_search", beam_width=3, top_paths=2)
    loss = o.ctc_loss(target, logits, target_length, lengths, mask_index=0)
    return lib.Model([logits, lengths, target, target_length], [paths, scores, beams, beam_scores, loss])


def test_in_a_model_with_keras_files_both_ways(tmp_path):
    model, keras_model = build(kr, ops), build(keras, kops)
    assert [tuple(t.shape) for t in model.outputs] == [tuple(t.shape) for t in keras_model.outputs]
    rng = np.random.default_rng(4)
    data = [logits_of(5), LENGTHS, rng.integers(1, 5, (3, 4)).astype("int32"), np.array([4, 3, 2], "int32")]
    theirs = list(keras_model(data))
    check(list(model([torch.from_numpy(a) for a in data])), theirs, atol=1e-5)
    kr.save_keras(model, tmp_path / "ours.keras")
    check(list(keras.models.load_model(tmp_path / "ours.keras")(data)), theirs, atol=1e-5)
    keras_model.save(tmp_path / "theirs.keras")
    check(list(kr.from_keras(tmp_path / "theirs.keras")([torch.from_numpy(a) for a in data])), theirs, atol=1e-5)
