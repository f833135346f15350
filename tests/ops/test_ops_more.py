"""The kr.ops functions beyond the first set (element-wise math, arrays, nn, core, linalg) against keras.ops."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from keras import ops as kops

from kerasrnn_torch import activations, ops
from reference import sparsemax_reference

from .test_ops_match_keras import check

RNG = np.random.default_rng(1)


def arrays(dtype: str, shape=(3, 4), low=-2.0, high=2.0):
    if dtype == "bool":
        return RNG.uniform(size=shape) > 0.5
    if dtype.startswith("int"):
        return RNG.integers(int(low) - 1, int(high) + 2, size=shape).astype(dtype)
    return RNG.uniform(low, high, size=shape).astype(dtype)


def both(name, *args, atol=1e-6, **kwargs):
    """Ours on torch tensors and on the NumPy arrays against Keras's."""
    to_torch = [torch.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a for a in args]
    theirs = getattr(kops, name)(*args, **kwargs)
    check(getattr(ops, name)(*to_torch, **kwargs), theirs, atol)
    check(getattr(ops, name)(*args, **kwargs), theirs, atol)


# name -> the input range where it is defined
UNARY_MATH = {"sin": (-2, 2), "cos": (-2, 2), "tan": (-1, 1), "arcsin": (-0.9, 0.9), "arccos": (-0.9, 0.9),
              "arctan": (-2, 2), "sinh": (-2, 2), "cosh": (-2, 2), "arcsinh": (-2, 2), "arccosh": (1.1, 3),
              "arctanh": (-0.9, 0.9), "deg2rad": (-90, 90), "rad2deg": (-2, 2), "floor": (-3, 3),
              "ceil": (-3, 3), "round": (-3, 3), "trunc": (-3, 3), "sign": (-2, 2), "log1p": (0.1, 3),
              "log2": (0.1, 3), "log10": (0.1, 3), "expm1": (-2, 2), "exp2": (-2, 2), "reciprocal": (0.5, 3),
              "rsqrt": (0.5, 3), "erf": (-2, 2), "erfinv": (-0.9, 0.9), "isnan": (-2, 2), "isinf": (-2, 2),
              "isfinite": (-2, 2), "nan_to_num": (-2, 2)}
INT_DOMAIN = {"arcsin", "arccos", "arctanh", "erfinv", "arccosh", "log1p", "log2", "log10", "reciprocal", "rsqrt"}


def _unary_cases():
    for name in UNARY_MATH:
        for dtype in ["float32", "float16", "int32", "bool"]:
            yield name, dtype


@pytest.mark.parametrize("name, dtype", list(_unary_cases()))
def test_unary_math(name, dtype):
    low, high = UNARY_MATH[name]
    if dtype in ("int32", "bool") and name in INT_DOMAIN:
        x = RNG.integers(1, 4, size=(3, 4)).astype(dtype) if dtype == "int32" else RNG.uniform(size=(3, 4)) > 0.5
    else:
        x = arrays(dtype, (3, 4), low, high)
    try:
        theirs = getattr(kops, name)(x)
    except Exception:           # no rule in Keras's torch backend for this dtype: ours must refuse too
        with pytest.raises(Exception):
            getattr(ops, name)(torch.from_numpy(np.array(x)))
        return
    check(getattr(ops, name)(torch.from_numpy(np.array(x))), theirs, 2e-3 if dtype == "float16" else 1e-5)


@pytest.mark.parametrize("name", ["arctan2", "hypot", "heaviside", "fmod", "divide_no_nan", "logaddexp",
                                  "logical_xor", "isclose", "allclose"])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int32", "int32"), ("int32", "float32"),
                                    ("float16", "float16"), ("bool", "bool")])
def test_binary_math(name, dtypes):
    a, b = arrays(dtypes[0]), arrays(dtypes[1], (4,))
    if name in ("fmod", "divide_no_nan") and dtypes[1] != "bool":
        b[1] = 0 if name == "divide_no_nan" else b[1] or 1
    if name == "fmod" and dtypes[1] == "bool":
        b[:] = True
    try:
        theirs = getattr(kops, name)(a, b)
    except Exception:
        with pytest.raises(Exception):
            getattr(ops, name)(torch.from_numpy(a), torch.from_numpy(b))
        return
    check(getattr(ops, name)(torch.from_numpy(a), torch.from_numpy(b)), theirs,
          2e-3 if "float16" in dtypes else 1e-6)


