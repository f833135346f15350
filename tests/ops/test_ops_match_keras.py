"""Each kr.ops function on random tensors against keras.ops (torch backend): values, dtypes, shapes."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

RNG = np.random.default_rng(0)


def arrays(dtype: str, shape=(3, 4)):
    if dtype == "bool":
        return RNG.uniform(size=shape) > 0.5
    if dtype.startswith("int") or dtype.startswith("uint"):
        return RNG.integers(1, 6, size=shape).astype(dtype)
    return RNG.uniform(0.2, 2.0, size=shape).astype(dtype)


def check(ours, theirs, atol=1e-6):
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            check(a, b, atol)
        return
    assert isinstance(ours, torch.Tensor)
    expected = kops.convert_to_numpy(theirs)
    assert str(ours.dtype).replace("torch.", "") == str(keras.backend.standardize_dtype(theirs.dtype)), \
        (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(expected.shape)
    got = ours.detach().numpy()
    if got.dtype == np.bool_ or np.issubdtype(got.dtype, np.integer):
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-6, equal_nan=True)


def check_keras_files_both_ways(model, keras_model, x, directory, atol=1e-6):
    """The same model built with kr.ops and keras.ops gives Keras's outputs on NumPy `x`, and so does each read
    of the other's file: ours saved and loaded by Keras, Keras's loaded by `kr.from_keras`."""
    expected = list(keras_model(x))
    check(list(model(torch.from_numpy(x))), expected, atol=atol)
    kr.save_keras(model, directory / "ours.keras")
    check(list(keras.models.load_model(directory / "ours.keras")(x)), expected, atol=atol)
    keras_model.save(directory / "theirs.keras")
    check(list(kr.from_keras(directory / "theirs.keras")(torch.from_numpy(x))), expected, atol=atol)


def both(name, *args, **kwargs):
    """(our result on torch tensors, ours on the NumPy arrays, Keras's)."""
    to_torch = [torch.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a for a in args]
    theirs = getattr(kops, name)(*args, **kwargs)
    check(getattr(ops, name)(*to_torch, **kwargs), theirs)
    check(getattr(ops, name)(*args, **kwargs), theirs)


DTYPES = ["float32", "int32", "bool", "float16", "int64"]
UNARY = ["negative", "abs", "absolute", "sqrt", "square", "exp", "log", "relu", "sigmoid", "tanh", "logical_not"]
BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum", "equal",
          "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or", "floor_divide",
          "mod"]


# Left out: combinations Keras's torch backend has no rule for either (torch refuses negating bools;
# log, sqrt, relu and tanh of bools, relu of ints), so there is nothing of Keras's to match.
NO_KERAS_RULE = {("negative", "bool"), ("log", "bool"), ("sqrt", "bool"), ("relu", "bool"), ("tanh", "bool"),
                 ("relu", "int32"), ("relu", "int64")}


@pytest.mark.parametrize("name, dtype", [(name, dtype) for name in UNARY for dtype in DTYPES
                                         if (name, dtype) not in NO_KERAS_RULE])
def test_unary(name, dtype):
    both(name, arrays(dtype))


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int32", "int32"), ("int32", "float32"),
                                    ("float16", "float32"), ("int64", "int32")])
@pytest.mark.parametrize("name", BINARY)
def test_binary(name, dtypes):
    a, b = arrays(dtypes[0]), arrays(dtypes[1], (4,))
    both(name, a, b)


@pytest.mark.parametrize("scalar", [2, 0.5])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum",
                                  "greater", "not_equal"])
def test_with_python_numbers(name, dtype, scalar):
    both(name, arrays(dtype), scalar)
    both(name, scalar, arrays(dtype))


REDUCTIONS = ["sum", "mean", "max", "min", "prod", "any", "all", "std", "var", "logsumexp"]


def _has_keras_rule(name: str, dtype: str) -> bool:
    """Keras's torch backend has no bool rule for max, min and logsumexp, and logsumexp takes floats only."""
    if name == "logsumexp":
        return dtype == "float32"
    return not (dtype == "bool" and name in ("max", "min"))


@pytest.mark.parametrize("name, dtype", [(name, dtype) for name in REDUCTIONS
                                         for dtype in ["float32", "int32", "bool", "float16"]
                                         if _has_keras_rule(name, dtype)])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (0, True), ((0, 1), False), (-1, True)])
def test_reductions(name, dtype, axis, keepdims):
    both(name, arrays(dtype, (3, 4, 2)), axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (-1, True)])
def test_arg_reductions(name, axis, keepdims):
    both(name, arrays("float32", (3, 4, 2)), axis=axis, keepdims=keepdims)


def test_clip():
    both("clip", arrays("float32"), 0.5, 1.5)
    both("clip", arrays("int32"), 2, 4)


def test_shapes():
    x = arrays("float32", (2, 3, 4))
    both("reshape", x, (6, 4))
    both("reshape", x, (-1, 2, 2))
    both("transpose", x[0])
    both("transpose", x, (0, 2, 1))
    both("expand_dims", x, 1)
    both("expand_dims", x, -1)
    both("squeeze", arrays("float32", (2, 1, 4)))
    both("squeeze", arrays("float32", (2, 1, 4, 1)), axis=1)
    both("concatenate", [x, x], axis=-1)
    both("stack", [x, x], axis=1)
    both("split", x, 2, axis=-1)
    both("split", x, [1, 3], axis=-1)
    both("tile", x, (1, 2, 1))
    both("repeat", x, 2, axis=1)
    both("repeat", x, 2)
    both("broadcast_to", arrays("float32", (1, 4)), (3, 4))
    both("take", x, np.array([0, 2, -1]), axis=2)
    both("take", x, np.array([[0, 1], [2, 0]]), axis=1)
    both("take", x, np.array([0, 5]))
    both("take_along_axis", x, np.argsort(x, axis=1)[:, :2], axis=1)
    both("where", x > 1.0, x, -x)
    both("where", x > 1.0, x, 0.0)
    both("zeros_like", x)
    both("ones_like", x, dtype="int32")
    both("full_like", x, 3.0)
    both("cast", x, "int32")
    both("cast", x, "float16")
    both("slice", x, (0, 1, 1), (2, 2, 3))
    assert ops.shape(torch.from_numpy(x)) == tuple(kops.shape(x))


