"""kr.ops's window functions, logspace, geomspace, trapezoid, angle, correlate, argpartition, histogram and view
against keras.ops (torch backend): values, dtypes, shapes, symbolic calls, errors, and Keras files."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_match_keras import check, check_keras_files_both_ways

RNG = np.random.default_rng(23)
WINDOWS = ["bartlett", "blackman", "hamming", "hanning"]


def exact(ours, theirs):
    """Same dtype, shape and values (bit for bit, NaNs where theirs has them)."""
    expected = kops.convert_to_numpy(theirs)
    assert str(ours.dtype).replace("torch.", "") == keras.backend.standardize_dtype(theirs.dtype)
    assert tuple(ours.shape) == expected.shape
    np.testing.assert_array_equal(ours.numpy(), expected)


# ------------------------------------------------------------------ window functions
@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", [0, 1, 2, 5, 8, 31, np.int32(4), np.int64(6), True])
def test_windows_match_keras(name, length):
    # Keras's torch backend hands torch the length as a tensor, which rounds a few values differently.
    check(getattr(ops, name)(length), getattr(kops, name)(length), atol=1e-6)


@pytest.mark.parametrize("name", WINDOWS)
def test_windows_take_integer_scalar_tensors(name):
    check(getattr(ops, name)(torch.tensor(7)), getattr(kops, name)(torch.tensor(7)), atol=1e-6)
    check(getattr(ops, name)(np.array(3)), getattr(kops, name)(np.array(3)), atol=1e-6)


@pytest.mark.parametrize("length, beta", [(5, 14.0), (5, 0), (8, 2), (1, 3.0), (0, 3.0), (6, 5.5)])
def test_kaiser_matches_keras(length, beta):
    check(ops.kaiser(length, beta), kops.kaiser(length, beta), atol=1e-6)


def test_kaiser_takes_a_scalar_tensor_beta():
    check(ops.kaiser(7, torch.tensor(2.5)), kops.kaiser(7, 2.5), atol=1e-6)
    check(ops.kaiser(torch.tensor(7), np.float32(2.5)), kops.kaiser(7, 2.5), atol=1e-6)


@pytest.mark.parametrize("name", WINDOWS + ["kaiser"])
def test_windows_refuse_bad_lengths(name):
    def call(x):
        return ops.kaiser(x, 1.0) if name == "kaiser" else getattr(ops, name)(x)

    with pytest.raises(TypeError, match=f"kr.ops.{name}: the window length must be an integer, got float 4.0"):
        call(4.0)
    with pytest.raises(TypeError, match=f"kr.ops.{name}: the window length must be an integer, got a torch.float32"):
        call(torch.tensor(4.0))
    with pytest.raises(ValueError, match=f"kr.ops.{name}: the window length must be non-negative, got -1"):
        call(-1)
    with pytest.raises(ValueError, match=rf"kr.ops.{name}: the window length must be a scalar, got .* shape \(2,\)"):
        call(torch.tensor([3, 4]))
    with pytest.raises(TypeError, match=f"kr.ops.{name}: the window length must be a number, not a symbolic"):
        call(kr.Input((), dtype="int32"))


def test_kaiser_refuses_bad_betas():
    with pytest.raises(TypeError, match="kr.ops.kaiser: beta must be a real number, got str 'x'"):
        ops.kaiser(5, "x")
    with pytest.raises(ValueError, match=r"kr.ops.kaiser: beta must be a scalar, got a tensor of shape \(2,\)"):
        ops.kaiser(5, torch.ones(2))


# ------------------------------------------------------------------ logspace and geomspace
SPACED = [
    ((0, 3), {}), ((0, 3), {"num": 4}), ((0.0, 2.0), {"num": 5, "endpoint": False}), ((1, 2), {"num": 1}),
    ((1, 2), {"num": 0}), ((-1.5, 2.25), {"num": 7}), ((0, 3), {"num": 4, "dtype": "float64"}),
    ((0, 3), {"num": 4, "dtype": "float16"}), ((0, 3), {"num": 4, "dtype": "int32"}),
    ((np.float64(0.5), 2), {"num": 3}), ((True, 2), {"num": 3}),
    ((torch.tensor(0.0), torch.tensor(2.0)), {"num": 3}), ((torch.tensor(0), torch.tensor(2)), {"num": 3}),
    ((torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0])), {"num": 3}),
    ((torch.tensor([0, 1]), torch.tensor([2, 3])), {"num": 4, "endpoint": False}),
    ((torch.tensor([0.5, 1.0], dtype=torch.float16), torch.tensor([2.0, 2.5], dtype=torch.float16)), {"num": 3}),
    ((torch.tensor([[0.5], [1.0]], dtype=torch.float64), torch.tensor([1.0, 2.0, 3.0])), {"num": 4}),
]


@pytest.mark.parametrize("ends, kwargs", SPACED)
def test_logspace_matches_keras(ends, kwargs):
    check(ops.logspace(*ends, **kwargs), kops.logspace(*ends, **kwargs), atol=1e-6)
    check(ops.logspace(*ends, base=2, **kwargs), kops.logspace(*ends, base=2, **kwargs), atol=1e-6)


@pytest.mark.parametrize("ends, kwargs", [(tuple(e + 1 if not isinstance(e, bool) else e for e in ends), kwargs)
                                          for ends, kwargs in SPACED
                                          if kwargs.get("dtype") != "int32" and kwargs.get("num") != 1]
                         + [((-1.0, -8.0), {"num": 4}), ((torch.tensor([-1.0, 2.0]), torch.tensor([-8.0, 8.0])), {})])
def test_geomspace_matches_keras(ends, kwargs):
    theirs = kops.geomspace(*ends, **kwargs)
    rtol = 1e-3 if kwargs.get("dtype") == "float16" or getattr(ends[0], "dtype", None) == torch.float16 else 1e-5
    ours = ops.geomspace(*ends, **kwargs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, rtol=rtol, atol=1e-6)


def test_spaced_sequences_of_one_value_start_at_start():
    # Keras's torch backend divides by num - 1 there for tensor ends (NaN); NumPy gives the start.
    torch.testing.assert_close(ops.logspace(torch.tensor(1.0), torch.tensor(2.0), num=1), torch.tensor([10.0]))
    torch.testing.assert_close(ops.geomspace(torch.tensor(3.0), torch.tensor(2.0), num=1), torch.tensor([3.0]))
    torch.testing.assert_close(ops.geomspace(3, 2, num=1), torch.from_numpy(np.geomspace(3, 2, 1).astype("float32")))


def test_spaced_sequences_with_an_integer_dtype_truncate_as_numpy_does():
    np.testing.assert_array_equal(ops.logspace(0.5, 2.7, 3, dtype="int32").numpy(),
                                  np.logspace(0.5, 2.7, 3).astype("int32"))
    assert ops.geomspace(1, 1000, 4, dtype="int32").tolist() == [1, 10, 100, 1000]
    assert ops.geomspace(1, 1000, 4, dtype="int32").dtype == torch.int32


def test_spaced_sequences_refuse_bad_arguments():
    with pytest.raises(ValueError, match="kr.ops.logspace: axis must be 0 .* got 1"):
        ops.logspace(0, 1, axis=1)
    with pytest.raises(ValueError, match="kr.ops.geomspace: axis must be 0 .* got -1"):
        ops.geomspace(1, 2, axis=-1)
    with pytest.raises(ValueError, match="kr.ops.logspace: num must be a non-negative int, got -2"):
        ops.logspace(0, 1, num=-2)
    with pytest.raises(ValueError, match="kr.ops.geomspace: num must be a non-negative int, got 2.5"):
        ops.geomspace(1, 2, num=2.5)
    with pytest.raises(ValueError, match="kr.ops.logspace: `dtype` must be"):
        ops.logspace(0, 1, dtype="float128")


# ------------------------------------------------------------------ trapezoid
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool", "float16"])
@pytest.mark.parametrize("kwargs", [{}, {"dx": 0.5}, {"dx": 2}, {"axis": 0}, {"axis": 1},
                                    {"x": np.array([0.0, 1.0, 3.0, 3.5], dtype="float32")},
                                    {"x": np.array([0, 1, 3, 7], dtype="int32")}])
def test_trapezoid_matches_keras(dtype, kwargs):
    y = (RNG.standard_normal((3, 4)) * 4).astype(dtype)
    if "x" in kwargs:
        kwargs = {"x": torch.from_numpy(kwargs["x"])}
    atol = 1e-2 if dtype == "float16" else 1e-5
    check(ops.trapezoid(torch.from_numpy(y), **kwargs), kops.trapezoid(torch.from_numpy(y), **kwargs), atol=atol)


@pytest.mark.parametrize("shape", [(1,), (0,), (2,), (1, 5)])
def test_trapezoid_edge_sizes_match_keras(shape):
    y = RNG.standard_normal(shape).astype("float32")
    check(ops.trapezoid(y), kops.trapezoid(y), atol=1e-6)
    check(ops.trapezoid(y, axis=0), kops.trapezoid(y, axis=0), atol=1e-6)


def test_trapezoid_refuses_bad_arguments():
    with pytest.raises(ValueError, match="kr.ops.trapezoid: y must have at least one axis"):
        ops.trapezoid(torch.tensor(5.0))
    with pytest.raises(ValueError, match=r"kr.ops.trapezoid: axis 2 is out of range for y of shape \(3, 4\)"):
        ops.trapezoid(torch.ones(3, 4), axis=2)
    with pytest.raises(ValueError, match=r"kr.ops.trapezoid: x must hold one sample point per value along axis -1 "
                                         r"\(4\), got 3"):
        ops.trapezoid(torch.ones(3, 4), x=torch.arange(3.0))


# ------------------------------------------------------------------ angle
@pytest.mark.parametrize("values, dtype", [([1.0, -2.0, 0.0, -0.0], torch.float32), ([1, -2, 0], torch.int32),
                                           ([1, -2, 0], torch.int64), ([True, False], torch.bool),
                                           ([1 + 1j, -1j, -3.0], torch.complex64), ([1.0, -2.0], torch.float64),
                                           ([1.5, -2.0], torch.float16), ([1 + 1j, -2.5], torch.complex128),
                                           ([3, 0], torch.uint8)])
def test_angle_matches_keras(values, dtype):
    x = torch.tensor(values, dtype=dtype)
    exact(ops.angle(x), kops.angle(x))


def test_angle_of_numbers_and_arrays_matches_keras():
    exact(ops.angle(np.array([1 + 2j, -1 - 1j])), kops.angle(np.array([1 + 2j, -1 - 1j])))
    exact(ops.angle(-2.0), kops.angle(-2.0))


# ------------------------------------------------------------------ correlate
def _correlate_pairs():
    for m in (1, 2, 3, 4, 7):
        for n in (1, 2, 3, 4, 7):
            yield m, n


@pytest.mark.parametrize("m, n", list(_correlate_pairs()))
@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate_matches_numpy(m, n, mode):
    a, v = RNG.standard_normal(m).astype("float32"), RNG.standard_normal(n).astype("float32")
    ours = ops.correlate(torch.from_numpy(a), torch.from_numpy(v), mode=mode)
    assert ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), np.correlate(a, v, mode), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("m, n", [(m, n) for m, n in _correlate_pairs() if m >= n and m + n > 2 and m > n])
@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate_matches_keras(m, n, mode):
    # Where Keras's torch backend gives NumPy's shapes: more than one value, and "same" with x1 the longer one.
    a, v = RNG.standard_normal(m).astype("float32"), RNG.standard_normal(n).astype("float32")
    check(ops.correlate(a, v, mode=mode), kops.correlate(a, v, mode=mode), atol=1e-5)
    check(ops.correlate(v, a, mode="full"), kops.correlate(v, a, mode="full"), atol=1e-5)


@pytest.mark.parametrize("dtype1, dtype2", [("int32", "int32"), ("int64", "int64"), ("float64", "float64"),
                                            ("float16", "float16"), ("bool", "bool"), ("int32", "float32"),
                                            ("float16", "float32"), ("bfloat16", "bfloat16")])
def test_correlate_dtypes_match_keras(dtype1, dtype2):
    a = torch.tensor([1, 0, 2, 3, 1]).to(getattr(torch, dtype1))
    v = torch.tensor([1, 1, 0]).to(getattr(torch, dtype2))
    ours, theirs = ops.correlate(a, v, mode="full"), kops.correlate(a, v, mode="full")
    assert ours.dtype == theirs.dtype
    torch.testing.assert_close(ours, theirs, atol=1e-2, rtol=1e-2)


def test_correlate_refuses_bad_arguments():
    with pytest.raises(ValueError, match="kr.ops.correlate: mode must be 'valid', 'same' or 'full', got 'wide'"):
        ops.correlate(torch.ones(3), torch.ones(2), mode="wide")
    with pytest.raises(ValueError, match=r"kr.ops.correlate: x1 must be a non-empty 1-D tensor, got shape \(2, 3\)"):
        ops.correlate(torch.ones(2, 3), torch.ones(2))
    with pytest.raises(ValueError, match=r"kr.ops.correlate: x2 must be a non-empty 1-D tensor, got shape \(0,\)"):
        ops.correlate(torch.ones(3), torch.ones(0))


# ------------------------------------------------------------------ argpartition
def _is_partition(x, indices, kth, axis):
    """Whether `indices` put x's kth smallest value along `axis` at kth, smaller ones before, larger after."""
    x, indices = np.asarray(x), np.asarray(indices).astype(np.int64)
    if axis is None:
        x, axis = x.reshape(-1), 0
    rows = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    picks = np.moveaxis(indices, axis, -1).reshape(-1, x.shape[axis])
    kth = kth % x.shape[axis]
    for row, pick in zip(rows, picks):
        if sorted(pick.tolist()) != list(range(len(row))):
            return False
        ordered, value = row[pick], np.sort(row)[kth]
        if ordered[kth] != value or np.any(ordered[:kth] > value) or np.any(ordered[kth + 1:] < value):
            return False
    return True


