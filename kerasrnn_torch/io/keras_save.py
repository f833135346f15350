"""Keras files out: `save_keras(module, path)` (a `.keras` archive) and `save_keras_weights(module, path)`.

What Keras 3 writes (keras/src/saving/saving_lib.py), written from
kerasrnn_torch modules so that `keras.models.load_model` and
`model.load_weights` read it:

- a `.keras` archive is a zip (stored, not compressed) of `metadata.json`
  (`keras_version`, `date_saved`), `config.json` (the model serialized as
  Keras serializes it: `{"module", "class_name", "config": get_config(),
  "registered_name", "build_config", "compile_config"}`) and
  `model.weights.h5`;
- a weights tree (`model.weights.h5`, or a `.weights.h5` file alone) keeps
  each layer's arrays in `<path>/vars/0, 1, ...` with the layer's name as
  the `vars` group's `name` attribute. A model's layers sit under
  `layers/<class key>` ("lstm", "lstm_1", ...: numbered per class in the
  model's order), a layer's inner layers below it as
  `keras_formats.sublayer_groups` says (the walk the readers use too).

Everything is checked and converted before a file is touched, and the file
is written under a temporary name in the same folder and then renamed, so an
error never leaves a half-written file behind (nor removes an older one).
"""
from __future__ import annotations

import datetime
import inspect
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import _dtypes
from .._checks import describe
from .._types import PathLike
from ..core import registry
from ..core.input_layer import InputLayer, input_layer_config
from ..core.layer import Layer, snake_case, unique_key
from ..layers.core.lambda_layer import Lambda
from ..models.functional import Model
from ..models.sequential import Sequential
from ..models.summary import example_input
from .keras_formats import (ARCHIVE_CONFIG, ARCHIVE_WEIGHTS, keras_class_of, require_h5py,
                            sublayer_groups, top_layers)

ARCHIVE_METADATA = "metadata.json"
# The Keras version whose file format this writes (and against which it is tested).
KERAS_FORMAT_VERSION = "3.15.1"

# ------------------------------------------------------------------ the API
def save_keras(module: nn.Module, path: PathLike) -> None:
    """Save a `kr.Sequential` or `kr.Model` as a Keras 3 `.keras` archive, weights included.

    Keras reads it back with `keras.models.load_model(path)` (the default
    `safe_mode=True` is enough; the file is Keras 3.15's format, tested with
    Keras 3.15.1) and predicts what the module predicts;
    `kr.from_keras(path)` reads it too. The layers' configurations
    are their `get_config()`s, which are Keras's; a Sequential's input shape
    and dtype (from `kr.Input`, `build((None, ...))`, a first layer's
    `input_shape=` or the latest call) become its `InputLayer`, so build it
    with `None` for the time axis (`model.build((None, None, 8))`) for a
    Keras model that takes sequences of any length.

    A user's own Keras-style layer (a `kr.Layer` subclass with `call`) is
    written as Keras writes a custom layer (its class name as the registered
    name, its constructor's arguments as its configuration, less `trainable`
    and `dtype` where the constructor takes neither and they hold the
    defaults); Keras loads it with its own class of that name in
    `custom_objects`.

    Raises a ValueError, before any file is written, for a module that is
    not a Sequential or functional model, a model that is not built, and a
    layer whose configuration Keras cannot rebuild: a `kr.Lambda` (its
    Python function), an activation given as an arbitrary callable, a torch
    module that is not a kerasrnn_torch layer (inside a user's layer too), a
    subclass of a built-in layer. The error names the layer;
    `save_keras_weights` still saves its weights.

    >>> kr.save_keras(model, "model.keras")  # doctest: +SKIP
    >>> keras.models.load_model("model.keras").predict(x)  # doctest: +SKIP
    """
    path = _checked_path(path, ".keras", "save_keras", "keras.models.load_model")
    config = _config_json(module)
    weights = _h5_bytes(_weights_tree(module, "save_keras"))
    metadata = json.dumps({"keras_version": KERAS_FORMAT_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})

    def write(file):
        with zipfile.ZipFile(file, "w") as archive:
            archive.writestr(ARCHIVE_METADATA, metadata)
            archive.writestr(ARCHIVE_CONFIG, config)
            archive.writestr(ARCHIVE_WEIGHTS, weights)
    _write_atomically(path, write)


