"""A saved Keras model's configuration -> the same model built from kerasrnn_torch layers.

Handles the JSON configuration of a `.keras` archive (`config.json`) and of a
legacy `.h5` (`model_config`): a Sequential model becomes a `kr.Sequential`,
a functional model a `kr.Model` over the same graph (models/functional_config.py
replays its calls; the operations Keras records to compute masks are left
out, since the model's mask rule recomputes them). Each layer's class is the
one registered under its Keras class name (`core/registry.py`); a class that
registered a reader (`core/keras_arguments.py`: the recurrent family and the
layers files have always carried) is built by it, any other by its `from_config`.
"""
from __future__ import annotations

from torch import nn

from ..core import registry
from ..core.config import deserialize_layer
from ..layers.core.lambda_layer import Lambda
from ..models.functional import Model
from ..models.functional_config import model_from_config as functional_from_config
from ..models.sequential import Sequential
from .keras_formats import layer_entries, require_key

def model_from_config(config: dict, label: str):
    """A `kr.Sequential` or `kr.Model` for a saved Keras model, built (weights not loaded)."""
    class_name = config.get("class_name")
    inner = config.get("config", {})
    cls = registry.class_for(class_name)
    if cls is Sequential:
        entries = layer_entries(inner, "the Sequential model's configuration", label)
    elif cls is Model:
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
    registration = registry.lookup(entry.get("registered_name")) or registry.lookup(class_name)
    cls = registration.cls if registration is not None else None
    if cls is Sequential:
        return model_from_config({"class_name": "Sequential", "config": config}, label)
    if cls is Model:
        return model_from_config(entry, label)
    if cls is Lambda:
        raise ValueError(f"{label}: layer {name!r} is a Lambda, whose Python function Keras stores as "
                         "marshalled bytecode that only the Python that wrote it can run; build the model with "
                         "kr.Lambda(your_function) and load the weights with kr.load_keras_weights(model, path)")
    if registration is None or not hasattr(cls, "from_config"):
        raise ValueError(f"{label}: layer {name!r} is a {class_name}, which has no kerasrnn_torch counterpart: "
                         + registry.unknown_class_message(class_name, entry.get("registered_name")))
    owner = f"{label}: {class_name} {name!r}"
    if registration.reader is not None:
        return registration.reader(cls, config, owner, lambda inner: layer_from_config(inner, label))
    try:
        return deserialize_layer(entry, owner)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{label}: {class_name} {name!r} could not be built from its configuration: {error}") \
            from None
