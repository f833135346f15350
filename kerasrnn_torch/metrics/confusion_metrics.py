"""Keras's confusion-matrix metrics: TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
Precision, Recall and AUC (ROC or PR), counted over every batch since the last reset."""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch

from .confusion import NEG_INF, divide_no_nan, evenly_spread, parse_thresholds, update_confusion
from .metric import Metric

_FLOAT32 = torch.float32


class _Counts(Metric):
    """Counts per threshold kept as tensors named by `keys`, moved to the data's device on first use."""

    keys: tuple[str, ...] = ()

    def __init__(self, name: str | None, dtype: torch.dtype, shape: tuple[int, ...]) -> None:
        # Keras's snake case keeps acronyms whole: "AUC" -> "auc", "TruePositives" -> "true_positives".
        default = re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", type(self).__name__))
        super().__init__(name=name or default.lower(), dtype=dtype)
        self._shape = shape
        self.state = {key: torch.zeros(shape, dtype=dtype) for key in self.keys}

    def _to(self, y_pred: Any) -> None:
        device = torch.as_tensor(y_pred).device
        if next(iter(self.state.values())).device != device:
            self.state = {key: value.to(device) for key, value in self.state.items()}

    def reset_state(self) -> None:
        """Every count back to zero."""
        self.state = {key: torch.zeros_like(value) for key, value in self.state.items()}

    @property
    def true_positives(self) -> torch.Tensor:
        return self.state["tp"]

    @property
    def false_positives(self) -> torch.Tensor:
        return self.state["fp"]

    @property
    def true_negatives(self) -> torch.Tensor:
        return self.state["tn"]

    @property
    def false_negatives(self) -> torch.Tensor:
        return self.state["fn"]