def test_new_tensors():
    check(ops.zeros((2, 3)), kops.zeros((2, 3)))
    check(ops.ones((2, 3), dtype="int32"), kops.ones((2, 3), dtype="int32"))
    check(ops.full((2, 3), 7), kops.full((2, 3), 7))
    check(ops.full((2, 3), 0.5), kops.full((2, 3), 0.5))
    check(ops.arange(5), kops.arange(5))
    check(ops.arange(1, 2, 0.25), kops.arange(1, 2, 0.25))
    check(ops.arange(0, 10, 3, dtype="float32"), kops.arange(0, 10, 3, dtype="float32"))
    check(ops.eye(3), kops.eye(3))
    check(ops.eye(3, 4, k=1), kops.eye(3, 4, k=1))
    check(ops.eye(4, 3, k=-1), kops.eye(4, 3, k=-1))
    check(ops.linspace(0, 1, 5), kops.linspace(0, 1, 5))
    check(ops.linspace(0, 1, 5, endpoint=False), kops.linspace(0, 1, 5, endpoint=False))
    check(ops.convert_to_tensor(3), kops.convert_to_tensor(3))
    check(ops.convert_to_tensor(3.0), kops.convert_to_tensor(3.0))
    check(ops.convert_to_tensor([1, 2]), kops.convert_to_tensor([1, 2]))
    check(ops.convert_to_tensor([1.0, 2]), kops.convert_to_tensor([1.0, 2]))
    check(ops.convert_to_tensor(np.ones(3)), kops.convert_to_tensor(np.ones(3)))
    check(ops.convert_to_tensor(np.ones(3), dtype="float32"), kops.convert_to_tensor(np.ones(3), dtype="float32"))
    np.testing.assert_array_equal(ops.convert_to_numpy(torch.ones(2)), np.ones(2, dtype=np.float32))


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int32", "int32"), ("int32", "float32")])
def test_linear_algebra(dtypes):
    a, b = arrays(dtypes[0], (2, 3, 4)), arrays(dtypes[1], (4, 5))
    both("matmul", a, b)
    both("matmul", a, arrays(dtypes[1], (2, 4, 5)))
    both("dot", arrays(dtypes[0], (3, 4)), b)
    both("tensordot", a, b, axes=1)
    both("tensordot", a, arrays(dtypes[1], (3, 4, 2)), axes=([1, 2], [0, 1]))
    if dtypes[0] == dtypes[1]:          # torch.einsum (and so Keras) takes one dtype
        both("einsum", "bij,jk->bik", a, b)


@pytest.mark.parametrize("name, kwargs", [
    ("softmax", {}), ("softmax", {"axis": 1}), ("softmax", {"axis": None}), ("log_softmax", {}),
    ("log_softmax", {"axis": 0}), ("gelu", {}), ("gelu", {"approximate": False}), ("silu", {}), ("elu", {}),
    ("elu", {"alpha": 0.5}), ("softplus", {}), ("relu", {}), ("sigmoid", {}), ("normalize", {}),
    ("normalize", {"axis": 0, "order": 1}), ("normalize", {"order": 3, "epsilon": 1e-3})])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_nn(name, kwargs, dtype):
    x = (RNG.standard_normal((3, 4, 5)) * 2).astype(dtype)
    theirs = getattr(kops, name)(x, **kwargs)
    check(getattr(ops, name)(torch.from_numpy(x), **kwargs), theirs, atol=1e-6 if dtype == "float32" else 2e-3)


@pytest.mark.parametrize("kwargs", [{}, {"axis": 0}, {"axis": 1}, {"dtype": "int32"}])
def test_one_hot(kwargs):
    ids = np.array([[0, 2, -1], [1, 3, 0]])
    both("one_hot", ids, 4, **kwargs)


def test_get_item_matches_numpy_indexing():
    x = arrays("float32", (3, 4, 5))
    t = torch.from_numpy(x)
    for key in [(slice(None), -1), (Ellipsis, slice(1, 3, 2), None), 0, (slice(None), slice(None), 2),
                [slice(None), -1]]:
        np.testing.assert_array_equal(ops.get_item(t, key).numpy(), x[tuple(key) if isinstance(key, list) else key])


def test_errors_name_the_function_and_the_problem():
    with pytest.raises(ValueError, match="kr.ops.split: .*3 sections do not divide"):
        ops.split(torch.ones(2, 4), 3, axis=1)
    with pytest.raises(ValueError, match="kr.ops.squeeze: axis 1 .* has size 4, not 1"):
        ops.squeeze(torch.ones(2, 4), axis=1)
    with pytest.raises(ValueError, match="kr.ops.one_hot: sparse=True"):
        ops.one_hot(torch.ones(2, dtype=torch.long), 3, sparse=True)
    with pytest.raises(TypeError, match="convert_to_numpy.*symbolic"):
        import kerasrnn_torch as kr
        ops.convert_to_numpy(kr.Input((3,)))
