"""The added kr.ops functions recorded in functional models: Keras's class names in files both ways, equal outputs."""
from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
from keras import ops as kops

import kerasrnn_torch as kr
import torch
from kerasrnn_torch import ops

from .test_ops_in_models import assert_outputs_equal


def build(lib, layers, o):
    inputs = lib.Input(shape=(6, 4))
    x = layers.Dense(4)(inputs)
    waves = o.sin(x) + o.cos(x) * o.tanh(o.arctan2(x, 2.0 + o.square(x)))
    rounded = o.floor(x * 3.0) + o.round(x, 1) + o.sign(x)
    flipped = o.cumsum(o.flip(x, axis=1), axis=1)
    padded = o.pad(x, ((0, 0), (1, 0), (0, 0)), constant_values=0.5)[:, :6]
    padded = o.batch_normalization(padded, o.mean(x, axis=(0, 1)), o.var(x, axis=(0, 1)), -1, epsilon=0.01)
    normed = o.layer_normalization(o.leaky_relu(x, negative_slope=0.1), axis=-1)
    mean, variance = o.moments(x, axes=[1], keepdims=True)
    values, indices = o.top_k(x, 2)
    stats = o.norm(x, axis=-1, keepdims=True) + o.log1p(o.abs(x)) + o.sort(x, axis=-1)
    picked = o.moveaxis(o.tril(o.swapaxes(x, 1, 2)), 1, 2)
    total = waves + rounded + flipped + padded + normed + (x - mean) * o.rsqrt(variance + 1e-3) + stats + picked
    out = layers.Dense(3)(o.hard_sigmoid(total))
    return lib.Model(inputs, [out, values, indices, o.isclose(x, 0.0, 0.1, 0.1),
                              o.stop_gradient(o.selu(out))])


def paired():
    keras_model = build(keras, keras.layers, kops)
    rng = np.random.default_rng(7)
    keras_model.set_weights([rng.uniform(-0.8, 0.8, w.shape).astype("float32") for w in keras_model.get_weights()])
    model = build(kr, kr, ops)
    model.set_weights(keras_model.get_weights())
    return model, keras_model


ADDED = {"BatchNorm", "Sin", "Cos", "Arctan2", "Floor", "Round", "Sign", "Cumsum", "Flip", "Pad", "LayerNorm",
         "LeakyRelu",
         "Moments", "TopK", "Norm", "Log1p", "Sort", "Moveaxis", "Tril", "Swapaxes", "Rsqrt", "HardSigmoid",
         "Isclose", "StopGradient", "Selu"}


def test_the_added_operations_in_a_model_match_keras():
    model, keras_model = paired()
    x = np.random.default_rng(8).standard_normal((3, 6, 4)).astype("float32")
    assert_outputs_equal(model(torch.from_numpy(x)), keras_model(x), atol=1e-5)


def test_our_saved_model_with_the_added_operations_loads_in_keras(tmp_path):
    model, _ = paired()
    path = tmp_path / "ours.keras"
    kr.save_keras(model, path)
    with zipfile.ZipFile(path) as archive:
        layers = json.loads(archive.read("config.json"))["config"]["layers"]
    assert ADDED <= {entry["class_name"] for entry in layers}
    assert {entry["module"] for entry in layers if entry["class_name"] == "Norm"} == {"keras.src.ops.linalg"}
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(9).standard_normal((3, 6, 4)).astype("float32")
    assert_outputs_equal(model(torch.from_numpy(x)), loaded(x), atol=1e-5)
    again = kr.from_keras(path)
    assert_outputs_equal(again(torch.from_numpy(x)), loaded(x), atol=1e-5)


def test_a_keras_saved_model_with_the_added_operations_loads_and_matches(tmp_path):
    _, keras_model = paired()
    path = tmp_path / "theirs.keras"
    keras_model.save(path)
    model = kr.from_keras(path)
    x = np.random.default_rng(10).standard_normal((3, 6, 4)).astype("float32")
    assert_outputs_equal(model(torch.from_numpy(x)), keras_model(x), atol=1e-5)
