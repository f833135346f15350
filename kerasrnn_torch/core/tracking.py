"""Inner layers a Keras-style layer keeps in a list or a dict are tracked, as Keras tracks them.

`self.blocks = [layers.Dense(8), layers.Dense(4)]` in a layer written Keras's way makes the Dense
layers part of the layer in Keras: their weights are the layer's, trained, saved and loaded (under
`blocks/dense`, `blocks/dense_1` in Keras's files). A plain Python list would hide them from
`torch.nn.Module`, so their weights would silently not train. Here such a list becomes a
`TrackedList` (a `torch.nn.ModuleList`: indexing, iteration, `len` and `append` as before) and such
a dict a `TrackedDict` (a `torch.nn.ModuleDict`).
"""
from __future__ import annotations

from typing import Any

from torch import nn


class TrackedList(nn.ModuleList):
    """A Keras-style layer's list of inner layers (a `list` or `tuple` of modules assigned to it)."""


class TrackedDict(nn.ModuleDict):
    """A Keras-style layer's dict of inner layers (string keys, module values)."""


def tracked(value: Any, owner: str, attribute: str) -> Any:
    """`value` as the layer should hold it: a list/tuple of modules as a TrackedList, a dict of them as a
    TrackedDict, anything else as it is. A container mixing modules with other values is refused:
    the modules in it would not be part of the layer."""
    if isinstance(value, (list, tuple)) and not isinstance(value, nn.Module) and value:
        modules = [isinstance(item, nn.Module) for item in value]
        if all(modules):
            return TrackedList(value)
        if any(modules):
            raise TypeError(f"{owner}: `self.{attribute}` mixes layers with other values; the layers in it would "
                            "not be tracked (their weights would not train or save): keep the layers in a list "
                            "of their own")
    if isinstance(value, dict) and value:
        modules = [isinstance(item, nn.Module) for item in value.values()]
        if all(modules) and all(isinstance(key, str) for key in value):
            return TrackedDict(value)
        if any(modules):
            raise TypeError(f"{owner}: `self.{attribute}` is a dict holding layers with non-string keys or other "
                            "values; the layers in it would not be tracked: use string keys and layers only")
    return value


def expanded_children(module: nn.Module) -> list[nn.Module]:
    """`module`'s children in assignment order, with each tracked list's or dict's layers in its place."""
    children: list[nn.Module] = []
    for child in module.children():
        if isinstance(child, TrackedDict):
            children.extend(child.values())
        elif isinstance(child, TrackedList):
            children.extend(child)
        else:
            children.append(child)
    return children
