"""kr.ops's convolutions and pooling against keras.ops (torch backend): values, shapes, dtypes, gradients, and
their shapes on kr.Input."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_match_keras import check

RNG = np.random.default_rng(3)
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 6, 4)}


def normal(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def inputs_of(rank, data_format, channels=3, batch=2, dtype="float32"):
    spatial = SPATIAL[rank]
    shape = (batch, *spatial, channels) if data_format == "channels_last" else (batch, channels, *spatial)
    return normal(*shape, dtype=dtype)


def both(name, *args, atol=1e-5, **kwargs):
    """Ours on torch tensors and on the NumPy arrays against Keras's."""
    theirs = getattr(kops, name)(*args, **kwargs)
    to_torch = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    check(getattr(ops, name)(*to_torch, **kwargs), theirs, atol)
    check(getattr(ops, name)(*args, **kwargs), theirs, atol)
    return theirs


# (strides, dilation_rate): strides and dilations per axis as ints or tuples
STEPS = [(1, 1), (2, 1), (1, 2), ((2, 1, 1), 1), (1, (1, 2, 1)), (3, 1)]


def per_axis(value, rank):
    return value[:rank] if isinstance(value, tuple) else value


@pytest.mark.parametrize("steps", STEPS)
@pytest.mark.parametrize("padding", ["valid", "same", "SAME"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv(rank, data_format, padding, steps):
    strides, dilation = (per_axis(v, rank) for v in steps)
    x = inputs_of(rank, data_format)
    kernel = normal(*(3, 2, 2)[:rank], 3, 4)
    both("conv", x, kernel, strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_groups_even_kernels_and_dtypes(data_format):
    x = inputs_of(2, data_format, channels=4)
    both("conv", x, normal(3, 3, 2, 6), padding="same", data_format=data_format)       # 2 groups
    both("conv", x, normal(2, 4, 4, 5), strides=3, padding="same", data_format=data_format)
    x64 = inputs_of(1, data_format, dtype="float64")
    both("conv", x64, normal(4, 3, 2, dtype="float64"), padding="same", data_format=data_format)
    x16 = inputs_of(1, data_format, dtype="float16")
    both("conv", x16, normal(3, 3, 2, dtype="float16"), data_format=data_format, atol=1e-2)


@pytest.mark.parametrize("steps", STEPS[:4])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_depthwise_conv(rank, data_format, padding, steps):
    strides, dilation = (per_axis(v, rank) for v in steps)
    x = inputs_of(rank, data_format)
    both("depthwise_conv", x, normal(*(3, 2, 2)[:rank], 3, 2), strides=strides, padding=padding,
         data_format=data_format, dilation_rate=dilation)


@pytest.mark.parametrize("steps", STEPS[:4])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2])
def test_separable_conv(rank, data_format, padding, steps):
    strides, dilation = (per_axis(v, rank) for v in steps)
    x = inputs_of(rank, data_format)
    both("separable_conv", x, normal(*(3, 2)[:rank], 3, 2), normal(*(1,) * rank, 6, 5), strides=strides,
         padding=padding, data_format=data_format, dilation_rate=dilation)


@pytest.mark.parametrize("output_padding", [None, 0, 1, (1, 0, 1)])
@pytest.mark.parametrize("steps", [(1, 1), (2, 1), (3, 1), (1, 2), ((2, 3, 1), 1)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_transpose(rank, data_format, padding, steps, output_padding):
    strides, dilation = (per_axis(v, rank) for v in steps)
    extra = per_axis(output_padding, rank)
    x = inputs_of(rank, data_format)
    both("conv_transpose", x, normal(*(3, 2, 4)[:rank], 5, 3), strides=strides, padding=padding,
         output_padding=extra, data_format=data_format, dilation_rate=dilation)


@pytest.mark.parametrize("name", ["max_pool", "average_pool"])
@pytest.mark.parametrize("pool, strides", [(2, None), (3, None), (3, 1), (3, 2), ((2, 3, 1), (1, 2, 1)), (2, 3)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pooling(name, rank, data_format, padding, pool, strides):
    x = inputs_of(rank, data_format)
    both(name, x, per_axis(pool, rank), strides=per_axis(strides, rank), padding=padding, data_format=data_format)


@pytest.mark.parametrize("name", ["adaptive_max_pool", "adaptive_average_pool"])
@pytest.mark.parametrize("output_size", [1, 2, (3, 2, 4), (4, 5, 3)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_adaptive_pooling(name, rank, data_format, output_size):
    x = inputs_of(rank, data_format)
    out = both(name, x, per_axis(output_size, rank), data_format=data_format)
    assert kops.convert_to_numpy(out).shape[0] == 2


def test_adaptive_pooling_shapes_on_kr_input():
    # Keras 3.15's symbolic shapes keep the input's spatial axes ((None, 7, 4, 3, 3) here) and fail on an int
    # output_size; kr's are those of the values.
    for name in ("adaptive_max_pool", "adaptive_average_pool"):
        assert getattr(ops, name)(kr.Input((7, 6, 3)), (4, 3)).shape == (None, 4, 3, 3)
        assert getattr(ops, name)(kr.Input((3, 7, 6)), 2, data_format="channels_first").shape == (None, 3, 2, 2)
        assert tuple(getattr(kops, name)(inputs_of(2, "channels_last"), (4, 3)).shape) == (2, 4, 3, 3)


@pytest.mark.parametrize("dtype", ["float16", "float64", "int32"])
def test_pooling_dtypes(dtype):
    x = (inputs_of(2, "channels_last") * 4).astype(dtype)
    both("max_pool", x, 3, strides=2, padding="same", atol=1e-3)
    if dtype != "int32":     # PyTorch's adaptive pooling takes floats only
        both("adaptive_max_pool", x, (3, 2), atol=1e-3)
        both("adaptive_average_pool", x, (3, 2), atol=1e-3)
    if dtype != "int32":     # PyTorch averages floats only (and so does Keras on torch)
        both("average_pool", x, 3, strides=2, padding="same", atol=1e-3)


def _gradients(lib_ops, name, args, kwargs):
    leaves = [torch.from_numpy(a).double().requires_grad_(True) for a in args]
    out = getattr(lib_ops, name)(*leaves, **kwargs)
    weights = torch.from_numpy(np.random.default_rng(0).standard_normal(tuple(out.shape)))
    (out * weights).sum().backward()
    return [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("name, args, kwargs", [
    ("conv", ((2, 7, 6, 3), (3, 2, 3, 4)), {"strides": 2, "padding": "same"}),
    ("conv", ((2, 3, 9), (3, 3, 2)), {"padding": "same", "dilation_rate": 2, "data_format": "channels_first"}),
    ("depthwise_conv", ((2, 7, 6, 3), (3, 3, 3, 2)), {"strides": (2, 1), "padding": "same"}),
    ("separable_conv", ((2, 9, 3), (3, 3, 2), (1, 6, 4)), {"padding": "same"}),
    ("conv_transpose", ((2, 5, 4, 3), (3, 3, 4, 3)), {"strides": 2, "padding": "same"}),
    ("conv_transpose", ((2, 3, 5), (4, 2, 3)), {"strides": 3, "output_padding": 1,
                                                 "data_format": "channels_first"}),
    ("max_pool", ((2, 7, 6, 3),), {"pool_size": 3, "strides": 2, "padding": "same"}),
    ("average_pool", ((2, 7, 6, 3),), {"pool_size": 2, "padding": "same"}),
    ("average_pool", ((2, 3, 8),), {"pool_size": 3, "strides": 2, "padding": "same",
                                    "data_format": "channels_first"}),
    ("adaptive_max_pool", ((2, 7, 6, 3),), {"output_size": (3, 4)}),
    ("adaptive_average_pool", ((2, 3, 7, 6, 5),), {"output_size": 2, "data_format": "channels_first"}),
])
def test_gradients_match_keras(name, args, kwargs):
    arrays = [normal(*shape).astype("float64") for shape in args]
    ours, theirs = _gradients(ops, name, arrays, kwargs), _gradients(kops, name, arrays, kwargs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_bad_arguments_say_what_was_expected():
    x = torch.ones(2, 6, 3)
    with pytest.raises(ValueError, match="kr.ops.conv: `padding` must be 'valid' or 'same', got 'full'"):
        ops.conv(x, torch.ones(3, 3, 2), padding="full")
    with pytest.raises(ValueError, match="kr.ops.conv: inputs must have 3, 4 or 5 axes"):
        ops.conv(torch.ones(6, 3), torch.ones(3, 3, 2))
    with pytest.raises(ValueError, match="kr.ops.conv: `kernel` must have as many axes as the inputs"):
        ops.conv(x, torch.ones(3, 3, 3, 2))
    with pytest.raises(ValueError, match="must be a multiple of the kernel's input channels"):
        ops.conv(x, torch.ones(3, 2, 2))
    with pytest.raises(TypeError, match=r"the inputs \(float32\) and `kernel` \(float64\) must have the same"):
        ops.conv(x, torch.ones(3, 3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="does not fit the inputs"):
        ops.conv(x, torch.ones(7, 3, 2))
    with pytest.raises(ValueError, match="`strides` must be a positive integer or a tuple of 1"):
        ops.conv(x, torch.ones(3, 3, 2), strides=(1, 2))
    with pytest.raises(ValueError, match="kr.ops.conv: `data_format` must be one of"):
        ops.conv(x, torch.ones(3, 3, 2), data_format="channels_middle")
    with pytest.raises(ValueError, match="kr.ops.depthwise_conv: the inputs have 3 channels"):
        ops.depthwise_conv(x, torch.ones(3, 2, 2))
    with pytest.raises(ValueError, match="kr.ops.separable_conv: `pointwise_kernel` must take"):
        ops.separable_conv(x, torch.ones(3, 3, 2), torch.ones(1, 3, 4))
    with pytest.raises(ValueError, match="kr.ops.conv_transpose: the inputs have 3 channels"):
        ops.conv_transpose(x, torch.ones(3, 3, 2))
    with pytest.raises(ValueError, match="`output_padding` must be None, a non-negative integer"):
        ops.conv_transpose(x, torch.ones(3, 2, 3), output_padding=-1)
    with pytest.raises(ValueError, match=r"kr.ops.max_pool: pool_size \(7,\) does not fit"):
        ops.max_pool(x, 7)
    with pytest.raises(ValueError, match="kr.ops.average_pool: inputs must have 3, 4 or 5 axes"):
        ops.average_pool(torch.ones(2, 3), 2)


def described(t):
    return tuple(t.shape), str(t.dtype).replace("torch.", "")


SYMBOLIC = {
    "conv": lambda o, x: o.conv(x, np.ones((3, 3, 3, 5), "float32"), strides=2, padding="same"),
    "conv_first": lambda o, x: o.conv(x, np.ones((2, 2, 7, 4), "float32"), data_format="channels_first",
                                      dilation_rate=2),
    "depthwise_conv": lambda o, x: o.depthwise_conv(x, np.ones((3, 2, 3, 2), "float32")),
    "separable_conv": lambda o, x: o.separable_conv(x, np.ones((3, 3, 3, 2), "float32"),
                                                    np.ones((1, 1, 6, 4), "float32"), padding="same"),
    "conv_transpose": lambda o, x: o.conv_transpose(x, np.ones((3, 3, 4, 3), "float32"), strides=2),
    "conv_transpose_padded": lambda o, x: o.conv_transpose(x, np.ones((3, 3, 4, 3), "float32"), strides=2,
                                                           padding="same", output_padding=1),
    "max_pool": lambda o, x: o.max_pool(x, 2, padding="same"),
    "average_pool": lambda o, x: o.average_pool(x, (3, 2), strides=1),
    "average_pool_first": lambda o, x: o.average_pool(x, 2, data_format="channels_first"),
}


@pytest.mark.parametrize("name", sorted(SYMBOLIC))
def test_symbolic_shapes_and_dtypes_match_keras(name):
    build = SYMBOLIC[name]
    assert described(build(ops, kr.Input((7, 6, 3)))) == described(build(kops, keras.Input((7, 6, 3))))


def test_a_file_entry_with_an_unknown_argument_names_the_public_function():
    from kerasrnn_torch.ops.operation import Operation

    entry = {"class_name": "Conv", "config": {"name": "conv", "strides": 1, "groups": 2}}
    with pytest.raises(ValueError, match=r"arguments \['groups'\] that kr.ops.conv does not take"):
        Operation.from_keras_entry(entry, "model")
