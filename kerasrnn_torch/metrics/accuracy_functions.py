"""Keras's accuracy functions: per-sample 1.0 (hit) or 0.0 (miss).

>>> binary_accuracy(torch.tensor([[1.], [0.]]), torch.tensor([[0.7], [0.6]]))
tensor([1., 0.])
"""
from __future__ import annotations

import torch

from ..losses.reduction import squeeze_or_expand_to_same_rank


def accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """1.0 where y_true equals y_pred exactly (no mean over the last axis, as Keras)."""
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).float()


def binary_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """The mean over the last axis of whether (y_pred > threshold) equals y_true."""
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    hits = ((y_pred > threshold).to(y_true.dtype) == y_true).float()
    return hits.mean(dim=-1)


def categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Whether the argmax of y_pred is the argmax of the one-hot y_true."""
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    return sparse_categorical_accuracy(torch.argmax(y_true, dim=-1), y_pred)


def sparse_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Whether the argmax of y_pred is the class id y_true (which may carry a trailing size-1 axis)."""
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    return (predicted == y_true.to(predicted.dtype)).float()


def top_k_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Whether the one-hot y_true's class is among y_pred's k largest."""
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    return sparse_top_k_categorical_accuracy(torch.argmax(y_true, dim=-1), y_pred, k=k)


def sparse_top_k_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Whether the class id y_true is among y_pred's k largest (ties count as Keras's in_top_k: a hit)."""
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    k = min(k, y_pred.shape[-1])
    target = torch.gather(y_pred, -1, y_true.long().unsqueeze(-1))
    kth = torch.topk(y_pred, k, dim=-1).values[..., -1:]
    return (target >= kth).squeeze(-1).float()