class _ConditionCount(_Counts):
    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: torch.dtype = _FLOAT32) -> None:
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5)
        self._evenly = evenly_spread(self.thresholds)
        super().__init__(name, dtype, (len(self.thresholds),))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's (weighted) count at each threshold."""
        self._to(y_pred)
        update_confusion(self.state, y_true, y_pred, self.thresholds, evenly=self._evenly,
                         sample_weight=sample_weight)

    def result(self) -> torch.Tensor:
        """The count (one per threshold when several were given)."""
        value = self.state[self.keys[0]]
        return value[0].clone() if len(self.thresholds) == 1 else value.clone()

    def get_config(self) -> dict[str, Any]:
        """Name, dtype and thresholds."""
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The (weighted) number of positive targets predicted above the threshold, as `keras.metrics.TruePositives`.

    Args:
        thresholds: a threshold in [0, 1] or a list of them (default 0.5); a prediction
            counts as positive when strictly above it. With a list, `result()` is a vector.
        name: default "true_positives".
        dtype: the state's dtype (default float32).

    >>> m = TruePositives()
    >>> m.update_state(torch.tensor([0., 1., 1., 1.]), torch.tensor([1., 0., 1., 1.]))
    >>> m.result()
    tensor(2.)
    """

    keys = ("tp",)


class FalsePositives(_ConditionCount):
    """The (weighted) number of negative targets predicted above the threshold, as `keras.metrics.FalsePositives`.

    Args:
        thresholds, name ("false_positives"), dtype: as `TruePositives`.

    >>> m = FalsePositives()
    >>> m.update_state(torch.tensor([0., 1., 0., 0.]), torch.tensor([0., 0., 1., 1.]))
    >>> m.result()
    tensor(2.)
    """

    keys = ("fp",)


class TrueNegatives(_ConditionCount):
    """The (weighted) number of negative targets predicted at or below the threshold, as
    `keras.metrics.TrueNegatives`.

    Args:
        thresholds, name ("true_negatives"), dtype: as `TruePositives`.

    >>> m = TrueNegatives()
    >>> m.update_state(torch.tensor([0., 1., 0., 0.]), torch.tensor([1., 1., 0., 0.]))
    >>> m.result()
    tensor(2.)
    """

    keys = ("tn",)


class FalseNegatives(_ConditionCount):
    """The (weighted) number of positive targets predicted at or below the threshold, as
    `keras.metrics.FalseNegatives`.

    Args:
        thresholds, name ("false_negatives"), dtype: as `TruePositives`.

    >>> m = FalseNegatives()
    >>> m.update_state(torch.tensor([0., 1., 1., 1.]), torch.tensor([0., 1., 0., 0.]))
    >>> m.result()
    tensor(2.)
    """

    keys = ("fn",)


class _PrecisionRecall(_Counts):
    def __init__(self, thresholds: Any = None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: torch.dtype = _FLOAT32) -> None:
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = evenly_spread(self.thresholds)
        super().__init__(name, dtype, (len(self.thresholds),))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's (weighted) counts at each threshold."""
        self._to(y_pred)
        update_confusion(self.state, y_true, y_pred, self.thresholds, evenly=self._evenly, top_k=self.top_k,
                         class_id=self.class_id, sample_weight=sample_weight)

    def _ratio(self, other: str) -> torch.Tensor:
        value = divide_no_nan(self.state["tp"], self.state["tp"] + self.state[other])
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, thresholds, top_k and class_id."""
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """TP / (TP + FP) over every batch, as `keras.metrics.Precision`.

    Args:
        thresholds: a threshold in [0, 1] or a list of them (default 0.5; with `top_k`,
            every top-k prediction counts as positive). With a list, `result()` is a vector.
        top_k: only the k largest predictions of each sample count as positive.
        class_id: only this class (column of the last axis) counts.
        name: default "precision".
        dtype: the state's dtype (default float32).

    >>> m = Precision()
    >>> m.update_state(torch.tensor([0., 1., 1., 1.]), torch.tensor([1., 0., 1., 1.]))
    >>> round(float(m.result()), 4)
    0.6667
    """

    keys = ("tp", "fp")

    def result(self) -> torch.Tensor:
        """The precision (0 where nothing was predicted positive)."""
        return self._ratio("fp")


class Recall(_PrecisionRecall):
    """TP / (TP + FN) over every batch, as `keras.metrics.Recall`.

    Args:
        thresholds, top_k, class_id, dtype: as `Precision`.
        name: default "recall".

    >>> m = Recall()
    >>> m.update_state(torch.tensor([0., 1., 1., 1.]), torch.tensor([1., 0., 1., 1.]))
    >>> round(float(m.result()), 4)
    0.6667
    """

    keys = ("tp", "fn")

    def result(self) -> torch.Tensor:
        """The recall (0 where there was no positive target)."""
        return self._ratio("fn")


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


class AUC(_Counts):
    """The area under the ROC or precision-recall curve, from counts at thresholds, as `keras.metrics.AUC`.

    Args:
        num_thresholds: how many thresholds (default 200): 0 - 1e-7, then
            num_thresholds - 2 evenly spread in (0, 1), then 1 + 1e-7.
        curve: "ROC" (default) or "PR" (also "PRGAIN", as Keras).
        summation_method: "interpolation" (default: the trapezoid rule for ROC, Davis
            and Goadrich's interpolation for PR), "minoring" or "majoring".
        name: default "auc".
        dtype: the state's dtype (default float32).
        thresholds: explicit thresholds in [0, 1] instead of `num_thresholds`
            (0 - 1e-7 and 1 + 1e-7 are added).
        multi_label: with (samples, labels) data, one curve per label and their mean
            (default False: every value counts as one prediction).
        num_labels: the number of labels (only with multi_label; otherwise read from the first batch).
        label_weights: weights per label: of the labels' mean with multi_label, of the
            counts otherwise.
        from_logits: predictions are logits (a sigmoid is applied first).

    >>> m = AUC(num_thresholds=3)
    >>> m.update_state(torch.tensor([0., 0., 1., 1.]), torch.tensor([0., 0.5, 0.3, 0.9]))
    >>> m.result()
    tensor(0.7500)
    """

    keys = ("tp", "fp", "tn", "fn")

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype: torch.dtype = _FLOAT32, thresholds: Any = None,
                 multi_label: bool = False, num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        curve_key = str(getattr(curve, "value", curve)).lower()
        if curve_key not in _CURVES:
            raise ValueError(f"AUC: curve must be one of {list(_CURVES.values())}; got {curve!r}")
        summation = str(getattr(summation_method, "value", summation_method)).lower()
        if summation not in _SUMMATIONS:
            raise ValueError(f"AUC: summation_method must be one of {list(_SUMMATIONS)}; got {summation_method!r}")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_spread([0.0] + inner + [1.0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                    or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an integer > 1; got {num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._evenly = True
        self._thresholds = [0.0 - 1e-7] + inner + [1.0 + 1e-7]
        self.curve = _CURVES[curve_key]
        self.summation_method = summation
        if num_labels and not multi_label:
            raise ValueError("AUC: num_labels is needed only when multi_label=True")
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else torch.as_tensor(
            np.asarray(label_weights), dtype=dtype)
        self.from_logits = bool(from_logits)
        self._built = False
        super().__init__(name, dtype, (self.num_thresholds,))
        if self.multi_label and num_labels:
            self._build(int(num_labels))

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, the two outer ones (just below 0 and above 1) included."""
        return list(self._thresholds)

    def _build(self, labels: int | None) -> None:
        shape = (self.num_thresholds, labels) if labels is not None else (self.num_thresholds,)
        device = next(iter(self.state.values())).device
        self.state = {key: torch.zeros(shape, dtype=self.dtype, device=device) for key in self.keys}
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's (weighted) counts at every threshold."""
        y_pred = torch.as_tensor(y_pred)
        if self.multi_label and not self._built:
            if y_pred.dim() != 2:
                raise ValueError(f"AUC: with multi_label=True the predictions must have rank 2 (samples, labels); "
                                 f"got shape {tuple(y_pred.shape)}")
            self._build(y_pred.shape[1])
        self._to(y_pred)
        if self.from_logits:
            y_pred = torch.sigmoid(y_pred.float())
        weights = None if self.multi_label else self.label_weights
        update_confusion(self.state, y_true, y_pred, self._thresholds, evenly=self._evenly,
                         sample_weight=sample_weight, multi_label=self.multi_label, label_weights=weights)

    def _mean_over_labels(self, per_threshold: torch.Tensor) -> torch.Tensor:
        if not self.multi_label:
            return per_threshold.sum()
        per_label = per_threshold.sum(0)
        if self.label_weights is None:
            return per_label.mean()
        weights = self.label_weights.to(per_label.device)
        return divide_no_nan((per_label * weights).sum(), weights.sum())

    def _interpolated_pr(self) -> torch.Tensor:
        tp, fp, fn = self.state["tp"], self.state["fp"], self.state["fn"]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, dp.clamp(min=0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(both, divide_no_nan(p[:-1], p[1:].clamp(min=0)), torch.ones_like(p[1:]))
        area = divide_no_nan(slope * (dtp + intercept * torch.log(ratio)), (tp[1:] + fn[1:]).clamp(min=0))
        return self._mean_over_labels(area)

    def result(self) -> torch.Tensor:
        """The area under the curve (the labels' (weighted) mean with multi_label)."""
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr()
        tp, fp, tn, fn = (self.state[key] for key in self.keys)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:
            scale = divide_no_nan(tp + fn, tn + fp)
            recall_gain = torch.where(tp == 0, torch.zeros_like(tp), 1.0 - scale * divide_no_nan(fn, tp))
            precision_gain = torch.where(tp == 0, torch.ones_like(tp), 1.0 - scale * divide_no_nan(fp, tp))
            x, y = recall_gain.clamp(min=0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._mean_over_labels((x[:-1] - x[1:]) * heights)

    def reset_state(self) -> None:
        """Every count back to zero (the shape kept)."""
        super().reset_state()

    def get_config(self) -> dict[str, Any]:
        """Keras's configuration of the AUC."""
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self._thresholds[1:-1]
        return config


class _AtConstraint(_Counts):
    """Counts at `num_thresholds` thresholds 0, 1/(n-1), ..., 1 (or 0.5 alone); the result is the best value of
    one rate among the thresholds where another rate reaches `value`."""

    keys = ("tp", "fp", "tn", "fn")
    constraint = ""       # the argument's name: "specificity", "sensitivity", "recall" or "precision"

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: torch.dtype = _FLOAT32) -> None:
        if not 0 <= value <= 1:
            raise ValueError(f"{type(self).__name__}: {self.constraint} must lie in [0, 1]; got {value!r}")
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                or num_thresholds <= 0:
            raise ValueError(f"{type(self).__name__}: num_thresholds must be an integer > 0; got {num_thresholds!r}")
        self.value = value
        self.num_thresholds = int(num_thresholds)
        self.class_id = class_id
        if self.num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True
        super().__init__(name, dtype, (len(self.thresholds),))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's (weighted) counts at every threshold."""
        self._to(y_pred)
        update_confusion(self.state, y_true, y_pred, self.thresholds, evenly=self._evenly, class_id=self.class_id,
                         sample_weight=sample_weight)

    def _rates(self) -> dict[str, torch.Tensor]:
        tp, fp, tn, fn = (self.state[key] for key in self.keys)
        return {"sensitivity": divide_no_nan(tp, tp + fn), "recall": divide_no_nan(tp, tp + fn),
                "specificity": divide_no_nan(tn, tn + fp), "precision": divide_no_nan(tp, tp + fp)}

    def _best(self, constrained: str, dependent: str) -> torch.Tensor:
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return torch.where(feasible, rates[dependent], torch.zeros_like(rates[dependent])).max().clamp(min=0.0)

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, the constraint's value, num_thresholds and class_id."""
        return {**super().get_config(), "num_thresholds": self.num_thresholds, self.constraint: self.value,
                "class_id": self.class_id}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) among thresholds whose specificity is at least `specificity`, as
    `keras.metrics.SensitivityAtSpecificity`.

    Args:
        specificity: the required specificity, in [0, 1].
        num_thresholds: thresholds spread evenly over [0, 1] (default 200; 1: the threshold 0.5).
        class_id: only this class (column of the last axis) counts.
        name: default "sensitivity_at_specificity".
        dtype: the state's dtype (default float32).
    """

    constraint = "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self) -> torch.Tensor:
        """The best sensitivity under the constraint (0 where none meets it)."""
        return self._best("specificity", "sensitivity")


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity among thresholds whose sensitivity is at least `sensitivity`, as
    `keras.metrics.SpecificityAtSensitivity`.

    Args:
        sensitivity: the required sensitivity, in [0, 1].
        num_thresholds, class_id, dtype: as `SensitivityAtSpecificity`.
        name: default "specificity_at_sensitivity".
    """

    constraint = "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self) -> torch.Tensor:
        """The best specificity under the constraint (0 where none meets it)."""
        return self._best("sensitivity", "specificity")


class PrecisionAtRecall(_AtConstraint):
    """The best precision among thresholds whose recall is at least `recall`, as `keras.metrics.PrecisionAtRecall`.

    Args:
        recall: the required recall, in [0, 1].
        num_thresholds, class_id, dtype: as `SensitivityAtSpecificity`.
        name: default "precision_at_recall".
    """

    constraint = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self) -> torch.Tensor:
        """The best precision under the constraint (0 where none meets it)."""
        return self._best("recall", "precision")


class RecallAtPrecision(_AtConstraint):
    """The best recall among thresholds whose precision is at least `precision`, as
    `keras.metrics.RecallAtPrecision`.

    Args:
        precision: the required precision, in [0, 1].
        num_thresholds, class_id, dtype: as `SensitivityAtSpecificity`.
        name: default "recall_at_precision".
    """

    constraint = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: torch.dtype = _FLOAT32) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self) -> torch.Tensor:
        """The best recall under the constraint (0 where none meets it)."""
        return self._best("precision", "recall")


__all__ = ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC",
           "SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision"]
