"""kr.ops's convolutions and pooling recorded in functional models: Keras's class names in files both ways,
equal outputs and gradients."""
from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_in_models import assert_outputs_equal

KERNELS = {name: np.random.default_rng(seed).uniform(-0.5, 0.5, shape).astype("float32") for seed, (name, shape) in
           enumerate({"conv": (3, 3, 4, 5), "depthwise": (3, 2, 5, 2), "pointwise": (1, 1, 10, 4),
                      "transpose": (3, 3, 3, 4), "conv1d": (3, 4, 2), "depthwise2": (2, 3, 4, 2)}.items())}


TRANSPOSE = {"strides": 2, "padding": "same", "output_padding": 1}


def build(lib, layers, o, transpose=True):
    """Keras 3.15's ConvTranspose operation cannot run in a model (its call passes `output_padding` where the
    backend takes `padding`), so Keras's model leaves it out and the tests apply keras.ops.conv_transpose to
    its input."""
    inputs = lib.Input(shape=(8, 6, 3))
    x = layers.Dense(4)(inputs)
    x = o.relu(o.conv(x, KERNELS["conv"], strides=(2, 1), padding="same"))
    x = o.separable_conv(x, KERNELS["depthwise"], KERNELS["pointwise"], padding="same", dilation_rate=(1, 2))
    pooled = o.max_pool(x, 3, strides=2, padding="same")
    averaged = o.average_pool(x, (2, 3), strides=1, data_format="channels_first")
    depth = o.depthwise_conv(x, KERNELS["depthwise2"], strides=2, padding="valid")
    rows = o.conv(o.mean(x, axis=2), KERNELS["conv1d"], dilation_rate=2, padding="same")
    out = layers.Dense(2)(o.concatenate([o.mean(depth, axis=(1, 2)), o.mean(rows, axis=1)], axis=-1))
    outputs = [out, pooled, averaged]
    if transpose:
        outputs.append(o.conv_transpose(pooled, KERNELS["transpose"], **TRANSPOSE))
    return lib.Model(inputs, outputs)


def paired():
    keras_model = build(keras, keras.layers, kops, transpose=False)
    rng = np.random.default_rng(7)
    keras_model.set_weights([rng.uniform(-0.8, 0.8, w.shape).astype("float32") for w in keras_model.get_weights()])
    model = build(kr, kr, ops)
    model.set_weights(keras_model.get_weights())
    return model, keras_model


def keras_outputs(keras_model, x):
    outputs = list(keras_model(x))
    return outputs + [kops.conv_transpose(outputs[1], KERNELS["transpose"], **TRANSPOSE)]


ADDED = {"Conv", "SeparableConv", "MaxPool", "AveragePool", "ConvTranspose", "DepthwiseConv"}
X = np.random.default_rng(8).standard_normal((3, 8, 6, 3)).astype("float32")


def test_convolutions_and_pooling_in_a_model_match_keras():
    model, keras_model = paired()
    assert_outputs_equal(model(torch.from_numpy(X)), keras_outputs(keras_model, X), atol=1e-5)
    assert [tuple(t.shape) for t in model.outputs[:3]] == [tuple(t.shape) for t in keras_model.outputs]
    assert tuple(model.outputs[3].shape) == (None, 4, 6, 3)


def test_gradients_through_the_model_match_keras():
    model, keras_model = paired()
    ours = torch.from_numpy(X).requires_grad_(True)
    theirs = torch.from_numpy(X).requires_grad_(True)
    sum(o.square().sum() for o in model(ours)).backward()
    sum(o.square().sum() for o in keras_outputs(keras_model, theirs)).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-4, rtol=1e-5)


def test_our_saved_model_loads_in_keras_and_back(tmp_path):
    model, _ = paired()
    path = tmp_path / "ours.keras"
    kr.save_keras(model, path)
    with zipfile.ZipFile(path) as archive:
        entries = json.loads(archive.read("config.json"))["config"]["layers"]
    assert ADDED <= {entry["class_name"] for entry in entries}
    conv = next(entry for entry in entries if entry["class_name"] == "ConvTranspose")
    assert conv["module"] == "keras.src.ops.nn"
    assert {k: v for k, v in conv["config"].items() if k != "name"} == {
        "strides": 2, "padding": "same", "output_padding": 1, "data_format": "channels_last", "dilation_rate": 1}
    loaded = keras.models.load_model(path)      # Keras builds the graph, ConvTranspose included
    assert [tuple(t.shape) for t in loaded.outputs] == [tuple(t.shape) for t in model.outputs]
    again = kr.from_keras(path)
    assert_outputs_equal(again(torch.from_numpy(X)), model(torch.from_numpy(X)), atol=0)
    without_transpose = tmp_path / "without.keras"
    kr.save_keras(kr.Model(model.inputs[0], model.outputs[:3]), without_transpose)
    assert_outputs_equal(model(torch.from_numpy(X))[:3], keras.models.load_model(without_transpose)(X), atol=1e-5)


def test_a_keras_saved_model_loads_and_matches(tmp_path):
    _, keras_model = paired()
    path = tmp_path / "theirs.keras"
    keras_model.save(path)
    model = kr.from_keras(path)
    assert_outputs_equal(model(torch.from_numpy(X)), keras_model(X), atol=1e-5)
    assert {ops.is_operation(op) and op.spec.keras_name for op in model.operations} >= ADDED - {"ConvTranspose"}


def test_adaptive_pooling_in_a_model_round_trips_through_our_files(tmp_path):
    # Keras 3.15 cannot run these in its own files: it writes output_size as a list, then fails adding it to a
    # tuple when it reads the file back (and its symbolic shapes keep the input's spatial axes).
    inputs = kr.Input((8, 6, 3))
    relu = kr.Activation("relu")(inputs)
    x = ops.adaptive_max_pool(ops.adaptive_average_pool(relu, (4, 3)), 2)
    first = ops.adaptive_average_pool(relu, (2, 5), data_format="channels_first")
    model = kr.Model(inputs, [x, first])
    assert [tuple(t.shape) for t in model.outputs] == [(None, 2, 2, 3), (None, 8, 2, 5)]
    path = tmp_path / "adaptive.keras"
    kr.save_keras(model, path)
    with zipfile.ZipFile(path) as archive:
        entries = json.loads(archive.read("config.json"))["config"]["layers"]
    assert [(e["class_name"], e["module"], e["config"]["output_size"], e["config"]["data_format"])
            for e in entries[2:]] == [("AdaptiveAveragePool", "keras.src.ops.nn", [4, 3], "channels_last"),
                                      ("AdaptiveMaxPool", "keras.src.ops.nn", 2, "channels_last"),
                                      ("AdaptiveAveragePool", "keras.src.ops.nn", [2, 5], "channels_first")]
    relu = np.maximum(X, 0)
    expected = [kops.adaptive_max_pool(kops.adaptive_average_pool(relu, (4, 3)), 2),
                kops.adaptive_average_pool(relu, (2, 5), data_format="channels_first")]
    assert_outputs_equal(model(torch.from_numpy(X)), expected, atol=1e-6)
    assert_outputs_equal(kr.from_keras(path)(torch.from_numpy(X)), expected, atol=1e-6)