def save_keras_weights(module: nn.Module, path: PathLike) -> None:
    """Save the weights of `module` as a Keras 3 `.weights.h5` file (what `keras_model.save_weights` writes).

    A Keras model built the same way reads it with
    `keras_model.load_weights(path)`; `kr.load_keras_weights` reads it too.
    `module` is
    - a `kr.Sequential` or `kr.Model`: the tree Keras writes for the same
      model (a Keras model's layers are numbered per class in its order,
      which a `kr.Model` shares with Keras for the same graph);
    - a single layer: written as a one-layer Sequential holding it, the
      only Keras model a lone layer's weights can be loaded into
      (`keras.Sequential([keras.Input(shape), layer]).load_weights(path)`);
    - any other `nn.Module`: its kerasrnn_torch layers, in registration
      order, written as the layers of a Sequential (a Keras model whose
      layers come in that order per class loads them). Such a module may not
      hold torch modules with parameters, which have no Keras counterpart.

    Raises a ValueError before any file is written when a layer is not built
    or a torch module with parameters would be left out.
    """
    path = _checked_path(path, ".weights.h5", "save_keras_weights", "keras_model.load_weights")
    tree = _weights_tree(module, "save_keras_weights")
    _write_atomically(path, lambda file: file.write(_h5_bytes(tree)))


# ------------------------------------------------------------ configuration
def keras_model_config(module) -> dict:
    """The module as Keras's `serialize_keras_object` writes a model: a `.keras` archive's config.json."""
    if not isinstance(module, (Sequential, Model)):
        kind = describe(module) if isinstance(module, Layer) else f"a {type(module).__name__}"
        raise ValueError(f"save_keras saves a kr.Sequential or a kr.Model (Keras's Sequential and functional "
                         f"models), got {kind}: wrap it, e.g. kr.Sequential([kr.Input(shape), layer]), or save its "
                         "weights alone with kr.save_keras_weights")
    if isinstance(module, Model) and not module.is_functional:
        raise ValueError(f"save_keras: {describe(module)} is a subclassed model ({type(module).__name__} with its own "
                         "call), whose code a .keras file cannot hold; kerasrnn_torch writes .keras archives of "
                         "Sequential and functional models. Save its weights with model.save_weights(path.weights.h5) "
                         "(Keras's subclassed-model layout), and rebuild the class to load them")
    _refuse_unserializable_layers(module)
    try:
        config = module.get_config()
    except ValueError as error:
        raise ValueError(f"{describe(module)} cannot be saved as a Keras model: {error}") from error
    if isinstance(module, Model):
        return {"module": "keras.src.models.functional", "class_name": "Functional", "config": config,
                "registered_name": "Functional", "build_config": {"input_shape": None}, "compile_config": None}
    if config["layers"] and config["layers"][0].get("class_name") == "InputLayer":     # the model's own Input
        batch_shape = list(config["layers"][0]["config"]["batch_shape"])
        config = {**config, "build_input_shape": batch_shape}
    else:
        shape, dtype = _sequential_input(module)
        batch_shape = [None, *shape]
        input_layer = {"module": "keras.layers", "class_name": "InputLayer",
                       "config": input_layer_config(batch_shape, dtype, _input_name(config["layers"])),
                       "registered_name": None}
        config = {**config, "layers": [input_layer, *config["layers"]], "build_input_shape": batch_shape}
    return {"module": "keras", "class_name": "Sequential", "config": config, "registered_name": None,
            "build_config": {"input_shape": batch_shape}, "compile_config": None}


def _config_json(module) -> str:
    config = keras_model_config(module)
    _fit_user_layer_configs(config, _user_classes(module))
    for entry in config["config"]["layers"]:
        try:
            json.dumps(entry, default=_json_value)
        except TypeError:
            # In the configuration, or among an operation's call arguments (the function of associative_scan).
            found = (_unserializable(entry["config"], "configuration's config")
                     or _unserializable(entry.get("inbound_nodes"), "call's inbound_nodes"))
            assert found is not None            # json.dumps failed on something there
            where, value = found
            name = entry.get("name") or entry["config"].get("name")
            raise ValueError(f"{entry['class_name']} '{name}' of {describe(module)} cannot be saved as a Keras model: "
                             f"its {where} is a {type(value).__name__} ({value!r}), which a Keras "
                             "file cannot hold (expected JSON values: numbers, strings, lists, dicts, None)") from None
    return json.dumps(config, default=_json_value)


