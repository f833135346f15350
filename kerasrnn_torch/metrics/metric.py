"""Keras's stateful metrics: `update_state` per batch, `result` at any time, `reset_state` per epoch."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch

from .. import _dtypes, initializers
from ..losses import functions as loss_functions
from ..losses.reduction import apply_mask, squeeze_or_expand_to_same_rank
from ..weight import Weight


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Metric:
    """The base of Keras's metrics: state kept as float32 tensors on the device of the data it sees.

    Args:
        name: the metric's name, the key of its result in `fit`'s logs
            (default: its class's name in snake case).
        dtype: the state's dtype (default float32, Keras's floatx).

    Subclasses implement `update_state`, `result` and `reset_state`.

    >>> m = kr.metrics.Mean()
    >>> m.update_state(torch.tensor([1., 3.]))
    >>> m.result()
    tensor(2.)
    """

    # Whether a larger result is better ("up") or smaller ("down"); callbacks in mode="auto" read it.
    direction = "up"

    def __init__(self, name: str | None = None, dtype: torch.dtype = torch.float32) -> None:
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Fold a batch into the state."""
        raise NotImplementedError

    def result(self) -> torch.Tensor:
        """The metric's value so far, a scalar tensor."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget every batch seen: by default, every variable made with `add_variable` back to zeros
        (as Keras's default)."""
        variables = self.__dict__.get("_own_variables")
        if variables is None:
            raise NotImplementedError(f"{type(self).__name__} has no variables made with add_variable(); "
                                      "define reset_state()")
        for variable in variables:
            variable.assign(torch.zeros_like(variable))

    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Weight:
        """A state variable of a metric written as Keras's (`self.total = self.add_variable(shape=(),
        initializer="zeros", name="total")`): a non-trainable `Weight` with `assign`, `assign_add`,
        `value` and `numpy()`, initialized by a `kr.initializers` name or object, on the CPU.
        `aggregation` is accepted for Keras's code (one device: nothing to aggregate)."""
        if aggregation not in ("none", "mean", "sum", "only_first_replica"):
            raise ValueError(f"{type(self).__name__}.add_variable: `aggregation` must be one of 'none', 'mean', "
                             f"'sum', 'only_first_replica'; got {aggregation!r}")
        dtype_ = self.dtype if dtype is None else _dtypes.from_name(dtype, f"{type(self).__name__}.add_variable")
        shape = (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)
        tensor = torch.empty(shape, dtype=dtype_)
        with torch.no_grad():
            initializers.apply(initializers.get(initializer), tensor)
        variable = Weight(tensor, requires_grad=False)
        self.__dict__.setdefault("_own_variables", []).append(variable)
        return variable

    def add_weight(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                   aggregation: str = "sum", name: str | None = None) -> Weight:
        """Keras's older name for `add_variable`."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, aggregation=aggregation,
                                 name=name)

    @property
    def variables(self) -> list[Weight]:
        """The variables made with `add_variable`, in order."""
        return list(self.__dict__.get("_own_variables", ()))

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """`update_state(...)` then `result()`."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """Keras's configuration: name and dtype."""
        return {"name": self.name, "dtype": str(self.dtype).replace("torch.", "")}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def samplewise(values: torch.Tensor, sample_weight: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Keras's `reduce_to_samplewise_values`: weights applied, then each sample's values meaned."""
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.dim(), values.dim()
        if values_ndim > weight_ndim:
            values = values.mean(dim=tuple(range(weight_ndim, values_ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = sample_weight.mean(dim=tuple(range(1, weight_ndim)))
    if values.dim() > 1:
        values = values.mean(dim=tuple(range(1, values.dim())))
    return values, sample_weight


class Mean(Metric):
    """The (weighted) mean of the values seen, as `keras.metrics.Mean`.

    Args:
        name: default "mean".
        dtype: the state's dtype (default float32).

    >>> m = Mean()
    >>> m.update_state(torch.tensor([1., 3.]), sample_weight=torch.tensor([1., 0.]))
    >>> m.result()
    tensor(1.)
    """

    def __init__(self, name: str | None = "mean", dtype: torch.dtype = torch.float32) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = torch.zeros((), dtype=dtype)
        self.count = torch.zeros((), dtype=dtype)

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Add `values` (a scalar, or per sample: each sample's values meaned) with their weights."""
        values = torch.as_tensor(values).detach().to(self.dtype)
        if self.total.device != values.device:
            self.total, self.count = self.total.to(values.device), self.count.to(values.device)
        values, sample_weight = samplewise(values, sample_weight)
        self.total += values.sum()
        if sample_weight is not None:
            self.count += sample_weight.sum()
        else:
            self.count += values.shape[0] if values.dim() >= 1 else 1

    def result(self) -> torch.Tensor:
        """total / count (0 before any update)."""
        return torch.where(self.count != 0, self.total / torch.where(self.count != 0, self.count, 1),
                           torch.zeros_like(self.total))

    def reset_state(self) -> None:
        """Back to zero."""
        self.total = torch.zeros((), dtype=self.dtype, device=self.total.device)
        self.count = torch.zeros((), dtype=self.dtype, device=self.count.device)


class Sum(Metric):
    """The (weighted) sum of the values seen, as `keras.metrics.Sum`.

    Args:
        name: default "sum".
        dtype: the state's dtype (default float32).

    >>> m = Sum()
    >>> m.update_state(torch.tensor([1., 3.]))
    >>> m.result()
    tensor(4.)
    """

    def __init__(self, name: str | None = "sum", dtype: torch.dtype = torch.float32) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = torch.zeros((), dtype=dtype)

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Add the (weighted) values."""
        values = torch.as_tensor(values).detach().to(self.dtype)
        self.total = self.total.to(values.device)
        values, _ = samplewise(values, sample_weight)
        self.total += values.sum()

    def result(self) -> torch.Tensor:
        """The sum so far."""
        return self.total.clone()

    def reset_state(self) -> None:
        """Back to zero."""
        self.total = torch.zeros((), dtype=self.dtype, device=self.total.device)


class MeanMetricWrapper(Mean):
    """The mean of a per-sample function `fn(y_true, y_pred, **kwargs)`, as `keras.metrics.MeanMetricWrapper`.

    Args:
        fn: per-sample metric function (any loss function fits).
        name: the metric's name (default: the function's name).
        dtype: the state's dtype (default float32).
        **kwargs: passed to `fn`.

    `update_state(y_true, y_pred, sample_weight=None, mask=None)`: `mask` is the
    output's mask (Keras reads it from `y_pred`); masked entries count with weight 0.

    >>> m = MeanMetricWrapper(kr.losses.mean_absolute_error)
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(1.)
    """

    def __init__(self, fn: Callable[..., torch.Tensor], name: str | None = None,
                 dtype: torch.dtype = torch.float32, **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None) or type(fn).__name__, dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs
        # Keras's rule: a loss function's mean is better lower.
        self.direction = "down" if getattr(fn, "__module__", None) == loss_functions.__name__ else "up"

    def update_state(self, y_true: Any, y_pred: Any = None, sample_weight: Any = None,  # type: ignore[override]
                     mask: torch.Tensor | None = None) -> None:
        """Add `fn(y_true, y_pred)` per sample, weighted by `sample_weight` and the mask."""
        y_pred = torch.as_tensor(y_pred).detach()
        values = self.fn(torch.as_tensor(y_true, device=y_pred.device), y_pred, **self.fn_kwargs)
        if sample_weight is not None:
            sample_weight = torch.as_tensor(sample_weight, dtype=self.dtype, device=y_pred.device)
        super().update_state(values, apply_mask(sample_weight, mask, self.dtype, "sum"))

    def get_config(self) -> dict[str, Any]:
        """Name, dtype and the function's keyword arguments."""
        return {**super().get_config(), **self.fn_kwargs}
