"""Reading Keras weight files: Keras 3 `.weights.h5`, `.keras` archives and legacy Keras 2 `.h5`.

Each reader answers one question: given the module's layers in order (as
`KerasLayer`s), which arrays does the file hold for each of them, in the
layer's `get_weights()` order? A structural mismatch raises a ValueError
naming the layer and the file's entry; nothing here touches a weight.

Keras 3 stores a model's weights as a tree keyed by class names, not layer
names (`layers/lstm`, `layers/lstm_1`, `layers/bidirectional/forward_layer/
cell/vars/0`, ...; see keras/src/saving/saving_lib.py), and HDF5 keeps no
creation order, so a bare `.weights.h5` is matched as Keras matches it: the
n-th layer of a class gets the class's n-th entry. A `.keras` archive also
has the configuration, which fixes the order across classes too. Legacy
`.h5` files list their layers in order, each with its weight names.
"""
from __future__ import annotations

import contextlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from .._checks import describe, shape_text
from ..core import registry
from ..core.input_layer import InputLayer
from ..core.keras_arguments import require_key
from ..core.layer import Layer, snake_case, unique_key
from ..core.tracking import TrackedDict, TrackedList
from ..models.functional import Model
from ..models.functional_config import is_operation
from ..models.sequential import Sequential

ARCHIVE_CONFIG = "config.json"
ARCHIVE_WEIGHTS = "model.weights.h5"


def require_h5py():
    """h5py, imported on first use: it is an optional dependency."""
    try:
        import h5py
    except ImportError:
        raise ImportError("Reading Keras weight files needs h5py, which is not installed: "
                          "pip install 'kerasrnn_torch[keras-io]' (or pip install h5py)") from None
    return h5py


@dataclass
class KerasLayer:
    """One of the module's layers as the Keras files see it."""
    module: Layer
    keras_class: str          # the Keras class it corresponds to ("LSTM")
    owner: str                # how messages name it: "LSTM 'lstm_1' (layer 2 of Sequential 'sequential')"

    @property
    def weights(self):
        return list(self.module.weights) if self.module.built else None


@dataclass
class SavedLayer:
    """One layer's entry in a Keras file, as the matching sees it."""
    name: str | None          # the Keras layer's name, where the file has it (.keras config, legacy .h5)
    keras_class: str | None   # its Keras class, where the file tells it
    key: str                  # where it is in the file ("layers/lstm_1"; a legacy layer's name)
    position: int             # its place in the file's order
    handle: Any               # the reader's own: an HDF5 group, or a legacy layer's arrays

    def describe(self) -> str:
        kind = f"{self.keras_class} " if self.keras_class else ""
        named = f"{self.name!r} " if self.name and self.name != self.key else ""
        return f"{kind}{named}('{self.key}')".replace("  ", " ")


def _key_order(key: str):
    """Keras's keys in creation order within a class: lstm, lstm_1, ..., lstm_10."""
    base, _, number = key.rpartition("_")
    return (base, int(number)) if number.isdigit() and base else (key, -1)


def _class_of_key(key: str) -> str | None:
    """The Keras class a weights-file key names ("simple_rnn_2" -> "SimpleRNN"), where it is one of ours."""
    base = _key_order(key)[0]
    return next((entry.name for entry in registry.registered() if snake_case(entry.name) == base), None)


def shapes_text(arrays) -> str:
    return "[" + ", ".join(shape_text(a.shape) for a in arrays) + "]"


