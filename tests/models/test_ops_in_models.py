"""kr.ops and KerasTensor operators in functional models, against Keras 3; operation nodes in files both ways."""
from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops
from reference import numpy


def transformer_block(lib, layers, inputs, head_size=8, num_heads=2, ff_dim=4):
    """The keras-io timeseries transformer's encoder: residual `x + inputs`, then `x[:, -1, :]` and `ops.mean`."""
    x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads)(inputs, inputs)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs
    x = layers.Dense(ff_dim, activation="relu")(res)
    x = layers.Dense(inputs.shape[-1])(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def build(lib, layers, ops_module):
    inputs = lib.Input(shape=(6, 4))
    x = transformer_block(lib, layers, inputs)
    last = x[:, -1, :]
    pooled = ops_module.mean(x, axis=1)
    scaled = 2.0 * pooled - last / 3 + ops_module.square(x)[:, 0] ** 2
    joined = ops_module.concatenate([last, scaled, -pooled], axis=-1)
    out = layers.Dense(3)(ops_module.relu(joined))
    probabilities = ops_module.softmax(out, axis=-1)
    return lib.Model(inputs, [out, probabilities, ops_module.argmax(out, axis=-1), out > 0, x[..., 1:3:2, None]])


def paired():
    keras_model = build(keras, keras.layers, kops)
    rng = np.random.default_rng(1)
    keras_model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in keras_model.get_weights()])
    model = build(kr, kr, ops)
    model.set_weights(keras_model.get_weights())
    return model, keras_model


def assert_outputs_equal(ours, theirs, atol=1e-6):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        expected = kops.convert_to_numpy(b)
        assert tuple(a.shape) == expected.shape
        assert str(a.dtype).replace("torch.", "") == keras.backend.standardize_dtype(b.dtype)
        np.testing.assert_allclose(numpy(a).astype(np.float64), expected.astype(np.float64), atol=atol)


def test_a_transformer_with_residuals_slices_and_ops_matches_keras():
    model, keras_model = paired()
    x = np.random.default_rng(2).standard_normal((5, 6, 4)).astype("float32")
    assert_outputs_equal(model(torch.from_numpy(x)), keras_model(x))
    assert [type(layer).__name__ for layer in model.layers] == [type(layer).__name__ for layer in keras_model.layers]
    assert [type(op).__name__ if not ops.is_operation(op) else op.spec.keras_name for op in model.operations] == \
        [type(op).__name__ for op in keras_model.operations]


def test_operations_are_not_layers_and_hold_nothing():
    model, keras_model = paired()
    assert len(model.layers) == len(keras_model.layers)
    assert not any(ops.is_operation(layer) for layer in model.layers)
    assert any(ops.is_operation(op) for op in model.operations)
    assert all(not any(ops.is_operation(m) for m in model.modules()) for _ in [0])
    assert len(model.get_weights()) == len(keras_model.get_weights())
    assert not any("add" in key or "get_item" in key for key in model.state_dict())
    assert model.count_params() == keras_model.count_params()
    text = model.summary(print_fn=None)
    assert "multi_head_attention" in text and "(Add)" in text and "(GetItem)" in text     # as Keras's table


def test_get_config_writes_operation_entries_as_keras_does():
    model, keras_model = paired()
    ours, theirs = model.get_config(), keras_model.get_config()

    def shape_of(config):
        return [(entry["module"], entry["class_name"], entry["registered_name"],
                 {k: v for k, v in entry["config"].items() if k != "name"} if ".ops." in entry["module"] else None,
                 [json.dumps(node, sort_keys=True).count("__slice__") for node in entry["inbound_nodes"]])
                for entry in config["layers"]]
    assert shape_of(ours) == shape_of(theirs)
    rebuilt = kr.Model.from_config(json.loads(json.dumps(ours)))
    rebuilt.set_weights(model.get_weights())
    x = torch.randn(2, 6, 4)
    for a, b in zip(rebuilt(x), model(x)):
        torch.testing.assert_close(a, b)


def test_a_keras_saved_model_with_operations_loads_and_matches(tmp_path):
    _, keras_model = paired()
    path = tmp_path / "ops.keras"
    keras_model.save(path)
    with zipfile.ZipFile(path) as archive:
        classes = {entry["class_name"] for entry in json.loads(archive.read("config.json"))["config"]["layers"]}
    assert {"Add", "GetItem", "Mean", "Concatenate", "Softmax", "Greater"} <= classes
    model = kr.from_keras(path)
    x = np.random.default_rng(3).standard_normal((4, 6, 4)).astype("float32")
    assert_outputs_equal(model(torch.from_numpy(x)), keras_model(x))


