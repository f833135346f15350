"""Keras's metric classes over the accuracy and loss functions."""
from __future__ import annotations

import torch

from ..losses import functions as losses
from ..losses.reduction import squeeze_or_expand_to_same_rank
from . import accuracy_functions as accuracy
from .metric import Mean, MeanMetricWrapper

_FLOAT32 = torch.float32


class Accuracy(MeanMetricWrapper):
    """How often predictions equal the targets exactly, as `keras.metrics.Accuracy`.

    Args:
        name: default "accuracy".
        dtype: the state's dtype (default float32).

    >>> m = Accuracy()
    >>> m.update_state(torch.tensor([[1.], [2.]]), torch.tensor([[1.], [0.]]))
    >>> m.result()
    tensor(0.5000)
    """

    def __init__(self, name: str = "accuracy", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(accuracy.accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (prediction > threshold) matches 0/1 targets, as `keras.metrics.BinaryAccuracy`.

    Args:
        name: default "binary_accuracy".
        dtype: the state's dtype (default float32).
        threshold: the decision threshold (default 0.5).

    >>> m = BinaryAccuracy()
    >>> m.update_state(torch.tensor([[1.], [0.]]), torch.tensor([[0.7], [0.6]]))
    >>> m.result()
    tensor(0.5000)
    """

    def __init__(self, name: str = "binary_accuracy", dtype: torch.dtype = _FLOAT32, threshold: float = 0.5) -> None:
        super().__init__(accuracy.binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax matches one-hot targets, as `keras.metrics.CategoricalAccuracy`.

    Args:
        name: default "categorical_accuracy".
        dtype: the state's dtype (default float32).

    >>> m = CategoricalAccuracy()
    >>> m.update_state(torch.tensor([[0., 1.]]), torch.tensor([[0.2, 0.8]]))
    >>> m.result()
    tensor(1.)
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(accuracy.categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax matches integer class ids, as `keras.metrics.SparseCategoricalAccuracy`.

    Args:
        name: default "sparse_categorical_accuracy".
        dtype: the state's dtype (default float32).

    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.3, 0.7]]))
    >>> m.result()
    tensor(0.5000)
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(accuracy.sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the k top predictions, as `keras.metrics.TopKCategoricalAccuracy`.

    Args:
        k: how many top predictions count (default 5).
        name: default "top_k_categorical_accuracy".
        dtype: the state's dtype (default float32).

    >>> m = TopKCategoricalAccuracy(k=1)
    >>> m.update_state(torch.tensor([[0., 1.]]), torch.tensor([[0.2, 0.8]]))
    >>> m.result()
    tensor(1.)
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(accuracy.top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the class id is among the k top predictions, as `keras.metrics.SparseTopKCategoricalAccuracy`.

    Args:
        k: how many top predictions count (default 5).
        name: default "sparse_top_k_categorical_accuracy".
        dtype: the state's dtype (default float32).

    >>> m = SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state(torch.tensor([0]), torch.tensor([[0.2, 0.8]]))
    >>> m.result()
    tensor(0.)
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(accuracy.sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """The mean of `kr.losses.mean_squared_error` per sample, as `keras.metrics.MeanSquaredError`.

    Args:
        name: default "mean_squared_error".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.MeanSquaredError()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(1.)
    """

    def __init__(self, name: str = "mean_squared_error", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of `kr.losses.mean_absolute_error` per sample, as `keras.metrics.MeanAbsoluteError`.

    Args:
        name: default "mean_absolute_error".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.MeanAbsoluteError()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(1.)
    """

    def __init__(self, name: str = "mean_absolute_error", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean of `kr.losses.mean_absolute_percentage_error` per sample, as `keras.metrics.MeanAbsolutePercentageError`.

    Args:
        name: default "mean_absolute_percentage_error".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.MeanAbsolutePercentageError()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(1.0000e+09)
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean of `kr.losses.mean_squared_logarithmic_error` per sample, as `keras.metrics.MeanSquaredLogarithmicError`.

    Args:
        name: default "mean_squared_logarithmic_error".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.MeanSquaredLogarithmicError()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(0.4805)
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """The mean of `kr.losses.log_cosh` per sample, as `keras.metrics.LogCoshError`.

    Args:
        name: default "logcosh".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.LogCoshError()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(0.4338)
    """

    def __init__(self, name: str = "logcosh", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


class KLDivergence(MeanMetricWrapper):
    """The mean of `kr.losses.kl_divergence` per sample, as `keras.metrics.KLDivergence`.

    Args:
        name: default "kl_divergence".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.KLDivergence()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(-1.6118e-06)
    """

    def __init__(self, name: str = "kl_divergence", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """The mean of `kr.losses.poisson` per sample, as `keras.metrics.Poisson`.

    Args:
        name: default "poisson".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.Poisson()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(1.)
    """

    def __init__(self, name: str = "poisson", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """The mean of `kr.losses.hinge` per sample, as `keras.metrics.Hinge`.

    Args:
        name: default "hinge".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.Hinge()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(2.)
    """

    def __init__(self, name: str = "hinge", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """The mean of `kr.losses.squared_hinge` per sample, as `keras.metrics.SquaredHinge`.

    Args:
        name: default "squared_hinge".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.SquaredHinge()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(4.)
    """

    def __init__(self, name: str = "squared_hinge", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """The mean of `kr.losses.categorical_hinge` per sample, as `keras.metrics.CategoricalHinge`.

    Args:
        name: default "categorical_hinge".
        dtype: the state's dtype (default float32).

    >>> m = kr.metrics.CategoricalHinge()
    >>> m.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    >>> m.result()
    tensor(2.)
    """

    def __init__(self, name: str = "categorical_hinge", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(losses.categorical_hinge, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary crossentropy, as `keras.metrics.BinaryCrossentropy`.

    Args:
        name: default "binary_crossentropy".
        dtype: the state's dtype (default float32).
        from_logits, label_smoothing: as `kr.losses.BinaryCrossentropy`.

    >>> m = BinaryCrossentropy()
    >>> m.update_state(torch.tensor([[1.]]), torch.tensor([[0.5]]))
    >>> round(float(m.result()), 4)
    0.6931
    """

    def __init__(self, name: str = "binary_crossentropy", dtype: torch.dtype = _FLOAT32, from_logits: bool = False,
                 label_smoothing: float = 0.0) -> None:
        super().__init__(losses.binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical crossentropy, as `keras.metrics.CategoricalCrossentropy`.

    Args:
        name: default "categorical_crossentropy".
        dtype: the state's dtype (default float32).
        from_logits, label_smoothing, axis: as `kr.losses.CategoricalCrossentropy`.

    >>> m = CategoricalCrossentropy()
    >>> m.update_state(torch.tensor([[0., 1.]]), torch.tensor([[0.5, 0.5]]))
    >>> round(float(m.result()), 4)
    0.6931
    """

    def __init__(self, name: str = "categorical_crossentropy", dtype: torch.dtype = _FLOAT32,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> None:
        super().__init__(losses.categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean sparse categorical crossentropy, as `keras.metrics.SparseCategoricalCrossentropy`.

    Args:
        name: default "sparse_categorical_crossentropy".
        dtype: the state's dtype (default float32).
        from_logits, axis: as `kr.losses.SparseCategoricalCrossentropy`.

    >>> m = SparseCategoricalCrossentropy()
    >>> m.update_state(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))
    >>> round(float(m.result()), 4)
    0.6931
    """

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: torch.dtype = _FLOAT32,
                 from_logits: bool = False, axis: int = -1) -> None:
        super().__init__(losses.sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         axis=axis)


class RootMeanSquaredError(Mean):
    """The square root of the mean squared error, as `keras.metrics.RootMeanSquaredError`.

    Args:
        name: default "root_mean_squared_error".
        dtype: the state's dtype (default float32).

    >>> m = RootMeanSquaredError()
    >>> m.update_state(torch.zeros(2, 1), torch.full((2, 1), 2.))
    >>> m.result()
    tensor(2.)
    """

    direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: torch.Tensor, y_pred: torch.Tensor | None = None,  # type: ignore[override]
                     sample_weight: torch.Tensor | None = None) -> None:
        """Add the squared errors (per element, weighted)."""
        y_pred = torch.as_tensor(y_pred).detach()
        y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(torch.square(y_true - y_pred), sample_weight)

    def result(self) -> torch.Tensor:
        """sqrt(total / count)."""
        return torch.sqrt(super().result())