@pytest.mark.parametrize("dtype", ["float32", "int32", "float64", "bool"])
@pytest.mark.parametrize("kth, axis", [(0, -1), (2, -1), (4, 1), (1, 0), (0, 0), (5, None), (14, None)])
def test_argpartition_partitions_as_keras_and_numpy_say(dtype, kth, axis):
    x = (RNG.standard_normal((3, 5)) * 5).astype(dtype)
    ours = ops.argpartition(torch.from_numpy(x), kth, axis=axis)
    theirs = kops.argpartition(x, kth, axis=axis)
    assert ours.dtype == theirs.dtype == torch.int32 and ours.shape == theirs.shape
    assert _is_partition(x, ours.numpy(), kth, axis)
    assert _is_partition(x, np.argpartition(x, kth, axis=axis), kth, axis)   # the check itself takes NumPy's
    if dtype not in ("float32", "float64"):     # Keras's torch backend compares floats cast to int32
        assert _is_partition(x, kops.convert_to_numpy(theirs), kth, axis)


@pytest.mark.parametrize("kth, axis", [(-1, -1), (-2, 0), (-3, None)])
def test_argpartition_takes_negative_kth_as_numpy_does(kth, axis):
    # Keras's torch backend fails there (or, for -1, returns an order that is no partition).
    x = (RNG.standard_normal((3, 5)) * 5).astype("float32")
    assert _is_partition(x, ops.argpartition(x, kth, axis=axis).numpy(), kth, axis)