def test_special_values_and_options():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0], dtype="float32")
    both("nan_to_num", x)
    both("nan_to_num", x, nan=5.0, posinf=9.0, neginf=-9.0)
    both("isnan", x)
    both("isinf", x)
    both("isfinite", x)
    both("isclose", x, x, equal_nan=True)
    both("isclose", arrays("float32"), arrays("float32"), 0.5, 1.0)
    both("round", arrays("float32") * 10, 1)
    both("round", arrays("int32") * 10, -1)
    both("divide_no_nan", arrays("float32"), 0.0)
    both("divide_no_nan", 2, np.array([0, 1, 2], dtype="int32"))


def test_rearranging():
    x = arrays("float32", (2, 3, 4))
    both("flip", x)
    both("flip", x, axis=1)
    both("flip", x, axis=(0, 2))
    both("roll", x, 2)
    both("roll", x, -1, axis=2)
    both("roll", x, (1, 2), axis=(0, 2))
    both("moveaxis", x, 0, -1)
    both("moveaxis", x, (0, 1), (2, 0))
    both("swapaxes", x, 0, 2)
    both("ravel", x)
    both("rot90", x)
    both("rot90", x, k=3, axes=(1, 2))
    both("hstack", [x, x])
    both("vstack", [x, x])
    both("hstack", [np.ones(3, "float32"), np.zeros(2, "float32")])
    both("vstack", [np.ones(3, "float32"), np.zeros(3, "float32")])
    t = torch.from_numpy(x)               # Keras's torch backend unstacks tensors only
    check(ops.unstack(t, axis=1), kops.unstack(t, axis=1))
    check(ops.unstack(x, num=2), kops.unstack(t, num=2))
    with pytest.raises(ValueError, match="kr.ops.unstack: num=3 but axis 0"):
        ops.unstack(t, num=3)
    both("meshgrid", np.arange(3.0, dtype="float32"), np.arange(4.0, dtype="float32"))
    both("meshgrid", np.arange(3), np.arange(4), indexing="ij")


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_pad(dtype):
    x = arrays(dtype, (2, 3, 4))
    both("pad", x, ((0, 0), (1, 2), (2, 1)))
    both("pad", x, ((1, 1), (0, 0), (0, 0)), constant_values=3)
    both("pad", arrays(dtype, (3, 4)), ((1, 1), (2, 2)), mode="reflect")
    both("pad", x, ((0, 0), (1, 2), (2, 1)), mode="symmetric")
    both("pad", x, ((0, 0), (0, 0), (1, 2)), mode="circular")
    with pytest.raises(ValueError, match="kr.ops.pad: `constant_values`"):
        ops.pad(torch.from_numpy(x), ((0, 0), (1, 1), (1, 1)), mode="reflect", constant_values=1)


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_triangles_and_diagonals(dtype):
    x = arrays(dtype, (2, 4, 4))
    m = arrays(dtype, (4, 5))
    both("tril", x)
    both("tril", m, -1)
    both("triu", x, 1)
    both("diag", m)
    both("diag", m, 1)
    both("diag", arrays(dtype, (3,)))
    both("diagonal", x)
    both("diagonal", x, 1, 1, 2)
    both("trace", m)
    both("trace", x, 0, 1, 2)
    check(ops.tri(3, 4, 1), kops.tri(3, 4, 1))
    check(ops.tri(3, dtype="int32"), kops.tri(3, dtype="int32"))
    check(ops.identity(3), kops.identity(3))
    check(ops.identity(2, dtype="int32"), kops.identity(2, dtype="int32"))


