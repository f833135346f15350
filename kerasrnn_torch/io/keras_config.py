"""A saved Keras model's configuration -> the same model built from kerasrnn_torch layers.

Handles the JSON configuration of a `.keras` archive (`config.json`) and of a
legacy `.h5` (`model_config`): a Sequential model, or a functional model that
is a chain (one input, one output, each layer fed by the one before; the
mask-computing operations Keras records beside a chain are left out, since
`kr.Sequential` threads masks itself).
"""
from __future__ import annotations

import inspect

import torch

from .. import activations, constraints, regularizers
from .keras_formats import entry_name, layer_entries, require_key

_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
           "bfloat16": torch.bfloat16}
_RECURRENT_OPTIONS = ("units", "use_bias", "unit_forget_bias", "reset_after", "dropout", "recurrent_dropout", "seed",
                      "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "use_cudnn")
_REGULARIZERS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                 "embeddings_regularizer")
_CONSTRAINTS = ("kernel_constraint", "recurrent_constraint", "bias_constraint", "embeddings_constraint")
_ACTIVATIONS = ("activation", "recurrent_activation")
# Keyword arguments a functional model may pass between chained layers.
_CHAIN_KEYWORDS = ("training", "mask")


def model_from_config(config: dict, label: str):
    """A `kr.Sequential` for a saved Sequential model or functional chain, built (weights not loaded)."""
    from ..models.sequential import Sequential
    class_name = config.get("class_name")
    inner = config.get("config", {})
    if class_name == "Sequential":
        entries = layer_entries(inner, "the Sequential model's configuration", label)
    elif class_name in ("Functional", "Model"):
        entries = _chain(inner, label)
    else:
        raise ValueError(f"{label} holds a {class_name} model; from_keras builds Sequential models and functional "
                         "chains (a subclassed model's code is not in the file)")
    batch_shape = None
    layers = []
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
    builder = _BUILDERS.get(class_name)
    if builder is None:
        raise ValueError(f"{label}: layer {name!r} is a {class_name}, which has no kerasrnn_torch counterpart; "
                         f"from_keras maps {', '.join(sorted(_BUILDERS))}")
    owner = f"{label}: {class_name} {name!r}"
    return builder(config, owner, label)


def _public_class(name: str):
    import kerasrnn_torch    # at call time: the package imports this module
    return getattr(kerasrnn_torch, name)


def _common(config: dict, owner: str) -> dict:
    arguments = {}
    if config.get("name"):
        arguments["name"] = config["name"]
    dtype = _dtype(config.get("dtype"), owner)
    if dtype is not None:
        arguments["dtype"] = dtype
    return arguments


def _dtype(policy, owner: str):
    """The weights' dtype of a Keras dtype policy (mixed policies keep float32 weights)."""
    if policy is None:
        return None
    name = policy.get("config", {}).get("name") if isinstance(policy, dict) else str(policy)
    if name is None:
        return None
    if name.startswith("mixed_"):
        name = "float32"
    if name not in _DTYPES:
        raise ValueError(f"{owner} uses the dtype policy {name!r}; from_keras maps {', '.join(_DTYPES)} and "
                         "mixed_* policies (float32 weights; use torch.autocast for the compute dtype)")
    return _DTYPES[name]


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


def _serialized(value, argument: str, owner: str, namespace, base):
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
    from ..layers.rnn import RNN
    cell = _cell(require_key(config, "cell", "its config", owner), owner, label)
    options = {name: config[name] for name in ("return_sequences", "return_state", "go_backwards", "stateful",
                                               "unroll", "zero_output_for_mask") if name in config}
    return RNN(cell, **options, **_common(config, owner))


def _bidirectional(config, owner, label):
    from ..layers.bidirectional import Bidirectional
    forward = layer_from_config(require_key(config, "layer", "its config", owner), label)
    backward = layer_from_config(config["backward_layer"], label) if config.get("backward_layer") else None
    return Bidirectional(forward, merge_mode=config.get("merge_mode", "concat"), backward_layer=backward,
                         **_common(config, owner))


def _time_distributed(config, owner, label):
    from ..layers.time_distributed import TimeDistributed
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


# --------------------------------------------------------- functional chains
def _chain(inner: dict, label: str) -> list[dict]:
    """The layer entries from the input to the output of a functional model that is a chain."""
    where = "the functional model's configuration"
    entries = layer_entries(inner, where, label)
    by_name = {entry_name(entry, label): entry for entry in entries}
    inputs = _layer_references(require_key(inner, "input_layers", where, label))
    outputs = _layer_references(require_key(inner, "output_layers", where, label))
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"{label}: the functional model has {len(inputs)} inputs and {len(outputs)} outputs; "
                         "from_keras builds chains with one input and one output")
    chain = []
    current = outputs[0]
    while True:
        if current not in by_name:
            raise ValueError(f"{label}: the functional model refers to a layer {current!r} that its 'layers' list "
                             "does not hold; the file is damaged or was not written by Keras")
        entry = by_name[current]
        chain.append(entry)
        if entry["class_name"] == "InputLayer":
            break
        current = _single_source(entry, current, label)
    chain.reverse()
    return chain


def _layer_references(value) -> list[str]:
    """Layer names of Keras's `[name, node, tensor]` references, one or a list of them."""
    if value and isinstance(value[0], str):
        return [value[0]]
    return [reference[0] for reference in value]


def _single_source(entry: dict, name: str, label: str) -> str:
    """The one layer feeding `entry`, or a ValueError naming why the model is not a chain."""
    nodes = entry.get("inbound_nodes") or []
    what = f"{label}: layer {name!r} ({entry['class_name']})"
    if len(nodes) != 1:
        raise ValueError(f"{what} is called {len(nodes)} times (a shared layer); from_keras builds chains where "
                         "each layer is called once")
    node = nodes[0]
    if isinstance(node, dict):        # Keras 3: {"args": [...], "kwargs": {...}}
        sources = _tensor_sources(node.get("args", []))
        keywords = node.get("kwargs", {})
    else:                             # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
        sources = [reference[0] for reference in node]
        keywords = {k: v for reference in node if len(reference) > 3 for k, v in reference[3].items()}
    unexpected = [key for key, value in keywords.items() if key not in _CHAIN_KEYWORDS and _tensor_sources(value)]
    if unexpected:
        raise ValueError(f"{what} is called with {', '.join(unexpected)} from other layers; from_keras builds "
                         "chains where each layer takes only the previous layer's output")
    if len(sources) != 1:
        raise ValueError(f"{what} takes {len(sources)} input tensors; from_keras builds chains where each layer "
                         "takes the previous layer's output")
    return sources[0]


def _tensor_sources(value) -> list[str]:
    """The layers whose outputs a serialized call argument refers to."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"][0]]
        return [s for item in value.values() for s in _tensor_sources(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _tensor_sources(item)]
    return []