def test_our_saved_model_with_operations_loads_in_keras_and_matches(tmp_path):
    model, _ = paired()
    path = tmp_path / "ours.keras"
    kr.save_keras(model, path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(4).standard_normal((4, 6, 4)).astype("float32")
    assert_outputs_equal(model(torch.from_numpy(x)), loaded(x))


def test_operations_drop_masks_as_keras():
    inputs = kr.Input(shape=(None,), dtype=torch.int64)
    embedded = kr.Embedding(10, 4, mask_zero=True)(inputs)
    doubled = embedded * 2.0                  # a Keras operation: the mask stops here
    assert embedded.has_mask and not doubled.has_mask
    model = kr.Model(inputs, kr.LSTM(3)(doubled))

    k_inputs = keras.Input(shape=(None,), dtype="int64")
    k_embedded = keras.layers.Embedding(10, 4, mask_zero=True)(k_inputs)
    keras_model = keras.Model(k_inputs, keras.layers.LSTM(3)(k_embedded * 2.0))
    keras_model.set_weights([np.random.default_rng(5).uniform(-0.5, 0.5, w.shape).astype("float32")
                             for w in keras_model.get_weights()])
    model.set_weights(keras_model.get_weights())
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    np.testing.assert_allclose(numpy(model(torch.from_numpy(ids))), kops.convert_to_numpy(keras_model(ids)),
                               atol=1e-6)


def test_symbolic_ops_on_inputs_and_numbers():
    a, b = kr.Input(shape=(3,)), kr.Input(shape=(3,))
    outputs = [a + b, a - 1, 1 - a, a * b, a / 2, 2 / a, a ** 2, -a, abs(a), a @ ops.transpose(b),
               a // 2, a % 2, a >= b, a < 1, (a > 0) & (b > 0), (a > 0) | (b > 0), ~(a > 0), a != b,
               ops.where(a > 0, a, b), ops.clip(a, -0.5, 0.5), ops.stack([a, b], axis=1), ops.split(a, 3, axis=1)[2],
               ops.expand_dims(a, -1), ops.shape(a)[1] * a, ops.cast(a, "int32"), ops.one_hot(ops.argmax(a, axis=-1), 3)]
    model = kr.Model([a, b], outputs)
    x, y = torch.randn(4, 3), torch.randn(4, 3)
    expected = [x + y, x - 1, 1 - x, x * y, x / 2, 2 / x, x ** 2, -x, x.abs(), x @ y.T, x // 2, x % 2, x >= y,
                x < 1, (x > 0) & (y > 0), (x > 0) | (y > 0), ~(x > 0), x != y, torch.where(x > 0, x, y),
                x.clamp(-0.5, 0.5), torch.stack([x, y], 1), x[:, 2:], x[..., None], 3 * x, x.to(torch.int32),
                torch.nn.functional.one_hot(x.argmax(-1), 3).float()]
    for got, want in zip(model([x, y]), expected):
        torch.testing.assert_close(got, want)
    assert outputs[9].shape == (None, None)


def test_an_unsupported_operation_in_a_keras_file_is_named_with_the_fix(tmp_path, monkeypatch):
    # kr.ops has every keras.ops operation of Keras 3.15: one taken away stands for a newer Keras's.
    monkeypatch.delitem(kr.ops.OPERATIONS, "Rearrange")
    inputs = keras.Input(shape=(6, 4), batch_size=2)
    swapped = kops.rearrange(inputs, "b h w -> b w h")
    keras_model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(swapped)))
    path = tmp_path / "rearrange.keras"
    keras_model.save(path)
    with pytest.raises(ValueError, match="operation 'Rearrange'.*kr.ops does not implement.*kr.Lambda"):
        kr.from_keras(path)


def test_mask_making_operations_in_keras_files_are_still_left_to_the_mask_rule(tmp_path):
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    keras_model = keras.Model(inputs, keras.layers.LSTM(3)(x))
    config = keras_model.get_config()
    assert "NotEqual" in {entry["class_name"] for entry in config["layers"]}
    model = kr.Model.from_config(config)
    assert not any(ops.is_operation(op) for op in model.operations)


@pytest.mark.filterwarnings("ignore:.*LeafSpec:FutureWarning")      # torch's pytree specs, pickled with any graph
def test_models_with_operations_pickle_and_copy():
    import copy
    import pickle

    a = kr.Input(shape=(3,))
    model = kr.Model(a, kr.Dense(2)(ops.mean(a[:, None] + a[:, :, None], axis=1)))
    x = torch.randn(2, 3)
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        torch.testing.assert_close(other(x), model(x))


