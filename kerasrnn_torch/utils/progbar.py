"""`Progbar`: Keras's `keras.utils.Progbar`, a progress line for a loop of one's own."""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import numpy as np


def mean_of(value: Any) -> float:
    """A number to show: a tensor or an array shows its mean (as Keras's bar does)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return float(np.mean(value))


def format_number(value: float) -> str:
    """Keras's progress-bar number: 4 decimals, or exponent form at 1e-3 and below."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def _per_unit(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """A progress bar with running averages of named values, as `keras.utils.Progbar`.

    Args:
        target: the number of steps expected (None: unknown, the bar shows the count).
        width: the bar's width in characters (20).
        verbose: 0 silent, 1 a bar redrawn in place on a terminal (one final line elsewhere), 2 one line
            when the last step is reached.
        interval: the least time between two redraws, in seconds (0.05).
        stateful_metrics: names whose values are shown as given (every other name is averaged over the
            steps), or
        stateless_metrics: names that are averaged (every other name is shown as given); not both.
        unit_name: what a step is called in the time per step ("step").
        file: where it writes (default: `sys.stdout` at each write).

    `update(current, values)` sets the step reached; `add(n, values)` moves on by `n` steps. `values` is a
    list of `(name, value)` pairs: an averaged name shows the mean of its values weighted by the steps each
    covered, as Keras's does.

    >>> bar = Progbar(10, verbose=0)
    >>> bar.add(2, [("loss", 1.0)]); bar.add(2, [("loss", 3.0)])
    >>> bar.average("loss")
    2.0
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Iterable[str] | None = None, stateless_metrics: Iterable[str] | None = None,
                 unit_name: str = "step", file: TextIO | None = None) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar: give stateful_metrics (names shown as given) or stateless_metrics (names "
                             "averaged), not both")
        if verbose not in (0, 1, 2):
            raise ValueError(f"Progbar: verbose must be 0, 1 or 2, got {verbose!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics: set[str] | None = None
        self.stateless_metrics: set[str] | None = None
        if stateless_metrics is not None:
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
        self._file = file
        self._seen_so_far = 0
        self._values: dict[str, list[Any]] = {}      # name -> [weighted sum, steps], as Keras keeps them
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._previous_width = 0

    # ------------------------------------------------------------ state
    def _averaged(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in (self.stateless_metrics or ())

    def average(self, name: str) -> float:
        """The value shown for `name`: its running average (or its last value, for a name shown as given)."""
        if name not in self._values:
            raise KeyError(f"Progbar: no value named {name!r} yet (it has {self._values_order})")
        total, steps = self._values[name]
        return mean_of(total) / max(1, steps)

    def update(self, current: int, values: Sequence[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Step `current` is reached; `values` are `(name, value)` pairs for the steps since the last update.

        `finalize` (default: whether `current` reached `target`) draws the last line.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            if name not in self._values_order:
                self._values_order.append(name)
            if not self._averaged(name) or finalize:
                # A value given at the last step stands for itself, as in Keras (fit's epoch-end logs).
                self._values[name] = [value, 1]
                continue
            steps = max(current - self._seen_so_far, 1)
            if name in self._values:
                self._values[name][0] += value * steps
                self._values[name][1] += steps
            else:
                self._values[name] = [value * steps, steps]
        self._seen_so_far = current
        now = time.time()
        per_unit = self._per_unit(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw(current, now, per_unit, finalize)
        elif self.verbose == 2 and finalize:
            count = f"{current}/{self.target}" if self.target else f"{current}"
            self._write(f"{count} - {now - self._start:.0f}s -{_per_unit(per_unit, self.unit_name)}"
                        f"{self._value_text()}\n")
        self._last_update = now

    def add(self, n: int, values: Sequence[tuple[str, Any]] | None = None) -> None:
        """Move on by `n` steps (`update(steps so far + n, values)`)."""
        self.update(self._seen_so_far + n, values)

    # ------------------------------------------------------------ drawing
    def _per_unit(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the first step (compilation, warm-up) once there are others."""
        if not current:
            return 0.0
        if self._time_after_first_step is None or current == 1:
            self._time_after_first_step = now
            return (now - self._start) / current
        return (now - self._time_after_first_step) / max(current - 1, 1)

    def _value_text(self) -> str:
        return "".join(f" - {name}: {format_number(self.average(name))}" for name in self._values_order)

    def _interactive(self) -> bool:
        stream = self._stream()
        return bool(getattr(stream, "isatty", lambda: False)()) or type(stream).__module__.startswith("ipykernel")

    def _draw(self, current: int, now: float, per_unit: float, finalize: bool) -> None:
        interactive = self._interactive()
        if not interactive and not finalize:
            return          # a log or a pipe gets the finished line only
        if self.target:
            digits = int(math.log10(self.target)) + 1
            done = int(self.width * min(current / self.target, 1.0))
            line = f"{current:{digits}d}/{self.target} {'━' * done}{'─' * (self.width - done)}"
        else:
            line = f"{current:7d}/Unknown"
        if self.target and not finalize:
            eta = per_unit * (self.target - current)
            line += " " + (f"{eta // 3600:.0f}:{eta % 3600 // 60:02.0f}:{eta % 60:02.0f}" if eta > 3600
                           else f"{eta // 60:.0f}:{eta % 60:02.0f}" if eta > 60 else f"{eta:.0f}s")
        else:
            line += f" {now - self._start:.0f}s"
        line += _per_unit(per_unit, self.unit_name) + self._value_text()
        padding = " " * max(self._previous_width - len(line), 0)
        self._previous_width = len(line)
        self._write(("\r" if interactive else "") + line + padding + ("\n" if finalize else ""))

    def _stream(self) -> TextIO:
        return self._file if self._file is not None else sys.stdout

    def _write(self, text: str) -> None:
        stream = self._stream()
        stream.write(text)
        stream.flush()