def _user_classes(module) -> dict[str, type]:
    """{registered name: class} of the user's own (unregistered) Keras-style layer classes in the module."""
    return {registry.registered_name_of(type(layer)): type(layer) for layer in module.modules()
            if isinstance(layer, Layer) and type(layer).keras_style
            and registry.registration_of(type(layer), exact=True) is None}


def _fit_user_layer_configs(value, classes: dict[str, type]) -> None:
    """Leave out of a user layer's entry the base keys its constructor does not take, where they hold defaults.

    Keras rebuilds a custom layer as `cls(**config)`, and a Keras-style constructor such as
    `__init__(self, embed_dim, num_heads)` takes no `trainable` or `dtype`: with them Keras could not load the
    file (Keras's own save of such a layer writes them, and Keras then fails to load it). A frozen layer or one
    of another dtype keeps them (Keras needs a constructor taking them to rebuild it).
    """
    if isinstance(value, list):
        for item in value:
            _fit_user_layer_configs(item, classes)
        return
    if not isinstance(value, dict):
        return
    registered_name = value.get("registered_name")
    cls = classes.get(registered_name) if isinstance(registered_name, str) else None
    config = value.get("config")
    if cls is not None and isinstance(config, dict):
        if config.get("trainable") is True and not _constructor_takes(cls, "trainable"):
            del config["trainable"]
        if _is_default_dtype(config.get("dtype")) and not _constructor_takes(cls, "dtype"):
            del config["dtype"]
    for item in value.values():
        _fit_user_layer_configs(item, classes)


def _constructor_takes(cls: type, argument: str) -> bool:
    parameters = inspect.signature(getattr(cls, "__init__")).parameters
    return argument in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _is_default_dtype(policy) -> bool:
    if isinstance(policy, dict):
        policy = (policy.get("config") or {}).get("name")
    return policy == "float32"


def _refuse_unserializable_layers(model, outer=None) -> None:
    """Name a Lambda, a torch module or a layer class Keras does not know before anything else is tried."""
    which = "its layer" if outer is None else f"{describe(model)}'s layer"
    for position, layer in enumerate(model.layers):
        if isinstance(layer, InputLayer):
            continue
        if not isinstance(layer, Layer):
            raise ValueError(f"{describe(outer or model)} cannot be saved as a Keras model: {which} {position} "
                             f"is a {type(layer).__name__}, a torch module with no Keras configuration (expected "
                             "kerasrnn_torch layers only; save the weights alone with kr.save_keras_weights)")
        _refuse_unserializable_layer(layer, layer, outer or model)


def _refuse_unserializable_layer(layer, top, model) -> None:
    inside = "" if layer is top else f" (inside {describe(top)})"
    if isinstance(layer, Lambda):
        raise ValueError(
            f"{describe(layer)}{inside} of {describe(model)} cannot be saved as a Keras model: it wraps the Python "
            f"function {getattr(layer.function, '__qualname__', repr(layer.function))}, which a Keras file cannot "
            "hold as configuration (Keras would store its bytecode, loadable only with safe_mode=False and the same "
            "Python). Expected layers with a configuration: replace the Lambda by such layers, or save the weights "
            "alone with kr.save_keras_weights")
    if isinstance(layer, (Sequential, Model)):
        _refuse_unserializable_layers(layer, model)
        return
    cls = type(layer)
    registration = registry.registration_of(cls, exact=True)
    if registration is None and cls.keras_style:
        _refuse_torch_modules_inside(layer, top, model)
        return                  # a user's own Keras-style layer: saved as Keras saves a custom layer
    if registration is None or not registration.writable:
        raise ValueError(
            f"{describe(layer)}{inside} of {describe(model)} cannot be saved as a Keras model: Keras's load_model "
            f"rebuilds layers by class, and {cls.__module__}.{cls.__name__} is not one of Keras's (expected the "
            "kerasrnn_torch layers themselves, not subclasses, or a class registered with register_keras_class); "
            "save the weights alone with kr.save_keras_weights "
            "and load them into the same model built in Keras")
    for _, sublayer in _configured_sublayers(layer):
        _refuse_unserializable_layer(sublayer, top, model)


