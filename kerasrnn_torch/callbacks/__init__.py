"""Keras's callbacks (`kr.callbacks`): hooks into `fit`, `evaluate` and `predict`.

>>> history = kr.callbacks.History()
>>> isinstance(history, kr.callbacks.Callback)
True

`kr.callbacks.plot_history(history)` (and `History.plot()`) draws training curves with matplotlib,
loaded on first use from `kerasrnn_torch.callbacks.plotting` (the `plot` extra).
"""
from __future__ import annotations

import importlib
from typing import Any

from .backup_and_restore import BackupAndRestore
from .callback import Callback, CallbackList
from .early_stopping import EarlyStopping
from .history import History
from .learning_rate import get_learning_rate, set_learning_rate
from .learning_rate_callbacks import LearningRateScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .monitor import MonitorCallback
from .progbar import ProgbarLogger
from .simple_callbacks import CSVLogger, LambdaCallback, TerminateOnNaN
from .tensorboard import TensorBoard


def __getattr__(name: str) -> Any:
    # `kr.callbacks.plot_history` loads the plotting module (and matplotlib) on first use.
    if name == "plot_history":
        return importlib.import_module(f"{__name__}.plotting").plot_history
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
           "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger", "TerminateOnNaN", "BackupAndRestore",
           "LambdaCallback", "TensorBoard", "MonitorCallback", "get_learning_rate", "set_learning_rate"]
