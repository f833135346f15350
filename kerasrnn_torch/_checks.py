"""Argument validators shared by every layer; they produce the standard messages.

Each check names what was expected and what came, in the user's vocabulary.
"""
from __future__ import annotations

import numbers


def describe(layer) -> str:
    """`LSTM 'lstm_1'`: how messages name a layer."""
    return f"{type(layer).__name__} '{getattr(layer, 'name', '?')}'"


def positive_int(value, argument: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: `{argument}` must be a positive integer, got {value!r}")
    return int(value)


def rate(value, argument: str, owner: str) -> float:
    """A dropout rate in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{owner}: `{argument}` must be a float in [0, 1), got {value!r}")
    return float(value)


def one_of(value, allowed, argument: str, owner: str):
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{owner}: `{argument}` must be one of {choices}; got {value!r}")
    return value


def shape_text(shape) -> str:
    """`(4, None, 3)`, and `(24,)` for one axis, as Python prints tuples."""
    parts = ["None" if d is None else str(int(d)) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def require_tensor(value, owner: str, expected: str = "a tensor"):
    """Raise a TypeError naming what came when `value` is not a tensor (a list, a NumPy array, ...)."""
    import torch
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{owner} expects {expected}, got {type(value).__name__} (convert it with torch.as_tensor)")
    return value