@pytest.mark.filterwarnings("ignore:The use of `x.T`", "ignore:Tensor.T is deprecated")  # Keras's count_nonzero
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool", "float16", "int64"])
def test_cumulative_sorting_counting(dtype):
    x = arrays(dtype, (3, 4, 2))
    for name in ["cumsum", "cumprod"]:
        both(name, x, atol=1e-2 if dtype == "float16" else 1e-6)
        both(name, x, axis=1, atol=1e-2 if dtype == "float16" else 1e-6)
    both("cumsum", x, axis=0, dtype="float32")
    if dtype != "bool":
        both("diff", x)
        both("diff", x, n=2, axis=1)
    both("sort", x)
    both("sort", x, axis=0)
    both("sort", x, axis=None)
    both("argsort", x)
    both("argsort", x, axis=1)
    both("argsort", x, axis=None)
    both("count_nonzero", x, axis=(0, 2))
    both("count_nonzero", x, axis=())
    # Keras's torch backend transposes results of 2 or more axes (its symbolic shape does not): ours keeps
    # NumPy's layout, which Keras documents and its other backends give.
    np.testing.assert_array_equal(ops.count_nonzero(x, axis=1).numpy(), np.count_nonzero(x, axis=1))
    assert ops.count_nonzero(x).dtype == torch.int32 and int(ops.count_nonzero(x)) == np.count_nonzero(x)
    if dtype != "bool":
        for name in ["amax", "amin", "ptp"]:
            both(name, x)
            both(name, x, axis=1)
            both(name, x, axis=(0, 2), keepdims=True)
    assert ops.ndim(torch.from_numpy(x)) == kops.ndim(x)
    both("size", x)
    both("copy", x)
    both("array", x)
    both("array", x, dtype="float32")
    both("nonzero", x)


def test_top_k_and_search():
    x = arrays("float32", (3, 6))
    both("top_k", x, 2)
    both("top_k", x, 3, sorted=True)
    targets = np.array([0, 3, 5], dtype="int32")
    both("in_top_k", targets, x, 2)
    both("in_top_k", targets, x, 1)
    sequence = np.array([0.0, 1.0, 1.5, 3.0], dtype="float32")
    both("searchsorted", sequence, x)
    both("searchsorted", sequence, x, side="right")
    both("digitize", x, sequence)
    both("digitize", arrays("int32"), np.array([0, 2, 4], dtype="int32"))
    with pytest.raises(ValueError, match="kr.ops.searchsorted: the sorted sequence must be 1-D"):
        ops.searchsorted(torch.ones(2, 2), torch.ones(3))


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_statistics(dtype):
    x = arrays(dtype, (3, 4, 5))
    atol = 2e-3 if dtype == "float16" else 1e-5
    for name in ["median", "nanmean", "nansum"]:
        both(name, x, atol=atol)
        both(name, x, axis=1, atol=atol)
        both(name, x, axis=(0, 2), keepdims=True, atol=atol)
    both("average", x, atol=atol)
    both("average", x, axis=1, atol=atol)
    both("average", x, axis=-1, weights=arrays("float32", (5,), 0.1, 1.0), atol=atol)
    both("quantile", x, 0.3, atol=atol)
    both("quantile", x, np.array([0.1, 0.9], dtype="float32"), axis=1, atol=atol)
    both("quantile", x, 0.5, axis=(0, 1), keepdims=True, method="nearest", atol=atol)
    both("quantile", x, np.array([0.2, 0.5], dtype="float32"), axis=2, keepdims=True, atol=atol)
    both("percentile", x, 40, axis=0, atol=atol)
    both("percentile", x, np.array([10.0, 90.0], dtype="float32"), method="lower", atol=atol)


def test_nan_reductions_skip_nans():
    x = arrays("float32", (3, 4))
    x[0, 1] = x[2, 3] = np.nan
    both("nanmean", x)
    both("nanmean", x, axis=0)
    both("nansum", x, axis=1)


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")   # Keras's own call
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int32", "int32"), ("int32", "float32"),
                                    ("float16", "float16")])
def test_products(dtypes):
    atol = 1e-2 if "float16" in dtypes else 1e-5
    both("outer", arrays(dtypes[0], (3,)), arrays(dtypes[1], (2, 2)), atol=atol)
    both("inner", arrays(dtypes[0], (2, 3)), arrays(dtypes[1], (4, 3)), atol=atol)
    both("cross", arrays(dtypes[0], (4, 3)), arrays(dtypes[1], (4, 3)), atol=atol)
    both("cross", arrays(dtypes[0], (3, 5)), arrays(dtypes[1], (3, 5)), axis=0, atol=atol)
    both("kron", arrays(dtypes[0], (2, 3)), arrays(dtypes[1], (2, 2)), atol=atol)


def test_select_bincount_and_new_tensors():
    x = arrays("float32", (3, 4))
    both("select", [x > 1, x < -1], [x, -x], 0.5)
    both("select", [x > 0], [np.ones_like(x)])
    ids = np.array([0, 2, 2, 5, 1], dtype="int32")
    both("bincount", ids)
    both("bincount", ids, minlength=8)
    both("bincount", ids, weights=np.linspace(0, 1, 5).astype("float32"))
    both("bincount", np.array([[0, 1, 1], [2, 2, 0]], dtype="int32"), minlength=3)
    assert tuple(ops.empty((2, 3)).shape) == (2, 3) and ops.empty((2, 3)).dtype == torch.float32
    assert ops.empty(2, dtype="int32").dtype == torch.int32
    assert ops.empty_like(torch.ones(2, 3, dtype=torch.float16)).dtype == torch.float16
    assert ops.empty_like(torch.ones(2, 3), dtype="int32").dtype == torch.int32


@pytest.mark.parametrize("name", ["segment_sum", "segment_max", "segment_min", "segment_prod"])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_segments(name, dtype):
    data = arrays(dtype, (6, 3))
    ids = np.array([0, 0, 1, 3, 3, 3], dtype="int32")
    both(name, data, ids)
    both(name, data, ids, num_segments=5)
    both(name, data, np.array([0, -1, 1, 1, 2, 4], dtype="int32"), num_segments=3)


ACTIVATIONS = [("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.1}), ("relu6", {}), ("selu", {}),
               ("celu", {}), ("celu", {"alpha": 0.5}), ("softsign", {}), ("hard_sigmoid", {}), ("hard_silu", {}),
               ("hard_swish", {}), ("log_sigmoid", {}), ("glu", {}), ("glu", {"axis": 1}), ("hard_tanh", {}),
               ("soft_shrink", {}), ("soft_shrink", {"threshold": 1.0}), ("hard_shrink", {}), ("tanh_shrink", {}),
               ("squareplus", {}), ("squareplus", {"b": 1}), ("sparse_plus", {}),
               ("threshold", {"threshold": 0.3, "default_value": -1.0})]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_activations(name, kwargs, dtype):
    x = (RNG.standard_normal((4, 6)) * 3).astype(dtype)
    both(name, x, atol=1e-6 if dtype == "float32" else 2e-3, **kwargs)


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_sparsemax_is_the_projection_onto_the_simplex(axis, dtype):
    """Against Martins and Astudillo's algorithm, not Keras 3.15, whose threshold is wrong where the support
    holds several values (keras-team/keras#23469); kr.ops and kr.activations give the same numbers."""
    x = (RNG.standard_normal((4, 6)) * 3).astype(dtype)
    ours = ops.sparsemax(torch.from_numpy(x), axis=axis)
    assert ours.dtype == torch.from_numpy(x).dtype and tuple(ours.shape) == x.shape
    np.testing.assert_allclose(ours.float().numpy(), sparsemax_reference(x, axis),
                               atol=1e-6 if dtype == "float32" else 2e-3)
    np.testing.assert_allclose(ours.float().sum(axis).numpy(), 1.0, atol=1e-5 if dtype == "float32" else 5e-3)
    assert torch.equal(ours, activations.sparsemax(torch.from_numpy(x), axis=axis))


def test_glu_needs_an_even_axis():
    with pytest.raises(ValueError, match="kr.ops.glu: axis -1 .* even size"):
        ops.glu(torch.ones(2, 3))


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropies(from_logits):
    logits = RNG.standard_normal((4, 5)).astype("float32")
    probs = kops.convert_to_numpy(kops.softmax(logits))
    output = logits if from_logits else probs
    labels = np.array([0, 3, 4, 1])
    both("categorical_crossentropy", np.eye(5, dtype="float32")[labels], output, from_logits=from_logits)
    both("sparse_categorical_crossentropy", labels, output, from_logits=from_logits)
    both("sparse_categorical_crossentropy", labels[:, None], output, from_logits=from_logits)
    both("categorical_crossentropy", np.eye(5, dtype="float32")[labels].T, output.T, from_logits=from_logits,
         axis=0)
    both("sparse_categorical_crossentropy", labels, output.T, from_logits=from_logits, axis=0)
    binary = RNG.uniform(size=(4, 3)).astype("float32")
    both("binary_crossentropy", (binary > 0.5).astype("float32"),
         binary if not from_logits else logits[:, :3], from_logits=from_logits)
    with pytest.raises(ValueError, match="kr.ops.binary_crossentropy: `target` and `output` must have the same"):
        ops.binary_crossentropy(torch.ones(2, 3), torch.ones(2, 1))


def test_multi_hot_and_moments():
    both("multi_hot", np.array([[0, 2], [1, 1]], dtype="int32"), num_classes=4)
    both("multi_hot", np.array([0, 3], dtype="int32"), num_classes=5, dtype="int32")
    x = arrays("float32", (3, 4, 5))
    both("moments", x, [0])
    both("moments", x, [0, 2], keepdims=True)
    both("moments", x.astype("float16"), [1], atol=2e-3)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_normalizations(dtype):
    atol = 1e-5 if dtype == "float32" else 3e-3
    x = arrays(dtype, (3, 4, 5))
    mean, variance = arrays("float32", (5,)), arrays("float32", (5,), 0.5, 2.0)
    both("batch_normalization", x.astype("float32"), mean, variance, axis=-1)
    both("batch_normalization", x.astype("float32"), mean[:4], variance[:4], 1, mean[:4], variance[:4],
         epsilon=0.1)
    gamma, beta = arrays(dtype, (5,)), arrays(dtype, (5,))
    both("layer_normalization", x, atol=atol)
    both("layer_normalization", x, gamma, beta, atol=atol)
    both("layer_normalization", x, axis=(1, 2), atol=atol)
    # Keras's torch backend hands a middle axis to torch's layer_norm, which refuses it; ours normalizes it,
    # as Keras does for the last axis of the transposed input.
    g4 = arrays(dtype, (4,))
    ours = ops.layer_normalization(torch.from_numpy(x), torch.from_numpy(g4), axis=1, epsilon=1e-3)
    theirs = kops.layer_normalization(np.swapaxes(x, 1, 2), g4, epsilon=1e-3)
    check(ours.transpose(1, 2), theirs, atol)
    with pytest.warns(UserWarning, match="rms_scaling=True is deprecated"):
        with pytest.warns(UserWarning, match="rms_scaling=True`, which is deprecated"):
            both("layer_normalization", x, gamma, rms_scaling=True, atol=atol)
    both("rms_normalization", x, atol=atol)
    both("rms_normalization", x, gamma, epsilon=1e-2, atol=atol)
    both("rms_normalization", x, axis=(1, 2), atol=atol)


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "mask"},
                                    {"mask": "mask", "is_causal": True}, {"bias": "bias"}])