def test_the_partition_check_can_fail():
    x = np.array([3.0, 1.0, 2.0])
    assert not _is_partition(x, np.array([0, 1, 2]), 1, -1) and not _is_partition(x, np.array([1, 1, 0]), 0, -1)


def test_argpartition_compares_the_float_values_themselves():
    x = torch.tensor([0.5, 0.2, 0.9, 0.1, 0.3])
    assert x[ops.argpartition(x, 1)[1]].item() == pytest.approx(0.2)
    assert ops.argpartition(x, 1)[:2].tolist() in ([3, 1], [1, 3])


def test_argpartition_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"kr.ops.argpartition: kth must be an int, got list \[1, 2\]"):
        ops.argpartition(torch.ones(4), [1, 2])
    with pytest.raises(ValueError, match="kr.ops.argpartition: kth 4 is out of range for axis -1 of size 4"):
        ops.argpartition(torch.ones(4), 4)
    with pytest.raises(ValueError, match="kr.ops.argpartition: x must have at least one axis"):
        ops.argpartition(torch.tensor(1.0), 0)


# ------------------------------------------------------------------ histogram
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [{}, {"bins": 3}, {"bins": 1}, {"bins": 4, "range": (0.0, 1.0)},
                                    {"bins": 5, "range": (-3, 3)}])
