"""kr.ops's block rearrangements (depth_to_space, space_to_depth, unfold, fold) against keras.ops (torch
backend): values, shapes, dtypes, gradients, errors, and on kr.Input in a model saved to Keras files."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_match_keras import check, check_keras_files_both_ways

RNG = np.random.default_rng(9)


def both(name, x, *args, **kwargs):
    # Keras's unfold and fold take tensors only (NumPy arrays fail in PyTorch's im2col); kr's take both.
    theirs = getattr(kops, name)(torch.from_numpy(x), *args, **kwargs)
    check(getattr(ops, name)(torch.from_numpy(x), *args, **kwargs), theirs)
    check(getattr(ops, name)(x, *args, **kwargs), theirs)
    return kops.convert_to_numpy(theirs)


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
@pytest.mark.parametrize("block_size", [2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first", None])
def test_depth_to_space_and_back(data_format, block_size, dtype):
    channels = 2 * block_size ** 2
    shape = (2, 3, 4, channels) if data_format != "channels_first" else (2, channels, 3, 4)
    x = (RNG.standard_normal(shape) * 3).astype(dtype)
    spread = both("depth_to_space", x, block_size, data_format=data_format)
    gathered = both("space_to_depth", spread, block_size, data_format=data_format)
    np.testing.assert_array_equal(gathered, x)


@pytest.mark.parametrize("kwargs", [{}, {"dilation": 2}, {"padding": 1}, {"stride": 2}, {"stride": (1, 2)},
                                    {"padding": (1, 0), "dilation": (1, 2), "stride": 2}])
@pytest.mark.parametrize("kernel_size", [2, (3, 2)])
def test_unfold_and_fold(kernel_size, kwargs):
    x = RNG.standard_normal((2, 3, 7, 8)).astype("float32")
    columns = both("unfold", x, kernel_size, **kwargs)
    both("fold", columns, (7, 8), kernel_size, **kwargs)


@pytest.mark.parametrize("name, shape, args", [
    ("depth_to_space", (2, 3, 4, 8), (2,)), ("space_to_depth", (2, 3, 4, 6), (2, "channels_first")),
    ("unfold", (2, 3, 6, 5), ((3, 2), 1, 1, 2)), ("fold", (2, 12, 6), ((5, 6), 2, 1, 0, 2)),
])
def test_gradients_match_keras(name, shape, args):
    grads = []
    for lib in (ops, kops):
        leaf = torch.from_numpy(np.random.default_rng(1).standard_normal(shape)).requires_grad_(True)
        out = getattr(lib, name)(leaf, *args)
        (out * torch.from_numpy(np.random.default_rng(2).standard_normal(tuple(out.shape)))).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(*grads, atol=1e-12)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="kr.ops.depth_to_space: `block_size` must be an integer of at least 2"):
        ops.depth_to_space(torch.ones(1, 2, 2, 4), 1)
    with pytest.raises(ValueError, match=r"the 6 channels must be a multiple of block_size\*\*2 \(4\)"):
        ops.depth_to_space(torch.ones(1, 2, 2, 6), 2)
    with pytest.raises(ValueError, match=r"the height and width \(3, 4\) must be multiples of block_size \(2\)"):
        ops.space_to_depth(torch.ones(1, 3, 4, 1), 2)
    with pytest.raises(ValueError, match="kr.ops.unfold: x must be a 4-D batch of images, got shape"):
        ops.unfold(torch.ones(3, 4, 4), 2)
    with pytest.raises(ValueError, match=r"kr.ops.fold: x must be 3-D \(batch, channels \* kh \* kw, blocks\)"):
        ops.fold(torch.ones(1, 2, 3, 4), (4, 4), 2)


def build(lib, o):
    inputs = lib.Input((4, 6, 8))
    spread = o.depth_to_space(inputs, 2)                                    # (8, 12, 2)
    first = o.space_to_depth(o.transpose(spread, (0, 3, 1, 2)), 2, data_format="channels_first")   # (8, 4, 6)
    columns = o.unfold(first, 2, stride=2)                                  # (32, 6)
    return lib.Model(inputs, [spread, first, columns, o.fold(columns, (4, 6), 2, stride=2)])


def test_in_a_model_with_keras_files_both_ways(tmp_path):
    model, keras_model = build(kr, ops), build(keras, kops)
    assert [tuple(t.shape) for t in model.outputs] == [tuple(t.shape) for t in keras_model.outputs]
    x = RNG.standard_normal((2, 4, 6, 8)).astype("float32")
    check_keras_files_both_ways(model, keras_model, x, tmp_path)