def test_dot_product_attention(kwargs):
    q, k, v = (arrays("float32", (2, 5, 4, 8)) for _ in range(3))
    if kwargs.get("mask") == "mask":
        kwargs = {**kwargs, "mask": RNG.uniform(size=(2, 4, 5, 5)) > 0.3}
    if kwargs.get("bias") == "bias":
        kwargs = {**kwargs, "bias": arrays("float32", (2, 4, 5, 5))}
    both("dot_product_attention", q, k, v, atol=1e-5, **kwargs)
    both("dot_product_attention", q, k[:, :, :2], v[:, :, :2], atol=1e-5, **kwargs)   # grouped heads


def test_core_updates_and_casts():
    x = arrays("float32", (4, 3))
    t = torch.from_numpy(x).requires_grad_()
    stopped = ops.stop_gradient(t * 2)
    assert not stopped.requires_grad
    check(stopped, kops.stop_gradient(kops.convert_to_tensor(x) * 2))
    assert ops.dtype(t) == kops.dtype(x) == "float32"
    assert ops.dtype(torch.ones(2, dtype=torch.int64)) == "int64"
    indices = np.array([[0, 1], [2, 2], [0, 1]], dtype="int32")
    both("scatter", indices, np.array([1.0, 2.0, 3.0], dtype="float32"), (3, 3))
    both("scatter", np.array([[1], [0]], dtype="int32"), arrays("float32", (2, 4)), (3, 4))
    for reduction in [None, "add", "max", "min", "mul"]:
        both("scatter_update", x, np.array([[0, 1], [3, 2]], dtype="int32"), np.array([5.0, -5.0], "float32"),
             reduction=reduction)
    with pytest.raises(ValueError, match="kr.ops.scatter_update: `reduction` must be"):
        ops.scatter_update(torch.ones(2, 2), torch.tensor([[0, 0]]), torch.ones(1), reduction="sub")
    both("slice_update", x, (1, 1), arrays("float32", (2, 2)))
    both("slice_update", x, np.array([2, 0]), arrays("float32", (2, 3)))
    big = np.array([-1e6, -3.5, 0.0, 300.7, 1e10], dtype="float32")
    for wanted in ["uint8", "int8", "int16", "int32", "float16"]:
        both("saturate_cast", big, wanted)
    both("saturate_cast", np.array([-300, 5, 70000], dtype="int32"), "int16")


