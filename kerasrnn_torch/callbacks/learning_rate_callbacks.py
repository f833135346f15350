"""Callbacks that change the learning rate: `ReduceLROnPlateau` and `LearningRateScheduler`."""
from __future__ import annotations

import warnings
from collections.abc import Callable, MutableMapping
from typing import Any

import numpy as np

from .callback import Callback
from .learning_rate import get_learning_rate, set_learning_rate
from .monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by `factor` when `monitor` stops improving, as `keras.callbacks.ReduceLROnPlateau`.

    Args:
        monitor: the log key (default "val_loss").
        factor: the multiplier, < 1 (default 0.1).
        patience: epochs without improvement before a reduction (default 10).
        verbose: 1 prints each reduction (default 0).
        mode: "auto", "min" or "max".
        min_delta: the least change counted as an improvement (default 1e-4).
        cooldown: epochs to wait after a reduction (default 0).
        min_lr: the floor (default 0).

    Works on a `torch.optim` optimizer (every param group's "lr") or one with
    `learning_rate`; adds "learning_rate" to the epoch's logs as Keras does.

    >>> ReduceLROnPlateau(factor=0.5).factor
    0.5
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        if logs is None:
            logs = {}
        logs["learning_rate"] = get_learning_rate(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs)}.", stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(float(current), self.best):
            self.best = float(current)
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = get_learning_rate(self.model.optimizer)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    set_learning_rate(self.model.optimizer, new)
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start from `schedule(epoch, lr)`, as
    `keras.callbacks.LearningRateScheduler`.

    Args:
        schedule: `(epoch, current_lr) -> new_lr` (epoch 0-based).
        verbose: 1 prints each change (default 0).

    Adds "learning_rate" to the epoch's logs as Keras does.

    >>> LearningRateScheduler(lambda epoch, lr: lr * 0.9).verbose
    0
    """

    def __init__(self, schedule: Callable[[int, float], float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        lr = self.schedule(epoch, get_learning_rate(self.model.optimizer))
        if not isinstance(lr, (float, int, np.floating, np.integer)):
            raise ValueError(f'The output of the "schedule" function should be a float. Got: {lr!r}')
        set_learning_rate(self.model.optimizer, float(lr))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr)}.")

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = get_learning_rate(self.model.optimizer)