# ------------------------------------------------------------------ constants
SCALE = np.array([1.0, -2.0, 0.5], np.float32)


def with_constants(lib, ops_module):
    """A model whose operations take a NumPy array and a torch tensor beside its KerasTensors."""
    inputs = lib.Input((3,))
    x = ops_module.add(inputs, np.ones((3,), np.float32))
    x = x * torch.tensor(SCALE)
    return lib.Model(inputs, lib.layers.Dense(2)(x))


def test_constants_in_ops_are_embedded_and_written_as_keras_does(tmp_path):
    model, keras_model = with_constants(kr, ops), with_constants(keras, kops)
    model.set_weights(keras_model.get_weights())
    x = np.random.default_rng(8).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(numpy(model(torch.tensor(x))), numpy(keras_model(x)), rtol=1e-6, atol=1e-6)
    ours, theirs = model.get_config(), keras_model.get_config()

    def constants(config):
        config = json.loads(json.dumps(config))
        return [[argument for node in entry["inbound_nodes"] for argument in node["args"]
                 if argument.get("class_name") != "__keras_tensor__"] for entry in config["layers"]]
    assert constants(ours) == constants(theirs)
    assert "__numpy__" in json.dumps(ours) and "__tensor__" in json.dumps(ours)
    # Configs both ways, then whole files both ways.
    rebuilt = kr.Model.from_config(json.loads(json.dumps(theirs)))
    rebuilt.set_weights(keras_model.get_weights())
    np.testing.assert_allclose(numpy(rebuilt(torch.tensor(x))), numpy(keras_model(x)), rtol=1e-6, atol=1e-6)
    model.save(tmp_path / "ours.keras")
    loaded = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(numpy(loaded(x)), numpy(model(torch.tensor(x))), rtol=1e-6, atol=1e-6)
    keras_model.save(tmp_path / "theirs.keras")
    ours_loaded = kr.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(numpy(ours_loaded(torch.tensor(x))), numpy(keras_model(x)), rtol=1e-6, atol=1e-6)


def _constants_model():
    """Constants that float32 cannot hold exactly, so a constant left in float32 shows in float64 results."""
    inputs = kr.Input((3,))
    x = ops.add(inputs, np.array([0.1, 0.2, 0.3], np.float32))
    x = x * torch.tensor([1 / 3, -0.7, 1.1])
    x = ops.multiply(x, np.array([2, 3, 4], np.int64))
    return kr.Model(inputs, x)


def test_to_dtype_moves_the_constants_of_operations_with_the_weights():
    inner = _constants_model()
    outer_input = kr.Input((3,))
    outer = kr.Model(outer_input, ops.subtract(inner(outer_input), torch.tensor(0.9)))
    x = torch.randn(4, 3, dtype=torch.float64)
    outer.to(torch.float64)
    def held(values):            # the float32 constants' values, as the move to float64 keeps them
        return torch.tensor(values, dtype=torch.float32).double()
    expected = (x + held([0.1, 0.2, 0.3])) * held([1 / 3, -0.7, 1.1]) * held([2.0, 3.0, 4.0]) - held(0.9)
    got = outer(x)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    held = [b for op in inner.operations + outer.operations if getattr(op, "is_operation", False)
            for b in op.buffers()]
    assert len(held) == 4 and {b.dtype for b in held} == {torch.float64, torch.int64}   # integers stay integers
    assert "constant_0" not in outer.state_dict() and not any("constant" in k for k in outer.state_dict())


def test_to_device_moves_the_constants_of_operations():
    model = _constants_model()
    model.to("meta")
    out = model(torch.randn(4, 3, device="meta"))           # a constant left on the CPU would raise here
    assert out.device.type == "meta" and out.shape == (4, 3)


def test_constants_written_after_a_move_are_the_values_held():
    model = _constants_model().to(torch.float64)
    written = [argument for entry in model.get_config()["layers"] for node in entry.get("inbound_nodes", [])
               for argument in node["args"] if isinstance(argument, dict)
               and argument.get("class_name") in ("__numpy__", "__tensor__")]
    assert [a["class_name"] for a in written] == ["__numpy__", "__tensor__", "__numpy__"]
    assert [a["config"]["dtype"] for a in written] == ["float64", "float64", "int64"]
    rebuilt = kr.Model.from_config(json.loads(json.dumps(model.get_config())))
    x = torch.randn(2, 3, dtype=torch.float64)
    torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=1e-12)


def test_a_layer_called_on_a_real_tensor_beside_an_input_is_still_refused():
    inputs = kr.Input((3,))
    with pytest.raises(TypeError, match="both symbolic tensors"):
        kr.layers.Concatenate()([inputs, torch.ones(2, 3)])
