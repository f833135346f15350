"""Keras's `keras.utils.PyDataset` (and its older name `Sequence`): a dataset of whole batches by index.

A subclass defines `__len__` (the number of batches) and `__getitem__(index)` (one batch: `x`, `(x, y)`
or `(x, y, sample_weight)`); `fit`, `evaluate` and `predict` take it as Keras's do: each epoch visits
every batch once (in a shuffled order when `fit` shuffles), calling `on_epoch_begin` before and
`on_epoch_end` after.
"""
from __future__ import annotations

from typing import Any


class PyDataset:
    """Base class of a dataset of batches, as Keras's `PyDataset`.

    Args:
        workers, use_multiprocessing, max_queue_size: Keras's arguments for loading batches in parallel,
            accepted and kept; batches are loaded in the training process, one after the other (wrap the
            dataset in a `torch.utils.data.DataLoader` for parallel loading).
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def use_multiprocessing(self) -> bool:
        return self._use_multiprocessing

    @property
    def max_queue_size(self) -> int:
        return self._max_queue_size

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), returning one batch")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of batches)")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (`len(self)`); None when the dataset defines no `__len__`."""
        try:
            return len(self)
        except NotImplementedError:
            return None

    def on_epoch_begin(self) -> None:
        """Called before each epoch's first batch."""

    def on_epoch_end(self) -> None:
        """Called after each epoch's last batch."""


Sequence = PyDataset

__all__ = ["PyDataset", "Sequence"]