def test_control_flow_runs_eagerly():
    x = torch.from_numpy(arrays("float32", (3, 2)))
    assert torch.equal(ops.cond(x.sum() > 100, lambda: x + 1, lambda: x - 1), kops.cond(x.sum() > 100,
                                                                                         lambda: x + 1,
                                                                                         lambda: x - 1))
    branches = [lambda a: a * 2, lambda a: a * 3]
    for index in [0, 1, 5, -2]:
        check(ops.switch(index, branches, x), kops.switch(index, branches, x))
    check(ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s * 2), (0, x)),
          kops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s * 2), (0, x)))
    check(ops.while_loop(lambda v: v.sum() < 50, lambda v: v + 1, x, maximum_iterations=3),
          kops.while_loop(lambda v: v.sum() < 50, lambda v: v + 1, x, maximum_iterations=3))
    check(ops.fori_loop(0, 4, lambda i, v: v + i, x), kops.fori_loop(0, 4, lambda i, v: v + i, x))

    def step(carry, xi):
        return carry + xi, carry * xi
    for reverse in [False, True]:
        check(ops.scan(step, torch.zeros(2), x, reverse=reverse), kops.scan(step, torch.zeros(2), x,
                                                                              reverse=reverse))
    check(ops.scan(lambda c, _: (c + 1, c), torch.zeros(2), length=3),
          kops.scan(lambda c, _: (c + 1, c), torch.zeros(2), length=3))
    check(ops.map(lambda row: row.sum(), x), kops.map(lambda row: row.sum(), x))
    check(ops.vectorized_map(lambda row: row * row.sum(), x), kops.vectorized_map(lambda row: row * row.sum(), x))


@pytest.mark.parametrize("call", [
    lambda t: ops.cond(t, lambda: t, lambda: t), lambda t: ops.map(lambda r: r, t),
    lambda t: ops.scan(lambda c, x: (c, x), t, t), lambda t: ops.while_loop(lambda v: True, lambda v: v, t),
    lambda t: ops.fori_loop(0, 2, lambda i, v: v, t), lambda t: ops.vectorized_map(lambda r: r, t),
    lambda t: ops.switch(0, [lambda v: v], t)])
def test_control_flow_on_keras_tensors_says_to_call_it_in_a_layer(call):
    import kerasrnn_torch as kr
    with pytest.raises(ValueError, match="call it inside a layer's call"):
        call(kr.Input((3,)))


def _spd(batch=(), n=4):
    m = RNG.standard_normal((*batch, n, n)).astype("float32")
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n, dtype="float32")


@pytest.mark.parametrize("batch", [(), (2,)])
def test_linalg(batch):
    a = _spd(batch)
    b = arrays("float32", (*batch, 4, 2))
    for name in ["inv", "det", "cholesky", "eigh"]:
        both(name, a, atol=1e-4)
        check(getattr(ops.linalg, name)(torch.from_numpy(a)), getattr(kops.linalg, name)(a), 1e-4)
    both("cholesky", a, upper=True, atol=1e-4)
    both("solve", a, b, atol=1e-4)
    both("solve_triangular", np.tril(a), b, lower=True, atol=1e-4)
    both("solve_triangular", np.triu(a), b, atol=1e-4)
    both("solve_triangular", np.triu(a), b[..., 0], atol=1e-4)
    rect = arrays("float32", (*batch, 5, 3))
    both("qr", rect, atol=1e-4)
    both("qr", rect, mode="complete", atol=1e-4)
    both("svd", rect, compute_uv=False, atol=1e-4)
    u, s, vh = ops.svd(torch.from_numpy(rect), full_matrices=False)
    np.testing.assert_allclose((u * s.unsqueeze(-2)) @ vh, rect, atol=1e-5)
    check(ops.svd(torch.from_numpy(rect))[1], kops.svd(rect)[1], 1e-4)


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
@pytest.mark.parametrize("kwargs", [{}, {"axis": 1}, {"ord": 1, "axis": -1}, {"ord": "fro", "axis": (0, 1)},
                                    {"ord": 2, "axis": (1, 0), "keepdims": True}, {"ord": np.inf, "axis": 0}])
