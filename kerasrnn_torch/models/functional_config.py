"""A functional model's configuration in Keras's form, both ways.

`model_config(model)` writes what `keras.Model.get_config()` writes for the
same graph: each layer serialized with its calls (`inbound_nodes`), where a
tensor argument is `{"class_name": "__keras_tensor__", "config": {"shape",
"dtype", "keras_history": [layer name, call index, output index]}}`, and the
`input_layers`/`output_layers` that pick the model's inputs and outputs.
`model_from_config(config)` replays those calls on new layers, so it takes a
Keras functional model's configuration as well as ours.

Operations (`kr.ops` calls, `x + y`, `x[:, -1]`) are entries beside the
layers, as Keras 3 writes them: `{"module": "keras.src.ops.numpy",
"class_name": "Add", "config": {"name": "add"}, "registered_name": "Add",
"inbound_nodes": [...]}`, with a `GetItem` key's slices as
`{"class_name": "__slice__", "config": {"start", "stop", "step"}}` and `...`
as `{"class_name": "__ellipsis__", "config": {}}`. Reading, an operation
whose results only make a layer's `mask=` is left out (the model's mask rule
recomputes the mask); every other operation is made with `kr.ops`'s
`Operation` and replayed like a layer.
"""
from __future__ import annotations

from typing import Any, TypeGuard

import numpy as np
import torch
from torch.utils import _pytree as pytree

from ..core.config import deserialize_layer, keras_class_name, serialize_layer
from ..core.input_layer import InputLayer
from ..layers.rnn.rnn import RNN
from ..core.symbolic import KerasTensor
from ..ops.operation import OPERATIONS, Constant, Operation
from ..core.registry import class_for
from ..ops.operation import is_operation as is_operation_object

KERAS_TENSOR = "__keras_tensor__"
NUMPY, TENSOR = "__numpy__", "__tensor__"         # constants: a NumPy array, a backend (torch) tensor
SLICE = "__slice__"
ELLIPSIS = "__ellipsis__"
# Call-context arguments Keras records in a node; the model passes `training` itself, and a
# recorded `mask: None` is the default.
_CONTEXT_ARGUMENTS = ("training",)


# ------------------------------------------------------------------ writing
def model_config(model) -> dict:
    calls = {}          # id(node) -> its index among its layer's calls in this model
    per_layer: dict[int, int] = {}
    for node in sorted(model.nodes, key=lambda n: n.call_index):
        count = per_layer.get(id(node.layer), 0)
        calls[id(node)] = count
        per_layer[id(node.layer)] = count + 1

    def history(tensor: KerasTensor) -> list:
        return [tensor.node.layer.name, calls[id(tensor.node)], tensor.index]

    def picked_history(tensor: KerasTensor) -> list:
        # Keras counts a functional model's construction as its node 0 here (see NodeReferences).
        name, call, index = history(tensor)
        return [name, call + 1 if _is_functional(tensor.node.layer) else call, index]

    def encode(value, owner):
        if isinstance(value, KerasTensor):
            dtype = str(value.dtype).replace("torch.", "")
            return {"class_name": KERAS_TENSOR,
                    "config": {"shape": list(value.shape), "dtype": dtype, "keras_history": history(value)}}
        if isinstance(value, slice):
            return {"class_name": SLICE, "config": {"start": value.start, "stop": value.stop, "step": value.step}}
        if value is Ellipsis:
            return {"class_name": ELLIPSIS, "config": {}}
        if isinstance(value, Constant):       # an operation's buffer, written as the tensor or array it was given
            value = owner.constant_value(value)
        if isinstance(value, (torch.Tensor, np.ndarray)):      # a constant of a kr.ops call, as Keras writes one
            array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
            return {"class_name": TENSOR if isinstance(value, torch.Tensor) else NUMPY,
                    "config": {"value": array.tolist(), "dtype": str(array.dtype)}}
        return value

    layers = []
    for layer in model.operations:
        if is_operation_object(layer):
            entry = layer.keras_entry()
        else:
            entry = serialize_layer(layer)
            entry["name"] = layer.name
        nodes = sorted((n for n in model.nodes if n.layer is layer and not n.is_input), key=lambda n: n.call_index)
        entry["inbound_nodes"] = []
        for node in nodes:
            args, kwargs = pytree.tree_unflatten([encode(v, layer) for v in node.arguments], node.argument_spec)
            entry["inbound_nodes"].append({"args": list(args), "kwargs": kwargs})
        layers.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _pick(model.input_structure, picked_history),
            "output_layers": _pick(model.output_structure, picked_history)}


