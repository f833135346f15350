"""Losses laid over nested output structures, as Keras 3's `CompileLoss` lays them.

A model may return tuples, namedtuples, lists and dicts nested in one another; `compile(loss=...)` may give
a loss for the whole structure, a loss per leaf, or a structure that mixes both (a list of losses where the
outputs are a tuple means "each of these, over the whole outputs"). `StructuredLoss.build` walks the loss
structure against the outputs' and keeps one `(path, loss, weight, name)` entry per loss that counts; each
loss then gets the part of the targets and predictions its path leads to (a tensor, or a structure).

The names follow Keras's: the output's layer name where the path ends in a position, the dict key where it
ends in a key, the keys joined by "/" down the path, and the leaves' names joined by "_" for a loss over the
whole structure.

Containers follow Keras's tree rules: a list, tuple (namedtuple included) or dict is a node, anything else
(None included) a leaf; dicts flatten in their keys' sorted order.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from ...losses.loss import Loss
from ...metrics.metric import Mean

Path = tuple[Any, ...]


# ---------------------------------------------------------------- Keras's tree rules
def is_nested(value: Any) -> bool:
    """Whether `value` is a container node (list, tuple, namedtuple, dict)."""
    return isinstance(value, (list, tuple, dict))


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    return list(value)


def flatten(value: Any) -> list[Any]:
    """The leaves in Keras's order (dict keys sorted)."""
    if not is_nested(value):
        return [value]
    return [leaf for child in _children(value) for leaf in flatten(child)]


def _rebuild(like: Any, children: list[Any]) -> Any:
    if isinstance(like, dict):
        by_key = dict(zip(sorted(like), children))
        return {key: by_key[key] for key in like}
    if isinstance(like, tuple) and hasattr(like, "_fields"):
        return type(like)(*children)
    return type(like)(children)


def pack_as(structure: Any, leaves: Sequence[Any]) -> Any:
    """`leaves` arranged as `structure` (ValueError when the counts differ)."""
    count = len(flatten(structure))
    if count != len(leaves):
        raise ValueError(f"cannot arrange {len(leaves)} values as a structure of {count}")
    source: Iterator[Any] = iter(leaves)

    def build(node: Any) -> Any:
        if not is_nested(node):
            return next(source)
        return _rebuild(node, [build(child) for child in _children(node)])
    return build(structure)