def test_norm(dtype, kwargs):
    x = arrays(dtype, (4, 3))
    if dtype == "float16" and kwargs.get("ord") == 2:      # torch has no float16 spectral norm: both refuse
        with pytest.raises(RuntimeError):
            kops.norm(x, **kwargs)
        with pytest.raises(RuntimeError):
            ops.norm(torch.from_numpy(x), **kwargs)
        return
    both("norm", x, atol=2e-2 if dtype == "float16" else 1e-5, **kwargs)


def test_lstsq_and_linalg_errors():
    a, b = arrays("float32", (6, 3)), arrays("float32", (6, 2))
    both("lstsq", a, b, atol=1e-4)
    both("lstsq", a, b, rcond=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="kr.ops.inv: x's last two axes must be square"):
        ops.inv(torch.ones(2, 3))
    with pytest.raises(ValueError, match="kr.ops.det: x must have at least 2 axes"):
        ops.det(torch.ones(3))
    with pytest.raises(ValueError, match="kr.ops.qr: `mode` must be"):
        ops.qr(torch.ones(2, 2), mode="r")
    with pytest.raises(ValueError, match="kr.ops.cholesky: the decomposition failed"):
        ops.cholesky(-torch.eye(2))


@pytest.mark.parametrize("name", ["cbrt", "fabs", "isneginf", "isposinf", "signbit", "sinc", "erfc"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "bool"])
def test_more_unary(name, dtype):
    x = arrays(dtype, (3, 4))
    if dtype == "float32":
        x[0, :2] = [np.inf, -np.inf]
    try:
        theirs = getattr(kops, name)(x)
    except Exception:
        with pytest.raises(Exception):
            getattr(ops, name)(torch.from_numpy(x))
        return
    check(getattr(ops, name)(torch.from_numpy(x)), theirs, 2e-3 if dtype == "float16" else 1e-6)


@pytest.mark.parametrize("name", ["fmax", "fmin", "logaddexp2", "gcd", "lcm", "bitwise_and", "bitwise_or",
                                  "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "left_shift",
                                  "right_shift", "vdot", "append"])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int32", "int32"), ("int32", "float32"),
                                    ("bool", "bool"), ("float16", "float16")])
def test_more_binary(name, dtypes):
    shape = (4,) if name == "vdot" else (3, 4)      # Keras's torch backend takes 1-D vdot operands only
    a, b = arrays(dtypes[0], shape), arrays(dtypes[1], shape)
    if "shift" in name and dtypes[1] == "int32":
        b = np.abs(b)
    if dtypes[0] == "float32" and name in ("fmax", "fmin"):
        a[0, 0] = np.nan
    if name == "vdot":                             # ours flattens, as keras.ops.vdot documents
        check(ops.vdot(torch.from_numpy(a).reshape(2, 2), torch.from_numpy(b).reshape(2, 2)),
              kops.vdot(a, b), 2e-2 if "float16" in dtypes else 1e-5)
    try:
        theirs = getattr(kops, name)(a, b)
    except Exception:
        with pytest.raises(Exception):
            getattr(ops, name)(torch.from_numpy(a), torch.from_numpy(b))
        return
    check(getattr(ops, name)(torch.from_numpy(a), torch.from_numpy(b)), theirs,
          2e-2 if "float16" in dtypes else 1e-5)


def test_more_shapes_and_nan_reductions():
    x = arrays("float32", (4, 6, 2))
    both("bitwise_invert", arrays("int32"))
    both("bitwise_not", arrays("bool"))
    both("bitwise_left_shift", arrays("int32"), 2)
    both("fmax", arrays("float32"), 0.5)
    both("append", x, x, axis=1)
    both("dstack", [x, x])
    both("vsplit", x, 2)
    both("hsplit", x, [1, 4])
    both("dsplit", x, 2)
    both("array_split", x, 3, axis=1)
    both("array_split", x, 4, axis=1)
    both("diagflat", arrays("float32", (2, 2)), 1)
    both("fliplr", x)
    both("flipud", x)
    y = x.copy()
    y[0, 1, :] = np.nan
    y[1, :, 0] = np.nan
    for name in ["nanmax", "nanmin"]:
        both(name, y)
        both(name, y, axis=1)
        both(name, y, axis=(0, 2), keepdims=True)
        both(name, arrays("int32", (3, 4)), axis=1)
    for name in ["nancumsum", "nancumprod"]:
        both(name, y)
        both(name, y, axis=1)
        both(name, arrays("int32", (3, 4)), axis=0, dtype="float32")


