"""Building a layer from a Keras file's layer config where `from_config` is not the way: the readers.

Keras 2 and Keras 3 files name a layer's arguments alike but not always the
same set (Keras 2's recurrent layers carry `implementation`, `time_major`,
...), so the layers that files have always carried read only the options
they know, plus the activations, regularizers and constraints, the name and
the dtype. A class declares its reader where it registers its Keras name
(`core/registry.py`): `@register_keras_class("Dense", reader=options_reader("units", "use_bias"))`.
A reader is `reader(cls, config, owner, read_layer)`; `read_layer(entry)`
builds a nested layer entry the way the file reader builds any layer.
"""
from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

from .. import activations, constraints, regularizers
from .._configurable import Configurable
from .layer import dtype_from_policy

_REGULARIZERS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                 "embeddings_regularizer")
_CONSTRAINTS = ("kernel_constraint", "recurrent_constraint", "bias_constraint", "embeddings_constraint")
_ACTIVATIONS = ("activation", "recurrent_activation")
# The recurrent layers' and cells' options a Keras file gives.
RECURRENT_OPTIONS = ("units", "use_bias", "unit_forget_bias", "reset_after", "dropout", "recurrent_dropout", "seed",
                     "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "use_cudnn")


def require_key(mapping, key: str, where: str, label: str):
    """`mapping[key]` from a saved configuration, or a ValueError naming the file, the place and the key."""
    if not isinstance(mapping, dict):
        raise ValueError(f"{label}: {where} should be a JSON object with a {key!r} entry, found "
                         f"{type(mapping).__name__}; the file is damaged or was not written by Keras")
    if key not in mapping:
        raise ValueError(f"{label}: {where} has no {key!r} entry (it has {sorted(mapping)}); the file is damaged "
                         "or was not written by Keras")
    return mapping[key]


def common(config: dict, owner: str) -> dict:
    """`name` and `dtype` (from Keras's dtype policy) where the config gives them."""
    arguments = {}
    if config.get("name"):
        arguments["name"] = config["name"]
    dtype = dtype_from_policy(config.get("dtype"), owner)
    if dtype is not None:
        arguments["dtype"] = dtype
    return arguments


def options(cls, config: dict, owner: str, names=()) -> dict:
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


# ------------------------------------------------------------------ readers
def options_reader(*names: str):
    """A reader that builds the class from `names` (and activations, regularizers, constraints, name, dtype)."""
    def read(cls, config: dict, owner: str, read_layer) -> Any:
        return cls(**options(cls, config, owner, names), **common(config, owner))
    return read


def read_recurrent(cls, config: dict, owner: str, read_layer) -> Any:
    """SimpleRNN, LSTM, GRU: their options, and Keras's `zero_output_for_mask`."""
    return cls(**options(cls, config, owner, RECURRENT_OPTIONS), **common(config, owner),
               zero_output_for_mask=bool(config.get("zero_output_for_mask", False)))


read_cell = options_reader(*RECURRENT_OPTIONS)


def read_rnn(cls, config: dict, owner: str, read_layer) -> Any:
    """RNN over a cell (a built-in cell or StackedRNNCells), with the options Keras's RNN takes."""
    cell = read_layer(require_key(config, "cell", "its config", owner))
    chosen = {name: config[name] for name in ("return_sequences", "return_state", "go_backwards", "stateful",
                                              "unroll", "zero_output_for_mask") if name in config}
    return cls(cell, **chosen, **common(config, owner))


def read_stacked_cells(cls, config: dict, owner: str, read_layer) -> Any:
    cells = require_key(config, "cells", "its StackedRNNCells config", owner)
    return cls([read_layer(cell) for cell in cells])


def read_bidirectional(cls, config: dict, owner: str, read_layer) -> Any:
    forward = read_layer(require_key(config, "layer", "its config", owner))
    backward = read_layer(config["backward_layer"]) if config.get("backward_layer") else None
    return cls(forward, merge_mode=config.get("merge_mode", "concat"), backward_layer=backward,
               **common(config, owner))


def read_wrapper(cls, config: dict, owner: str, read_layer) -> Any:
    """A wrapper of one layer (TimeDistributed)."""
    return cls(read_layer(require_key(config, "layer", "its config", owner)), **common(config, owner))
