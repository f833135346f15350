"""The added kr.ops functions on kr.Input: the shapes and dtypes Keras's symbolic calls give."""
from __future__ import annotations

import keras
import pytest
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

CASES = {
    "sin": lambda o, x: o.sin(x), "round": lambda o, x: o.round(x, 1), "arctan2": lambda o, x: o.arctan2(x, x),
    "isclose": lambda o, x: o.isclose(x, x), "nan_to_num": lambda o, x: o.nan_to_num(x, nan=1.0),
    "flip": lambda o, x: o.flip(x, axis=1), "roll": lambda o, x: o.roll(x, 1, axis=2),
    "pad": lambda o, x: o.pad(x, ((0, 0), (1, 2), (0, 1))), "moveaxis": lambda o, x: o.moveaxis(x, 1, 2),
    "ravel": lambda o, x: o.ravel(x), "tril": lambda o, x: o.tril(x), "diagonal": lambda o, x: o.diagonal(x, 0, 1, 2),
    "trace": lambda o, x: o.trace(x, 0, 1, 2),
    "hstack": lambda o, x: o.hstack([x, x]),
    "vstack": lambda o, x: o.vstack([x, x]),
    "unstack": lambda o, x: o.unstack(x, axis=1), "cumsum": lambda o, x: o.cumsum(x, axis=1),
    "sort": lambda o, x: o.sort(x), "argsort": lambda o, x: o.argsort(x, axis=1), 
    "count_nonzero": lambda o, x: o.count_nonzero(x, axis=2), "diff": lambda o, x: o.diff(x, axis=1),
    "outer": lambda o, x: o.outer(x, x), "cross": lambda o, x: o.cross(x[..., :3], x[..., :3]),
    "average": lambda o, x: o.average(x, axis=1), "median": lambda o, x: o.median(x, axis=1),
    "quantile": lambda o, x: o.quantile(x, 0.3, axis=2, keepdims=True), "amax": lambda o, x: o.amax(x, axis=1),
    "ptp": lambda o, x: o.ptp(x, axis=1),
    "nanmean": lambda o, x: o.nanmean(x, axis=2),
    "nansum": lambda o, x: o.nansum(x, axis=1),
    "select": lambda o, x: o.select([x > 0], [x]), "rot90": lambda o, x: o.rot90(x, axes=(1, 2)),
    "empty_like": lambda o, x: o.empty_like(x),
    "leaky_relu": lambda o, x: o.leaky_relu(x),
    "glu": lambda o, x: o.glu(x),
    "sparsemax": lambda o, x: o.sparsemax(x), "threshold": lambda o, x: o.threshold(x, 0.1, 0.0),
    "categorical_crossentropy": lambda o, x: o.categorical_crossentropy(x, x),
    "binary_crossentropy": lambda o, x: o.binary_crossentropy(o.sigmoid(x), o.sigmoid(x)),
    "moments": lambda o, x: o.moments(x, axes=[1]),
    "batch_normalization": lambda o, x: o.batch_normalization(x, o.mean(x, axis=(0, 1)), o.var(x, axis=(0, 1)), -1),
    "layer_normalization": lambda o, x: o.layer_normalization(x),
    "rms_normalization": lambda o, x: o.rms_normalization(x),
    "dot_product_attention": lambda o, x: o.dot_product_attention(*[o.expand_dims(x, 2)] * 3),
    "stop_gradient": lambda o, x: o.stop_gradient(x), "saturate_cast": lambda o, x: o.saturate_cast(x, "int8"),
    "slice_update": lambda o, x: o.slice_update(x, (0, 1, 1), o.zeros((1, 2, 2))),
    "norm": lambda o, x: o.norm(x, axis=-1), "norm2": lambda o, x: o.norm(x, axis=(1, 2)),
    "svd": lambda o, x: o.svd(x), "qr": lambda o, x: o.qr(x), "eigh": lambda o, x: o.eigh(x[:, :4]),

    "nanmax": lambda o, x: o.nanmax(x, axis=1), "array_split": lambda o, x: o.array_split(x, 3, axis=1),
    "append": lambda o, x: o.append(x, x, axis=1),
    "vdot": lambda o, x: o.vdot(x, x),
    "isin": lambda o, x: o.isin(x, x),
    "psnr": lambda o, x: o.psnr(x, x, 1.0),
    "in_top_k": lambda o, x: o.in_top_k(o.cast(x[:, 0, 0], "int32"), x[:, 0], 2),
}


def described(t):
    if isinstance(t, (list, tuple)):
        return [described(item) for item in t]
    return tuple(t.shape), str(t.dtype).replace("torch.", "")


@pytest.mark.parametrize("name", sorted(CASES))
def test_symbolic_shapes_and_dtypes_match_keras(name):
    build = CASES[name]
    assert described(build(ops, kr.Input((6, 4)))) == described(build(kops, keras.Input((6, 4))))


def test_keras_tensors_of_data_dependent_sizes_leave_them_unknown():
    # Keras knows num_segments (3) here; our probes run on a batch of unknown size, so the axis is None.
    x = kr.Input((6, 4))
    assert ops.segment_sum(x[0], ops.cast(x[0, :, 0], "int32"), num_segments=3).shape[1:] == (4,)