def _refuse_torch_modules_inside(layer, top, model) -> None:
    """A user's layer may hold kerasrnn_torch layers (saved below its group) but no torch module with weights."""
    for place, child in layer.named_modules():
        if child is layer or isinstance(child, Layer) or not any(True for _ in child.parameters(recurse=False)):
            continue
        inside = "" if layer is top else f" (inside {describe(top)})"
        raise ValueError(
            f"{describe(layer)}{inside} of {describe(model)} cannot be saved as a Keras model: its '{place}' is a "
            f"{type(child).__name__}, a torch module whose weights have no place in a Keras file (expected "
            "kerasrnn_torch layers inside a layer, as Keras layers hold Keras layers)")


def _configured_sublayers(layer):
    """The inner layers a layer's configuration holds (a wrapper's layer, a recurrent layer's cell, ...).

    Those its class declares (`register_keras_class(..., sublayers=...)`), unless a subclass of the declaring
    class writes its own configuration (LSTM, ConvLSTM2D: their configuration holds their cell's arguments).
    """
    declaring = next((cls for cls in type(layer).__mro__ if cls.__dict__.get("keras_sublayer_attributes")), None)
    if declaring is None or type(layer).get_config is not getattr(declaring, "get_config", None):
        return []
    return [item for item in sublayer_groups(layer, describe(layer)) if isinstance(item[1], Layer)]


def _sequential_input(model) -> tuple[list, torch.dtype]:
    """The input shape (no batch axis) and dtype a Sequential without an `Input` writes in its `InputLayer`."""
    known = model._known_input()
    if known is None or not model.built:
        raise ValueError(f"{describe(model)} cannot be saved as a Keras model before its input is known: expected "
                         "a built model; start it with kr.Input(shape), give its first layer input_shape=..., call "
                         "model.build((None, *input_shape)) or call it on an input")
    shape, dtype = known
    if dtype is None:
        dtype = example_input(model, [1 for _ in shape]).dtype
    _dtype_name(dtype, describe(model))       # a dtype with no Keras name is refused here, naming the model
    return [None if size is None else int(size) for size in shape], dtype


def _input_name(layer_entries) -> str:
    taken = {entry["config"].get("name") for entry in layer_entries}
    name, number = "input_layer", 0
    while name in taken:
        number += 1
        name = f"input_layer_{number}"
    return name


def _dtype_name(dtype, owner) -> str:
    return _dtypes.name_of(dtype, f"{owner}: its input")


def _json_value(value):
    """json.dumps's fallback: numpy and one-number torch scalars become numbers, numpy arrays lists; else refused."""
    if isinstance(value, np.generic) or (isinstance(value, torch.Tensor) and value.dim() == 0):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _unserializable(value, where):
    """(where, value) of the first value in a configuration that JSON cannot hold."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unserializable(item, f"{where}[{key!r}]")
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _unserializable(item, f"{where}[{i}]")
            if found is not None:
                return found
        return None
    try:
        json.dumps(value, default=_json_value)
    except TypeError:
        return where, value
    return None


# ------------------------------------------------------------------ weights
def _weights_tree(module, function) -> list[tuple[str, str | None, list[np.ndarray]]]:
    """(group path, layer name, arrays) for every group of the Keras weights tree, arrays converted."""
    groups: list = []
    visited: set = set()
    if isinstance(module, Model) and not module.is_functional:
        _layer_groups(module, "", describe(module), groups, visited)     # Keras's tree: attribute names
    elif isinstance(module, (Sequential, Model)):
        _model_groups(module, module.layers, "", module.name, groups, visited)
    elif isinstance(module, Layer):
        _model_groups(module, [module], "", "sequential", groups, visited)
    elif isinstance(module, nn.Module):
        _model_groups(module, _module_layers(module, function), "", "sequential", groups, visited)
    else:
        raise ValueError(f"{function} saves a torch.nn.Module (a kr.Sequential, a kr.Model, a layer or a module "
                         f"holding kerasrnn_torch layers), got {type(module).__name__}")
    return groups


def _module_layers(module, function) -> list:
    """A plain module's kerasrnn_torch layers in registration order; torch modules with parameters refused."""
    layers = []
    for place, layer in top_layers(module, ""):
        if not isinstance(layer, Layer):
            raise ValueError(f"{function}: '{place}' of {type(module).__name__} is a {type(layer).__name__}, a torch "
                             "module with parameters and no Keras counterpart; a Keras weights file cannot hold its "
                             "weights (expected kerasrnn_torch layers only: save a module of those)")
        layers.append(layer)
    if not layers:
        raise ValueError(f"{function}: {type(module).__name__} holds no kerasrnn_torch layer, so there is nothing "
                         "to write")
    return layers


