"""kr.ops.unique against keras.ops.unique (torch backend): values, dtypes, shapes, `size`, and on kr.Input."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_match_keras import check

FLAT = np.array([3, 1, 2, 1, 3, 2, 5], dtype="int32")
ROWS = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0]], dtype="float32")

RETURNS = [{}, {"return_index": True}, {"return_inverse": True}, {"return_counts": True},
           {"return_index": True, "return_inverse": True, "return_counts": True}]


@pytest.mark.parametrize("size, fill_value", [(None, None), (6, None), (6, -1), (2, None), (4, None)])
@pytest.mark.parametrize("returns", RETURNS)
def test_flat(returns, size, fill_value):
    kwargs = {**returns, "size": size, "fill_value": fill_value}
    theirs = kops.unique(FLAT, **kwargs)
    check(ops.unique(torch.from_numpy(FLAT), **kwargs), theirs)
    check(ops.unique(FLAT, **kwargs), theirs)


@pytest.mark.parametrize("axis, size", [(0, None), (1, None), (-1, None), (0, 1), (0, 4), (1, 2)])
@pytest.mark.parametrize("returns", RETURNS)
def test_along_an_axis(returns, axis, size):
    kwargs = {**returns, "axis": axis, "size": size}
    check(ops.unique(torch.from_numpy(ROWS), **kwargs), kops.unique(ROWS, **kwargs))


@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "bool"])
def test_dtypes_and_unsorted(dtype):
    x = np.array([[2, 0], [1, 2]]).astype(dtype)
    check(ops.unique(torch.from_numpy(x), sorted=False), kops.unique(x, sorted=False))
    check(ops.unique(torch.from_numpy(x), return_counts=True), kops.unique(x, return_counts=True))


def test_first_indices_of_a_matrix_count_in_flattened_order():
    # Keras's torch backend fails on this (its scatter takes a flat index only); NumPy's answer.
    values, index = ops.unique(torch.from_numpy(ROWS), return_index=True)
    expected_values, expected_index = np.unique(ROWS, return_index=True)
    np.testing.assert_array_equal(values.numpy(), expected_values)
    np.testing.assert_array_equal(index.numpy(), expected_index)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="kr.ops.unique: axis 2 is out of range for a tensor of 2 axes"):
        ops.unique(torch.from_numpy(ROWS), axis=2)
    with pytest.raises(ValueError, match="kr.ops.unique: `size` must be None or a non-negative integer, got -1"):
        ops.unique(torch.from_numpy(FLAT), size=-1)


@pytest.mark.parametrize("kwargs", [{}, {"size": 5}, {"return_index": True, "return_inverse": True,
                                                     "return_counts": True},
                                    {"axis": 1, "return_inverse": True}, {"axis": 1, "size": 3,
                                                                          "return_counts": True}])
def test_symbolic_shapes_match_keras(kwargs):
    # Keras's symbolic call says int32 for the indices and counts, which its torch backend computes as int64;
    # kr's say int64, as they come.
    ours, theirs = ops.unique(kr.Input((6,)), **kwargs), kops.unique(keras.Input((6,)), **kwargs)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
    assert str(ours[0].dtype) == "torch." + theirs[0].dtype


def test_unique_with_a_size_in_a_model_round_trips_through_keras_files(tmp_path):
    def build(lib, o):
        inputs = lib.Input((6,), dtype="int32")
        values, counts = o.unique(inputs, size=4, fill_value=-1, return_counts=True)
        return lib.Model(inputs, [values, counts])

    x = np.array([[1, 2, 2, 3, 3, 3], [4, 4, 4, 4, 4, 4]], dtype="int32")
    model, keras_model = build(kr, ops), build(keras, kops)
    check(list(model(torch.from_numpy(x))), list(keras_model(x)))
    path = tmp_path / "unique.keras"
    kr.save_keras(model, path)
    check(list(keras.models.load_model(path)(x)), list(keras_model(x)))
    keras_path = tmp_path / "theirs.keras"
    keras_model.save(keras_path)
    check(list(kr.from_keras(keras_path)(torch.from_numpy(x))), list(keras_model(x)))
