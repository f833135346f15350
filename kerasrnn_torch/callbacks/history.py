"""`History`: every epoch's logs, as `keras.callbacks.History` (what `fit` returns)."""
from __future__ import annotations

import importlib
from collections.abc import MutableMapping, Sequence
from typing import Any

from .callback import Callback


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]` is the list of epoch losses.

    `fit` adds one to every run and returns it (also `model.history`).

    Values are plain Python floats; `epoch` lists the epochs run (0-based).

    >>> h = History()
    >>> h.on_train_begin(); h.on_epoch_end(0, {"loss": 0.5})
    >>> h.history
    {'loss': [0.5]}
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, metrics: Sequence[str] | None = None, ax: Any = None) -> Any:
        """Plot the curves with matplotlib (the `plot` extra: `pip install kerasrnn_torch[plot]`).

        Args:
            metrics: the keys to draw (default: every key without `val_`,
                each with its `val_` curve when there is one), one panel each.
            ax: a matplotlib Axes (or a list, one per metric) to draw on.

        Returns the matplotlib Figure. See `kr.callbacks.plot_history`.
        """
        # kerasrnn_torch.callbacks.plotting imports matplotlib: loaded only when a plot is asked for.
        return importlib.import_module(f"{__package__}.plotting").plot_history(self, metrics=metrics, ax=ax)
