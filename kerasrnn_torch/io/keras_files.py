"""Keras files in: `load_keras_weights(module, path)` and `from_keras(path)`."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from torch import nn

from .._checks import describe, weight_tensors
from .._types import PathLike
from ..core import registry
from ..core.layer import assign_weights, weight_labels
from .keras_config import model_from_config
from ..models.functional import Model
from .keras_formats import Keras3Weights, LegacyWeights, keras_layers_of, open_saved, shapes_text
from .weight_matching import LoadReport, pair_layers

if TYPE_CHECKING:
    from ..models.sequential import Sequential


def load_keras_weights(module: nn.Module, path: PathLike, *,
                       layers: dict[str, nn.Module] | Sequence[nn.Module] | None = None,
                       skip_mismatch: bool = False, custom_objects: Mapping[str, Any] | None = None) -> LoadReport:
    """Load the weights of a Keras file into `module`'s layers: all that it says, or none.

    Reads Keras 3 `.weights.h5` (`model.save_weights`), `.keras` archives
    (`model.save`) and legacy Keras 2 `.h5` files (h5py needed:
    `pip install 'kerasrnn_torch[keras-io]'`). `module` is a `kr.Sequential`,
    a `kr.Model`, a single layer, or any `nn.Module` holding kerasrnn_torch
    layers (torch modules with parameters there are left alone and reported).

    Which saved layer goes where (see io/weight_matching.py): by name when
    every layer of the module carries a saved layer's name (a `.keras` or
    legacy `.h5` file knows them; `from_keras` models and layers given
    Keras's `name=` carry them); else, per Keras class, in order for a
    `Sequential`, `Model` or single layer (Keras's own order), and by fitting
    shapes in any other module, where two layers that fit the same entries
    alike are refused rather than guessed.

    Args:
        module: what to load into.
        path: the Keras file.
        layers: which of the module's layers to load: a mapping from the
            file's layer names or keys to module layers
            (`{"lstm": model.encoder, "lstm_1": model.decoder}`), or a list
            of module layers (matched by the rules above). The file may then
            hold more layers than are loaded.
        skip_mismatch: as Keras's: a layer whose saved shapes differ from
            its own is left as it is and reported, instead of an error.
        custom_objects: `{"Name": Class}` for the module's own layer classes
            that are not registered: the file's layers of class (or
            registered name) "Name" go into the module's `Class` layers.

    Returns a `LoadReport` (`print(report)`): what went where, what was left.
    Every array is checked and converted before any weight changes: on any
    error no weight changes, and the ValueError names the layer, the file's
    entry and the shapes.

    >>> model = kr.Sequential([kr.Embedding(1000, 64), kr.LSTM(32), kr.Dense(10)])
    >>> model.build((None, 20))
    >>> report = kr.load_keras_weights(model, "keras_model.keras")  # doctest: +SKIP
    """
    with registry.custom_objects(custom_objects):
        return _load_keras_weights(module, path, layers, skip_mismatch)


def _load_keras_weights(module, path, layers, skip_mismatch) -> LoadReport:
    if isinstance(module, Model) and not module.is_functional and layers is None:
        return _load_subclassed_model(module, path)
    found = keras_layers_of(module)
    mapping, selected = _selection(found, layers)
    unbuilt = [layer.owner for layer in selected if not layer.module.built]
    if unbuilt:
        raise ValueError(f"{', '.join(unbuilt)} has no weights yet, so Keras weights cannot be loaded into it: call "
                         "the module on an input first, give the first layer input_shape=..., or call "
                         "model.build((None, *input_shape))")
    with open_saved(path) as saved:
        label = saved.label
        report = LoadReport(label)

        def read(entry, layer):
            return saved.read(entry, layer.module, layer.owner)
        pairs, unused = pair_layers(selected, saved.entries(), read, ordered_as_keras=found.ordered_as_keras,
                                    mapping=mapping, label=label)
        targets, tensors, problems = [], [], []
        for layer, entry in pairs:
            try:
                arrays = read(entry, layer)
            except ValueError as error:
                problems.append(str(error))
                continue
            layer_targets = list(layer.module.weights)
            if len(arrays) != len(layer_targets) or any(tuple(a.shape) != tuple(t.shape)
                                                        for a, t in zip(arrays, layer_targets)):
                mismatch = (f"{layer.owner} expects weights with shapes {shapes_text(layer_targets)}, {label} holds "
                            f"{shapes_text(arrays)} for it ({entry.describe()})")
                if skip_mismatch:
                    report.skipped.append((layer.owner, f"shapes differ: {mismatch}"))
                else:
                    problems.append(mismatch)
                continue
            try:
                tensors.extend(weight_tensors(arrays, layer_targets, weight_labels(layer.module, layer_targets),
                                              f"{layer.owner} in {label}"))
            except TypeError as error:
                problems.append(str(error))
                continue
            targets.extend(layer_targets)
            report.loaded.append((entry.describe(), layer.owner))
    if unused and layers is None:
        held = ", ".join(entry.describe() for entry in unused)
        foreign = f"; the module's {', '.join(found.foreign)} has no Keras counterpart" if found.foreign else ""
        problems.append(f"{label} holds weights for {held}, which match no layer of the module{foreign} (to load "
                        "part of a file, pass layers=...)")
    if problems:
        raise ValueError(f"The Keras file {label} does not fit the module; no weight was changed:\n  "
                         + "\n  ".join(problems))
    report.skipped += [(entry.describe(), "not asked for") for entry in unused]
    report.skipped += [(owner, "a torch module with parameters and no Keras counterpart") for owner in found.foreign]
    assign_weights(targets, tensors)
    return report


def _load_subclassed_model(model, path) -> LoadReport:
    """A subclassed model's weights from the tree Keras writes for one (each layer under its attribute)."""
    owner = describe(model)
    if not model.built:
        raise ValueError(f"{owner} has no weights yet, so Keras weights cannot be loaded into it: call it on an input "
                         "first, or call model.build((None, *input_shape))")
    with open_saved(path) as saved:
        if not isinstance(saved, Keras3Weights):
            raise ValueError(f"{saved.label} is a legacy Keras 2 file; a subclassed model reads Keras 3 weights "
                             "(.weights.h5 or .keras)")
        arrays = saved.subclassed_model_arrays(model, owner)
        label = saved.label
    targets = list(model.weights)
    if len(arrays) != len(targets) or any(tuple(a.shape) != tuple(t.shape) for a, t in zip(arrays, targets)):
        raise ValueError(f"The Keras file {label} does not fit {owner}; no weight was changed: the model expects "
                         f"weights with shapes {shapes_text(targets)}, the file holds {shapes_text(arrays)}")
    tensors = weight_tensors(arrays, targets, weight_labels(model, targets), f"{owner} in {label}")
    assign_weights(targets, tensors)
    report = LoadReport(label)
    report.loaded.append((f"the tree of {label}", owner))
    return report


