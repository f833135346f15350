"""`EarlyStopping`: stop `fit` when a monitored value stops improving."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from .monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training when `monitor` has not improved for `patience` epochs, as `keras.callbacks.EarlyStopping`.

    Args:
        monitor: the log key to watch (default "val_loss").
        min_delta: the least change counted as an improvement (default 0).
        patience: epochs without improvement before stopping (default 0).
        verbose: 1 prints when it stops and restores (default 0).
        mode: "auto", "min" or "max" (default "auto").
        baseline: training stops if the value does not beat it within `patience` epochs.
        restore_best_weights: put back the best epoch's weights at the end (default False).
        start_from_epoch: epochs to wait before watching (default 0).

    Stops at the same epoch as Keras's (its counting of `wait` included);
    `stopped_epoch` is the 0-based epoch it stopped after.

    >>> EarlyStopping(monitor="loss", patience=2).patience
    2
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: Any = None

    def on_train_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        current = self.monitored(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
