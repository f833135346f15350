"""Keras's metrics (`kr.metrics`): stateful objects (`update_state`, `result`, `reset_state`) and `get`.

>>> m = kr.metrics.get("binary_accuracy")
>>> m.update_state(torch.tensor([[1.], [0.]]), torch.tensor([[0.9], [0.2]]))
>>> m.result()
tensor(1.)
"""
from __future__ import annotations

import re

from typing import Any

from .. import losses
# Keras's `keras.metrics` holds the per-sample loss functions too (the same functions as `keras.losses`').
from ..losses.functions import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                                categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence,
                                log_cosh, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                                mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
                                squared_hinge)
from .accuracy_functions import (accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                       sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .classes import (Accuracy, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy, CategoricalCrossentropy,
                      CategoricalHinge, Hinge, KLDivergence, LogCoshError, MeanAbsoluteError,
                      MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
                      RootMeanSquaredError, SparseCategoricalAccuracy, SparseCategoricalCrossentropy,
                      SparseTopKCategoricalAccuracy, SquaredHinge, TopKCategoricalAccuracy)
from .confusion_metrics import (AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
                                RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
                                TrueNegatives, TruePositives)
from .iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .metric import Mean, MeanMetricWrapper, Metric, Sum
from .score_metrics import (ConcordanceCorrelation, CosineSimilarity, F1Score, FBetaScore, PearsonCorrelation,
                            R2Score, concordance_correlation, cosine_similarity, pearson_correlation)

_CLASSES: dict[str, type[Metric]] = {cls.__name__: cls for cls in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, LogCoshError, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, RootMeanSquaredError,
    AUC, Precision, Recall, TruePositives, FalsePositives, TrueNegatives, FalseNegatives, CosineSimilarity,
    R2Score, FBetaScore, F1Score, SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
    RecallAtPrecision, PearsonCorrelation, ConcordanceCorrelation, IoU, BinaryIoU, MeanIoU, OneHotIoU,
    OneHotMeanIoU)}
# Keras's snake-case names of the classes with no function of that name ("auc", "precision", ...).
_SNAKE: dict[str, type[Metric]] = {"auc": AUC, "precision": Precision, "recall": Recall,
                                   "true_positives": TruePositives, "false_positives": FalsePositives,
                                   "true_negatives": TrueNegatives, "false_negatives": FalseNegatives,
                                   "root_mean_squared_error": RootMeanSquaredError, "r2_score": R2Score,
                                   "f1_score": F1Score, "f_beta_score": FBetaScore,
                                   # Keras's metric of this name is the similarity, not the loss's negative.
                                   "cosine_similarity": CosineSimilarity,
                                   "pearson_correlation": PearsonCorrelation,
                                   "concordance_correlation": ConcordanceCorrelation}
_FUNCTIONS = {fn.__name__: fn for fn in (accuracy, binary_accuracy, categorical_accuracy,
                                         sparse_categorical_accuracy, top_k_categorical_accuracy,
                                         sparse_top_k_categorical_accuracy)}


def names() -> list[str]:
    """Every name `get` knows: the metric classes, the accuracy functions, and the loss names."""
    return sorted({*_CLASSES, *_SNAKE, *_FUNCTIONS, *losses.names()})