def same_structure(a: Any, b: Any) -> bool:
    """Same containers (same types, same dict keys, same lengths) all the way down."""
    if not is_nested(a) or not is_nested(b):
        return not is_nested(a) and not is_nested(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(same_structure(a[key], b[key]) for key in a)
    return len(a) == len(b) and all(same_structure(x, y) for x, y in zip(a, b))


def map_structure(fn: Callable[..., Any], first: Any, *others: Any) -> Any:
    """`fn` over the leaves of structures of one shape (the first one's)."""
    if not is_nested(first):
        return fn(first, *others)
    keys = sorted(first) if isinstance(first, dict) else range(len(first))
    children = [map_structure(fn, first[key], *(other[key] for other in others)) for key in keys]
    return _rebuild(first, children)


def shape_text(value: Any) -> Any:
    """A structure with "*" for every leaf (for error messages)."""
    return map_structure(lambda _: "*", value)


def at(path: Path, value: Any) -> Any:
    """The part of `value` that `path` leads to."""
    for key in path:
        value = value[key]
    return value


# ---------------------------------------------------------------- the walk
class _Weighted:
    """One loss identifier with its weight: a leaf of the loss structure while it is walked."""

    def __init__(self, loss: Any, weight: Any) -> None:
        self.loss = loss
        self.weight = weight


def _pair(loss: Any, weight: Any) -> _Weighted | None:
    return None if loss is None else _Weighted(loss, weight)


class StructuredLoss:
    """The losses of a compiled model over its (nested) outputs; `__call__` gives the weighted sum.

    Args:
        loss, loss_weights: as `compile` takes them.
        flat_names: the name of each output leaf (its layer's name), in flattening order.
        resolve: `(identifier, y_true, y_pred) -> Loss`, the loss `compile` makes of one identifier.
    """

    def __init__(self, loss: Any, loss_weights: Any, flat_names: Sequence[str],
                 resolve: Callable[[Any, Any, Any], Loss | None]) -> None:
        self.user_loss = loss
        self.user_weights = loss_weights
        self.flat_names = list(flat_names)
        self.resolve = resolve
        self.entries: list[tuple[Path, Loss, Any, str]] = []
        self.trackers: list[Mean] = []
        self.built = False
        self.pred_layout: Any = None
        self.true_layout: Any = None

    # -------------------------------------------------------------- build
    def build(self, y_true: Any, y_pred: Any) -> None:
        """Resolve every loss and its path from the first batch's structures."""
        loss, weights = self.user_loss, self.user_weights
        names = self.flat_names
        if names and isinstance(loss, dict) and not isinstance(y_pred, dict):
            if set(names) != set(loss):
                raise ValueError(f"Expected keys {names} in loss dict, but found loss.keys()={list(loss)}")
            loss = [loss[name] for name in names]
            if isinstance(weights, dict):
                weights = [weights[name] for name in names]
        if weights is not None:
            if not same_structure(loss, weights):
                flat_weights = flatten(weights)
                if len(flatten(loss)) != len(flat_weights):
                    raise ValueError(f"`loss_weights` must match the number of losses, got {len(flatten(loss))} "
                                     f"losses and {len(flat_weights)} weights.")
                weights = pack_as(loss, flat_weights)
            paired = map_structure(_pair, loss, weights)
        else:
            paired = map_structure(lambda entry: _pair(entry, None), loss)
        if isinstance(paired, dict) and set(paired) == set(names):
            if isinstance(y_pred, (list, tuple)) and len(y_pred) == len(names):
                y_pred, y_true = dict(zip(names, y_pred)), dict(zip(names, y_true))
            elif not is_nested(y_pred) and len(names) == 1:
                y_pred, y_true = {names[0]: y_pred}, {names[0]: y_true}
        try:
            output_names = pack_as(y_pred, names)
        except ValueError:
            output_names = pack_as(y_pred, [None] * len(flatten(y_pred)))
        if not is_nested(paired):
            single = paired
            paired = map_structure(lambda _: single, y_pred)
        self.entries = []
        self._walk(y_true, y_pred, paired, output_names, ())
        if not self.entries:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        self.trackers = [Mean(name=f"{name}_loss") for _, _, _, name in self.entries] \
            if len(self.entries) > 1 else []
        self.pred_layout = map_structure(lambda _: None, y_pred)
        self.true_layout = map_structure(lambda _: None, y_true)
        self.built = True

    def _walk(self, y_true: Any, y_pred: Any, loss: Any, names: Any, path: Path) -> None:
        if loss is None:
            return
        if isinstance(loss, _Weighted):
            self._add(y_true, y_pred, loss, names, path)
            return
        if isinstance(loss, (list, tuple)) and not any(is_nested(entry) for entry in loss) \
                and len(loss) == len(flatten(y_pred)):
            loss = pack_as(y_pred, list(loss))       # one loss per leaf
        elif isinstance(loss, (list, tuple)) and not isinstance(y_pred, type(loss)):
            for entry in loss:                       # each loss of the list over the same outputs
                self._walk(y_true, y_pred, entry, names, path)
            return
        if not is_nested(loss):
            self._walk(y_true, y_pred, loss, names, path)
            return
        if not isinstance(loss, type(y_pred)):
            raise KeyError(f"The path: {path} in the `loss` argument, can't be found in the model's output "
                           f"(`y_pred`): the loss there is a {type(loss).__name__}, the outputs a "
                           f"{type(y_pred).__name__}.")
        keys = list(loss) if isinstance(loss, dict) else list(range(len(loss)))
        for key in keys:
            entry = loss[key]
            if entry is None:
                continue
            if not all(_has(part, key) for part in (y_true, y_pred)):
                raise KeyError(f"The path: {path + (key,)} in the `loss` argument, can't be found in either the "
                               "model's output (`y_pred`) or in the labels (`y_true`).")
            self._walk(y_true[key], y_pred[key], entry, names[key], path + (key,))

    def _add(self, y_true: Any, y_pred: Any, loss: _Weighted, names: Any, path: Path) -> None:
        resolved = self.resolve(loss.loss, y_true, y_pred)
        if resolved is None:
            return
        name_path = path
        if not is_nested(names):
            leaf_name = names if names is not None else resolved.name
            if not name_path:
                name_path = (leaf_name,)
            elif isinstance(name_path[-1], int):
                name_path = name_path[:-1] + (leaf_name,)
        name = "/".join(str(part) for part in name_path)
        if not name:
            name = "_".join(str(n) for n in (list(names) if isinstance(names, dict) else flatten(names)))
        self.entries.append((path, resolved, loss.weight, name))

    # -------------------------------------------------------------- call
    def align_targets(self, y_true: Any, y_pred: Any) -> Any:
        """The targets arranged as the outputs, where Keras reconciles the two."""
        if same_structure(y_pred, y_true):
            return y_true
        if not is_nested(y_true) and is_nested(y_pred) and len(y_pred) == 1:
            y_true = [y_true]
        elif isinstance(y_pred, (list, tuple)) and isinstance(y_true, dict) and set(self.flat_names) == set(y_true):
            y_true = [y_true[name] for name in self.flat_names]
        try:
            return pack_as(y_pred, flatten(y_true))
        except ValueError:
            raise ValueError(f"y_true and y_pred have different structures.\ny_true: {shape_text(y_true)}\n"
                             f"y_pred: {shape_text(y_pred)}\n") from None

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any, batch_size: int,
                 masks: Any = None) -> torch.Tensor:
        """The total loss; `masks`: the outputs' masks in the outputs' structure (None: none). A loss whose path
        ends at one output gets that output's mask, as Keras's losses read it from the output; a loss over a
        structure gets none, as in Keras."""
        y_true = self.align_targets(y_true, y_pred)
        if not self.built:
            self.build(y_true, y_pred)
        if not same_structure(self.pred_layout, y_pred):
            y_pred = pack_as(self.pred_layout, flatten(y_pred))
            masks = None if masks is None else pack_as(self.pred_layout, flatten(masks))
        if not same_structure(self.true_layout, y_true):
            y_true = pack_as(self.true_layout, flatten(y_true))
        total: torch.Tensor | None = None
        for position, (path, loss, weight, name) in enumerate(self.entries):
            weights = at(path, sample_weight) if is_nested(sample_weight) else sample_weight
            mask = None if masks is None else at(path, masks)
            value = loss(at(path, y_true), at(path, y_pred), weights,
                         mask=mask if isinstance(mask, torch.Tensor) else None)
            if self.trackers:
                self.trackers[position].update_state(value.detach(), sample_weight=batch_size)
            if weight is not None:
                value = value * float(weight)
            total = value if total is None else total + value
        assert total is not None
        return total


