"""Keras's `Loss` classes: a loss function with Keras's reduction, sample weights and output masks."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch
import torch.utils._pytree as pytree

from . import functions
from .reduction import (check_reduction, combine_masks, output_mask, reduce_weighted_values,
                        squeeze_or_expand_to_same_rank)


def _float_tensor(value: Any) -> torch.Tensor:
    value = torch.as_tensor(value)
    return value if value.is_floating_point() else value.float()


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, torch.Tensor) for v in value)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Loss:
    """The base of Keras's losses: `loss(y_true, y_pred, sample_weight=None)` -> a reduced tensor.

    Args:
        name: the loss's name (default: its class's name in snake case).
        reduction: "sum_over_batch_size" (Keras's default: the sum divided by
            the number of per-sample values), "sum", "mean",
            "mean_with_sample_weight" (divided by the weights' sum) or
            "none"/None (the per-sample values).

    Subclasses implement `call(y_true, y_pred)` returning per-sample values.
    What differs from Keras: the output mask comes as `mask=` (Keras reads it
    from `y_pred._keras_mask`); `fit` passes the model's output mask.

    >>> class Absolute(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return (y_true - y_pred).abs().mean(dim=-1)
    >>> Absolute()(torch.zeros(2, 3), torch.ones(2, 3))
    tensor(1.)
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size") -> None:
        self.name = name or _snake(type(self).__name__)
        self.reduction = check_reduction(reduction)

    def __call__(self, y_true: Any, y_pred: torch.Tensor, sample_weight: Any = None,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
        """The reduced loss; `sample_weight` per sample (or broadcastable), `mask` the output's mask.

        `y_true` and `y_pred` may also be matching structures (tuples, lists, dicts) of tensors, as a
        loss laid over several outputs at once receives them; `call` then gets the structures."""
        if isinstance(y_pred, (list, tuple, dict)):
            y_pred = pytree.tree_map(_float_tensor, y_pred)
            y_true = pytree.tree_map(torch.as_tensor, y_true)
            values = self.call(y_true, y_pred)
            return reduce_weighted_values(values, sample_weight, combine_masks(mask, output_mask(values)),
                                          self.reduction)
        y_pred = torch.as_tensor(y_pred)
        if not y_pred.is_floating_point():
            y_pred = y_pred.float()
        values = self.call(torch.as_tensor(y_true, device=y_pred.device), y_pred)
        # A function may mask entries of its result (sparse_categorical_crossentropy's ignore_class).
        mask = combine_masks(mask, output_mask(values))
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-sample loss values (to be implemented by subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self) -> dict[str, Any]:
        """Keras's configuration: name and reduction (and the subclass's arguments)."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """A new loss from `get_config()`."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """A loss function `fn(y_true, y_pred, **kwargs)` as a `Loss`, as `keras.losses.LossFunctionWrapper`.

    Args:
        fn: per-sample loss function.
        reduction: as `Loss`.
        name: the loss's name (default: the function's name).
        **kwargs: passed to `fn` on each call.

    >>> LossFunctionWrapper(functions.mean_squared_error)(torch.zeros(2, 1), torch.ones(2, 1))
    tensor(1.)
    """

    def __init__(self, fn: Callable[..., torch.Tensor], reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None) or type(fn).__name__, reduction=reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """`fn(y_true, y_pred, **kwargs)`, the two ranks first aligned as Keras aligns them (leaf by leaf
        when they are structures)."""
        if isinstance(y_pred, (list, tuple, dict)):
            aligned = pytree.tree_map(squeeze_or_expand_to_same_rank, y_true, y_pred)
            y_true = pytree.tree_map(lambda pair: pair[0], aligned, is_leaf=_is_pair)
            y_pred = pytree.tree_map(lambda pair: pair[1], aligned, is_leaf=_is_pair)
            return self.fn(y_true, y_pred, **self.fn_kwargs)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        """The reduction, name and the function's keyword arguments."""
        return {**super().get_config(), **self.fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """A new loss from `get_config()` (of a subclass that fixes `fn`)."""
        return cls(**config)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors, as `keras.losses.MeanSquaredError`.

    Args:
        reduction, name: as `Loss` (name "mean_squared_error").

    >>> MeanSquaredError()(torch.tensor([[0., 1.]]), torch.tensor([[1., 1.]]))
    tensor(0.5000)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_squared_error") -> None:
        super().__init__(functions.mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors, as `keras.losses.MeanAbsoluteError`.

    Args:
        reduction, name: as `Loss` (name "mean_absolute_error").

    >>> MeanAbsoluteError()(torch.tensor([[0., 1.]]), torch.tensor([[1., 1.]]))
    tensor(0.5000)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_absolute_error") -> None:
        super().__init__(functions.mean_absolute_error, reduction=reduction, name=name)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error, as `keras.losses.MeanAbsolutePercentageError`.

    Args:
        reduction, name: as `Loss` (name "mean_absolute_percentage_error").

    >>> MeanAbsolutePercentageError()(torch.tensor([[2., 4.]]), torch.tensor([[1., 4.]]))
    tensor(25.)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_percentage_error") -> None:
        super().__init__(functions.mean_absolute_percentage_error, reduction=reduction, name=name)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error, as `keras.losses.MeanSquaredLogarithmicError`.

    Args:
        reduction, name: as `Loss` (name "mean_squared_logarithmic_error").

    >>> MeanSquaredLogarithmicError()(torch.zeros(1, 2), torch.zeros(1, 2))
    tensor(0.)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_logarithmic_error") -> None:
        super().__init__(functions.mean_squared_logarithmic_error, reduction=reduction, name=name)


class CosineSimilarity(LossFunctionWrapper):
    """Minus the cosine similarity, as `keras.losses.CosineSimilarity`.

    Args:
        axis: the axis along which the similarity is taken (default -1).
        reduction, name: as `Loss` (name "cosine_similarity").

    >>> CosineSimilarity()(torch.tensor([[1., 0.]]), torch.tensor([[2., 0.]]))
    tensor(-1.)
    """

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "cosine_similarity") -> None:
        super().__init__(functions.cosine_similarity, reduction=reduction, name=name, axis=axis)


class Huber(LossFunctionWrapper):
    """Huber loss, as `keras.losses.Huber`.

    Args:
        delta: where the loss turns from quadratic to linear (default 1.0).
        reduction, name: as `Loss` (name "huber_loss").

    >>> Huber()(torch.tensor([[0.]]), torch.tensor([[3.]]))
    tensor(2.5000)
    """

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss") -> None:
        super().__init__(functions.huber, reduction=reduction, name=name, delta=delta)


class LogCosh(LossFunctionWrapper):
    """log(cosh(error)), as `keras.losses.LogCosh`.

    Args:
        reduction, name: as `Loss` (name "log_cosh").

    >>> LogCosh()(torch.zeros(1, 2), torch.zeros(1, 2))
    tensor(0.)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "log_cosh") -> None:
        super().__init__(functions.log_cosh, reduction=reduction, name=name)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence, as `keras.losses.KLDivergence`.

    Args:
        reduction, name: as `Loss` (name "kl_divergence").

    >>> KLDivergence()(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.5, 0.5]]))
    tensor(0.)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "kl_divergence") -> None:
        super().__init__(functions.kl_divergence, reduction=reduction, name=name)


class Poisson(LossFunctionWrapper):
    """Poisson loss, as `keras.losses.Poisson`.

    Args:
        reduction, name: as `Loss` (name "poisson").

    >>> Poisson()(torch.zeros(1, 2), torch.ones(1, 2))
    tensor(1.)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "poisson") -> None:
        super().__init__(functions.poisson, reduction=reduction, name=name)


class Hinge(LossFunctionWrapper):
    """Hinge loss, as `keras.losses.Hinge` (0/1 labels taken as -1/1).

    Args:
        reduction, name: as `Loss` (name "hinge").

    >>> Hinge()(torch.tensor([[1., 0.]]), torch.tensor([[1., -1.]]))
    tensor(0.)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "hinge") -> None:
        super().__init__(functions.hinge, reduction=reduction, name=name)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss, as `keras.losses.SquaredHinge`.

    Args:
        reduction, name: as `Loss` (name "squared_hinge").

    >>> SquaredHinge()(torch.tensor([[1.]]), torch.tensor([[0.]]))
    tensor(1.)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "squared_hinge") -> None:
        super().__init__(functions.squared_hinge, reduction=reduction, name=name)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss, as `keras.losses.CategoricalHinge`.

    Args:
        reduction, name: as `Loss` (name "categorical_hinge").

    >>> CategoricalHinge()(torch.tensor([[0., 1.]]), torch.tensor([[0., 2.]]))
    tensor(0.)
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "categorical_hinge") -> None:
        super().__init__(functions.categorical_hinge, reduction=reduction, name=name)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary crossentropy, as `keras.losses.BinaryCrossentropy`.

    Args:
        from_logits: whether predictions are logits (default False: probabilities,
            clipped to [1e-7, 1 - 1e-7]).
        label_smoothing: targets pulled toward 0.5 by this fraction (default 0).
        axis: the axis meaned over (default -1).
        reduction, name: as `Loss` (name "binary_crossentropy").

    >>> round(float(BinaryCrossentropy()(torch.tensor([[1.]]), torch.tensor([[0.5]]))), 4)
    0.6931
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_crossentropy") -> None:
        super().__init__(functions.binary_crossentropy, reduction=reduction, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy against one-hot targets, as `keras.losses.CategoricalCrossentropy`.

    Args:
        from_logits: whether predictions are logits (default False: probabilities,
            renormalized and clipped to [1e-7, 1 - 1e-7]).
        label_smoothing: targets smoothed toward uniform by this fraction (default 0).
        axis: the class axis (default -1).
        reduction, name: as `Loss` (name "categorical_crossentropy").

    >>> round(float(CategoricalCrossentropy()(torch.tensor([[0., 1.]]), torch.tensor([[0.5, 0.5]]))), 4)
    0.6931
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "categorical_crossentropy") -> None:
        super().__init__(functions.categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy against integer class ids, as `keras.losses.SparseCategoricalCrossentropy`.

    Args:
        from_logits: whether predictions are logits (default False).
        ignore_class: a class id whose entries count for nothing (default None):
            they give 0 and are left out of the reduction's mean, as Keras leaves
            them out (for example the padding id of a sequence's targets).
        reduction, name: as `Loss` (name "sparse_categorical_crossentropy").
        axis: the class axis (default -1).

    >>> round(float(SparseCategoricalCrossentropy()(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))), 4)
    0.6931
    >>> loss = SparseCategoricalCrossentropy(ignore_class=-1)
    >>> round(float(loss(torch.tensor([1, -1]), torch.tensor([[0.5, 0.5], [0.9, 0.1]]))), 4)
    0.6931
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size", axis: int = -1,
                 name: str = "sparse_categorical_crossentropy") -> None:
        super().__init__(functions.sparse_categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy down-weighting easy examples, as `keras.losses.BinaryFocalCrossentropy`.

    Args:
        apply_class_balancing: weigh positives by alpha, negatives by 1 - alpha (default False).
        alpha: the positives' weight with class balancing (default 0.25).
        gamma: the focusing exponent of (1 - p_t) (default 2.0; 0 gives the plain crossentropy).
        from_logits: whether predictions are logits (default False).
        label_smoothing: targets pulled toward 0.5 by this fraction (default 0).
        axis: the axis meaned over (default -1).
        reduction, name: as `Loss` (name "binary_focal_crossentropy").

    >>> round(float(BinaryFocalCrossentropy()(torch.tensor([[1.]]), torch.tensor([[0.5]]))), 4)
    0.1733
    """

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_focal_crossentropy") -> None:
        super().__init__(functions.binary_focal_crossentropy, reduction=reduction, name=name,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy down-weighting easy examples, as `keras.losses.CategoricalFocalCrossentropy`.

    Args:
        alpha: the weight of every class's term (default 0.25).
        gamma: the focusing exponent of (1 - p) (default 2.0).
        from_logits: whether predictions are logits (default False).
        label_smoothing: targets smoothed toward uniform by this fraction (default 0).
        axis: the class axis (default -1).
        reduction, name: as `Loss` (name "categorical_focal_crossentropy").

    >>> round(float(CategoricalFocalCrossentropy()(torch.tensor([[0., 1.]]), torch.tensor([[0.5, 0.5]]))), 4)
    0.0433
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_focal_crossentropy") -> None:
        super().__init__(functions.categorical_focal_crossentropy, reduction=reduction, name=name, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class Dice(LossFunctionWrapper):
    """The Dice loss, as `keras.losses.Dice`.

    Args:
        reduction, name: as `Loss` (name "dice").
        axis: the axes summed over (default None: everything, one value for the batch).

    >>> round(float(Dice()(torch.tensor([[1., 0.]]), torch.tensor([[0.5, 0.5]]))), 4)
    0.5
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "dice",
                 axis: int | tuple[int, ...] | None = None) -> None:
        super().__init__(functions.dice, reduction=reduction, name=name, axis=axis)


class Tversky(LossFunctionWrapper):
    """The Tversky loss, as `keras.losses.Tversky`.

    Args:
        alpha: the weight of the (soft) false positives (default 0.5).
        beta: the weight of the (soft) false negatives (default 0.5).
        reduction, name: as `Loss` (name "tversky").
        axis: the axes summed over (default None: everything, one value for the batch).

    >>> round(float(Tversky(alpha=0.2, beta=0.8)(torch.tensor([[1., 0.]]), torch.tensor([[0.5, 0.5]]))), 4)
    0.5
    """

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str = "tversky", axis: int | tuple[int, ...] | None = None) -> None:
        super().__init__(functions.tversky, reduction=reduction, name=name, alpha=alpha, beta=beta, axis=axis)


class CTC(LossFunctionWrapper):
    """The CTC (Connectionist Temporal Classification) loss, as `keras.losses.CTC`: `y_true` (batch,
    max_length) integer labels with 0 the blank/padding, `y_pred` (batch, steps, classes) logits.

    Args:
        reduction, name: as `Loss` (name "ctc").

    >>> round(float(CTC()(torch.tensor([[1, 2]]), torch.zeros(1, 4, 3))), 4)
    1.6864
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "ctc") -> None:
        super().__init__(functions.ctc, reduction=reduction, name=name)

    def get_config(self) -> dict[str, Any]:
        """Keras's: the name and reduction only."""
        return Loss.get_config(self)


class Circle(LossFunctionWrapper):
    """The Circle loss between integer labels and L2-normalized embeddings, as `keras.losses.Circle`.

    Args:
        gamma: the scale of the similarity scores (default 80).
        margin: the relaxation margin (default 0.4).
        remove_diagonal: leave each sample's pair with itself out of the positives (default True).
        reduction, name: as `Loss` (name "circle").

    >>> e = torch.nn.functional.normalize(torch.tensor([[1., 0.], [0.8, 0.6], [0., 1.]]), dim=-1)
    >>> round(float(Circle()(torch.tensor([0, 0, 1]), e)), 4)
    3.2008
    """

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "circle") -> None:
        super().__init__(functions.circle, reduction=reduction, name=name, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def get_config(self) -> dict[str, Any]:
        """Keras's: the name, reduction, gamma, margin and remove_diagonal."""
        return {**Loss.get_config(self), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """The generalized crossentropy against integer class ids, as
    `keras.losses.CategoricalGeneralizedCrossEntropy`: `(1 - p**q) / q`, `p` the true class's probability.

    Args:
        q: the noise parameter, in (0, 1) (default 0.5): near 0 the loss is like crossentropy, near 1
            like the mean absolute error.
        reduction, name: as `Loss` (name "categorical_generalized_cross_entropy").

    >>> round(float(CategoricalGeneralizedCrossEntropy()(torch.tensor([0, 1]), torch.tensor([[.7, .3], [.2, .8]]))), 4)
    0.2689
    """

    def __init__(self, q: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_generalized_cross_entropy") -> None:
        if not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1); got q={q!r}")
        super().__init__(functions.categorical_generalized_cross_entropy, reduction=reduction, name=name, q=q)
        self.q = q

    def get_config(self) -> dict[str, Any]:
        """Keras's: the name, reduction and q."""
        return {**Loss.get_config(self), "q": self.q}
