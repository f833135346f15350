"""What Keras's own layer tests check with their `run_layer_test`, asked of kr's layers.

Keras's test files (keras/src/layers/**/*_test.py) describe a layer by its constructor
arguments, an input shape (or input data) and what should come out; `run_layer_test` then
checks, in this order: the configuration round trip (`from_config(get_config())`, and through
`serialize_keras_object`), `supports_masking`, an explicit `build(shape)` (built, the number
of trainable and non-trainable weights), a call on symbolic inputs (output shape, output
mask shape), that a weightless layer is built at construction while a subclass overriding
`build` is not, an eager call (output shape, values) and one training step through
compile/fit with the sum of the outputs as the loss. `run_layer_test` below does the same
with kr's API; the ported tests call it with the arguments Keras's tests give.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import numpy as np
import torch

import kerasrnn_torch as kr


def _is_shape(value) -> bool:
    return isinstance(value, tuple) and all(v is None or isinstance(v, int) for v in value)


def _map(fn: Callable, structure):
    """`fn` on each shape (or tensor) of a shape, a list/tuple of them, or a dict of them."""
    if isinstance(structure, dict):
        return {k: _map(fn, v) for k, v in structure.items()}
    if _is_shape(structure) or isinstance(structure, (torch.Tensor, np.ndarray)) or hasattr(structure, "node"):
        return fn(structure)
    return type(structure)(_map(fn, v) for v in structure)


def _flatten(structure) -> list:
    if isinstance(structure, dict):
        return [x for v in structure.values() for x in _flatten(v)]
    if isinstance(structure, (list, tuple)) and not _is_shape(structure):
        return [x for v in structure for x in _flatten(v)]
    return [structure]


def _torch_dtype(name: str) -> torch.dtype:
    return getattr(torch, name)


def eager_tensors(input_shape, input_dtype=None):
    """Keras's `create_eager_tensors`: uniform [0, 1) floats, integers in [0, 2)... as tensors."""
    dtypes = input_dtype if input_dtype is not None else _map(lambda _: "float32", input_shape)

    def make(shape, dtype):
        if "int" in dtype:
            return torch.as_tensor(np.random.randint(0, 2, size=shape), dtype=_torch_dtype(dtype))
        return torch.as_tensor(np.random.random(shape), dtype=_torch_dtype(dtype))

    if isinstance(input_shape, dict):
        return {k.removesuffix("_shape"): make(v, dtypes[k]) for k, v in input_shape.items()}
    if _is_shape(input_shape):
        return make(input_shape, dtypes)
    return type(input_shape)(make(s, d) for s, d in zip(input_shape, dtypes))


def symbolic_inputs(input_shape, input_dtype=None):
    """kr.Input tensors of the given shapes (batch axis included, as Keras's KerasTensor takes them)."""
    dtypes = input_dtype if input_dtype is not None else _map(lambda _: "float32", input_shape)

    def make(shape, dtype):
        return kr.Input(shape=shape[1:], batch_size=shape[0], dtype=dtype)

    if isinstance(input_shape, dict):
        return {k.removesuffix("_shape"): make(v, dtypes[k]) for k, v in input_shape.items()}
    if _is_shape(input_shape):
        return make(input_shape, dtypes)
    return type(input_shape)(make(s, d) for s, d in zip(input_shape, dtypes))


def _json(config) -> str:
    def default(value):
        if isinstance(value, tuple):
            return list(value)
        if isinstance(value, (np.generic,)):
            return value.item()
        return repr(value)
    return json.dumps(config, sort_keys=True, default=default)


def check_serialization(layer):
    """Keras's `run_class_serialization_test`: the configuration survives both round trips (compared in
    Keras's serialized form: kr's configs may hold the regularizer or initializer objects given)."""
    config = layer.get_config()
    expected = _json(kr.saving.serialize_keras_object(config))
    revived = type(layer).from_config(config)
    assert _json(kr.saving.serialize_keras_object(revived.get_config())) == expected
    # serialize_keras_object(layer) keeps the config's objects; a second pass gives their serialized form.
    serialized = json.loads(_json(kr.saving.serialize_keras_object(kr.saving.serialize_keras_object(layer))))
    revived = kr.saving.deserialize_keras_object(serialized)
    assert _json(kr.saving.serialize_keras_object(revived.get_config())) == expected
    return revived


def _shape_matches(expected, actual) -> bool:
    actual = tuple(actual)
    return len(expected) == len(actual) and all(e is None or e == a for e, a in zip(expected, actual))


def _check_output_shape(expected_output_shape, output):
    if expected_output_shape is None:
        return
    if _is_shape(expected_output_shape):
        assert _shape_matches(expected_output_shape, output.shape), \
            f"expected output shape {expected_output_shape}, got {tuple(output.shape)}"
        return
    outputs = list(output.values()) if isinstance(output, dict) else list(output)
    expected = list(expected_output_shape.values()) if isinstance(expected_output_shape, dict) \
        else list(expected_output_shape)
    assert len(outputs) == len(expected)
    for e, o in zip(expected, outputs):
        _check_output_shape(e, o)


def _call(layer, inputs, call_kwargs):
    if isinstance(inputs, dict):
        return layer(**inputs, **call_kwargs)
    return layer(inputs, **call_kwargs)


def _training_step(layer, input_data, call_kwargs):
    """One step of compile/fit (SGD) on a functional model around the layer, loss = sum of the outputs."""
    def spec(t):
        return kr.Input(shape=tuple(t.shape[1:]), dtype=str(t.dtype).replace("torch.", ""))

    inputs = _map(spec, input_data)
    outputs = _call(layer, inputs, call_kwargs)
    flat_inputs = _flatten(inputs)
    model = kr.Model(flat_inputs if len(flat_inputs) > 1 else flat_inputs[0], outputs)
    model.compile(optimizer="sgd", loss=lambda y_true, y_pred: y_pred.sum())
    x = [t.numpy() for t in _flatten(input_data)]
    with torch.no_grad():
        y = model(x if len(x) > 1 else x[0])
    y_values = [t.numpy() for t in _flatten(y)]
    x, y_values = (x if len(x) > 1 else x[0]), (y_values if len(y_values) > 1 else y_values[0])
    if not model.trainable_weights:
        # Keras's fit skips the backward pass of a model without trainable weights; kr's fit runs it
        # (and fails): what such a step computes, the loss, comes from evaluate.
        assert np.isfinite(model.evaluate(x, y_values, batch_size=len(x[0]) if isinstance(x, list) else len(x),
                                          verbose=0))
        return
    history = model.fit(x, y_values, batch_size=len(x[0]) if isinstance(x, list) else len(x), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


def run_layer_test(layer_cls, init_kwargs=None, input_shape=None, input_dtype=None, input_data=None,
                   call_kwargs=None, expected_output_shape=None, expected_output=None,
                   expected_num_trainable_weights=None, expected_num_non_trainable_weights=None,
                   expected_num_losses=None, supports_masking=None, expected_mask_shape=None,
                   run_training_check=True, assert_built_after_instantiation=False,
                   atol=1e-6, rtol=1e-6):
    """Keras's `TestCase.run_layer_test` (its seed-generator, sparse, ragged and mixed-precision
    checks aside: kr layers hold no seed generators and take dense tensors only)."""
    init_kwargs = init_kwargs or {}
    call_kwargs = call_kwargs or {}
    if input_shape is not None and input_data is None:
        input_data = eager_tensors(input_shape, input_dtype)
    if input_data is not None and (expected_num_trainable_weights is None
                                   or expected_num_non_trainable_weights is None):
        layer = layer_cls(**init_kwargs)
        _call(layer, input_data, call_kwargs)
        if expected_num_trainable_weights is None:
            expected_num_trainable_weights = len(layer.trainable_weights)
        if expected_num_non_trainable_weights is None:
            expected_num_non_trainable_weights = len(layer.non_trainable_weights)

    layer = layer_cls(**init_kwargs)
    check_serialization(layer)
    if supports_masking is not None:
        assert layer.supports_masking == supports_masking

    def build_asserts(layer):
        assert layer.built
        assert len(layer.trainable_weights) == expected_num_trainable_weights, \
            f"trainable weights: {len(layer.trainable_weights)} != {expected_num_trainable_weights}"
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, \
            f"non-trainable weights: {len(layer.non_trainable_weights)} != {expected_num_non_trainable_weights}"

    if input_data is None:
        return
    build_shape = input_shape if input_shape is not None else _map(lambda t: tuple(t.shape), input_data)
    layer = layer_cls(**init_kwargs)
    if isinstance(build_shape, dict):
        layer.build(**build_shape)
    else:
        layer.build(build_shape)
    build_asserts(layer)

    symbolic = symbolic_inputs(build_shape, input_dtype if input_shape is not None else
                               _map(lambda t: str(t.dtype).replace("torch.", ""), input_data))
    layer = layer_cls(**init_kwargs)
    output = _call(layer, symbolic, call_kwargs)
    build_asserts(layer)
    _check_output_shape(expected_output_shape, output)
    if expected_mask_shape is not None:
        mask = layer.compute_mask(symbolic)
        assert tuple(mask.shape) == tuple(expected_mask_shape)

    if assert_built_after_instantiation:
        assert layer_cls(**init_kwargs).built, f"{layer_cls.__name__} is stateless: built at construction"

        class ModifiedBuildLayer(layer_cls):
            def build(self, *args, **kwargs):
                pass

        assert not ModifiedBuildLayer(**init_kwargs).built, \
            f"a subclass of {layer_cls.__name__} overriding build is not built at construction"

    layer = layer_cls(**init_kwargs)
    output = _call(layer, input_data, call_kwargs)
    _check_output_shape(expected_output_shape, output)
    if expected_output is not None:
        for e, o in zip(_flatten(expected_output), _flatten(output)):
            np.testing.assert_allclose(o.detach().numpy(), np.asarray(e), atol=atol, rtol=rtol)
    if expected_num_losses is not None:
        assert len(layer.losses) == expected_num_losses
    if run_training_check:
        _training_step(layer, input_data, call_kwargs)
