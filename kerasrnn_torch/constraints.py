"""Keras weight constraints: projections applied to a weight after each optimizer step.

A constraint is any callable `fn(weight) -> projected weight`. The classes
here give Keras 3's formulas, epsilon included. Axes are in Keras's weight
layout, which is the layout of our weights: for a kernel
`(input_dim, k*units)`, `axis=0` constrains the incoming weights of each unit.
`kr.apply_constraints(model)` applies them in place.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, cast

import torch

from ._configurable import Configurable

EPSILON = 1e-7  # Keras's backend.epsilon(), added to the norms it divides by


def _axis(value: Any, owner: str) -> int | tuple[int, ...]:
    """An int or a list of ints, as Keras accepts (a list becomes a tuple for torch)."""
    several = isinstance(value, (list, tuple))
    values = list(value) if several else [value]
    if not values or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{owner}: `axis` must be an int or a list of ints, got {value!r}")
    return tuple(int(v) for v in values) if several else int(value)


def _norms(w: torch.Tensor, axis: int | tuple[int, ...]) -> torch.Tensor:
    return w.square().sum(dim=axis, keepdim=True).sqrt()


class Constraint(Configurable):
    """Base class: a callable from a weight to its projection (the identity here).

    Subclasses override `__call__`; `get_config` lists the constructor
    arguments, so `type(c).from_config(c.get_config())` rebuilds it.
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w



class MaxNorm(Constraint):
    """Rescale slices whose L2 norm along `axis` exceeds `max_value`, as `keras.constraints.MaxNorm`.

    Args:
        max_value: the largest norm allowed (default 2).
        axis: the axis (or axes) the norm runs over (default 0).

    >>> layer = kr.LSTM(8, kernel_constraint=kr.constraints.MaxNorm(3.0))
    """

    def __init__(self, max_value: float = 2, axis: int | Sequence[int] = 0) -> None:
        self.max_value = max_value
        self.axis = _axis(axis, "MaxNorm")

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to zero, as `keras.constraints.NonNeg`."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w.clamp_min(0)


class UnitNorm(Constraint):
    """Divide each slice along `axis` by its L2 norm (plus 1e-7), as `keras.constraints.UnitNorm`.

    Args:
        axis: the axis (or axes) the norm runs over (default 0).
    """

    def __init__(self, axis: int | Sequence[int] = 0) -> None:
        self.axis = _axis(axis, "UnitNorm")

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Pull each slice's L2 norm along `axis` into `[min_value, max_value]`, as `keras.constraints.MinMaxNorm`.

    The new norm is `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`:
    `rate=1` enforces the bounds at once, a smaller rate moves towards them.

    Args:
        min_value: default 0.0. max_value: default 1.0. rate: default 1.0.
        axis: the axis (or axes) the norm runs over (default 0).
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | Sequence[int] = 0) -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = _axis(axis, "MinMaxNorm")

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras 3's names: its snake-case and class names.
_BY_NAME: dict[str, Callable[[], Constraint]] = {
    "max_norm": MaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
    "min_max_norm": MinMaxNorm,
    "MaxNorm": MaxNorm,
    "NonNeg": NonNeg,
    "UnitNorm": UnitNorm,
    "MinMaxNorm": MinMaxNorm,
}


def get(identifier: str | dict[str, Any] | type[Constraint] | Callable[[torch.Tensor], torch.Tensor] | None
        ) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """Resolve a constraint: `None`, a Keras name (Keras's defaults), or a callable `fn(weight) -> weight`.

    Callables (ours, plain functions, Keras's constraint objects) are
    returned as they are.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]()
        except KeyError:
            known = ", ".join(sorted(_BY_NAME))
            raise ValueError(f"Unknown constraint {identifier!r}; expected one of: {known}, "
                             "a Constraint, or a callable on a tensor") from None
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if isinstance(identifier, dict):     # Keras's serialized form: {"class_name": ..., "config": {...}}
        cls = _BY_NAME.get(str(identifier.get("class_name")))
        if not (isinstance(cls, type) and issubclass(cls, Constraint)):
            raise ValueError(f"Unknown constraint class {identifier.get('class_name')!r} in {identifier!r}")
        return cls.from_config(dict(identifier.get("config") or {}))
    if callable(identifier):
        return cast(Callable[[torch.Tensor], torch.Tensor], identifier)
    raise TypeError(f"A constraint must be None, a Keras name or a callable on a tensor; got {identifier!r}")


def serialize(constraint: Constraint | None) -> dict[str, Any] | None:
    """Keras's serialized form: `{"module": "keras.constraints", "class_name", "config", "registered_name"}`; None stays None."""
    if constraint is None:
        return None
    if not isinstance(constraint, Constraint):
        raise ValueError(f"Cannot serialize the constraint {constraint!r}: only kerasrnn_torch.constraints objects have a "
                         "Keras configuration")
    return {"module": "keras.constraints", "class_name": type(constraint).__name__, "config": constraint.get_config(),
            "registered_name": None}


def deserialize(config: str | dict[str, Any]) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """A constraint from `serialize`'s dictionary (or Keras's), or from a Keras name."""
    if not isinstance(config, (str, dict)):
        raise ValueError(f"A serialized constraint is a Keras name or a dict with 'class_name' and 'config', "
                         f"got {config!r}")
    return get(config)


# Keras's lowercase aliases of the classes (`keras.constraints.max_norm is keras.constraints.MaxNorm`).
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