def test_histogram_matches_keras(dtype, kwargs):
    x = RNG.standard_normal(20).astype(dtype)
    check(list(ops.histogram(torch.from_numpy(x), **kwargs)), list(kops.histogram(torch.from_numpy(x), **kwargs)))
    check(list(ops.histogram(x, **kwargs)), list(kops.histogram(x, **kwargs)))


def test_histogram_of_equal_values_and_scalars_matches_keras():
    check(list(ops.histogram(torch.ones(4), bins=4)), list(kops.histogram(torch.ones(4), bins=4)))
    check(list(ops.histogram(torch.tensor(1.0))), list(kops.histogram(torch.tensor(1.0))))


def test_histogram_of_half_floats_keeps_their_dtype():
    counts, edges = ops.histogram(torch.tensor([0.0, 0.5, 0.6, 1.0], dtype=torch.float16), bins=2)
    assert counts.dtype == edges.dtype == torch.float16
    assert counts.tolist() == [1.0, 3.0] and edges.tolist() == [0.0, 0.5, 1.0]


def test_histogram_refuses_bad_arguments_as_keras_does():
    x = torch.ones(3)
    for kwargs, error, ours in [({"bins": 2.0}, TypeError, "kr.ops.histogram: bins must be an int, got float 2.0"),
                                ({"bins": -1}, ValueError, "kr.ops.histogram: bins must be a positive int, got -1"),
                                ({"range": [0, 1]}, ValueError, r"kr.ops.histogram: range must be a tuple of two "),
                                ({"range": (1, 0)}, ValueError, r"kr.ops.histogram: range must be \(lower, upper\)")]:
        with pytest.raises(error):
            kops.histogram(x, **kwargs)
        with pytest.raises(error, match=ours):
            ops.histogram(x, **kwargs)
    with pytest.raises(ValueError, match="kr.ops.histogram: bins must be a positive int, got 0"):
        ops.histogram(x, bins=0)
    with pytest.raises(ValueError, match=r"kr.ops.histogram: x must be a 1-D tensor, got shape \(2, 3\)"):
        ops.histogram(torch.ones(2, 3))
    with pytest.raises(TypeError, match="kr.ops.histogram: x must be a float tensor .* got int32"):
        ops.histogram(torch.ones(3, dtype=torch.int32))


# ------------------------------------------------------------------ view
@pytest.mark.parametrize("source", ["int32", "float32", "float16", "uint8", "int16", "float64", "bool"])
@pytest.mark.parametrize("target", ["float32", "int32", "int16", "uint8", "int8", "float16", "bfloat16", "int64",
                                    "bool"])
def test_view_matches_keras(source, target):
    def same_bits(ours, theirs):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        def raw(t):      # the bytes as they are (copying bools would make their bytes 0 or 1)
            return t.view(torch.uint8) if t.element_size() == 1 else t.contiguous().view(torch.uint8)
        assert torch.equal(raw(ours), raw(theirs))

    x = torch.from_numpy((RNG.standard_normal((2, 8)) * 50).astype(source))
    same_bits(ops.view(x, target), kops.view(x, target))
    part = x[:, 2:6]
    if (4 * part.element_size()) % torch.empty((), dtype=getattr(torch, target)).element_size():
        with pytest.raises(RuntimeError):
            kops.view(part.contiguous(), target)
        with pytest.raises(ValueError, match="kr.ops.view: x of shape"):
            ops.view(part, target)
    else:
        same_bits(ops.view(part, target), kops.view(part.contiguous(), target))


def test_view_without_a_dtype_keeps_it():
    # NumPy's view and Keras's symbolic View; Keras's torch backend reads the bytes as float32 instead.
    x = torch.tensor([1, 2, 3], dtype=torch.int32)
    assert ops.view(x).dtype == torch.int32 and ops.view(x).tolist() == [1, 2, 3]
    assert ops.view([1, 2]).dtype == torch.int32


def test_view_refuses_bad_arguments():
    with pytest.raises(ValueError, match="kr.ops.view: a scalar cannot be viewed as a dtype of another item size "
                                         r"\(float32 to int16\)"):
        ops.view(torch.tensor(1.0), "int16")
    with pytest.raises(ValueError, match=r"kr.ops.view: x of shape \(3,\) and dtype int32 cannot be viewed as "
                                         "int64: the last axis's 12 bytes are not a multiple of its item size 8"):
        ops.view(torch.tensor([1, 2, 3], dtype=torch.int32), "int64")
    with pytest.raises(ValueError, match="kr.ops.view: `dtype` must be"):
        ops.view(torch.ones(2), "foo")


