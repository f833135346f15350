"""A saved Keras model's configuration -> the same model built from kerasrnn_torch layers.

Handles the JSON configuration of a `.keras` archive (`config.json`) and of a
legacy `.h5` (`model_config`): a Sequential model becomes a `kr.Sequential`,
a functional model a `kr.Model` over the same graph (models/functional_config.py
replays its calls; the operations Keras records to compute masks are left
out, since the model's mask rule recomputes them). The recurrent family and
the layers it has always mapped are built here from Keras's arguments; every
other layer with a kerasrnn_torch counterpart comes from its `from_config`.
"""
from __future__ import annotations

import inspect
from types import ModuleType

from torch import nn

from .. import activations, constraints, regularizers
from .._configurable import Configurable
from ..core.layer import dtype_from_policy
from .keras_formats import layer_entries, require_key

_RECURRENT_OPTIONS = ("units", "use_bias", "unit_forget_bias", "reset_after", "dropout", "recurrent_dropout", "seed",
                      "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "use_cudnn")
_REGULARIZERS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                 "embeddings_regularizer")
_CONSTRAINTS = ("kernel_constraint", "recurrent_constraint", "bias_constraint", "embeddings_constraint")
_ACTIVATIONS = ("activation", "recurrent_activation")
# Keyword arguments a functional model may pass between chained layers.
_CHAIN_KEYWORDS = ("training", "mask")


def model_from_config(config: dict, label: str):
    """A `kr.Sequential` or `kr.Model` for a saved Keras model, built (weights not loaded)."""
    from ..models.functional import Model
    from ..models.functional_config import model_from_config as functional_from_config
    from ..models.sequential import Sequential
    class_name = config.get("class_name")
    inner = config.get("config", {})
    if class_name == "Sequential":
        entries = layer_entries(inner, "the Sequential model's configuration", label)
    elif class_name in ("Functional", "Model"):
        layer_entries(inner, "the functional model's configuration", label)
        for key in ("input_layers", "output_layers"):
            require_key(inner, key, "the functional model's configuration", label)
        return functional_from_config(Model, inner, label, make_layer=lambda entry: layer_from_config(entry, label))
    else:
        raise ValueError(f"{label} holds a {class_name} model; from_keras builds Sequential and functional models "
                         "(a subclassed model's code is not in the file)")
    batch_shape = None
    layers: list[nn.Module] = []
    for entry in entries:
        layer_config = entry.get("config", {})
        if entry["class_name"] == "InputLayer":
            batch_shape = layer_config.get("batch_shape") or layer_config.get("batch_input_shape")
            continue
        if batch_shape is None and not layers:
            batch_shape = layer_config.get("batch_input_shape")     # Keras 2 puts it on the first layer
        layers.append(layer_from_config(entry, label))
    if not layers:
        raise ValueError(f"{label}: the saved model has no layers")
    model = Sequential(layers, name=inner.get("name") if isinstance(inner, dict) else None)
    _build(model, entries, batch_shape)
    return model


def _build(model, entries, batch_shape):
    """Create the weights: from the model's input shape, else from each layer's recorded build shape."""
    if batch_shape is not None:
        model.build(tuple(batch_shape))
        return
    build_shapes = [entry.get("build_config", {}).get("input_shape") for entry in entries
                    if entry["class_name"] != "InputLayer"]
    for layer, shape in zip(model.layers, build_shapes):
        if shape is not None and not layer.built:
            layer.build(tuple(shape))


# ------------------------------------------------------------ the layers
def layer_from_config(entry: dict, label: str):
    """One kerasrnn_torch layer from a Keras layer entry `{"class_name": ..., "config": {...}}`."""
    class_name = entry.get("class_name")
    config = entry.get("config", {})
    name = config.get("name") or entry.get("name")
    builder = _BUILDERS.get(class_name) if class_name is not None else None
    if builder is None:
        return _from_own_config(entry, class_name, name, label)
    owner = f"{label}: {class_name} {name!r}"
    return builder(config, owner, label)


def _from_own_config(entry, class_name, name, label):
    """A layer outside the recurrent family, by its class's `from_config` (Keras's configuration as it is)."""
    from ..core.config import deserialize_layer
    if class_name in ("Functional", "Model"):
        return model_from_config(entry, label)
    if class_name == "Lambda":
        raise ValueError(f"{label}: layer {name!r} is a Lambda, whose Python function Keras stores as "
                         "marshalled bytecode that only the Python that wrote it can run; build the model with "
                         "kr.Lambda(your_function) and load the weights with kr.load_keras_weights(model, path)")
    cls = getattr(_package(), str(class_name), None)
    if not (isinstance(cls, type) and hasattr(cls, "from_config")) or class_name in _NOT_LAYERS:
        raise ValueError(f"{label}: layer {name!r} is a {class_name}, which has no kerasrnn_torch counterpart")
    try:
        return deserialize_layer(entry, f"{label}: {class_name} {name!r}")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{label}: {class_name} {name!r} could not be built from its configuration: {error}") \
            from None


# Public names of the package that are not layers a Keras file can name.
_NOT_LAYERS = ("Layer", "KerasTensor", "Input")


def _package():
    import kerasrnn_torch    # at call time: the package imports this module
    return kerasrnn_torch


def _public_class(name: str):
    import kerasrnn_torch    # at call time: the package imports this module
    return getattr(kerasrnn_torch, name)


def _common(config: dict, owner: str) -> dict:
    arguments = {}
    if config.get("name"):
        arguments["name"] = config["name"]
    dtype = dtype_from_policy(config.get("dtype"), owner)
    if dtype is not None:
        arguments["dtype"] = dtype
    return arguments


def _options(cls, config: dict, owner: str, names=()) -> dict:
    """The constructor arguments of `cls` found in `config`: plain options, activations, regularizers, constraints."""
    accepted = inspect.signature(cls).parameters
    arguments = {name: config[name] for name in names if name in config and name in accepted}
    for name in _ACTIVATIONS:
        if name in config and name in accepted:
            arguments[name] = _activation(config[name], name, owner)
    for name in _REGULARIZERS:
        if config.get(name) is not None and name in accepted:
            arguments[name] = _serialized(config[name], name, owner, regularizers, regularizers.Regularizer)
    for name in _CONSTRAINTS:
        if config.get(name) is not None and name in accepted:
            arguments[name] = _serialized(config[name], name, owner, constraints, constraints.Constraint)
    return arguments


def _activation(value, argument: str, owner: str):
    if isinstance(value, dict) and isinstance(value.get("config"), str):
        value = value["config"]          # {"class_name": "function", "config": "tanh"}
    if value is None or isinstance(value, str):
        try:
            return activations.get(value)
        except ValueError as error:
            raise ValueError(f"{owner}: {argument}: {error}") from None
    raise ValueError(f"{owner}: {argument}={value!r} is not a Keras activation name; from_keras cannot rebuild it")


def _serialized(value, argument: str, owner: str, namespace: ModuleType, base: type[Configurable]):
    """A regularizer or constraint from Keras's `{"class_name": "L2", "config": {"l2": 0.01}}` (or a name)."""
    if isinstance(value, str):
        return namespace.get(value)
    if isinstance(value, dict):
        cls = getattr(namespace, str(value.get("class_name")), None)
        if isinstance(cls, type) and issubclass(cls, base):
            return cls.from_config(dict(value.get("config") or {}))
    raise ValueError(f"{owner}: {argument}={value!r} has no kerasrnn_torch counterpart")


def _recurrent(cls_name: str):
    def build(config, owner, label):
        cls = _public_class(cls_name)
        return cls(**_options(cls, config, owner, _RECURRENT_OPTIONS), **_common(config, owner),
                   zero_output_for_mask=bool(config.get("zero_output_for_mask", False)))
    return build


def _cell(config, owner, label):
    """A built-in cell (or StackedRNNCells) from its entry inside an RNN's configuration."""
    class_name = config.get("class_name")
    cell_config = config.get("config", {})
    if class_name == "StackedRNNCells":
        cells = require_key(cell_config, "cells", "its StackedRNNCells config", owner)
        return _public_class("StackedRNNCells")([_cell(cell, owner, label) for cell in cells])
    if class_name not in ("SimpleRNNCell", "LSTMCell", "GRUCell"):
        raise ValueError(f"{owner}: its cell is a {class_name}, which has no kerasrnn_torch counterpart; "
                         "from_keras maps RNN over SimpleRNNCell, LSTMCell, GRUCell or StackedRNNCells")
    cls = _public_class(class_name)
    return cls(**_options(cls, cell_config, owner, _RECURRENT_OPTIONS), **_common(cell_config, owner))


def _rnn(config, owner, label):
    from ..layers.rnn.rnn import RNN
    cell = _cell(require_key(config, "cell", "its config", owner), owner, label)
    options = {name: config[name] for name in ("return_sequences", "return_state", "go_backwards", "stateful",
                                               "unroll", "zero_output_for_mask") if name in config}
    return RNN(cell, **options, **_common(config, owner))


def _bidirectional(config, owner, label):
    from ..layers.rnn.bidirectional import Bidirectional
    forward = layer_from_config(require_key(config, "layer", "its config", owner), label)
    backward = layer_from_config(config["backward_layer"], label) if config.get("backward_layer") else None
    return Bidirectional(forward, merge_mode=config.get("merge_mode", "concat"), backward_layer=backward,
                         **_common(config, owner))


def _time_distributed(config, owner, label):
    from ..layers.rnn.time_distributed import TimeDistributed
    return TimeDistributed(layer_from_config(require_key(config, "layer", "its config", owner), label),
                           **_common(config, owner))


def _simple(cls_name: str, names: tuple):
    def build(config, owner, label):
        cls = _public_class(cls_name)
        return cls(**_options(cls, config, owner, names), **_common(config, owner))
    return build


def _nested_sequential(config, owner, label):
    return model_from_config({"class_name": "Sequential", "config": config}, label)


_BUILDERS = {
    "Sequential": _nested_sequential,
    "SimpleRNN": _recurrent("SimpleRNN"),
    "LSTM": _recurrent("LSTM"),
    "GRU": _recurrent("GRU"),
    "RNN": _rnn,
    "Bidirectional": _bidirectional,
    "TimeDistributed": _time_distributed,
    "Dense": _simple("Dense", ("units", "use_bias")),
    "Dropout": _simple("Dropout", ("rate", "noise_shape", "seed")),
    "Embedding": _simple("Embedding", ("input_dim", "output_dim", "mask_zero", "input_length")),
    "Masking": _simple("Masking", ("mask_value",)),
}