def _is_functional(layer) -> bool:
    return keras_class_name(layer) in FUNCTIONAL_NAMES


def _pick(structure, history):
    """Keras's `input_layers`/`output_layers`: one history for a tensor, a list or dict of them otherwise."""
    if isinstance(structure, KerasTensor):
        return history(structure)
    if isinstance(structure, dict):
        return {key: _pick(value, history) for key, value in structure.items()}
    if isinstance(structure, tuple):        # kept a tuple, so that from_config gives the tuple back (as Keras)
        return tuple(_pick(value, history) for value in structure)
    return [_pick(value, history) for value in structure]


# ------------------------------------------------------------------ reading
def model_from_config(cls, config: dict, owner: str, make_layer=None):
    """Rebuild the graph: make each layer, then replay its calls once their inputs exist.

    `make_layer(entry)` makes a layer from its serialized entry (default: the
    kerasrnn_torch class of the same name, by its `from_config`).
    """
    entries = _entries(config, owner)
    operations = {entry_name(entry) for entry in entries if is_operation(entry)}
    kept = _operations_used(entries, operations, config)
    entries = [entry for entry in entries if not is_operation(entry) or entry_name(entry) in kept]
    created: dict[str, Any] = {}
    for entry in entries:
        name = entry.get("name") or entry.get("config", {}).get("name")
        if is_operation(entry):
            created[name] = Operation.from_keras_entry(entry, owner)
        elif entry.get("class_name") == "InputLayer":
            created[name] = InputLayer.from_config(dict(entry.get("config", {})))
        else:
            created[name] = make_layer(entry) if make_layer is not None else deserialize_layer(entry, owner)
    outputs: dict[str, list[list[Any]]] = {name: [] for name in created}       # layer name -> [call results, flattened]
    for name, layer in created.items():
        if isinstance(layer, InputLayer):
            outputs[name].append([layer.output])
    references = NodeReferences(entries, legacy=any(_is_legacy_node(node) for entry in entries
                                                     for node in entry.get("inbound_nodes", ())))
    # A layer's calls are replayed in the order Keras made them (its node indices), each once its inputs
    # exist: the first waiting call of a layer holds back the later ones, as in Keras's own reader.
    waiting = {entry_name(entry): list(entry.get("inbound_nodes", ())) for entry in entries}
    while any(waiting.values()):
        progressed = False
        for name, nodes in waiting.items():
            while nodes:
                node = _without_operation_masks(nodes[0], operations, name, owner)
                if not _ready(node, outputs, references):
                    break
                args, kwargs = _decode(node, outputs, created[name], references)
                result = created[name](*args, **kwargs)
                outputs[name].append(pytree.tree_leaves(result))
                nodes.pop(0)
                progressed = True
        if not progressed:
            stuck = sorted(name for name, nodes in waiting.items() if nodes)
            missing = sorted({history[0] for name in stuck for node in waiting[name] for history in _histories(node)
                              if history[0] not in created})
            if missing:
                raise ValueError(f"{owner}: Invalid Functional model configuration. Missing node: {missing[0]} (the "
                                 f"calls of {', '.join(stuck)} take the outputs of layers the configuration lacks: "
                                 f"{missing})")
            raise ValueError(f"{owner}: Invalid Functional model configuration: the calls of {', '.join(stuck)} take "
                             "one another's outputs in a loop, so none can run first")
    inputs = _resolve(config.get("input_layers"), outputs, owner, references)
    model_outputs = _resolve(config.get("output_layers"), outputs, owner, references)
    # A subclass's own constructor arguments (its get_config adds them) go to it, as Keras passes them.
    extra = {} if getattr(cls, "__name__", "") == "Model" and cls.__module__.startswith("kerasrnn_torch") else {
        key: value for key, value in config.items()
        if key not in ("name", "trainable", "layers", "input_layers", "output_layers")}
    model = cls(inputs, model_outputs, name=config.get("name"), **extra)
    if not config.get("trainable", True):
        model.trainable = False
    return model