def _model_groups(model, layers, path, name, groups, visited) -> None:
    groups.append((path, name, []))
    used: dict[str, int] = {}
    owner = describe(model) if isinstance(model, Layer) else type(model).__name__
    for position, layer in enumerate(layers):
        if isinstance(layer, InputLayer):
            continue
        if not isinstance(layer, Layer):
            if any(True for _ in layer.parameters()):
                raise ValueError(f"{owner}: its layer {position} is a {type(layer).__name__}, a torch module with "
                                 "parameters and no Keras counterpart; a Keras weights file cannot hold its weights "
                                 "(expected kerasrnn_torch layers only)")
            continue                # a parameterless torch module (nn.ReLU): no Keras layer, nothing to keep
        label = f"{describe(layer)} (layer {position} of {owner})"
        key = unique_key(snake_case(keras_class_of(layer, label)), used)
        _layer_groups(layer, _join(_join(path, "layers"), key), label, groups, visited)


def _layer_groups(layer, path, owner, groups, visited) -> None:
    if id(layer) in visited:         # a shared layer is written once, where Keras first meets it
        return
    visited.add(id(layer))
    if isinstance(layer, Sequential) or (isinstance(layer, Model) and layer.is_functional):
        _model_groups(layer, layer.layers, path, layer.name, groups, visited)
        return
    inner = sublayer_groups(layer, owner)
    held = {id(weight) for _, sublayer in inner for weight in _weights(sublayer, owner)}
    own = [weight for weight in _weights(layer, owner) if id(weight) not in held]
    name = getattr(layer, "name", None)
    groups.append((path, name if isinstance(name, str) else None, [_array(w) for w in own]))
    for names, sublayer in inner:
        _layer_groups(sublayer, _join(path, "/".join(names)), owner, groups, visited)


def _weights(module, owner) -> list[torch.Tensor]:
    if isinstance(module, Layer) and not module.built:
        raise ValueError(f"{owner} has no weights yet, so they cannot be saved: expected a built layer; call the "
                         "model on an input first or call model.build((None, *input_shape))")
    if not any(True for _ in module.parameters()):
        return []
    return list(module.weights) if isinstance(module, Layer) else list(module.parameters())


def _array(weight: torch.Tensor) -> np.ndarray:
    weight = weight.detach().cpu()
    if weight.dtype == torch.bfloat16:      # numpy has no bfloat16; float32 holds it exactly, Keras casts back
        weight = weight.float()
    return weight.numpy().copy()


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _h5_bytes(groups) -> bytes:
    h5py = require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        for path, name, arrays in groups:
            variables = file.create_group(_join(path, "vars"))
            if name:
                variables.attrs["name"] = name
            for i, array in enumerate(arrays):
                variables[str(i)] = array
    return buffer.getvalue()


# ------------------------------------------------------------------- files
def _checked_path(path, suffix: str, function: str, reader: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{function}: `path` must be a file path (str or os.PathLike), got {type(path).__name__}")
    path = Path(path)
    if not path.name.endswith(suffix):
        raise ValueError(f"{function}: {reader} reads files whose names end in '{suffix}'; got '{path.name}'")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{function}: no folder '{path.parent}' to write '{path.name}' in")
    return path


def _write_atomically(path: Path, write) -> None:
    """Write through `write(file)` to a temporary file beside `path`, then rename it to `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _file_mode(path: Path) -> int:
    """The mode the file would have if opened plainly: the old file's, else 0o666 less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


# model.save / model.save_weights (models/ cannot import io/) reach these through the registry.
registry.provide("save_keras", save_keras)
registry.provide("save_keras_weights", save_keras_weights)