def test_nan_statistics_and_isin():
    y = arrays("float32", (4, 6, 2))
    y[0, 1, :] = np.nan
    y[1, :, 0] = np.nan
    for name in ["nanvar", "nanstd", "nanprod"]:
        both(name, y, atol=1e-5)
        both(name, y, axis=1, atol=1e-5)
        both(name, y, axis=(0, 2), keepdims=True, atol=1e-5)
        both(name, arrays("int32", (3, 4)), axis=1, atol=1e-5)
    both("nanprod", arrays("int32", (3, 4)))
    both("isin", arrays("int32", (3, 4)), np.array([0, 2, 3], dtype="int32"))
    both("isin", arrays("float32", (3, 4)), y[0, 0], invert=True)
    both("isin", arrays("bool", (3, 4)), np.array([True]))


def test_more_linalg_and_nn():
    a = _spd((2,))
    for name in ["logdet", "slogdet", "pinv", "matrix_rank", "lu_factor"]:
        both(name, a, atol=1e-4)
    both("pinv", arrays("float32", (5, 3)), rcond=0.1, atol=1e-4)
    both("matrix_rank", np.ones((4, 4), "float32"), atol=0)
    both("matrix_rank", arrays("float32", (5, 3)), tol=1.0)
    lower = np.linalg.cholesky(a)
    both("cholesky_inverse", lower, atol=1e-4)
    both("cholesky_inverse", np.swapaxes(lower, -1, -2), upper=True, atol=1e-4)
    values, vectors = ops.eig(torch.from_numpy(a[0]))
    k_values, _ = kops.eig(a[0])
    np.testing.assert_allclose(np.sort(values.real.numpy()), np.sort(kops.convert_to_numpy(k_values).real),
                               atol=1e-4)
    assert values.dtype == k_values.dtype and vectors.shape == (4, 4)
    both("sparse_sigmoid", (RNG.standard_normal((3, 4)) * 2).astype("float32"))
    x1, x2 = arrays("float32", (2, 3, 4), 0, 1), arrays("float32", (2, 3, 4), 0, 1)
    both("psnr", x1, x2, 1.0, atol=1e-4)
    with pytest.raises(ValueError, match="kr.ops.psnr: x1 and x2 must have the same shape"):
        ops.psnr(torch.ones(2, 3), torch.ones(3, 2), 1.0)


def test_nan_quantiles_args_and_complex_parts():
    y = arrays("float32", (4, 6, 2))
    y[0, 1, :] = np.nan
    y[1, :, 0] = np.nan
    for name in ["nanmedian", "nanargmax", "nanargmin"]:
        both(name, y)
        both(name, y, axis=1)
        both(name, arrays("int32", (3, 4)), axis=0)
    both("nanmedian", y, axis=(0, 2), keepdims=True)
    both("nanargmax", y, axis=2, keepdims=True)
    both("nanquantile", y, 0.3, axis=1)
    both("nanquantile", y, np.array([0.2, 0.8], dtype="float32"), axis=(0, 1), keepdims=True)
    both("nanpercentile", y, 75, axis=0, method="nearest")
    z = (RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))).astype("complex64")
    for name in ["real", "imag", "conjugate", "conj", "isreal"]:
        both(name, z)
    both("real", arrays("float32"))
    both("isreal", arrays("float32"))
    both("vander", arrays("float32", (4,)))
    both("vander", arrays("int32", (3,)), N=5, increasing=True)
    both("unravel_index", np.array([0, 5, 11], dtype="int32"), (3, 4))
    both("corrcoef", arrays("float32", (3, 6)), atol=1e-5)
    both("corrcoef", arrays("int32", (3, 6)), atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16", "bool"])
def test_ldexp_nextafter_i0(dtype):
    x = arrays(dtype, (3, 4))
    exponents = RNG.integers(-3, 4, size=(3, 4)).astype("int32")
    atol = 2e-3 if dtype == "float16" else 1e-6
    both("ldexp", x, exponents, atol=atol)
    both("nextafter", x, arrays("float32", (3, 4)), atol=0)
    both("i0", x, atol=atol)
    with pytest.raises(TypeError, match="kr.ops.ldexp: the exponent x2 must be an integer"):
        ops.ldexp(torch.ones(2), torch.ones(2))
