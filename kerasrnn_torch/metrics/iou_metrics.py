"""Keras's intersection-over-union metrics: IoU, BinaryIoU, MeanIoU, OneHotIoU and OneHotMeanIoU, from a
class-by-class confusion matrix summed over every batch."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..losses.reduction import EPSILON
from .metric import Metric


class IoU(Metric):
    """The mean intersection over union of the target classes, as `keras.metrics.IoU`.

    IoU of a class = TP / (TP + FP + FN) from the confusion matrix of every batch
    seen; classes absent from both targets and predictions are left out of the mean.

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes whose IoU is averaged.
        name: default "io_u" (Keras's).
        dtype: the confusion matrix's dtype (default int64: weights are truncated
            to integers, as Keras's integer default truncates them).
        ignore_class: a target class id left out (for example a padding id).
        sparse_y_true: targets are class ids (default True); False: one-hot/scores
            along `axis`.
        sparse_y_pred: predictions are class ids (default True); False: scores
            along `axis` (their argmax counts).
        axis: the class axis of dense targets or predictions (default -1).

    >>> m = IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1]))
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: torch.dtype | None = None, ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(name=name or "io_u", dtype=dtype or torch.int64)
        ids = list(target_class_ids)
        if not ids or max(ids) >= num_classes or min(ids) < 0:
            raise ValueError(f"{type(self).__name__}: target_class_ids {ids} must lie in [0, {num_classes})")
        self.num_classes = int(num_classes)
        self.target_class_ids = ids
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = torch.zeros((self.num_classes, self.num_classes), dtype=self.dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's (weighted) confusion matrix (rows: targets, columns: predictions)."""
        y_pred = torch.as_tensor(y_pred).detach()
        y_true = torch.as_tensor(y_true, device=y_pred.device).detach()
        if self.total_cm.device != y_pred.device:
            self.total_cm = self.total_cm.to(y_pred.device)
        if not self.sparse_y_true:
            y_true = torch.argmax(y_true, dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = torch.argmax(y_pred, dim=self.axis)
        y_true, y_pred = y_true.to(self.dtype).reshape(-1), y_pred.to(self.dtype).reshape(-1)
        weight = torch.ones((), dtype=self.dtype, device=y_pred.device) if sample_weight is None else \
            torch.as_tensor(sample_weight, device=y_pred.device).detach().to(self.dtype).reshape(-1)
        weight = torch.broadcast_to(weight, y_true.shape)
        inside = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            inside &= y_true != self.ignore_class
        zero = torch.zeros((), dtype=self.dtype, device=y_pred.device)
        y_true, y_pred = torch.where(inside, y_true, zero), torch.where(inside, y_pred, zero)
        weight = torch.where(inside, weight, zero)
        cells = (y_true * self.num_classes + y_pred).long()
        counts = torch.zeros(self.num_classes * self.num_classes, dtype=self.dtype, device=y_pred.device)
        self.total_cm = self.total_cm + counts.index_add_(0, cells, weight).view(self.num_classes,
                                                                                  self.num_classes)

    def result(self) -> torch.Tensor:
        """The mean IoU over the target classes present (float32)."""
        matrix = self.total_cm.to(torch.float32)
        true_positives = torch.diagonal(matrix)
        denominator = matrix.sum(0) + matrix.sum(1) - true_positives
        ids = torch.tensor(self.target_class_ids, device=matrix.device)
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = torch.where(valid, true_positives / (denominator + EPSILON), torch.zeros_like(denominator))
        return iou.sum() / (valid.to(torch.float32).sum() + EPSILON)

    def reset_state(self) -> None:
        """The confusion matrix back to zeros."""
        self.total_cm = torch.zeros_like(self.total_cm)

    def get_config(self) -> dict[str, Any]:
        """Keras's configuration of the metric."""
        return {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of 0/1 targets against predictions thresholded at `threshold`, as `keras.metrics.BinaryIoU`.

    Args:
        target_class_ids: the classes (0 and/or 1) averaged (default both).
        threshold: a prediction at or above it counts as class 1 (default 0.5).
        name: default "binary_io_u" (Keras's).
        dtype: as `IoU`.

    >>> m = BinaryIoU()
    >>> m.update_state(torch.tensor([0., 1., 1.]), torch.tensor([0.2, 0.7, 0.4]))
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5, name: str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name or "binary_io_u", dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Threshold the predictions, then count as `IoU`."""
        y_pred = torch.as_tensor(y_pred).detach().to(torch.float32) >= self.threshold
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, target_class_ids and threshold."""
        return {"name": self.name, "dtype": str(self.dtype).replace("torch.", ""),
                "target_class_ids": self.target_class_ids, "threshold": self.threshold}


class MeanIoU(IoU):
    """The IoU averaged over every class, as `keras.metrics.MeanIoU`.

    Args:
        num_classes, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis: as `IoU`.
        name: default "mean_io_u" (Keras's).

    >>> m = MeanIoU(num_classes=2)
    >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1]))
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: torch.dtype | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)),
                         name=name or "mean_io_u", dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        """Keras's configuration (no target_class_ids: every class)."""
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """IoU with one-hot targets (and scores as predictions), as `keras.metrics.OneHotIoU`.

    Args:
        num_classes, target_class_ids, dtype, ignore_class, axis: as `IoU`.
        name: default "one_hot_io_u" (Keras's).
        sparse_y_pred: predictions are class ids (default False: scores).
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: torch.dtype | None = None, ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name or "one_hot_io_u",
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred,
                         axis=axis)

    def get_config(self) -> dict[str, Any]:
        """Keras's configuration (targets are always one-hot)."""
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU with one-hot targets (and scores as predictions), as `keras.metrics.OneHotMeanIoU`.

    Args:
        num_classes, dtype, ignore_class, axis: as `IoU`.
        name: default "one_hot_mean_io_u" (Keras's).
        sparse_y_pred: predictions are class ids (default False: scores).
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: torch.dtype | None = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, name=name or "one_hot_mean_io_u", dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        """Keras's configuration (targets are always one-hot)."""
        config = super().get_config()
        del config["sparse_y_true"]
        return config


__all__ = ["IoU", "BinaryIoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"]