def _selection(found, layers):
    """(mapping or None, the module layers to load) from `layers=`."""
    if layers is None:
        return None, found.layers
    by_module = {id(layer.module): layer for layer in found.layers}
    if isinstance(layers, dict):
        values = list(layers.values())
    else:
        values = list(layers)
    missing = [type(v).__name__ for v in values if id(v) not in by_module]
    if missing:
        raise ValueError(f"layers=...: {', '.join(missing)} is not among the module's kerasrnn_torch layers "
                         f"({', '.join(layer.owner for layer in found.layers)})")
    chosen = [by_module[id(v)] for v in values]
    return (layers if isinstance(layers, dict) else None), chosen


def from_keras(path: PathLike, custom_objects: Mapping[str, Any] | None = None) -> Sequential | Model:
    """Build the Keras model saved at `path` from kerasrnn_torch layers, with its weights.

    Reads a `.keras` archive (or a legacy `.h5` saved with the whole model):
    a Sequential model gives a `kr.Sequential`, a functional one a `kr.Model`
    over the same graph (several inputs and outputs, shared layers, states
    passed between layers), made of any layers this package has. The
    recurrent layers' initializers are not carried (the weights come from
    the file); activations, regularizers and constraints are, when Keras
    names them. A layer with no counterpart here raises a ValueError naming
    it and the fix.

    Args:
        path: the Keras file.
        custom_objects: `{"Name": Class}`, as Keras's `load_model`: the
            file's layers of class (or registered name) "Name" are built as
            `Class` (a `kr.Layer` subclass with `get_config`), weights
            included. Classes registered with
            `@kr.saving.register_keras_serializable()` need no entry.

    >>> model = kr.from_keras("keras_model.keras")  # doctest: +SKIP
    >>> model(torch.tensor([[4, 8, 15, 0, 0]]))  # doctest: +SKIP
    """
    with registry.custom_objects(custom_objects):
        return _from_keras(path)


def _from_keras(path: PathLike) -> Sequential | Model:
    with open_saved(path) as saved:
        config = saved.config
        if config is None:
            kind = "a legacy .h5 file saved without its model" if isinstance(saved, LegacyWeights) else \
                "a .weights.h5 file (weights only)"
            raise ValueError(f"{path} is {kind}: it has no model configuration to build from. Build the model "
                             "with kerasrnn_torch layers and call kr.load_keras_weights(model, path)")
        model = model_from_config(config, str(path))
    load_keras_weights(model, path)
    return model


# model.load_weights (models/ cannot import io/) reaches it through the registry.
registry.provide("load_keras_weights", load_keras_weights)
