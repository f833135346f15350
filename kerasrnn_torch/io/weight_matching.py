"""Which saved Keras layer's weights go into which of the module's layers, and the report of what happened.

The rules, in order:

1. `layers={...}` given as a mapping: the caller says it (file name or key
   -> module layer); only those load.
2. Names: when every module layer that takes weights carries the name of a
   saved layer (a `.keras` archive or legacy `.h5` knows the names; a model
   made by `from_keras`, or layers given `name=` as in Keras, carry them),
   each takes the saved layer of its name. A partial set of matching names
   does not count: automatic names ("lstm_3") mean nothing across programs.
3. Order and shapes, per Keras class: in a container whose order is Keras's
   own (`Sequential`, `Model`, a single layer) the n-th layer of a class
   takes the file's n-th entry of that class, as Keras loads. In any other
   module (whose attribute order says nothing about the Keras model's), a
   layer takes the one entry of its class whose shapes fit it; when two
   entries fit two layers alike, the pairing is refused, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .keras_formats import SavedLayer, shapes_text


@dataclass
class LoadReport:
    """What `load_keras_weights` did: which saved layer went where, and what it left alone.

    Args:
        label: the file it read.
        loaded: (the file's entry, the module's layer) pairs.
        skipped: (what, why) for layers or entries left as they were
            (mismatched shapes with `skip_mismatch=True`, entries a partial
            load did not use, torch modules with no Keras counterpart).

    >>> print(LoadReport("model.keras", [("LSTM 'lstm' ('layers/lstm')", "LSTM 'encoder'")]))
    Loaded from model.keras:
      LSTM 'lstm' ('layers/lstm') -> LSTM 'encoder'
    """
    label: str
    loaded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"Loaded from {self.label}:"]
        lines += [f"  {entry} -> {owner}" for entry, owner in self.loaded] or ["  nothing"]
        if self.skipped:
            lines.append("Left as they were:")
            lines += [f"  {what}: {why}" for what, why in self.skipped]
        return "\n".join(lines)


def pair_layers(layers, entries: list[SavedLayer], read, *, ordered_as_keras: bool, mapping, label: str):
    """[(KerasLayer, SavedLayer)] for the layers to load, and the entries left unused.

    `read(entry, layer)` gives the entry's arrays for that layer, or raises
    ValueError where its structure does not fit the layer.
    """
    if mapping is not None:
        return _by_mapping(layers, entries, mapping, label)
    weighted = [layer for layer in layers if layer.weights]
    named = {entry.name: entry for entry in entries if entry.name}
    if weighted and all(layer.module.name in named for layer in weighted):
        pairs = [(layer, named[layer.module.name]) for layer in weighted]
        for layer, entry in pairs:
            if entry.keras_class and entry.keras_class != layer.keras_class:
                raise ValueError(f"{layer.owner}: {label}'s layer of that name is {entry.describe()}; the types "
                                 "must match")
    else:
        pairs = _by_class(weighted, entries, read, ordered_as_keras, label)
    used = {id(entry) for _, entry in pairs}
    return pairs, [entry for entry in entries if id(entry) not in used]


def _by_mapping(layers, entries, mapping, label):
    by_module = {id(layer.module): layer for layer in layers}
    pairs = []
    for key, module in mapping.items():
        entry = next((e for e in entries if key in (e.name, e.key, e.key.rpartition("/")[2])), None)
        if entry is None:
            held = ", ".join(e.describe() for e in entries)
            raise ValueError(f"{label} has no layer {key!r}; it holds weights for {held}")
        layer = by_module.get(id(module))
        if layer is None:
            raise ValueError(f"layers={{{key!r}: ...}}: {type(module).__name__} is not a kerasrnn_torch layer of the "
                             "module being loaded")
        pairs.append((layer, entry))
    used = {id(entry) for _, entry in pairs}
    return pairs, [entry for entry in entries if id(entry) not in used]


def _by_class(weighted, entries, read, ordered_as_keras, label):
    if any(entry.keras_class is None for entry in entries):
        return _by_position(weighted, entries, ordered_as_keras, label)
    pairs = []
    for keras_class in dict.fromkeys(layer.keras_class for layer in weighted):
        mine = [layer for layer in weighted if layer.keras_class == keras_class]
        theirs = [entry for entry in entries if entry.keras_class == keras_class]
        if not theirs:
            held = ", ".join(entry.describe() for entry in entries) or "no layer"
            raise ValueError(f"{mine[0].owner}: {label} holds no {keras_class} layer; it holds weights for {held}")
        if ordered_as_keras:
            if len(mine) != len(theirs):
                raise ValueError(f"The module has {len(mine)} {keras_class} layer(s) with weights "
                                 f"[{', '.join(layer.owner for layer in mine)}], {label} holds {len(theirs)} "
                                 f"[{', '.join(entry.describe() for entry in theirs)}]")
            pairs += list(zip(mine, theirs))
        else:
            pairs += _by_shapes(mine, theirs, read, label)
    return pairs


def _by_position(weighted, entries, ordered_as_keras, label):
    """A file that does not say its layers' classes (a legacy .h5 with names of its own): Keras's order only."""
    untyped = ", ".join(entry.describe() for entry in entries if entry.keras_class is None)
    if not ordered_as_keras:
        raise ValueError(f"{label} does not say the class of {untyped}, and the module's attribute order need not be "
                         "the Keras model's; load it into a kr.Sequential or kr.Model, or say which layer takes "
                         "which entry with layers={...}")
    if len(weighted) != len(entries):
        raise ValueError(f"{label} holds weights for {len(entries)} layers "
                         f"[{', '.join(entry.describe() for entry in entries)}], the module has {len(weighted)} "
                         f"layers with weights [{', '.join(layer.owner for layer in weighted)}]")
    return list(zip(weighted, entries))


def _by_shapes(mine, theirs, read, label):
    """Each layer takes the one entry whose arrays fit it; ties are refused."""
    fits = {id(layer): [entry for entry in theirs if _fits(layer, entry, read)] for layer in mine}
    pairs, taken = [], set()
    remaining = list(mine)
    while remaining:
        progress = False
        for layer in list(remaining):
            candidates = [entry for entry in fits[id(layer)] if id(entry) not in taken]
            if not candidates:
                shapes = shapes_text(layer.weights)
                raise ValueError(f"{layer.owner} expects weights with shapes {shapes}; no {layer.keras_class} "
                                 f"layer of {label} that is still free holds such weights "
                                 f"({', '.join(entry.describe() for entry in theirs)})")
            if len(candidates) == 1:
                pairs.append((layer, candidates[0]))
                taken.add(id(candidates[0]))
                remaining.remove(layer)
                progress = True
        if not progress:
            tied = ", ".join(layer.owner for layer in remaining)
            options = ", ".join(entry.describe() for entry in theirs if id(entry) not in taken)
            example = ", ".join(f"{entry.key.rpartition('/')[2]!r}: ..." for entry in theirs
                                if id(entry) not in taken)
            raise ValueError(
                f"{label}: the layers {tied} each fit several of {options} (same class and shapes), and the "
                "module's attribute order need not be the Keras model's, so which weights go where cannot be "
                "decided; nothing was loaded. Say it with layers={" + example + "} (module layers as values), or "
                "give the layers the Keras model's names (name=...) and load a .keras or legacy .h5 file")
    return pairs


def _fits(layer, entry, read) -> bool:
    try:
        arrays = read(entry, layer)
    except ValueError:
        return False
    return len(arrays) == len(layer.weights) and all(
        tuple(a.shape) == tuple(w.shape) for a, w in zip(arrays, layer.weights))
