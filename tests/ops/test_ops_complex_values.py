"""kr.ops.polar, view_as_complex, view_as_real, cdist and extract_sequences against keras.ops (torch backend)."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_match_keras import check, check_keras_files_both_ways

RNG = np.random.default_rng(11)


def both(name, *args, atol=1e-6, **kwargs):
    theirs = getattr(kops, name)(*args, **kwargs)
    check(getattr(ops, name)(*[torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs),
          theirs, atol)
    check(getattr(ops, name)(*args, **kwargs), theirs, atol)


def complex_check(ours, theirs):
    expected = kops.convert_to_numpy(theirs)
    assert ours.dtype == theirs.dtype and tuple(ours.shape) == expected.shape
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_polar(dtype):
    magnitude, angle = (RNG.standard_normal((2, 3)) * 3).astype(dtype), (RNG.standard_normal((2, 3))).astype(dtype)
    complex_check(ops.polar(torch.from_numpy(magnitude), torch.from_numpy(angle)), kops.polar(magnitude, angle))
    complex_check(ops.polar(magnitude, angle[0]), kops.polar(magnitude, angle[0]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_view_as_complex_and_back(dtype):
    pairs = (RNG.standard_normal((2, 3, 2)) * 3).astype(dtype)
    values = ops.view_as_complex(torch.from_numpy(pairs))
    complex_check(values, kops.view_as_complex(pairs))
    both("view_as_real", kops.convert_to_numpy(kops.view_as_complex(pairs)))
    both("view_as_real", np.array([1 + 2j, 3 - 4j]))


@pytest.mark.parametrize("shapes", [((4, 3), (5, 3)), ((2, 4, 3), (5, 3)), ((2, 1, 4, 3), (3, 5, 3))])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_cdist(shapes, dtype):
    x, y = ((RNG.standard_normal(shape) * 3).astype(dtype) for shape in shapes)
    both("cdist", x, y, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("length, stride", [(3, 2), (4, 1), (5, 5), (10, 3)])
def test_extract_sequences(length, stride, dtype):
    both("extract_sequences", (RNG.standard_normal((2, 3, 10)) * 3).astype(dtype), length, stride)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match=r"kr.ops.view_as_complex: the last axis must hold \(real, imaginary\)"):
        ops.view_as_complex(torch.ones(2, 3))
    with pytest.raises(ValueError, match="kr.ops.view_as_real: x must be complex, got float32"):
        ops.view_as_real(torch.ones(2, 3))
    with pytest.raises(ValueError, match="kr.ops.cdist: x and y must be .* got shapes"):
        ops.cdist(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"kr.ops.extract_sequences: the last axis must hold at least"):
        ops.extract_sequences(torch.ones(2, 3), 4, 1)


def test_symbolic_shapes_match_keras():
    # Keras's symbolic polar says float32 for what its torch backend computes as complex64; kr's says complex64.
    for build in (lambda o, x: o.cdist(x, x), lambda o, x: o.extract_sequences(x, 3, 2),
                  lambda o, x: o.view_as_real(o.view_as_complex(x[..., :2]))):
        assert tuple(build(ops, kr.Input((6, 4))).shape) == tuple(build(kops, keras.Input((6, 4))).shape)
    assert ops.polar(kr.Input((6,)), kr.Input((6,))).dtype == torch.complex64


def test_cdist_and_extract_sequences_in_a_model_with_keras_files(tmp_path):
    def build(lib, o):
        inputs = lib.Input((5, 12))
        return lib.Model(inputs, [o.cdist(inputs, inputs[:, :3]), o.extract_sequences(inputs, 4, 3)])

    model, keras_model = build(kr, ops), build(keras, kops)
    x = RNG.standard_normal((2, 5, 12)).astype("float32")
    check_keras_files_both_ways(model, keras_model, x, tmp_path, atol=1e-5)
