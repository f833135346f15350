"""Keras's losses (`kr.losses`): loss objects, loss functions, and `get` for Keras's names.

A loss object is called `loss(y_true, y_pred, sample_weight=None)` and returns Keras's reduced value
("sum_over_batch_size" by default); the functions return per-sample values.

>>> kr.losses.get("MeanSquaredError")(torch.zeros(2, 1), torch.ones(2, 1))
tensor(1.)
>>> kr.losses.get("mse")(torch.zeros(2, 1), torch.ones(2, 1))      # a function: per-sample values
tensor([1., 1.])
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .functions import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                        categorical_focal_crossentropy, categorical_generalized_cross_entropy, categorical_hinge,
                        circle, cosine_similarity, ctc, dice, hinge, huber,
                        kl_divergence, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
                        mean_squared_error, mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
                        squared_hinge, tversky)
from .loss import (CTC, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
                   CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy, CategoricalHinge, Circle,
                   CosineSimilarity, Dice, Hinge, Huber, KLDivergence, LogCosh, Loss,
                   LossFunctionWrapper, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                   MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy, SquaredHinge, Tversky)
from .reduction import reduce_weighted_values

_CLASSES: dict[str, type[Loss]] = {cls.__name__: cls for cls in (
    Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, KLDivergence, Poisson, Hinge, SquaredHinge,
    CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice, Tversky, CTC, Circle,
    CategoricalGeneralizedCrossEntropy)}
_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {fn.__name__: fn for fn in (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, huber, log_cosh, kl_divergence, poisson, hinge, squared_hinge, categorical_hinge,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, binary_focal_crossentropy,
    categorical_focal_crossentropy, dice, tversky, ctc, circle, categorical_generalized_cross_entropy)}
# Keras's short names.
_ALIASES = {"mse": mean_squared_error, "MSE": mean_squared_error, "mae": mean_absolute_error,
            "MAE": mean_absolute_error, "mape": mean_absolute_percentage_error,
            "MAPE": mean_absolute_percentage_error, "msle": mean_squared_logarithmic_error,
            "MSLE": mean_squared_logarithmic_error, "kld": kl_divergence, "KLD": kl_divergence,
            "bce": binary_crossentropy, "BCE": binary_crossentropy, "logcosh": log_cosh,
            "huber_loss": huber}

LossLike = Loss | Callable[..., Any] | nn.Module


def names() -> list[str]:
    """Every name `get` knows (classes, functions and Keras's short names)."""
    return sorted({*_CLASSES, *_FUNCTIONS, *_ALIASES} - {"Loss", "LossFunctionWrapper"})


def get(identifier: Any) -> Any:
    """A loss from Keras's name ("mse", "binary_crossentropy", "BinaryCrossentropy", ...), a Keras config
    dict (`{"class_name": ..., "config": ...}`), a `Loss`, a torch loss module or a callable (returned as is).

    Names of classes give a new instance; names of functions give the function (as Keras's `get`).
    An unknown name raises a ValueError listing the known ones.
    """
    if identifier is None or isinstance(identifier, Loss) or (callable(identifier)
                                                               and not isinstance(identifier, (str, dict))):
        return identifier
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), identifier.get("config", {}) or {}
        if name not in _CLASSES:
            raise ValueError(f"unknown loss class {name!r} in {identifier!r}; known: {sorted(_CLASSES)}")
        return _CLASSES[name].from_config(config)
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        found = _FUNCTIONS.get(identifier) or _ALIASES.get(identifier)
        if found is not None:
            return found
        raise ValueError(f"unknown loss {identifier!r}; Keras's loss names are {names()}")
    raise ValueError(f"a loss must be a Keras loss name, a config dict, a Loss or a callable; got "
                     f"{type(identifier).__name__} {identifier!r}")


def serialize(loss: Loss) -> dict[str, Any]:
    """Keras's serialized form of a loss object: `{"class_name": ..., "config": ...}`."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: Any) -> Any:
    """What `serialize` (or Keras's `keras.losses.serialize`) describes, as `keras.losses.deserialize`.

    A dictionary gives the loss object (or, for Keras's `{"class_name": "function", "config": name}`, the loss
    function); a name gives what `get` gives (a class's name: a new object; a function's name: the function).
    """
    if isinstance(config, dict) and config.get("class_name") == "function":
        name = config.get("config")
        found = (_FUNCTIONS.get(name) or _ALIASES.get(name)) if isinstance(name, str) else None
        if found is None:
            raise ValueError(f"losses.deserialize: unknown loss function {name!r}; Keras's loss names are {names()}")
        return found
    if not isinstance(config, (dict, str)):
        raise ValueError(f"losses.deserialize: expected a serialized loss (a dict) or a loss name, got {config!r}")
    return get(config)


__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "CosineSimilarity", "Huber", "LogCosh", "KLDivergence", "Poisson",
           "Hinge", "SquaredHinge", "CategoricalHinge", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy",
           "Dice", "Tversky", "CTC", "Circle", "CategoricalGeneralizedCrossEntropy", "mean_squared_error",
           "mean_absolute_error",
           "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "cosine_similarity", "huber",
           "log_cosh", "kl_divergence", "poisson", "hinge", "squared_hinge", "categorical_hinge",
           "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
           "binary_focal_crossentropy", "categorical_focal_crossentropy", "dice", "tversky", "ctc", "circle",
           "categorical_generalized_cross_entropy", "get", "names",
           "serialize", "deserialize", "reduce_weighted_values"]
