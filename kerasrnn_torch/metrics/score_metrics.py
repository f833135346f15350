"""Keras's score metrics: CosineSimilarity, R2Score, FBetaScore and F1Score."""
from __future__ import annotations

import warnings
from typing import Any

import torch

from ..losses import functions as loss_functions
from ..losses.reduction import EPSILON, squeeze_or_expand_to_same_rank
from .metric import MeanMetricWrapper, Metric

_FLOAT32 = torch.float32


def cosine_similarity(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """The cosine similarity along `axis` (1 for identical directions), as `keras.metrics.cosine_similarity`."""
    return -loss_functions.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity of targets and predictions, as `keras.metrics.CosineSimilarity`.

    Args:
        name: default "cosine_similarity".
        dtype: the state's dtype (default float32).
        axis: the axis along which the similarity is taken (default -1).

    >>> m = CosineSimilarity()
    >>> m.update_state(torch.tensor([[1., 0.], [0., 1.]]), torch.tensor([[2., 0.], [1., 0.]]))
    >>> m.result()
    tensor(0.5000)
    """

    def __init__(self, name: str = "cosine_similarity", dtype: torch.dtype = _FLOAT32, axis: int = -1) -> None:
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.direction = "up"


def pearson_correlation(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Pearson's correlation of targets and predictions along `axis`, as `keras.metrics.pearson_correlation`."""
    y_pred = torch.as_tensor(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    true_centred = y_true - y_true.mean(dim=axis, keepdim=True)
    pred_centred = y_pred - y_pred.mean(dim=axis, keepdim=True)
    true_centred = true_centred / true_centred.std(dim=axis, keepdim=True, correction=0)
    pred_centred = pred_centred / pred_centred.std(dim=axis, keepdim=True, correction=0)
    return (true_centred * pred_centred).mean(dim=axis)


def concordance_correlation(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Lin's concordance correlation along `axis`, in the form `keras.metrics.concordance_correlation`
    computes it (its covariance term centres the targets on the predictions' mean)."""
    y_pred = torch.as_tensor(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = (y_true - true_mean).var(dim=axis, keepdim=True, correction=0)
    pred_var = (y_pred - pred_mean).var(dim=axis, keepdim=True, correction=0)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + torch.square(true_mean - pred_mean)
    return (2 * covariance / (norm + EPSILON)).mean(dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean Pearson correlation per sample (along `axis`), as `keras.metrics.PearsonCorrelation`.

    Args:
        name: default "pearson_correlation".
        dtype: the state's dtype (default float32).
        axis: the axis along which the correlation is taken (default -1).

    >>> m = PearsonCorrelation()
    >>> m.update_state(torch.tensor([[1., 2., 3.]]), torch.tensor([[2., 4., 6.]]))
    >>> round(float(m.result()), 4)
    1.0
    """

    def __init__(self, name: str = "pearson_correlation", dtype: torch.dtype = _FLOAT32, axis: int = -1) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.direction = "up"


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean concordance correlation per sample (along `axis`), as `keras.metrics.ConcordanceCorrelation`.

    Args:
        name: default "concordance_correlation".
        dtype: the state's dtype (default float32).
        axis: the axis along which the correlation is taken (default -1).

    >>> m = ConcordanceCorrelation()
    >>> m.update_state(torch.tensor([[1., 2., 3.]]), torch.tensor([[1., 2., 3.]]))
    >>> round(float(m.result()), 4)
    1.0
    """

    def __init__(self, name: str = "concordance_correlation", dtype: torch.dtype = _FLOAT32, axis: int = -1) -> None:
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.direction = "up"


def _two_dims(metric: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    if y_true.dim() != 2 or y_pred.dim() != 2:
        raise ValueError(f"{metric} expects (batch_size, output_dim) targets and predictions; got shapes "
                         f"{tuple(y_true.shape)} and {tuple(y_pred.shape)}")


class R2Score(Metric):
    """The coefficient of determination over every batch, as `keras.metrics.R2Score`.

    Args:
        class_aggregation: "uniform_average" (default: the mean over outputs),
            "variance_weighted_average", or None (one score per output).
        num_regressors: with p > 0 regressors, the adjusted R2 (default 0).
        name: default "r2_score".
        dtype: the state's dtype (default float32).

    Takes `(batch_size, output_dim)` targets and predictions.

    >>> m = R2Score()
    >>> m.update_state(torch.tensor([[1.], [2.], [3.]]), torch.tensor([[1.], [2.], [4.]]))
    >>> m.result()
    tensor(0.5000)
    """

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(name=name, dtype=dtype)
        allowed = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in allowed:
            raise ValueError(f"R2Score: class_aggregation must be one of {list(allowed)}; got {class_aggregation!r}")
        if num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be >= 0; got {num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = torch.zeros((), dtype=dtype)
        self.state: dict[str, torch.Tensor] | None = None

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's weighted sums, squared sums and squared errors per output."""
        y_pred = torch.as_tensor(y_pred).detach().to(self.dtype)
        y_true = torch.as_tensor(y_true, device=y_pred.device).detach().to(self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        _two_dims("R2Score", y_true, y_pred)
        if self.state is None:
            self.state = {key: torch.zeros(y_pred.shape[-1], dtype=self.dtype, device=y_pred.device)
                          for key in ("sum", "squared_sum", "residual", "count")}
        self.num_samples = self.num_samples.to(y_pred.device)
        weight = torch.ones((), dtype=self.dtype, device=y_pred.device) if sample_weight is None else \
            torch.as_tensor(sample_weight, device=y_pred.device).detach().to(self.dtype)
        if weight.dim() == 1:
            weight = weight.unsqueeze(1)
        weight = torch.broadcast_to(weight, y_true.shape)
        weighted = y_true * weight
        self.state["sum"] += weighted.sum(0)
        self.state["squared_sum"] += (y_true * weighted).sum(0)
        self.state["residual"] += (torch.square(y_true - y_pred) * weight).sum(0)
        self.state["count"] += weight.sum(0)
        self.num_samples += y_true.numel()

    def result(self) -> torch.Tensor:
        """The (aggregated, possibly adjusted) R2 score."""
        if self.state is None:
            return torch.zeros((), dtype=self.dtype)
        mean = self.state["sum"] / self.state["count"]
        total = self.state["squared_sum"] - self.state["sum"] * mean
        raw = 1 - self.state["residual"] / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors:
            samples = float(self.num_samples)
            if self.num_regressors >= samples - 1:
                warnings.warn(f"R2Score: {self.num_regressors} regressors for {int(samples)} data points leave no "
                              "adjusted R2; the plain R2 is returned", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (samples - 1.0) / (samples - self.num_regressors - 1.0)
        return score

    def reset_state(self) -> None:
        """Forget every batch (the number of outputs is read again from the next batch)."""
        self.state = None
        self.num_samples = torch.zeros((), dtype=self.dtype, device=self.num_samples.device)

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, class_aggregation and num_regressors."""
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class FBetaScore(Metric):
    """The F-beta score per class (or averaged) over every batch, as `keras.metrics.FBetaScore`.

    Args:
        average: None (default: one score per class), "micro" (from counts summed
            over classes), "macro" (the classes' mean) or "weighted" (weighted by
            each class's share of positive targets).
        beta: the weight of recall against precision (a float > 0, default 1.0).
        threshold: predictions above it count as positive (a float in (0, 1]);
            None (default): each sample's largest prediction counts as positive.
        name: default "fbeta_score".
        dtype: the state's dtype (default float32).

    Takes `(batch_size, classes)` targets and predictions.

    >>> m = FBetaScore(beta=1.0, threshold=0.5, average="micro")
    >>> m.update_state(torch.tensor([[1., 0.], [0., 1.]]), torch.tensor([[0.9, 0.2], [0.6, 0.3]]))
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__}: average must be None, 'micro', 'macro' or 'weighted'; "
                             f"got {average!r}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"{type(self).__name__}: beta must be a Python float > 0; got {beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or not 0.0 < threshold <= 1.0):
            raise ValueError(f"{type(self).__name__}: threshold must be a Python float in (0, 1] or None; "
                             f"got {threshold!r}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.state: dict[str, torch.Tensor] | None = None

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's (weighted) true positives, false positives, false negatives and positives."""
        y_pred = torch.as_tensor(y_pred).detach().to(self.dtype)
        y_true = torch.as_tensor(y_true, device=y_pred.device).detach().to(self.dtype)
        _two_dims(type(self).__name__, y_true, y_pred)
        if self.threshold is None:
            top = y_pred.amax(dim=-1, keepdim=True)
            predicted = ((y_pred >= top) & (y_pred.abs() > 1e-9)).to(self.dtype)
        else:
            predicted = (y_pred > self.threshold).to(self.dtype)
        weight = None if sample_weight is None else \
            torch.as_tensor(sample_weight, device=y_pred.device).detach().to(self.dtype).unsqueeze(1)

        def total(values: torch.Tensor) -> torch.Tensor:
            if weight is not None:
                values = values * weight
            return values.sum() if self.average == "micro" else values.sum(0)
        counts = {"tp": total(predicted * y_true), "fp": total(predicted * (1 - y_true)),
                  "fn": total((1 - predicted) * y_true), "positives": total(y_true)}
        if self.state is None:
            self.state = counts
        else:
            for key, value in counts.items():
                self.state[key] += value

    def result(self) -> torch.Tensor:
        """The F-beta score(s)."""
        if self.state is None:
            return torch.zeros((), dtype=self.dtype)
        tp, fp, fn = self.state["tp"], self.state["fp"], self.state["fn"]
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        beta2 = self.beta ** 2
        score = precision * recall / (beta2 * precision + recall + EPSILON) * (1 + beta2)
        if self.average == "weighted":
            positives = self.state["positives"]
            return (score * positives / (positives.sum() + EPSILON)).sum()
        if self.average is not None:
            return score.mean()
        return score

    def reset_state(self) -> None:
        """Forget every batch."""
        self.state = None

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, average, beta and threshold."""
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score (FBetaScore with beta=1), as `keras.metrics.F1Score`.

    Args:
        average, threshold, dtype: as `FBetaScore`.
        name: default "f1_score".

    >>> m = F1Score(threshold=0.5)
    >>> m.update_state(torch.tensor([[1., 0.], [0., 1.]]), torch.tensor([[0.9, 0.2], [0.6, 0.7]]))
    >>> m.result()
    tensor([0.6667, 1.0000])
    """

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score",
                 dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, average and threshold."""
        config = super().get_config()
        del config["beta"]
        return config


__all__ = ["cosine_similarity", "pearson_correlation", "concordance_correlation", "CosineSimilarity",
           "PearsonCorrelation", "ConcordanceCorrelation", "R2Score", "FBetaScore", "F1Score"]