def _has(value: Any, key: Any) -> bool:
    if isinstance(key, int) and not isinstance(key, bool):
        return isinstance(value, (list, tuple)) and key < len(value)
    return isinstance(value, dict) and key in value


def needs_structure(loss: Any, y_pred: Any, flat_names: Sequence[str], deep: bool = False) -> bool:
    """Whether the loss must be laid out by `StructuredLoss`: the outputs nest containers, or Keras's walk
    puts a loss somewhere else than on one output each. A walk that fails leaves a `deep` loss (one that nests
    containers beyond a list per output) to `StructuredLoss`, whose build then says what does not fit."""
    if is_nested(y_pred) and any(is_nested(child) for child in _children(y_pred)):
        return True
    if not is_nested(y_pred) or not is_nested(loss):
        return False
    probe = StructuredLoss(loss, None, flat_names, lambda identifier, _t, _p: _Probe(identifier))
    try:
        probe.build(pack_as(y_pred, [None] * len(flatten(y_pred))), y_pred)
    except (KeyError, ValueError, TypeError):
        return deep
    return any(len(path) != 1 for path, _, _, _ in probe.entries)


class _Probe(Loss):
    """A stand-in loss while `needs_structure` walks the loss structure (nothing is resolved)."""

    def __init__(self, identifier: Any) -> None:
        super().__init__(name="probe")
        self.identifier = identifier


__all__ = ["StructuredLoss", "needs_structure", "flatten", "pack_as", "same_structure", "map_structure",
           "is_nested", "at"]