# ------------------------------------------------------------------ on kr.Input
SYMBOLIC = {
    "logspace": lambda o, x: o.logspace(x, x + 1.0, num=3),
    "geomspace": lambda o, x: o.geomspace(x + 1.0, x + 2.0, num=5, endpoint=False),
    "trapezoid": lambda o, x: o.trapezoid(x),
    "trapezoid_axis": lambda o, x: o.trapezoid(x, dx=0.5, axis=1),
    "angle": lambda o, x: o.angle(x),
    "angle_int": lambda o, x: o.angle(o.cast(x, "int32")),
    "correlate": lambda o, x: o.correlate(x[0, :, 0], x[0, :3, 1]),
    "correlate_full": lambda o, x: o.correlate(x[0, :, 0], x[0, :3, 1], mode="full"),
    "argpartition": lambda o, x: o.argpartition(x, 2),
    "argpartition_axis": lambda o, x: o.argpartition(x, 1, axis=1),
    "histogram": lambda o, x: o.histogram(x[0, :, 0], bins=4),
    "view": lambda o, x: o.view(x, "int32"),
    "view_narrower": lambda o, x: o.view(x, "float16"),
}


def described(t):
    if isinstance(t, (list, tuple)):
        return [described(item) for item in t]
    return tuple(t.shape), keras.backend.standardize_dtype(str(t.dtype).replace("torch.", ""))


@pytest.mark.parametrize("name", sorted(SYMBOLIC))
def test_symbolic_shapes_and_dtypes_match_keras(name):
    build = SYMBOLIC[name]
    assert described(build(ops, kr.Input((6, 4)))) == described(build(kops, keras.Input((6, 4))))


def test_argpartition_with_no_axis_flattens_on_kr_input():
    assert tuple(ops.argpartition(kr.Input((6, 4)), 2, axis=None).shape) == (None,)


def test_the_operations_in_a_model_with_keras_files(tmp_path):
    def build(lib, o):
        inputs = lib.Input((6, 4))
        return lib.Model(inputs, [o.trapezoid(inputs, axis=1), o.trapezoid(inputs, dx=0.5), o.angle(inputs),
                                  o.view(inputs, "int32"), o.logspace(inputs, inputs + 1.0, num=3, base=2),
                                  o.geomspace(o.abs(inputs) + 1.0, 5.0, num=4),
                                  o.correlate(inputs[0, :, 0], inputs[0, :3, 1], mode="full"),
                                  # the smallest values (Keras's torch backend compares ints right; ties differ)
                                  o.take_along_axis(o.cast(inputs * 10, "int32"),
                                                    o.argpartition(o.cast(inputs * 10, "int32"), 0, axis=1)[:, :1],
                                                    axis=1)])

    model, keras_model = build(kr, ops), build(keras, kops)
    x = RNG.standard_normal((2, 6, 4)).astype("float32")
    check_keras_files_both_ways(model, keras_model, x, tmp_path, atol=1e-5)


def test_histogram_in_a_model_through_a_keras_file(tmp_path):
    # Keras's symbolic Histogram cannot run on its torch backend (it calls a backend.math.histogram that the torch
    # backend lacks), so the file goes from kr back to kr, and the numbers are kr.ops.histogram's on the data.
    inputs = kr.Input((6,))
    model = kr.Model(inputs, list(ops.histogram(inputs[0], bins=3)))
    x = torch.from_numpy(RNG.standard_normal((2, 6)).astype("float32"))
    for ours, expected in zip(model(x), ops.histogram(x[0], bins=3)):
        torch.testing.assert_close(ours, expected, rtol=0, atol=0)
    kr.save_keras(model, tmp_path / "ours.keras")
    reloaded = kr.from_keras(tmp_path / "ours.keras")
    assert [op.spec.keras_name for op in reloaded.operations if ops.is_operation(op)][-1] == "Histogram"
    for ours, expected in zip(reloaded(x), ops.histogram(x[0], bins=3)):
        torch.testing.assert_close(ours, expected, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_results_stay_on_the_inputs_device():
    x = torch.tensor([0.0, 0.5, 0.6, 1.0], device="cuda")
    counts, edges = ops.histogram(x, bins=2)
    assert counts.device.type == edges.device.type == "cuda" and counts.tolist() == [1.0, 3.0]
    sequence = ops.logspace(torch.tensor(0.0, device="cuda"), 2.0, num=3)
    assert sequence.device.type == "cuda" and sequence.tolist() == pytest.approx([1.0, 10.0, 100.0])
    assert ops.geomspace(1.0, torch.tensor([8.0, 27.0], device="cuda"), num=4).device.type == "cuda"
    half = ops.correlate(x.half(), x[:2].half(), mode="full")
    assert half.dtype == torch.float16 and half.device.type == "cuda"
    torch.testing.assert_close(half.float().cpu(), ops.correlate(x.cpu(), x[:2].cpu(), mode="full"), atol=1e-2,
                               rtol=1e-2)
    assert ops.angle(-x.half()).dtype == torch.float16
