"""Keras's loss functions: `fn(y_true, y_pred) -> per-sample values` (the last axis reduced), in PyTorch.

Each follows Keras 3's formula, clipping bound (1e-7) included, so a loss object built on it matches
`keras.losses` to float rounding.

>>> y_true, y_pred = torch.tensor([[0., 1.]]), torch.tensor([[0.5, 0.5]])
>>> mean_squared_error(y_true, y_pred)
tensor([0.2500])
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._checks import shape_text
from .reduction import EPSILON, set_output_mask, squeeze_or_expand_to_same_rank


def _pair(y_true: torch.Tensor, y_pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    try:
        fits = torch.broadcast_shapes(y_true.shape, y_pred.shape) == y_pred.shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"the targets' shape {shape_text(y_true.shape)} does not fit the predictions' shape "
                         f"{shape_text(y_pred.shape)}")
    return y_true, y_pred


def _same_shape(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name} expects targets of the predictions' shape {shape_text(y_pred.shape)}; "
                         f"got {shape_text(y_true.shape)}")


def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of the squared differences over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.square(y_true - y_pred).mean(dim=-1)


def mean_absolute_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of the absolute differences over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.abs(y_true - y_pred).mean(dim=-1)


def mean_absolute_percentage_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return 100.0 * torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON)).mean(dim=-1)


def mean_squared_logarithmic_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of the squared differences of log(max(y, 1e-7) + 1) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.square(first - second).mean(dim=-1)


def cosine_similarity(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Minus the cosine similarity along `axis` (Keras's sign: -1 for identical directions)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_pred = y_pred * torch.rsqrt(torch.clamp(torch.sum(y_pred * y_pred, dim=axis, keepdim=True), min=1e-12))
    y_true = y_true * torch.rsqrt(torch.clamp(torch.sum(y_true * y_true, dim=axis, keepdim=True), min=1e-12))
    return -torch.sum(y_true * y_pred, dim=axis)


def huber(y_true: torch.Tensor, y_pred: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Huber loss: quadratic for |error| <= delta, linear beyond, meaned over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    return torch.where(abs_error <= delta, 0.5 * torch.square(error),
                       delta * abs_error - 0.5 * delta * delta).mean(dim=-1)


def log_cosh(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of log(cosh(y_pred - y_true)) over the last axis, in Keras's overflow-free form."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


def kl_divergence(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Kullback-Leibler divergence over the last axis, both clipped to [1e-7, 1]."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype).clamp(EPSILON, 1)
    y_pred = y_pred.clamp(EPSILON, 1)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of y_pred - y_true * log(y_pred + 1e-7) over the last axis."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(dim=-1)


def _hinge_labels(y_true: torch.Tensor) -> torch.Tensor:
    # Keras turns 0/1 labels into -1/1 when every label is 0 or 1.
    binary = torch.logical_or(y_true == 0, y_true == 1).all()
    return torch.where(binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of max(1 - y_true * y_pred, 0) over the last axis (0/1 labels taken as -1/1)."""
    y_true = _hinge_labels(torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype))
    return torch.clamp(1.0 - y_true * y_pred, min=0.0).mean(dim=-1)


def squared_hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of max(1 - y_true * y_pred, 0)^2 over the last axis (0/1 labels taken as -1/1)."""
    y_true = _hinge_labels(torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype))
    return torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)).mean(dim=-1)


def categorical_hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) over the last axis."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def binary_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Binary crossentropy meaned over `axis`; probabilities clipped to [1e-7, 1 - 1e-7] as Keras clips."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    _same_shape("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        values = F.binary_cross_entropy(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON), y_true, reduction="none")
    return values.mean(dim=axis)


def categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Crossentropy against one-hot (or soft) targets along `axis`; probabilities renormalized and clipped."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    _same_shape("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, EPSILON, 1.0 - EPSILON))
    return -torch.sum(y_true * log_prob, dim=axis)


def _sum(values: torch.Tensor, axis: int | tuple[int, ...] | list[int] | None) -> torch.Tensor:
    return values.sum() if axis is None else values.sum(dim=tuple(axis) if isinstance(axis, list) else axis)


def dice(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int | tuple[int, ...] | None = None) -> torch.Tensor:
    """1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + 1e-7), summed over `axis` (None: over
    everything, one value for the batch), as `keras.losses.dice`."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    overlap = _sum(y_true * y_pred, axis)
    return 1.0 - 2.0 * overlap / (_sum(y_true, axis) + _sum(y_pred, axis) + EPSILON)


def tversky(y_true: torch.Tensor, y_pred: torch.Tensor, alpha: float = 0.5, beta: float = 0.5,
            axis: int | tuple[int, ...] | None = None) -> torch.Tensor:
    """1 - TP / (TP + alpha * FP + beta * FN + 1e-7) with soft counts summed over `axis` (None: over
    everything), as `keras.losses.tversky` (alpha = beta = 0.5 gives the Dice loss)."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    overlap = _sum(y_true * y_pred, axis)
    false_positive = _sum((1.0 - y_pred) * y_true, axis)
    false_negative = _sum(y_pred * (1.0 - y_true), axis)
    return 1.0 - overlap / (overlap + false_positive * alpha + false_negative * beta + EPSILON)


def sparse_categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> torch.Tensor:
    """Crossentropy against integer class ids (shape of y_pred without `axis`, or with a size-1 axis there).

    With `ignore_class`, the entries whose target is that id give 0, and the result carries them as an output
    mask (`output_mask(result)`) that a `Loss` folds into its reduction, as Keras does: a mean runs over the
    other entries only.
    """
    target = torch.as_tensor(y_true, device=y_pred.device)
    if target.dim() == y_pred.dim() and target.shape[axis] == 1:
        target = target.squeeze(axis)
    expected = list(y_pred.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError(f"sparse_categorical_crossentropy expects class ids of shape {shape_text(expected)} "
                         f"for predictions of shape {shape_text(y_pred.shape)}; got {shape_text(target.shape)}")
    valid = None
    if ignore_class is not None:
        valid = target != ignore_class
        target = torch.where(valid, target, torch.zeros_like(target))
    target = target.long()
    class_axis = axis % y_pred.dim()
    output = y_pred.movedim(class_axis, 1) if class_axis != 1 and y_pred.dim() > 1 else y_pred
    if y_pred.dim() == 1:
        output, target = output.unsqueeze(0), target.unsqueeze(0)
    if from_logits:
        result = F.cross_entropy(output, target, reduction="none")
    else:
        output = output / torch.sum(output, dim=1, keepdim=True)
        result = F.nll_loss(torch.log(torch.clamp(output, EPSILON, 1.0 - EPSILON)), target, reduction="none")
    result = result.squeeze(0) if y_pred.dim() == 1 else result
    if valid is not None:
        result = torch.where(valid, result, torch.zeros((), dtype=result.dtype, device=result.device))
        set_output_mask(result, valid)
    return result


def binary_focal_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Binary crossentropy scaled by (1 - p_t)^gamma (p_t: the probability given to the true label), meaned
    over `axis`; with `apply_class_balancing`, also by alpha for positives and 1 - alpha for negatives."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    _same_shape("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = F.binary_cross_entropy(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON), y_true, reduction="none")
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return focal.mean(dim=axis)


def categorical_focal_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor, alpha: float = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                                   axis: int = -1) -> torch.Tensor:
    """Categorical crossentropy with each class's term scaled by alpha * (1 - p)^gamma, summed over `axis`
    (probabilities renormalized and clipped to [1e-7, 1 - 1e-7] as Keras does)."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"categorical_focal_crossentropy: axis must be an int; got {axis!r}")
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    _same_shape("categorical_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    output = torch.clamp(y_pred / torch.sum(y_pred, dim=axis, keepdim=True), EPSILON, 1.0 - EPSILON)
    return torch.sum(alpha * torch.pow(1.0 - output, gamma) * (-y_true * torch.log(output)), dim=axis)


def ctc(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """The CTC loss per sample, as `keras.losses.ctc`: `y_true` (batch, max_length) integer labels, 0 the
    blank (padding: a sample's label length is its count of nonzero ids), `y_pred` (batch, steps, classes)
    unnormalized logits, every step counting."""
    if y_true.dim() != 2:
        raise ValueError("Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
                         f"integer format. Received: y_true.shape={shape_text(y_true.shape)}")
    if y_pred.dim() != 3:
        raise ValueError("Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
                         f"num_classes)`. Received: y_pred.shape={shape_text(y_pred.shape)}")
    targets = torch.as_tensor(y_true, device=y_pred.device).long()
    logits = y_pred if y_pred.dtype in (torch.float32, torch.float64) else y_pred.float()
    batch, steps = logits.shape[0], logits.shape[1]
    input_lengths = torch.full((batch,), steps, dtype=torch.long, device=logits.device)
    target_lengths = (targets != 0).sum(dim=-1)
    log_probs = F.log_softmax(logits.transpose(0, 1), dim=-1)
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="none")


def circle(y_true: torch.Tensor, y_pred: torch.Tensor, ref_labels: torch.Tensor | None = None,
           ref_embeddings: torch.Tensor | None = None, remove_diagonal: bool = True, gamma: float = 80,
           margin: float = 0.4) -> torch.Tensor:
    """The Circle loss per sample (Sun et al., 2020), as `keras.losses.circle`: `y_true` integer labels,
    `y_pred` L2-normalized embeddings, compared with `ref_embeddings`/`ref_labels` (default: the batch
    itself, without each sample's pair with itself when `remove_diagonal`). Samples whose loss is 0 carry
    an output mask, so a mean runs over the others (as Keras's)."""
    labels = torch.as_tensor(y_true, device=y_pred.device).to(torch.int32)
    references = y_pred if ref_embeddings is None else torch.as_tensor(ref_embeddings, device=y_pred.device)
    ref = labels if ref_labels is None else torch.as_tensor(ref_labels, device=y_pred.device).to(torch.int32)
    distances = (1 - y_pred @ references.T).clamp_min(0.0)
    query = labels.reshape(-1, 1) if labels.dim() == 1 else labels
    keys = ref.reshape(-1, 1) if ref.dim() == 1 else ref
    positive = query == keys.T
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(query.numel(), keys.numel(), dtype=torch.bool, device=y_pred.device)
    positive_f, negative_f = positive.to(distances.dtype), negative.to(distances.dtype)
    positive_weights = ((margin + distances) * positive_f).clamp_min(0.0)
    negative_weights = ((1 + margin - distances) * negative_f).clamp_min(0.0)
    positive_terms = -gamma * positive_weights * (margin - distances)
    negative_terms = gamma * negative_weights * ((1 - margin) - distances)
    minus_inf = torch.tensor(float("-inf"), dtype=distances.dtype, device=distances.device)
    positive_loss = torch.logsumexp(torch.where(positive, positive_terms, minus_inf), dim=1)
    negative_loss = torch.logsumexp(torch.where(negative, negative_terms, minus_inf), dim=1)
    values = F.softplus(positive_loss + negative_loss)
    set_output_mask(values, values > 0)
    return values


def categorical_generalized_cross_entropy(y_true: torch.Tensor, y_pred: torch.Tensor, q: float) -> torch.Tensor:
    """The generalized crossentropy (Zhang & Sabuncu, 2018), `(1 - p**q) / q` with `p` the probability given
    to the true class, as `keras.losses.categorical_generalized_cross_entropy`: `y_true` integer class ids,
    `y_pred` class probabilities."""
    ids = torch.as_tensor(y_true, device=y_pred.device).long()
    one_hot = F.one_hot(ids, num_classes=y_pred.shape[-1]).to(y_pred.dtype)
    probability = (y_pred * one_hot).sum(dim=-1)
    return (1 - probability.pow(q)) / q