def get(identifier: Any) -> Metric:
    """A metric object from Keras's name, a Keras config dict, a `Metric` (returned as is) or a per-sample
    function (wrapped in `MeanMetricWrapper`), named as Keras names it (a string keeps its spelling).

    "accuracy"/"acc" become `Accuracy` here; `compile` picks the binary, categorical or sparse
    accuracy from the loss and the shapes as Keras does. An unknown name raises a ValueError.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), dict(identifier.get("config", {}) or {})
        if name not in _CLASSES:
            raise ValueError(f"unknown metric class {name!r} in {identifier!r}; known: {sorted(_CLASSES)}")
        config.pop("dtype", None)
        return _CLASSES[name](**config)
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            metric = _CLASSES[identifier]()
        elif identifier in _SNAKE:
            metric = _SNAKE[identifier]()
        elif identifier in _FUNCTIONS:
            metric = MeanMetricWrapper(_FUNCTIONS[identifier])
        elif identifier.lower() in ("accuracy", "acc"):
            metric = Accuracy()
        else:
            try:
                found = losses.get(identifier)
            except ValueError:
                raise ValueError(f"unknown metric {identifier!r}; Keras's metric names are {names()}") from None
            metric = found if isinstance(found, Metric) else MeanMetricWrapper(found)
        metric.name = identifier
        return metric
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"a metric must be a Keras metric name, a config dict, a Metric or a function; got "
                     f"{type(identifier).__name__} {identifier!r}")


_LOSS_FUNCTIONS = {fn.__name__: fn for fn in (
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy, categorical_focal_crossentropy,
    categorical_hinge, hinge, huber, kl_divergence, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_error, mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)}


def _snake_name(name: str) -> str:
    """Keras's snake case of a class name (an acronym stays one word: "KLDivergence" -> "kl_divergence")."""
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)).lower()


_SNAKE_CLASSES = {_snake_name(name): cls for name, cls in _CLASSES.items()}


def serialize(metric: Any) -> dict[str, Any]:
    """Keras's serialized form of a metric, as `keras.metrics.serialize`: `{"module": "keras.metrics",
    "class_name", "config", "registered_name"}` for a `Metric`; a metric function (`binary_accuracy`, a loss
    function) as Keras writes a function (`{"class_name": "function", "config": its name, ...}`)."""
    if isinstance(metric, Metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config(),
                "registered_name": None}
    name = getattr(metric, "__name__", None)
    if name in _FUNCTIONS or name in _LOSS_FUNCTIONS:
        return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}
    raise ValueError(f"metrics.serialize: expected a kr.metrics Metric or one of Keras's metric functions, got "
                     f"{metric!r}")


def deserialize(config: Any) -> Any:
    """What `serialize` (or Keras's) describes, as `keras.metrics.deserialize`.

    A dictionary gives the metric object (or the function, for `{"class_name": "function"}`); a name gives the
    metric object of that class ("AUC", "mean_squared_error" -> `MeanSquaredError()`, as Keras), or the function
    of that name where no class has it.
    """
    if isinstance(config, dict):
        if config.get("class_name") == "function":
            name = config.get("config")
            found = (_FUNCTIONS.get(name) or _LOSS_FUNCTIONS.get(name)) if isinstance(name, str) else None
            if found is None:
                raise ValueError(f"metrics.deserialize: unknown metric function {name!r}; known: "
                                 f"{sorted({*_FUNCTIONS, *_LOSS_FUNCTIONS})}")
            return found
        return get(config)
    if isinstance(config, str):
        cls = _CLASSES.get(config) or _SNAKE_CLASSES.get(config) or _SNAKE.get(config)
        if cls is not None:
            return cls()
        found = _FUNCTIONS.get(config) or _LOSS_FUNCTIONS.get(config)
        if found is not None:
            return found
        raise ValueError(f"metrics.deserialize: unknown metric {config!r}; Keras's metric names are {names()}")
    raise ValueError(f"metrics.deserialize: expected a serialized metric (a dict) or a metric name, got {config!r}")


__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "RootMeanSquaredError", "LogCoshError", "KLDivergence", "Poisson", "Hinge", "SquaredHinge",
           "CategoricalHinge", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "CosineSimilarity", "R2Score", "FBetaScore", "F1Score", "cosine_similarity", "PearsonCorrelation",
           "ConcordanceCorrelation", "pearson_correlation", "concordance_correlation", "IoU", "BinaryIoU",
           "MeanIoU", "OneHotIoU", "OneHotMeanIoU",
           "SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision",
           "AUC", "Precision", "Recall", "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
           "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "get", "names",
           "serialize", "deserialize", "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
           "categorical_focal_crossentropy", "categorical_hinge", "hinge", "huber", "kl_divergence", "log_cosh",
           "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
           "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy", "squared_hinge"]
