"""kr.ops's Fourier transforms recorded in a functional model: Keras's class names in files both ways, equal
outputs."""
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


def build(lib, layers, o):
    inputs = lib.Input(shape=(3, 32))
    x = layers.Dense(32)(inputs)
    real, imaginary = o.stft(x, 8, 4, 8, window="hamming")
    power = o.sqrt(o.square(real) + o.square(imaginary) + 1e-6)
    restored = o.istft((real, imaginary), 8, 4, 8, length=30, window="hamming")
    spectrum = o.rfft(x, fft_length=16)
    back = o.irfft(spectrum, fft_length=16)
    mixed = o.fft2(o.fft((back, x[..., :16])))
    inverse = o.ifft2(mixed)
    out = layers.Dense(2)(o.concatenate([o.mean(power, axis=(2, 3))[..., None], restored[..., :4]], axis=-1))
    return lib.Model(inputs, [out, restored, mixed[0], inverse[1]])


def paired():
    keras_model = build(keras, keras.layers, kops)
    rng = np.random.default_rng(7)
    keras_model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in keras_model.get_weights()])
    model = build(kr, kr, ops)
    model.set_weights(keras_model.get_weights())
    return model, keras_model


ADDED = {"STFT", "ISTFT", "RFFT", "IRFFT", "FFT", "FFT2", "IFFT2"}
X = np.random.default_rng(8).standard_normal((4, 3, 32)).astype("float32")


def test_fourier_transforms_in_a_model_match_keras():
    model, keras_model = paired()
    assert_outputs_equal(model(torch.from_numpy(X)), keras_model(X), atol=1e-4)


def test_our_saved_model_loads_in_keras_and_back(tmp_path):
    model, _ = paired()
    path = tmp_path / "ours.keras"
    kr.save_keras(model, path)
    with zipfile.ZipFile(path) as archive:
        entries = json.loads(archive.read("config.json"))["config"]["layers"]
    assert ADDED <= {entry["class_name"] for entry in entries}
    assert {entry["module"] for entry in entries if entry["class_name"] in ADDED} == {"keras.src.ops.math"}
    loaded = keras.models.load_model(path)
    assert_outputs_equal(model(torch.from_numpy(X)), loaded(X), atol=1e-4)
    assert_outputs_equal(kr.from_keras(path)(torch.from_numpy(X)), loaded(X), atol=1e-4)


def test_a_keras_saved_model_loads_and_matches(tmp_path):
    _, keras_model = paired()
    path = tmp_path / "theirs.keras"
    keras_model.save(path)
    assert_outputs_equal(kr.from_keras(path)(torch.from_numpy(X)), keras_model(X), atol=1e-4)