class NodeReferences:
    """Turns a `keras_history` [layer name, node index, output index] into our call index of that layer.

    Keras counts a functional model's construction as its node 0, so its calls are nodes 1, 2, ... in
    `input_layers`/`output_layers`, and in Keras 2's node lists; Keras 3's node arguments count only
    the calls (its writer leaves out nodes foreign to the model, the construction node among them).
    """

    def __init__(self, entries, legacy: bool):
        self.functional = {entry_name(entry) for entry in entries if entry.get("class_name") in FUNCTIONAL_NAMES}
        self.legacy = legacy

    def call_index(self, name: str, node_index: int, in_node: bool) -> int:
        counts_construction = name in self.functional and (self.legacy or not in_node)
        return node_index - 1 if counts_construction else node_index


FUNCTIONAL_NAMES = ("Functional", "Model")


def is_operation(entry) -> bool:
    """Keras records operations (`keras.ops` calls) beside layers, e.g. the `not_equal` that makes a mask.

    A `.keras` config says so in `module`; a legacy `.h5` config has no module, but an operation's
    config lacks the `trainable` that every layer's (but an InputLayer's) has.
    """
    if "module" in entry:
        return ".ops." in str(entry.get("module", ""))
    config = entry.get("config")
    if entry.get("class_name") == "InputLayer" or not isinstance(config, dict) or "trainable" in config:
        return False
    # A hand-written config may leave a layer's `trainable` out: a class name that no operation has but a
    # layer has is the layer's.
    name = entry.get("class_name")
    return name in OPERATIONS or class_for(name) is None


def _operations_used(entries, operations, config) -> set:
    """The operations whose results reach the model's outputs other than as a layer's `mask=`."""
    by_name = {entry_name(entry): entry for entry in entries}
    wanted = [history[0] for history in _picked_histories(config.get("output_layers"))]
    for entry in entries:
        if not is_operation(entry):
            for node in entry.get("inbound_nodes", ()):
                wanted.extend(history[0] for history in _histories(_mask_dropped(node)))
    kept: set = set()
    while wanted:
        name = wanted.pop()
        if name in operations and name not in kept:
            kept.add(name)
            for node in by_name[name].get("inbound_nodes", ()):
                wanted.extend(history[0] for history in _histories(node))
    return kept


def _picked_histories(picked) -> list:
    """The histories of `input_layers`/`output_layers`: one, a list or a dict of them."""
    if isinstance(picked, dict):
        return [history for value in picked.values() for history in _picked_histories(value)]
    if isinstance(picked, (list, tuple)) and len(picked) >= 3 and isinstance(picked[0], str):
        return [picked]
    if isinstance(picked, (list, tuple)):
        return [history for value in picked for history in _picked_histories(value)]
    return []


def _mask_dropped(node):
    if isinstance(node, dict) and "mask" in node.get("kwargs", {}):
        return {**node, "kwargs": {k: v for k, v in node["kwargs"].items() if k != "mask"}}
    return node


def _without_operation_masks(node, operations, name, owner):
    """Drop a `mask=` that Keras computed with an operation: the model's mask rule recomputes it."""
    if not isinstance(node, dict) or not operations:
        return node
    kwargs = dict(node.get("kwargs", {}))
    mask = kwargs.get("mask")
    if _is_keras_tensor(mask) and mask["config"]["keras_history"][0] in operations:
        del kwargs["mask"]
        node = {**node, "kwargs": kwargs}
    return node


def entry_name(entry) -> str:
    return entry.get("name") or entry.get("config", {}).get("name")


def _entries(config, owner):
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError(f"{owner}: a functional model's configuration needs a 'layers' list, got "
                         f"{type(entries).__name__}")
    return entries


