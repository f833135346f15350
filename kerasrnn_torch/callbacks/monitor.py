"""What Keras's monitoring callbacks share: which way a monitored value improves, and by how much."""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from .callback import Callback


class MonitorCallback(Callback):
    """A callback that watches one log value (`EarlyStopping`, `ModelCheckpoint`, `ReduceLROnPlateau`).

    Args:
        monitor: the log key (default "val_loss").
        mode: "min", "max" or "auto" (a loss: min; a metric: its own direction,
            accuracies max, errors min).
        baseline: a value to beat (default None).
        min_delta: the least change that counts as an improvement.

    >>> MonitorCallback(mode="max").mode
    'max'
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0.0) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode {mode!r} is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.lower_is_better: bool | None = None

    def _set_direction(self) -> None:
        if self.mode != "auto":
            self.lower_is_better = self.mode == "min"
        else:
            name = self.monitor.removeprefix("val_")
            direction = None
            if name == "loss" or name.endswith("_loss"):
                direction = "down"
            for metric in getattr(self.model, "metrics", None) or []:
                if getattr(metric, "name", None) == name:
                    direction = getattr(metric, "direction", direction)
            if direction is None:
                raise ValueError(f"{type(self).__name__} callback received monitor={self.monitor}, but cannot tell "
                                 "whether that metric should be maximized or minimized. Pass mode='max' or "
                                 "mode='min'.")
            self.lower_is_better = direction == "down"

    def is_improvement(self, value: float, reference: float | None) -> bool:
        """Whether `value` beats `reference` by more than `min_delta` (always, when there is none)."""
        if self.lower_is_better is None:
            self._set_direction()
        if reference is None:
            return True
        return value + self.min_delta < reference if self.lower_is_better else value - self.min_delta > reference

    def monitored(self, logs: Mapping[str, Any] | None) -> float | None:
        """The monitored value in `logs`, or None with a warning naming the available keys."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__} is conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs or {})}", stacklevel=3)
            return None
        return float(value)
