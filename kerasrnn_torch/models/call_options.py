"""How a container calls its layers: which of `mask` and `training` a layer's forward takes, and a mode switch.

Shared by `Sequential` and the functional `Model`.
"""
from __future__ import annotations

import contextlib
import inspect

from torch import nn

from ..core.layer import Layer


def keywords_for(layer: nn.Module) -> frozenset:
    """Which of `mask` and `training` a container may pass to this layer's forward."""
    try:
        parameters = inspect.signature(layer.forward).parameters
    except (TypeError, ValueError):
        return frozenset()
    named = {name for name, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    keywords = {"training"} & named
    if "mask" in named and (isinstance(layer, Layer) or getattr(layer, "supports_masking", False)):
        keywords.add("mask")
    return frozenset(keywords)


@contextlib.contextmanager
def running_in_mode(layer: nn.Module, training: bool | None):
    """Run `layer` in train (True) or eval (False) mode for one call; None leaves its flags alone."""
    if training is None or all(m.training == training for m in layer.modules()):
        yield
        return
    flags = [(m, m.training) for m in layer.modules()]
    layer.train(bool(training))
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag
