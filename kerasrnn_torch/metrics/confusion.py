"""Confusion-matrix counting at thresholds, the core of Keras's AUC, Precision, Recall and the four counts.

A prediction counts as positive at threshold `t` when it is strictly above `t`. Two ways to count, as
Keras 3 has them (so the counts land on the same side of each threshold as Keras's do):

* any thresholds: every prediction compared with every threshold (time and memory T * N);
* thresholds spread evenly over [0, 1]: each prediction falls into one bucket between two thresholds,
  the buckets are summed and the counts per threshold are the reversed cumulative sums (T + N).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..losses.reduction import EPSILON, squeeze_or_expand_to_same_rank

# Keras's stand-in for minus infinity: the threshold of Precision/Recall with top_k.
NEG_INF = -1e10
KEYS = ("tp", "fp", "tn", "fn")


def parse_thresholds(thresholds: Any, default: float) -> list[float]:
    """`thresholds` (a number or a list of numbers in [0, 1]) as a list; `[default]` when None."""
    if thresholds is None:
        return [float(default)]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [t for t in values if t is None or not 0 <= float(t) <= 1]
    if bad:
        raise ValueError(f"thresholds must lie in [0, 1]; got {bad}")
    return [float(t) for t in values]


def evenly_spread(thresholds: Sequence[float]) -> bool:
    """Whether the (three or more) thresholds are 0, 1/(n-1), ..., 1 (to within 1e-7), as Keras tests it."""
    count = len(thresholds)
    if count < 3:
        return False
    even = np.arange(count, dtype=np.float32) / (count - 1)
    return bool(np.allclose(np.asarray(thresholds, dtype=np.float64), even, atol=EPSILON))


def _top_k_only(y_pred: torch.Tensor, k: int) -> torch.Tensor:
    """Every value of the last axis outside its k largest set to NEG_INF."""
    index = torch.topk(y_pred, k, dim=-1).indices
    keep = torch.zeros_like(y_pred).scatter_(-1, index, 1.0)
    return y_pred * keep + NEG_INF * (1.0 - keep)


def _segment_sum(values: torch.Tensor, bucket: torch.Tensor, count: int) -> torch.Tensor:
    """Sums of `values` per bucket id along the last axis; ids outside [0, count) are dropped."""
    inside = (bucket >= 0) & (bucket < count)
    bucket = torch.where(inside, bucket, torch.full_like(bucket, count))
    out = torch.zeros(values.shape[:-1] + (count + 1,), dtype=values.dtype, device=values.device)
    return out.scatter_add_(-1, bucket, values)[..., :count]


def update_confusion(state: dict[str, torch.Tensor], y_true: Any, y_pred: Any, thresholds: Sequence[float],
                     evenly: bool = False, top_k: int | None = None, class_id: int | None = None,
                     sample_weight: Any = None, multi_label: bool = False,
                     label_weights: torch.Tensor | None = None) -> None:
    """Add the batch's weighted counts to the tensors of `state` (keys among "tp", "fp", "tn", "fn", each of
    shape `(len(thresholds),)`, or `(len(thresholds), labels)` with `multi_label`), in place."""
    dtype = next(iter(state.values())).dtype
    y_pred = torch.as_tensor(y_pred).detach()
    device = next(iter(state.values())).device
    y_pred = y_pred.to(device=device, dtype=dtype)
    y_true = torch.as_tensor(y_true).detach().to(device=device, dtype=dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    weight: torch.Tensor | None = None
    if sample_weight is not None:
        weight = torch.as_tensor(sample_weight).detach().to(device=device, dtype=dtype).unsqueeze(-1)
        _, weight = squeeze_or_expand_to_same_rank(y_true, weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _top_k_only(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError(f"with class_id, predictions must be (samples, classes); got shape "
                             f"{tuple(y_pred.shape)}")
        y_true, y_pred = y_true[..., class_id:class_id + 1], y_pred[..., class_id:class_id + 1]
    if y_true.shape != y_pred.shape:
        try:
            y_true = torch.broadcast_to(y_true, y_pred.shape)
        except RuntimeError:
            raise ValueError(f"the targets' shape {tuple(y_true.shape)} does not fit the predictions' shape "
                             f"{tuple(y_pred.shape)}") from None
    weights = None
    if weight is not None:
        weights = torch.broadcast_to(weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        spread = torch.broadcast_to(label_weights.to(device=device, dtype=dtype).unsqueeze(0), y_pred.shape)
        weights = spread if weights is None else weights * spread
    if evenly:
        counts = _bucketed(y_true, y_pred, len(thresholds), multi_label, weights,
                           with_epsilon=thresholds[0] < 0.0 or thresholds[-1] > 1.0)
    else:
        counts = _compared(y_true, y_pred, torch.tensor(list(thresholds), dtype=dtype, device=device),
                           multi_label, weights)
    for key, value in state.items():
        value += counts[key]


def _compared(y_true: torch.Tensor, y_pred: torch.Tensor, thresholds: torch.Tensor, multi_label: bool,
              weights: torch.Tensor | None) -> dict[str, torch.Tensor]:
    if multi_label:            # (samples, labels) against (T, 1, 1): counts per threshold and label
        above = y_pred.unsqueeze(0) > thresholds.view(-1, 1, 1)
        positive = y_true.bool().unsqueeze(0)
        w = weights.unsqueeze(0) if weights is not None else None
    else:                      # every value a separate prediction
        above = y_pred.reshape(1, -1) > thresholds.view(-1, 1)
        positive = y_true.bool().reshape(1, -1)
        w = weights.reshape(1, -1) if weights is not None else None

    def count(hit: torch.Tensor) -> torch.Tensor:
        if w is None:
            return hit.to(y_pred.dtype).sum(1)
        return torch.where(hit, w, torch.zeros((), dtype=y_pred.dtype, device=y_pred.device)).sum(1)
    return {"tp": count(positive & above), "fp": count(~positive & above), "tn": count(~positive & ~above),
            "fn": count(positive & ~above)}


def _bucketed(y_true: torch.Tensor, y_pred: torch.Tensor, count: int, multi_label: bool,
              weights: torch.Tensor | None, with_epsilon: bool) -> dict[str, torch.Tensor]:
    y_pred = y_pred.clamp(0.0, 1.0)
    y_true = y_true.bool().to(y_pred.dtype)
    if not multi_label:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        if weights is not None:
            weights = weights.reshape(-1)
    true_labels = y_true * weights if weights is not None else y_true
    false_labels = (1.0 - y_true) * weights if weights is not None else 1.0 - y_true
    # A prediction strictly above threshold i and at most threshold i + 1 goes to bucket i.
    bucket = torch.ceil(y_pred * torch.tensor(count - 1, dtype=y_pred.dtype)) - 1
    if with_epsilon:           # the first threshold lies below 0: every prediction is above it
        bucket = torch.relu(bucket)
    bucket = bucket.long()
    if multi_label:            # one row per label
        true_labels, false_labels, bucket = true_labels.T, false_labels.T, bucket.T
    tp = _segment_sum(true_labels, bucket, count).flip(-1).cumsum(-1).flip(-1)
    fp = _segment_sum(false_labels, bucket, count).flip(-1).cumsum(-1).flip(-1)
    total_true, total_false = true_labels.sum(-1, keepdim=True), false_labels.sum(-1, keepdim=True)
    counts = {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}
    if multi_label:
        counts = {key: value.T for key, value in counts.items()}
    return counts


def divide_no_nan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a / b, 0 where b is 0."""
    safe = torch.where(b == 0, torch.ones_like(b), b)
    return torch.where(b == 0, torch.zeros_like(a), a / safe)


__all__ = ["NEG_INF", "KEYS", "parse_thresholds", "evenly_spread", "update_confusion", "divide_no_nan"]
