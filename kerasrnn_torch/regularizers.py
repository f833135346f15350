"""Keras weight regularizers: penalties computed from a tensor, summed into `losses`.

A regularizer is any callable `fn(tensor) -> scalar tensor`. The classes here
give Keras 3's formulas and defaults; `get` also takes Keras's names, a plain
function, or a `keras.regularizers` object (callable on torch tensors when
Keras runs on its torch backend).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, cast

import torch

from ._configurable import Configurable

EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest norm OrthogonalRegularizer divides by


def _factor(value: Any, argument: str, owner: str) -> float:
    """A penalty factor: a finite, non-negative number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: `{argument}` must be a non-negative float, got {value!r}")
    return float(value)


class Regularizer(Configurable):
    """Base class: a callable from a weight (or an activity) to a scalar penalty.

    Subclasses override `__call__`; `get_config` lists the constructor
    arguments, so `type(r).from_config(r.get_config())` rebuilds it.
    """

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(())



class L1(Regularizer):
    """`l1 * sum(abs(x))`, as `keras.regularizers.L1` (default `l1=0.01`).

    >>> layer = kr.LSTM(8, kernel_regularizer=kr.regularizers.L1(0.001))
    """

    def __init__(self, l1: float | None = 0.01) -> None:
        self.l1 = _factor(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.l1 * x.abs().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(x ** 2)`, as `keras.regularizers.L2` (default `l2=0.01`; no 1/2 factor).

    >>> layer = kr.LSTM(8, recurrent_regularizer=kr.regularizers.L2(0.001))
    """

    def __init__(self, l2: float | None = 0.01) -> None:
        self.l2 = _factor(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.l2 * x.square().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(x ** 2)`, as `keras.regularizers.L1L2`.

    The class defaults are Keras's, `l1=0.0, l2=0.0` (no penalty); the name
    "l1_l2" gives `l1=0.01, l2=0.01` (see `get`).

    >>> layer = kr.LSTM(8, bias_regularizer=kr.regularizers.L1L2(l1=0.001, l2=0.01))
    """

    def __init__(self, l1: float | None = 0.0, l2: float | None = 0.0) -> None:
        self.l1 = _factor(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonal rows (or columns) of a 2-D weight, as Keras's.

    `factor * 0.5 * sum(|cosines between distinct rows|) / number of pairs`.

    Args:
        factor: the penalty factor (default 0.01).
        mode: "rows" (default) or "columns".
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _factor(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: `mode` must be 'rows' or 'columns', got {mode!r}")
        self.mode = mode

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight, got shape {tuple(x.shape)}")
        vectors = x if self.mode == "rows" else x.T
        # Keras normalises as x * min(rsqrt(sum(x ** 2)), 1 / epsilon), epsilon 1e-7.
        vectors = vectors * torch.rsqrt(vectors.square().sum(dim=1, keepdim=True)).clamp_max(1.0 / EPSILON)
        size = vectors.shape[0]
        products = (vectors @ vectors.T) * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * products.abs().sum() / pairs

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


# Keras 3's names (its snake-case and class names), plus "l1_l2": Keras 3.15's
# get() rejects "l1_l2", though its docs (and Keras 2) give it l1 = l2 = 0.01.
# "l1l2" stays Keras 3's L1L2() with zero factors, so converted models match.
_BY_NAME: dict[str, Callable[[], Regularizer]] = {
    "l1": L1,
    "l2": L2,
    "l1l2": L1L2,
    "l1_l2": lambda: L1L2(l1=0.01, l2=0.01),
    "orthogonal_regularizer": OrthogonalRegularizer,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
}


def get(identifier: str | dict[str, Any] | type[Regularizer] | Callable[[torch.Tensor], torch.Tensor] | None
        ) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """Resolve a regularizer: `None`, a Keras name, or a callable `fn(tensor) -> scalar`.

    Names give a fresh object with the defaults ("l1", "l2": factor 0.01;
    "l1_l2": both 0.01). Callables (ours, plain functions, Keras's
    regularizer objects) are returned as they are.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]()
        except KeyError:
            known = ", ".join(sorted(_BY_NAME))
            raise ValueError(f"Unknown regularizer {identifier!r}; expected one of: {known}, "
                             "a Regularizer, or a callable on a tensor") from None
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if isinstance(identifier, dict):     # Keras's serialized form: {"class_name": ..., "config": {...}}
        cls = _BY_NAME.get(str(identifier.get("class_name")))
        if not (isinstance(cls, type) and issubclass(cls, Regularizer)):
            raise ValueError(f"Unknown regularizer class {identifier.get('class_name')!r} in {identifier!r}")
        return cls.from_config(dict(identifier.get("config") or {}))
    if callable(identifier):
        return cast(Callable[[torch.Tensor], torch.Tensor], identifier)
    raise TypeError(f"A regularizer must be None, a Keras name or a callable on a tensor; got {identifier!r}")


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """Keras's serialized form: `{"module": "keras.regularizers", "class_name", "config", "registered_name"}`; None stays None."""
    if regularizer is None:
        return None
    if not isinstance(regularizer, Regularizer):
        raise ValueError(f"Cannot serialize the regularizer {regularizer!r}: only kerasrnn_torch.regularizers objects have a "
                         "Keras configuration")
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__, "config": regularizer.get_config(),
            "registered_name": None}


def deserialize(config: str | dict[str, Any]) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """A regularizer from `serialize`'s dictionary (or Keras's), or from a Keras name."""
    if not isinstance(config, (str, dict)):
        raise ValueError(f"A serialized regularizer is a Keras name or a dict with 'class_name' and 'config', "
                         f"got {config!r}")
    return get(config)


# Keras's lowercase aliases of the classes (`keras.regularizers.l1 is keras.regularizers.L1`): `l1_l2()` is
# `L1L2()` with zero factors, as Keras's alias (the name "l1_l2" given to `get` still means 0.01 each).
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer
