"""Normalization, as `keras.layers.Normalization`: `(x - mean) / sqrt(variance)` with a mean and variance
given or learned from data by `adapt`."""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from ..._checks import describe, require_tensor, shape_text
from ..._types import InputShape
from ...core.layer import Layer
from ...core.registry import register_keras_class

EPSILON = 1e-7      # Keras's backend.epsilon(): the smallest standard deviation divided by


def _axes(axis: Any, owner: str) -> tuple[int, ...]:
    if axis is None:
        return ()
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return (int(axis),)
    if isinstance(axis, (list, tuple)) and all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                                               for a in axis):
        return tuple(int(a) for a in axis)
    raise TypeError(f"{owner}: `axis` must be None, an int or a list of ints, got {axis!r}")


def _batch_of(item: Any) -> Any:
    """A batch from what a dataset yields: `x`, or the `x` of an `(x, y)` or `(x, y, sample_weight)` tuple."""
    return item[0] if isinstance(item, (tuple, list)) and item and hasattr(item[0], "shape") else item


@register_keras_class("Normalization")
class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1 per feature, as `keras.layers.Normalization`.

    `(x - mean) / max(sqrt(variance), 1e-7)`, or with `invert=True`, `mean + x * max(sqrt(variance), 1e-7)`
    (back from normalized values). The mean and variance are given (`mean=`, `variance=`), or computed
    from data by `layer.adapt(data)` (kept as the layer's non-trainable weights "mean", "variance" and
    "count", as Keras keeps them, so they travel with Keras files).

    Args:
        axis: the axis or axes that keep their own mean and variance (default -1: one per feature); every
            other axis is averaged over. None: one mean and variance for everything.
        mean, variance: numbers or arrays (broadcast against the kept axes); both or neither.
        invert: undo a normalization instead.
        name, device, dtype, input_shape: see `Layer`.

    >>> layer = Normalization()
    >>> layer.adapt(torch.tensor([[0.0, 10.0], [2.0, 30.0]]))
    >>> layer(torch.tensor([[1.0, 20.0]])).tolist()
    [[0.0, 0.0]]
    """

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] | None = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.axis = _axes(axis, owner)
        if (mean is None) != (variance is None):
            raise ValueError(f"{owner}: When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        self.input_mean = None if mean is None else np.asarray(mean, dtype="float64")
        self.input_variance = None if variance is None else np.asarray(variance, dtype="float64")
        if self.input_mean is not None and self.input_variance is not None:
            if self.input_mean.shape != self.input_variance.shape:
                raise ValueError(f"{owner}: When setting values directly, `mean` and `variance` must have the same "
                                 f"shape. Received: mean shape {self.input_mean.shape} and variance shape "
                                 f"{self.input_variance.shape}")
            if self.input_mean.ndim > len(self.axis):
                raise ValueError(f"{owner}: The rank of `mean` must be less than or equal to the number of axes "
                                 f"({len(self.axis)}). Received: mean shape {self.input_mean.shape} for axis "
                                 f"{self.axis}")
        self.invert = bool(invert)
        self._build_input_shape: tuple[int | None, ...] | None = None
        self._keep: tuple[int, ...] = ()
        self._reduce: tuple[int, ...] = ()
        self._broadcast: list[int] = []
        self._given_mean: torch.Tensor | None = None
        self._given_variance: torch.Tensor | None = None
        self.build_from_hint()

    def expected_weights(self) -> list[tuple[str, bool]]:
        # "count" (int32, as Keras's) is made by `build` alone: a placeholder would take the layer's float dtype.
        return [] if self.input_mean is not None else [("mean", False), ("variance", False)]

    def build(self, input_shape: InputShape) -> None:
        owner = describe(self)
        rank = len(input_shape)
        if any(not -rank <= axis < rank for axis in self.axis):
            raise ValueError(f"{owner}: All `axis` values must be in the range [-ndim, ndim). Received inputs "
                             f"with ndim={rank}, while axis={self.axis}")
        self._build_input_shape = tuple(input_shape)
        self._keep = tuple(sorted(axis % rank for axis in self.axis))
        for axis in self._keep:
            if input_shape[axis] is None:
                raise ValueError(f"{owner}: All `axis` values to be kept must have a known shape. Received "
                                 f"axis={self.axis}, inputs.shape={shape_text(input_shape)}, with unknown axis at "
                                 f"index {axis}")
        self._reduce = tuple(axis for axis in range(rank) if axis not in self._keep)
        self._broadcast = [int(input_shape[axis]) if axis in self._keep else 1 for axis in range(rank)]
        kept_shape = tuple(int(input_shape[axis]) for axis in self._keep)
        if self.input_mean is None:
            self.add_weight("mean", kept_shape, "zeros", trainable=False)
            self.add_weight("variance", kept_shape, "ones", trainable=False)
            self.add_weight("count", (), "zeros", dtype="int32", trainable=False)
        else:
            assert self.input_variance is not None
            self._given_mean = self._placed(self.input_mean, rank)
            self._given_variance = self._placed(self.input_variance, rank)
        self.built = True

    def _placed(self, value: np.ndarray, rank: int) -> torch.Tensor:
        """A given mean or variance, its axes on the kept axes (the last ones first), broadcast to the
        input's rank, as Keras places them."""
        shape = [1] * rank
        for position in range(1, value.ndim + 1):
            shape[self._keep[-position]] = value.shape[-position]
        tensor = torch.as_tensor(value, dtype=torch.float32).reshape(shape)
        return tensor.expand(self._broadcast).clone()

    # ---------------------------------------------------------------- adapt
    def adapt(self, data: Any) -> None:
        """Compute the mean and variance of `data` over the averaged axes, as Keras's `adapt`.

        `data`: a NumPy array or a tensor (all of it at once), or an iterable of batches (a list of arrays,
        a generator, a `kr.utils.PyDataset`; `(x, y)` batches give their `x`), combined batch by batch as
        Keras combines them.
        """
        owner = describe(self)
        if self.input_mean is not None:
            raise ValueError(f"{owner}: adapt() computes the mean and variance; this layer was given them")
        if isinstance(data, (np.ndarray, torch.Tensor)):
            batches: Iterable[Any] = [data]
            single = True
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            batches, single = data, False
        else:
            raise TypeError(f"{owner}: adapt() takes a NumPy array, a tensor or an iterable of batches, got "
                            f"{type(data).__name__}")
        total_mean: torch.Tensor | None = None
        total_variance: torch.Tensor | None = None
        total_count = 0
        for item in batches:
            batch = _batch_of(item)
            if not hasattr(batch, "shape"):
                raise TypeError(f"{owner}: adapt() expects batches that are arrays or tensors, got "
                                f"{type(batch).__name__}")
            x = torch.as_tensor(np.asarray(batch) if not isinstance(batch, torch.Tensor) else batch.detach())
            x = x.to(torch.float64)
            if not self.built:
                self.build(tuple(x.shape))
            assert self._build_input_shape is not None
            if x.dim() != len(self._build_input_shape) or any(
                    x.shape[axis] != self._build_input_shape[axis] for axis in self._keep):
                raise ValueError(f"{owner}: The layer was built with input_shape={shape_text(self._build_input_shape)}, "
                                 f"but adapt() is being called with data with an incompatible shape, "
                                 f"data.shape={shape_text(x.shape)}")
            reduce = list(self._reduce)
            batch_mean = x.mean(dim=reduce) if reduce else x.clone()
            batch_variance = x.var(dim=reduce, unbiased=False) if reduce else torch.zeros_like(x)
            if single:
                total_mean, total_variance = batch_mean, batch_variance
                break
            count = math.prod(x.shape[axis] for axis in self._reduce) if self._reduce else 1
            total_count += count
            new_weight = count / total_count
            old_weight = 1.0 - new_weight
            if total_mean is None or total_variance is None:
                total_mean, total_variance = batch_mean, batch_variance
                continue
            mean = total_mean * old_weight + batch_mean * new_weight
            total_variance = ((total_variance + (total_mean - mean) ** 2) * old_weight
                              + (batch_variance + (batch_mean - mean) ** 2) * new_weight)
            total_mean = mean
        if total_mean is None or total_variance is None:
            raise ValueError(f"{owner}: adapt() received an empty iterable (no batches). Expected at least one "
                             "batch")
        with torch.no_grad():
            self.get_parameter("mean").copy_(total_mean.reshape(self.get_parameter("mean").shape))
            self.get_parameter("variance").copy_(total_variance.reshape(self.get_parameter("variance").shape))

    # ---------------------------------------------------------------- call
    def _statistics(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        if self._given_mean is not None and self._given_variance is not None:
            mean, variance = self._given_mean, self._given_variance
        else:
            mean = self.get_parameter("mean").reshape(self._broadcast)
            variance = self.get_parameter("variance").reshape(self._broadcast)
        return mean.to(device=device, dtype=dtype), variance.to(device=device, dtype=dtype)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`(inputs - mean) / max(sqrt(variance), 1e-7)` (`invert=True`: `mean + inputs * max(...)`)."""
        require_tensor(inputs, describe(self))
        if not self.built:
            self.build(tuple(inputs.shape))
        dtype = self.factory_kwargs["dtype"] or torch.get_default_dtype()
        x = inputs.to(dtype)
        if x.dim() != len(self._broadcast):
            raise ValueError(f"{describe(self)} was built for inputs of rank {len(self._broadcast)}, got shape "
                             f"{shape_text(inputs.shape)}")
        mean, variance = self._statistics(x.device, dtype)
        spread = torch.clamp(torch.sqrt(variance), min=EPSILON)
        return mean + x * spread if self.invert else (x - mean) / spread

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        def listed(value: np.ndarray | None) -> Any:
            return None if value is None else value.tolist()
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": listed(self.input_mean), "variance": listed(self.input_variance)}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, invert={self.invert}"