def _is_keras_tensor(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and value.get("class_name") == KERAS_TENSOR


def _histories(node):
    leaves = pytree.tree_leaves(node, is_leaf=_is_keras_tensor)
    histories = [leaf["config"]["keras_history"] for leaf in leaves if _is_keras_tensor(leaf)]
    # Keras 2's node format: [[layer name, call index, output index, kwargs], ...]
    if not histories and isinstance(node, list):
        histories = [item[:3] for item in node if isinstance(item, list) and len(item) >= 3
                     and isinstance(item[0], str)]
    return histories


def _is_legacy_node(node) -> bool:
    return isinstance(node, list)


def _ready(node, outputs, references: NodeReferences) -> bool:
    return all(name in outputs and len(outputs[name]) > references.call_index(name, call, in_node=True)
               for name, call, _ in _histories(node))


def _decode(node, outputs, layer, references: NodeReferences):
    def tensor(history):
        name, call, index = history[:3]
        return outputs[name][references.call_index(name, call, in_node=True)][index]

    if isinstance(node, dict):
        def decode(value):
            return tensor(value["config"]["keras_history"]) if _is_keras_tensor(value) else value
        args = _constants(pytree.tree_map(decode, node.get("args", []), is_leaf=_is_keras_tensor))
        kwargs = _constants(pytree.tree_map(decode, dict(node.get("kwargs", {})), is_leaf=_is_keras_tensor))
        if is_operation_object(layer) and kwargs:      # an operation takes its call's arguments in order
            args = [*args, *(kwargs.pop(parameter) for parameter in layer.spec.call[len(args):]
                             if parameter in kwargs)]
    else:           # Keras 2: one entry per input tensor, call keyword arguments on the first
        tensors = [tensor(item) for item in node]
        kwargs = dict(node[0][3]) if len(node[0]) > 3 and isinstance(node[0][3], dict) else {}
        if len(tensors) > 1 and isinstance(layer, RNN):
            args, kwargs["initial_state"] = [tensors[0]], tensors[1:]     # Keras 2 listed states as inputs
        else:
            args = [tensors[0] if len(tensors) == 1 else tensors]
    for name in _CONTEXT_ARGUMENTS:
        kwargs.pop(name, None)
    if kwargs.get("mask", 0) is None:
        kwargs.pop("mask")
    return args, kwargs


def _constants(value):
    """Keras's serialized slices and `...` (a GetItem key's parts) back as Python's."""
    if isinstance(value, dict) and value.get("class_name") == SLICE:
        settings = value.get("config", {})
        return slice(settings.get("start"), settings.get("stop"), settings.get("step"))
    if isinstance(value, dict) and value.get("class_name") == ELLIPSIS:
        return Ellipsis
    if isinstance(value, dict) and value.get("class_name") in (NUMPY, TENSOR):
        settings = value.get("config", {})
        array = np.asarray(settings.get("value"), dtype=settings.get("dtype"))
        return torch.as_tensor(array) if value["class_name"] == TENSOR else array
    if isinstance(value, list):
        return [_constants(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_constants(item) for item in value)
    if isinstance(value, dict):
        return {key: _constants(item) for key, item in value.items()}
    return value


def _resolve(picked, outputs, owner, references: NodeReferences):
    def tensor(history):
        name, node_index, index = history[:3]
        call = references.call_index(name, node_index, in_node=False)
        if name not in outputs:
            raise ValueError(f"{owner}: the configuration's inputs or outputs name '{name}', which is not one of "
                             "its layers")
        if not 0 <= call < len(outputs[name]):
            raise ValueError(f"{owner}: the configuration's inputs or outputs name call {node_index} of '{name}', "
                             f"which is called {len(outputs[name])} time(s) in the model")
        return outputs[name][call][index]

    if picked is None:
        raise ValueError(f"{owner}: a functional model's configuration needs 'input_layers' and 'output_layers'")
    return _resolved(picked, tensor)


def _resolved(picked, tensor):
    if isinstance(picked, dict):
        return {key: _resolved(value, tensor) for key, value in picked.items()}
    if len(picked) == 3 and isinstance(picked[0], str):
        return tensor(picked)
    return type(picked)(_resolved(value, tensor) for value in picked) if isinstance(picked, tuple) else \
        [_resolved(value, tensor) for value in picked]
