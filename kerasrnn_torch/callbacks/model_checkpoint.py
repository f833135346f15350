"""`ModelCheckpoint`: save the model or its weights as Keras files while training."""
from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

import numpy as np


from .monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model (`.keras`, via `kr.save_keras`) or its weights (`.weights.h5`, via `kr.save_keras_weights`)
    every epoch or every `save_freq` batches, as `keras.callbacks.ModelCheckpoint`.

    Args:
        filepath: the file; `{epoch}` (1-based) and log keys (`{val_loss:.2f}`)
            are filled in. Must end in `.keras`, or `.weights.h5` with
            `save_weights_only=True`.
        monitor: the log key for `save_best_only` (default "val_loss").
        verbose: 1 prints each save (default 0).
        save_best_only: only save when `monitor` improves (default False).
        save_weights_only: weights only (default False).
        mode: "auto", "min" or "max" (default "auto").
        save_freq: "epoch" or a number of batches (default "epoch").
        initial_value_threshold: the value to beat first (default None).

    >>> ModelCheckpoint("model_{epoch:02d}.keras").filepath
    'model_{epoch:02d}.keras'
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None) -> None:
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}; expected 'epoch' or a number of batches")
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must "
                             f"end in `.weights.h5` (Keras weights format). Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith(".keras"):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). "
                             f"Received: filepath={self.filepath}")
        self._batches = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        if isinstance(self.save_freq, int):
            self._batches += 1
            if self._batches >= self.save_freq:
                self._batches = 0
                self._save(self._epoch, dict(logs or {}), batch)

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, dict(logs or {}))

    def file_for(self, epoch: int, logs: dict[str, Any], batch: int | None = None) -> str:
        """The file name for `epoch` (0-based) and `logs`."""
        try:
            return self.filepath.format(epoch=epoch + 1, batch=batch, **logs)
        except KeyError as error:
            raise KeyError(f"Failed to format this callback filepath: {self.filepath!r}: {error} is not among the "
                           f"logs {sorted(logs)}") from error

    def _save(self, epoch: int, logs: dict[str, Any], batch: int | None = None) -> None:
        path = self.file_for(epoch, logs, batch)
        if self.save_best_only:
            current = self.monitored(logs)
            if current is None or (isinstance(current, float) and np.isnan(current)):
                return
            if not self.is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to {current}, saving to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