# ---------------------------------------------------------------- opening
@contextlib.contextmanager
def open_saved(path):
    """Yield the reader for the Keras file at `path` (the format is read from its content)."""
    h5py = require_h5py()
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No Keras file at {str(path)!r}")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if ARCHIVE_CONFIG not in names or ARCHIVE_WEIGHTS not in names:
                raise ValueError(f"{path} is a zip file but not a .keras archive: expected {ARCHIVE_CONFIG} and "
                                 f"{ARCHIVE_WEIGHTS} inside, found {names}")
            config = _archive_config(archive, path)
            weights = io.BytesIO(_archive_member(archive, ARCHIVE_WEIGHTS, path))
        with _open_hdf5(h5py, weights, f"{path} ({ARCHIVE_WEIGHTS})") as file:
            yield Keras3Weights(file, f"{path} ({ARCHIVE_WEIGHTS})", config)
        return
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path} is neither a .keras archive (zip) nor an HDF5 weights file (.weights.h5 or .h5)")
    with _open_hdf5(h5py, path, str(path)) as file:
        if "model_weights" in file or "layer_names" in file.attrs:
            yield LegacyWeights(file, str(path))
        elif "layers" in file or "vars" in file:
            yield Keras3Weights(file, str(path), None)
        else:
            raise ValueError(f"{path} is an HDF5 file but not a Keras weights file: it has neither Keras 3's "
                             f"'layers' group nor a legacy 'layer_names' attribute (top-level keys: {list(file)})")


def _archive_member(archive, name: str, path) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise ValueError(f"{path}: the .keras archive's {name} cannot be read ({error}); the file is truncated "
                         "or damaged") from error


def _archive_config(archive, path) -> dict:
    return parse_config(_archive_member(archive, ARCHIVE_CONFIG, path), ARCHIVE_CONFIG, str(path))


def parse_config(text, where: str, label: str) -> dict:
    """A saved model's JSON configuration, or a ValueError naming the file and where the text came from."""
    try:
        config = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{label}: {where} is not valid JSON ({error}); the file is truncated or damaged") from error
    if not isinstance(config, dict):
        raise ValueError(f"{label}: {where} should hold a JSON object (the model's configuration), found "
                         f"{type(config).__name__}")
    return config


def _open_hdf5(h5py, source, label: str):
    try:
        return h5py.File(source, "r")
    except OSError as error:
        raise ValueError(f"{label} cannot be read as HDF5 ({error}); the file is truncated or damaged") from error


def _decode(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def entry_name(entry: dict, label: str) -> str:
    """A configured layer's name (Keras 3 puts it beside the config, Keras 2 inside)."""
    if isinstance(entry, dict) and entry.get("name"):
        return entry["name"]
    return require_key(require_key(entry, "config", "a layer entry of the configuration", label), "name",
                       "a layer entry's config", label)


def _optional_name(entry: dict) -> str | None:
    """A Keras 3 layer entry's name, where it has one: a custom layer whose constructor takes no `name` has
    none in a Sequential's configuration (a functional model's entries always name their layer)."""
    config = entry.get("config")
    return entry.get("name") or (config.get("name") if isinstance(config, dict) else None) or None


def read_array(group, name: str, path: str, owner: str, label: str) -> np.ndarray:
    """The weight array stored at `group[name]`, or a ValueError naming the file, the entry and the layer."""
    item = group.get(name)
    if item is None:
        raise ValueError(f"{owner}: {label} has no weight array '{path}' (the entry lists it; found "
                         f"{sorted(group)}); the file is damaged or incomplete")
    if not hasattr(item, "dtype"):
        raise ValueError(f"{owner}: {label}: '{path}' should be a weight array, found a group holding "
                         f"{sorted(item)}")
    return np.asarray(item)


def _has_arrays(group) -> bool:
    """Whether an HDF5 group holds any weight array (seed-generator states are not weights)."""
    found = []

    def visit(name, item):
        if hasattr(item, "shape") and "seed_generator" not in name:
            found.append(name)
    group.visititems(visit)
    return bool(found)


# ---------------------------------------------------------------- Keras 3
def _holds_arrays(group) -> bool:
    """Whether an HDF5 group holds any dataset, at any depth."""
    found = []
    group.visititems(lambda name, item: found.append(name) if hasattr(item, "shape") else None)
    return bool(found)


class Keras3Weights:
    """A Keras 3 weights tree (`.weights.h5`, or the one inside a `.keras` archive)."""

    def __init__(self, file, label: str, config: dict | None):
        self.file = file
        self.label = label
        self.config = config

    def entries(self) -> list[SavedLayer]:
        """The saved layers that hold weights, named and typed from the configuration when there is one."""
        root = self.file.get("layers")
        if root is None and not _holds_arrays(self.file):
            return []                   # a model without weights (Keras then writes no 'layers' group)
        if root is None:
            raise ValueError(f"{self.label} has no 'layers' group: it was not saved from a Sequential or "
                             "functional Keras model, so its weights cannot be matched to layers")
        described = {}
        if self.config is not None:
            used: dict[str, int] = {}
            for entry in config_layers(self.config, self.label):
                key = unique_key(snake_case(entry["class_name"]), used)
                # A registered name ("package>Name") means the class registered under it, whatever its own name.
                registration = registry.lookup(entry.get("registered_name")) if entry.get("registered_name") else None
                keras_class = registration.name if registration is not None else entry["class_name"]
                described[key] = (_optional_name(entry), keras_class)
        entries: list[SavedLayer] = []
        for key in sorted(root, key=_key_order):
            if not _has_arrays(root[key]):
                continue
            name, keras_class = described.get(key, (None, _class_of_key(key)))
            entries.append(SavedLayer(name, keras_class, f"layers/{key}", len(entries), root[key]))
        return entries

    def read(self, entry: SavedLayer, module, owner: str) -> list[np.ndarray]:
        """The entry's arrays in `module`'s get_weights() order (the file's tree follows the layer's)."""
        return self._layer_arrays(module, entry.handle, entry.key, owner)

    def _collect(self, layers, root, root_path):
        """A nested model's layers (Sequential or functional inside a model), by class and order."""
        used: dict[str, int] = {}
        result: list[Any] = []
        read: set[str] = set()
        for layer in layers:
            key = unique_key(snake_case(layer.keras_class), used)
            read.add(key)
            path = f"{root_path}/{key}"
            if key not in root:
                if not layer.weights:
                    result.append([])
                    continue
                held = [f"{root_path}/{k}" for k in root if _has_arrays(root[k])]
                raise ValueError(
                    f"{layer.owner}: {self.label} has no entry '{path}' for it (Keras files name entries by "
                    f"class, in order); the file holds weights for {held}")
            result.append(self._layer_arrays(layer.module, root[key], path, layer.owner))
        extra = [f"{root_path}/{k}" for k in root if k not in read and _has_arrays(root[k])]
        if extra:
            raise ValueError(f"{self.label} holds weights for {extra}, which match no layer of the module "
                             f"(it has {len(layers)} layers: {', '.join(l.keras_class for l in layers)})")
        return result

    def subclassed_model_arrays(self, model, owner: str) -> list[np.ndarray]:
        """A subclassed model's arrays, in its `weights` order: Keras writes its tree from the file's root, each
        layer under the attribute it was assigned to."""
        return self._layer_arrays(model, self.file, "", owner)

    def _layer_arrays(self, module, group, path, owner):
        if isinstance(module, Sequential) or (isinstance(module, Model) and module.is_functional):
            inner = keras_layers_of(module).layers
            return [a for arrays in self._collect(inner, child_group(group, "layers", path, owner, self.label),
                                                  f"{path}/layers") for a in arrays]
        arrays = self._own_arrays(group, path, owner)
        for names, sublayer in sublayer_groups(module, owner):
            inner_group, inner_path = group, path
            for name in names:
                inner_group = child_group(inner_group, name, inner_path, owner, self.label)
                inner_path = f"{inner_path}/{name}"
            arrays += self._layer_arrays(sublayer, inner_group, inner_path, owner)
        return arrays

    def _own_arrays(self, group, path, owner) -> list[np.ndarray]:
        variables = group.get("vars")
        if variables is None:
            return []
        keys = list(variables)
        if not all(key.isdigit() for key in keys):
            raise ValueError(f"{owner}: {self.label}: '{path}/vars' should hold arrays named 0, 1, 2, ..., found "
                             f"{sorted(keys)}")
        return [read_array(variables, k, f"{path}/vars/{k}", owner, self.label) for k in sorted(keys, key=int)]


def sublayer_groups(module, owner) -> list[tuple[tuple[str, ...], nn.Module]]:
    """Where Keras 3's weights tree keeps the arrays of a layer's inner layers, in `get_weights()` order.

    Each item is (the group names below the layer's own group, the inner
    layer). A class says where its inner layers sit with
    `register_keras_class(..., sublayers=(attribute, ...))` (its
    `keras_sublayer_attributes`): a Bidirectional's `forward_layer` and
    `backward_layer`, a TimeDistributed's `layer`, a recurrent layer's
    `cell`, a StackedRNNCells' `cells` (a list: `cells/<class key>`). Any
    other layer's weight-holding sublayers sit under their attribute's name
    (MultiHeadAttention's `query_dense`, ...). The layer's own arrays sit in
    its group's `vars`. Both the readers here and the writer
    (io/keras_save.py) walk this. (A model's layers are not included: they
    sit under `layers/<class key>`.)
    """
    attributes = getattr(type(module), "keras_sublayer_attributes", ())
    if attributes:
        groups: list[tuple[tuple[str, ...], nn.Module]] = []
        for attribute in attributes:
            value = getattr(module, attribute)
            if isinstance(value, (list, tuple, nn.ModuleList)):
                used: dict[str, int] = {}
                groups += [((attribute, unique_key(snake_case(keras_class_of(item, owner)), used)), item)
                           for item in value]
            else:
                groups.append(((attribute,), value))
        return groups
    # Weights kept in sublayers (MultiHeadAttention's query_dense, ...) sit under the attribute's name; those
    # of a user layer's list or dict of layers (core/tracking.py) under `<attribute>/<class key>`.
    groups = []
    for name, sublayer in module.named_children():
        if isinstance(sublayer, (TrackedList, TrackedDict)):
            keys: dict[str, int] = {}
            items = sublayer.values() if isinstance(sublayer, TrackedDict) else sublayer
            for item in items:
                key = unique_key(snake_case(keras_class_of(item, owner)), keys)
                if isinstance(item, Layer) and any(True for _ in item.parameters()):
                    groups.append(((name.lstrip("_"), key), item))
        elif isinstance(sublayer, Layer) and any(True for _ in sublayer.parameters()):
            groups.append(((name.lstrip("_"),), sublayer))
    return groups


def child_group(group, name, path, owner, label):
    if name not in group:
        raise ValueError(f"{owner}: {label} has no entry '{path}/{name}' (found {list(group)})")
    return group[name]


def config_layers(config: dict, label: str) -> list[dict]:
    """The layer entries of a saved model's configuration, in order (operations such as NotEqual left out)."""
    inner = config.get("config", config) if isinstance(config, dict) else config
    entries = layer_entries(inner, "the model's configuration", label)
    return [entry for entry in entries if not is_operation(entry) and entry.get("class_name") != "InputLayer"]


def layer_entries(inner, where: str, label: str) -> list[dict]:
    """A model configuration's `layers` list (a bare list is Keras 2's Sequential), each entry with a class_name."""
    entries = require_key(inner, "layers", where, label) if isinstance(inner, dict) else inner
    if not isinstance(entries, list):
        raise ValueError(f"{label}: {where} should list its layers, found {type(entries).__name__}")
    for entry in entries:
        require_key(entry, "class_name", "a layer entry of the configuration", label)
    return entries


# ------------------------------------------------------------ legacy .h5
class LegacyWeights:
    """A legacy (Keras 2 / tf.keras) `.h5` file: layers in order, each with its ordered weight names."""

    def __init__(self, file, label: str):
        self.file = file
        self.label = label
        self.root = file["model_weights"] if "model_weights" in file else file
        self.config = None
        raw = file.attrs.get("model_config")
        if raw is not None:
            self.config = parse_config(_decode(raw), "the 'model_config' attribute", label)

    def saved_layers(self) -> list[tuple[str, str | None, list[np.ndarray]]]:
        """(name, class or None, arrays) of each saved layer with weights, in the file's order."""
        classes = {}
        if self.config is not None:
            for entry in config_layers(self.config, self.label):
                classes[entry_name(entry, self.label)] = entry["class_name"]
        if "layer_names" not in self.root.attrs:
            raise ValueError(f"{self.label}: the weights group has no 'layer_names' attribute (the saved layers' "
                             "order); the file is damaged or was not written by Keras")
        layers = []
        for name in (_decode(n) for n in self.root.attrs["layer_names"]):
            if name not in self.root:
                raise ValueError(f"{self.label}: layer {name!r} is listed in 'layer_names' but has no group in "
                                 "the file; the file is damaged or incomplete")
            group = self.root[name]
            owner = f"layer {name!r}"
            weight_names = [_decode(n) for n in group.attrs.get("weight_names", [])]
            if weight_names:
                layers.append((name, classes.get(name),
                               [read_array(group, w, f"{name}/{w}", owner, self.label) for w in weight_names]))
        return layers

    def entries(self) -> list[SavedLayer]:
        # Without a configuration, Keras's automatic names ("simple_rnn_1") still tell the class.
        return [SavedLayer(name, keras_class or _class_of_key(name), name, i, arrays)
                for i, (name, keras_class, arrays) in enumerate(self.saved_layers())]

    def read(self, entry: SavedLayer, module, owner: str) -> list[np.ndarray]:
        return list(entry.handle)          # legacy files list a layer's arrays flat, in get_weights() order


# -------------------------------------------------------- the module side
def keras_class_of(module: nn.Module, owner: str) -> str:
    """The Keras class a kerasrnn_torch module corresponds to (a subclass counts as its base): the registry's.

    A user's own layer class (a `kr.Layer` subclass below no registered class) is its own Keras class, as
    Keras names a custom layer's weights after its class (`layers/transformer_block`).
    """
    name = registry.keras_name_of(type(module))
    if name is None and isinstance(module, Layer):
        return type(module).__name__
    if name is None:
        raise ValueError(f"{owner}: {type(module).__name__} has no Keras counterpart, so Keras weights cannot be "
                         "matched to it")
    return name


@dataclass
class ModuleLayers:
    """What of a module Keras weights can go into."""
    layers: list[KerasLayer]      # kerasrnn_torch layers, in the module's order
    foreign: list[str]            # torch modules with parameters (no Keras counterpart): described, not loaded
    ordered_as_keras: bool        # whether the order is Keras's own (Sequential, Model, one layer)


def keras_layers_of(module: nn.Module) -> ModuleLayers:
    """The module's layers as Keras sees a model's.

    A Sequential's layers or a functional Model's (in Keras's order), a layer
    alone, or the kerasrnn_torch layers found among any other module's
    descendants, in registration order, named by their attribute path.
    """
    candidates: list[tuple[str | None, nn.Module]]
    if isinstance(module, (Sequential, Model)):
        candidates = [(f"layer {i} of {describe(module)}", layer) for i, layer in enumerate(module.layers)
                      if not isinstance(layer, InputLayer)]
        ordered = True
    elif isinstance(module, Layer):
        candidates, ordered = [(None, module)], True
    else:
        candidates, ordered = [(f"'{path}' of {type(module).__name__}", layer)
                               for path, layer in top_layers(module, "")], False
    layers, foreign = [], []
    for place, candidate in candidates:
        label = describe(candidate) if isinstance(candidate, Layer) else type(candidate).__name__
        owner = label if place is None else f"{label} ({place})"
        if not isinstance(candidate, Layer):
            foreign.append(owner)
            continue
        inner = next((sub for sub in candidate.modules() if not isinstance(sub, Layer)
                      and any(True for _ in sub.parameters(recurse=False))), None)
        if inner is not None:
            raise ValueError(f"{owner} holds a {type(inner).__name__}, a torch module with parameters and no Keras "
                             "counterpart, so Keras weights cannot be matched to it")
        layers.append(KerasLayer(candidate, keras_class_of(candidate, owner), owner))
    return ModuleLayers(layers, foreign, ordered)


def top_layers(module: nn.Module, prefix: str):
    """(attribute path, module) of the kerasrnn_torch layers and parameter-holding torch modules below `module`."""
    for name, child in module.named_children():
        path = f"{prefix}{name}"
        if isinstance(child, Layer):
            yield path, child
        elif any(True for _ in child.parameters(recurse=False)):
            yield path, child            # reported as having no Keras counterpart
        else:
            yield from top_layers(child, f"{path}.")
